/**
 * The scale bench's report (bench/scale.ts): the Markdown table, the JSON, and the SVG plots
 * (accuracy and time per epoch against compression, TDLRT's ranks over training).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/files.js';
import { lineChart, stepChart, type ChartSeries } from '../src/io/svg-plot.js';
import type { ScaleResult, ScaleRow } from './scale.js';
import type { ScaleRun } from './scale-run.js';
import { describeVgg, INPUT_SHAPES } from './scale-setup.js';

/** The error of a run that --report-only found missing from the run log. */
export const NOT_RUN = 'not run yet';

function stats(xs: number[]): { mean: number; sd: number; n: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');
const fixed = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const ok = (r: ScaleRow) => r.runs.filter((x) => !x.error);
const mean = (r: ScaleRow, f: (x: ScaleRun) => number) => stats(ok(r).map(f)).mean;
/** Fraction of the compressed convs' parameters removed. */
// A full model reports no compressed layers: nothing removed.
const fewer = (x: ScaleRun) => (x.report.fullParams ? 1 - x.report.params / x.report.fullParams : 0);
const fewerConv = (x: ScaleRun) => (x.report.fullConvParams ? 1 - x.report.convParams / x.report.fullConvParams : 0);
const peakMiB = (x: ScaleRun) => (x.memory?.epochPeakKiB.length ? Math.max(...x.memory.epochPeakKiB) / 1024 : NaN);
const lastMiB = (x: ScaleRun) => (x.memory?.epochPeakKiB.length ? (x.memory.epochPeakKiB.at(-1) as number) / 1024 : NaN);

function ranksOf(run: ScaleRun | undefined): string {
  if (!run) return '—';
  return run.report.layers.map((l) => (l.ranks.length === 4 ? l.ranks.slice(0, 2).join('×') : l.ranks.join('×'))).join(', ') || '—';
}

function loadRange(runs: ScaleRun[]): string {
  const loads = runs.flatMap((x) => x.provenance?.load ?? []).filter((x) => Number.isFinite(x));
  return loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : '—';
}

/** Writes scale.md, scale.json and the SVGs to outDir (null: only returns them), by file name. */
export function writeScaleReport(result: ScaleResult, outDir: string | null): Record<string, string> {
  const files: Record<string, string> = {};
  const c = result.config;
  const input = INPUT_SHAPES[c.data];
  const dataName = c.data === 'cifar10' ? 'CIFAR-10' : 'Fashion-MNIST';
  const fullRow = result.rows.find((r) => r.label === 'full');
  const full = fullRow
    ? { acc: mean(fullRow, (x) => x.testAccuracy), time: mean(fullRow, (x) => x.secondsPerEpoch), peak: mean(fullRow, peakMiB), last: mean(fullRow, lastMiB) }
    : null;
  const lines: string[] = [];
  const say = (s = '') => lines.push(s);
  say(`# Methods at scale: a VGG-style net on ${dataName}`);
  say();
  say(
    `Network (width ${c.width}): ${describeVgg(c.width, input)}. Compressed layers: conv2–conv6 (every conv but the first; the linear layer is the last and stays whole, as does conv1), in every method.`,
  );
  say();
  const firstRun = result.rows.flatMap((r) => ok(r))[0];
  const sizes = `${c.trainSize === 'all' ? 'all' : c.trainSize.toLocaleString('en')} training images (a fixed seeded subset of the training split less the validation images), ${c.valSize.toLocaleString('en')} held-out validation images from the training split (lr selection), ${c.testSize.toLocaleString('en')} test images`;
  say(
    `${sizes}. ${c.epochs} epoch(s), batch ${c.batchSize}, SGD momentum 0.9, weight decay 5e-4, lr grid {${c.lrs.join(', ')}} (chosen per row on seed ${c.seeds[0]} by validation accuracy), seeds {${c.seeds.join(', ')}}. TDLRT: integrator step '${c.integrator}', τ held at 0 for ${c.warmupEpochs} epoch(s), starting at rank 0.2·n. Budgets (kept fraction of the compressed convs' parameters): ${result.budgets.map(pct).join(', ') || '—'}${c.budgets ? ' (given)' : `, set by where TDLRT lands at τ = ${c.taus.join(', ')}`}.`,
  );
  say();
  say(
    '| method | setting | lr | ranks out×in, conv2…conv6 (seed 0) | conv2–6 params kept | fewer params: conv2–6 | all convs | test accuracy (mean ± sd, n) | Δ vs full | s / epoch | time × full | step peak (MiB) | peak × full | last-epoch peak × full | train GFLOP / step | params + optimizer (KiB) | load |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of result.rows) {
    const good = ok(r);
    const first = good[0];
    const notRun = r.runs.filter((x) => x.error === NOT_RUN).length;
    if (!first) {
      say(
        `| ${r.label} | ${r.setting} | ${r.lr} | ${notRun === r.runs.length ? NOT_RUN : 'failed: '}${notRun === r.runs.length ? '' : (r.runs.find((x) => x.error !== NOT_RUN)?.error ?? '').replace(/\|/g, '/').slice(0, 200)} | | | | | | | | | | | | | |`,
      );
      continue;
    }
    const acc = stats(good.map((x) => x.testAccuracy));
    const failed = r.runs.length - good.length - notRun;
    const trained = !r.label.startsWith('post-hoc');
    const time = mean(r, (x) => x.secondsPerEpoch);
    const peak = mean(r, peakMiB);
    const last = mean(r, lastMiB);
    const ratio = (a: number, b: number | undefined) => (trained && b !== undefined && Number.isFinite(a) && b > 0 ? `${(a / b).toFixed(2)}` : '—');
    const delta = r.label === 'full' || !full || !Number.isFinite(full.acc) ? '—' : (100 * (acc.mean - full.acc)).toFixed(2);
    say(
      `| ${r.label} | ${r.setting} | ${r.lr} | ${ranksOf(first)} | ${first.report.fullParams ? `${first.report.params.toLocaleString('en')} of ${first.report.fullParams.toLocaleString('en')}` : 'all'} | ${pct(mean(r, fewer))} | ${pct(mean(r, fewerConv))} | ${(100 * acc.mean).toFixed(2)} ± ${(100 * acc.sd).toFixed(2)} (${acc.n}${failed ? `, ${failed} failed` : ''}${notRun ? `, ${notRun} not run yet` : ''}) | ${delta} | ${trained ? fixed(time, 1) : '—'} | ${ratio(time, full?.time)} | ${trained ? fixed(peak, 1) : '—'} | ${ratio(peak, full?.peak)} | ${ratio(last, full?.last)} | ${trained ? fixed(mean(r, (x) => x.flopsPerStep) / 1e9, 3) : '—'} | ${trained ? fixed(mean(r, (x) => x.stateBytes) / 1024, 0) : '—'} | ${loadRange(r.runs)} |`,
    );
  }
  say();
  say('Notes.');
  say(
    '- Time per epoch is training time without evaluation, each run in its own process, one after another; "× full" divides by the full row of this table. The machine is shared: the load column is the 1-minute load average at the start and end of the row\'s runs, and times taken at different loads compare loosely.',
  );
  say(
    '- Step peak: the peak resident set that training steps add above the process\'s resident set once data, model and method are set up (Linux VmHWM, reset after a GC at the start and after every epoch; a GC runs after every step, its time taken out of the epoch\'s; bench/scale-run.ts). "peak" is the highest epoch, "last-epoch" the last (at the ranks training ends with). TDLRT\'s warm-up (τ = 0) lets its ranks grow, so its first epoch can peak above its last. It is what the machine must hold, allocator and V8 heap slack included: on a narrow net (the quick mode) that slack, tens to a hundred MiB, is most of it, and the ratios mean little there. "params + optimizer" is the exact count beside it: the training model\'s parameters and optimizer (or integrator) state at their peak over epoch ends.',
  );
  say(
    "- Ranks: Tucker layers out×in (the 3×3 spatial modes stay full), matrix layers one rank. post-hoc (Tucker) compresses the trained full models of the same seeds and lr once (truncated HOSVD on the channel modes) without fine-tuning: the negative control; its time and memory are the full run's.",
  );
  say("- train GFLOP/step: the methods' analytic estimate at the ranks training ends with (forward + backward ≈ 3× forward).");
  if (result.rows.some((r) => r.label.startsWith('tdlrt (')))
    say(
      `- ${result.rows.find((r) => r.label.startsWith('tdlrt ('))?.label}: TDLRT with the other integrator step, at the lr the '${c.integrator}' row chose at the same τ (no lr search of its own).`,
    );
  const searched = result.rows.filter((r) => r.lrSearch.length > 1);
  if (searched.length) {
    say();
    say(
      'Learning-rate selection (validation accuracy on seed 0): ' +
        searched
          .map(
            (r) =>
              `${r.label}${r.budgetIndex === null ? '' : ` [${r.setting}]`}: ${r.lrSearch.map((s) => `${s.lr} → ${s.error ? (s.error === NOT_RUN ? NOT_RUN : 'failed') : pct(s.valAccuracy)}`).join(', ')}`,
          )
          .join('; ') +
        '.',
    );
  }
  say();
  say('Provenance (the parts this table was run in, by commit):');
  const byCommit = new Map<string, ScaleRun[]>();
  for (const run of result.rows.flatMap((r) => r.allRuns))
    if (run.provenance && !run.error) byCommit.set(run.provenance.commit, [...(byCommit.get(run.provenance.commit) ?? []), run]);
  for (const [commit, runs] of byCommit) {
    const starts = runs.map((x) => x.provenance.started).sort();
    const ends = runs.map((x) => x.provenance.finished).sort();
    const labels = [...new Set(runs.map((x) => x.label))].join(', ');
    say(`- commit ${commit}: ${runs.length} run(s) (${labels}), ${starts[0]} → ${ends.at(-1)}, load ${loadRange(runs)}, Node ${runs[0].provenance.node}.`);
  }
  say(
    `- This invocation (commit ${result.commit}): ${result.ranNow} runs run, ${result.resumedRuns} read back from scale.runs.jsonl, ${(result.seconds / 60).toFixed(1)} min.`,
  );
  if (!firstRun) say('- No run succeeded.');
  files['scale.md'] = `${lines.join('\n')}\n`;

  // Accuracy and time per epoch against compression, one line per method; full is a dashed line.
  const byLabel = new Map<string, ScaleRow[]>();
  for (const r of result.rows) if (r.label !== 'full') byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const against = (f: (r: ScaleRow) => number, keep: (label: string) => boolean): ChartSeries[] =>
    [...byLabel]
      .filter(([label]) => keep(label))
      .map(([label, rs]) => ({
        name: label,
        markers: true,
        points: rs
          .map((r) => [100 * mean(r, fewer), f(r)] as const)
          .filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]))
          .sort((a, b) => a[0] - b[0]),
      }));
  const withFull = (series: ChartSeries[], y: number): ChartSeries[] => {
    const xs = series.flatMap((s) => s.points.map((p) => p[0]));
    return Number.isFinite(y) && xs.length
      ? [
          {
            name: 'full',
            dashed: true,
            color: '#000000',
            points: [
              [Math.min(...xs), y],
              [Math.max(...xs), y],
            ],
          },
          ...series,
        ]
      : series;
  };
  const title = `VGG-style (width ${c.width}) on ${dataName}`;
  files['scale.accuracy.svg'] = lineChart({
    title: `${title}: test accuracy against compression`,
    xLabel: '% fewer parameters in conv2–conv6',
    yLabel: 'test accuracy (%), mean over seeds',
    width: 820,
    height: 480,
    series: withFull(
      against(
        (r) => 100 * mean(r, (x) => x.testAccuracy),
        () => true,
      ),
      100 * (full?.acc ?? NaN),
    ),
  });
  files['scale.time.svg'] = lineChart({
    title: `${title}: training time per epoch against compression`,
    xLabel: '% fewer parameters in conv2–conv6',
    yLabel: "time per epoch / full model's",
    width: 820,
    height: 480,
    series: withFull(
      against(
        (r) => mean(r, (x) => x.secondsPerEpoch) / (full?.time ?? NaN),
        (l) => !l.startsWith('post-hoc'),
      ),
      full ? 1 : NaN,
    ),
  });
  // TDLRT's ranks over training, one plot per step and tau (seed 0 at the chosen lr).
  for (const r of result.rows.filter((x) => x.label === 'tdlrt' || x.label.startsWith('tdlrt ('))) {
    const trace = ok(r)[0]?.rankTrace;
    if (!trace || r.budgetIndex === null) continue;
    const step = r.label === 'tdlrt' ? c.integrator : r.label.slice(7, -1);
    const tau = c.taus[r.budgetIndex];
    files[`scale.ranks.${step}.tau-${tau}.svg`] = stepChart({
      title: `TDLRT ('${step}' step) ranks during training, τ = ${tau}`,
      xLabel: 'step',
      yLabel: 'rank',
      logY: true,
      width: 760,
      height: 420,
      series: Object.entries(trace).map(([name, ranks]) => ({ name, points: ranks.map((v, i) => [i + 1, v] as const) })),
    });
  }
  files['scale.json'] = JSON.stringify(
    { ...result, rows: result.rows.map((r) => ({ ...r, runs: r.runs.map(({ rankTrace: _t, ...x }) => x), allRuns: undefined })) },
    null,
    1,
  );
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileAtomic(join(outDir, name), text);
  }
  return files;
}
