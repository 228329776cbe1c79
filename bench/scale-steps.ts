/**
 * The scale bench's time column, measured apart: one training step of each method at the ranks its
 * run ended with, against the full model's step, in one process, in interleaved rounds.
 *
 * Why: bench/scale.ts times whole epochs, and its runs go in pieces, on different commits and at
 * machine loads of 1 to 9 (bench/results/scale/README.md), so its seconds-per-epoch column cannot be
 * read as a ratio. Here every row's step runs back to back with the full step, on the same code and
 * the same load, and the median over rounds damps a change of load that hits one round.
 *
 * What a row is: the method's own step (createMethod, as the bench trains it) on a fresh VGG-style
 * net built at the ranks in the run log's report for that row (the first finished run of the row).
 * TDLRT and matrix DLRT run the integrator at τ = 0 with maxRank at those ranks: every step then
 * augments to 2r, takes the K-step directions and truncates back to r, which is the steady state
 * of a run whose ranks have settled (the warm-up and the steps while the ranks fall cost more, and
 * are in the epoch times). The budget methods (tucker-fixed, elrt, lra) take the ranks directly.
 * TRP (full-size weights, an SVD every m steps) and post-hoc (no training) have no row here.
 *
 *   npx tsx bench/scale-steps.ts [--log bench/results/scale/scale.runs.jsonl] [--rounds 3] [--steps 2]
 *                                [--out bench/results/scale/scale-steps.md] [--force]
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../src/io/files.js';
import { createMethod, type MethodOptions } from '../src/lowrank/methods/registry.js';
import type { TrainingMethod } from '../src/lowrank/methods/types.js';
import { randn } from '../src/tensor/creation.js';
import { Generator, manualSeed } from '../src/tensor/random.js';
import { arena } from '../src/tensor/storage.js';
import { currentCommit } from './scale.js';
import { convNames, INPUT_SHAPES, type ScaleDataset, vggNet } from './scale-setup.js';
import { median } from './timing.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The methods timed here: the integrator ones at their final ranks, the budget ones at theirs. */
const INTEGRATOR_METHODS = new Set(['tdlrt', 'dlrt-matrix']);
const RANKED_METHODS = new Set(['tucker-fixed', 'elrt', 'lra']);

export interface StepRowSpec {
  label: string;
  setting: string;
  method: string;
  /** The run's method options (JSON), as logged. */
  options: Record<string, unknown>;
  /** Final ranks per compressed layer (Sequential index → ranks), from the run's report. */
  ranks: Record<string, number[]>;
  seed: number;
}

export interface StepTiming {
  label: string;
  setting: string;
  /** Ranks as built, per conv (conv1…), "out×in". */
  ranks: string;
  /** Median over rounds of the mean step time (ms). */
  ms: number;
  /** ms against the full step of the same rounds. */
  ratio: number;
}

export interface StepsResult {
  data: ScaleDataset;
  width: number;
  batchSize: number;
  rounds: number;
  steps: number;
  load: [number, number];
  rows: StepTiming[];
  skipped: string[];
}

interface LogLine {
  key: string;
  run: { label: string; setting: string; seed: number; error?: string; report?: { layers?: { name: string; ranks: number[] }[] } };
}

/** The rows of a run log: one per (label, setting), from its first finished run with the lowest seed. */
export function stepRowsOf(logText: string): { rows: StepRowSpec[]; data: ScaleDataset; width: number; batchSize: number; skipped: string[] } {
  const fn = 'scale-steps';
  const lines = logText.split('\n').filter((l) => l.trim());
  if (lines.length === 0) throw new Error(`${fn}: the run log is empty: run bench/scale.ts first`);
  const best = new Map<string, { spec: StepRowSpec; key: Record<string, unknown> }>();
  const skipped = new Set<string>();
  for (const [i, line] of lines.entries()) {
    let parsed: LogLine;
    let key: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as LogLine;
      key = JSON.parse(parsed.key) as Record<string, unknown>;
    } catch {
      throw new Error(`${fn}: line ${i + 1} of the run log is not a run record (JSON with key and run)`);
    }
    const { run } = parsed;
    if (run.error) continue;
    const method = String(key.method);
    const id = `${run.label} [${run.setting}]`;
    if (method !== 'full' && !INTEGRATOR_METHODS.has(method) && !RANKED_METHODS.has(method)) {
      skipped.add(`${run.label} (${method === 'post-hoc' ? 'no training step' : 'its ranks change every few steps'})`);
      continue;
    }
    const ranks: Record<string, number[]> = {};
    for (const l of run.report?.layers ?? []) ranks[l.name] = l.ranks;
    const prev = best.get(id);
    if (prev && prev.spec.seed <= run.seed) continue;
    best.set(id, {
      spec: { label: run.label, setting: run.setting, method, options: (key.options ?? {}) as Record<string, unknown>, ranks, seed: run.seed },
      key,
    });
  }
  if (best.size === 0) throw new Error(`${fn}: the run log holds no finished run of a method timed here`);
  const first = [...best.values()][0].key;
  const data = first.data as ScaleDataset;
  const width = Number(first.width);
  const batchSize = Number(first.batchSize);
  for (const { key, spec } of best.values())
    if (key.data !== data || Number(key.width) !== width || Number(key.batchSize) !== batchSize)
      throw new Error(
        `${fn}: the run log mixes settings (${spec.label} ran on ${key.data}, width ${key.width}, batch ${key.batchSize}); time one setting at a time`,
      );
  if (!best.has('full [—]')) throw new Error(`${fn}: the run log has no finished full run, the reference of every ratio`);
  return { rows: [...best.values()].map((b) => b.spec), data, width, batchSize, skipped: [...skipped] };
}

/** The method of a row, set up on a fresh net at the row's ranks. */
function buildRow(spec: StepRowSpec, data: ScaleDataset, width: number): { method: TrainingMethod; built: Record<string, number[]> } {
  const model = vggNet({ width, inChannels: INPUT_SHAPES[data][0], generator: new Generator(1000) });
  const lr = 0.01;
  let options: MethodOptions;
  if (spec.method === 'full') options = { lr };
  else if (INTEGRATOR_METHODS.has(spec.method)) {
    const { tau: _tau, warmupEpochs: _w, warmup: _m, ...rest } = spec.options;
    options = {
      ...(rest as Omit<MethodOptions, 'lr'>),
      lr,
      tau: 0,
      warmupEpochs: 0,
      warmup: 'integrator',
      rankRatio: 1,
      maxRank: (layer: string, mode: number, size: number) => Math.min(size, spec.ranks[layer]?.[mode] ?? size),
    };
  } else {
    const { budget: _b, ...rest } = spec.options;
    options = { ...(rest as Omit<MethodOptions, 'lr'>), lr, ranks: spec.ranks };
  }
  const method = createMethod(spec.method, options);
  method.setup(model, { stepsPerEpoch: 100, epochs: 1, generator: new Generator(2000) });
  const built: Record<string, number[]> = {};
  for (const l of method.report().layers) built[l.name] = l.ranks;
  return { method, built };
}

/** Times every row's step against the full step: `rounds` interleaved rounds of `steps` steps each, after two untimed steps. */
export function timeScaleSteps(logText: string, options: { rounds?: number; steps?: number } = {}): StepsResult {
  const rounds = options.rounds ?? 3;
  const steps = options.steps ?? 2;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`scale-steps: rounds must be a positive integer, got ${rounds}`);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`scale-steps: steps must be a positive integer, got ${steps}`);
  const load0 = loadavg()[0];
  const { rows, data, width, batchSize, skipped } = stepRowsOf(logText);
  manualSeed(0);
  const x = randn([batchSize, ...INPUT_SHAPES[data]]);
  const y = Int32Array.from({ length: batchSize }, (_, i) => i % 10);
  const names = convNames(vggNet({ width, inChannels: INPUT_SHAPES[data][0], generator: new Generator(0) }));
  const runs = rows.map((spec) => {
    const { method, built } = buildRow(spec, data, width);
    // The row must run at the ranks its run ended with, or its ratio says nothing about that run.
    for (const [layer, r] of Object.entries(spec.ranks))
      if (built[layer]?.join('×') !== r.join('×'))
        throw new Error(`scale-steps: ${spec.label} [${spec.setting}] built layer ${layer} at ${built[layer]?.join('×')}, its run ended at ${r.join('×')}`);
    const step = () => arena(() => void method.step(x, y));
    step();
    step();
    return { spec, step, times: [] as number[], built };
  });
  for (let r = 0; r < rounds; r++)
    for (const run of runs) {
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) run.step();
      run.times.push((performance.now() - t0) / steps);
    }
  const full = median((runs.find((r) => r.spec.label === 'full') as (typeof runs)[number]).times);
  return {
    data,
    width,
    batchSize,
    rounds,
    steps,
    load: [load0, loadavg()[0]],
    skipped,
    rows: runs.map((r) => ({
      label: r.spec.label,
      setting: r.spec.setting,
      ranks: Object.entries(r.built)
        .map(([layer, rk]) => `${names[layer] ?? layer} ${rk.slice(0, 2).join('×')}`)
        .join(', '),
      ms: median(r.times),
      ratio: median(r.times) / full,
    })),
  };
}

/** The markdown report. */
export function stepsMarkdown(res: StepsResult, command: string, commit: string): string {
  const lines = [
    '# The scale bench: one training step of each method at the ranks its run ended with',
    '',
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, commit ${commit}, CPU backend, ${res.data}, width ${res.width}, batch ${res.batchSize}. Command: \`${command}\`. ` +
      `Median over ${res.rounds} interleaved rounds of the mean of ${res.steps} steps, after two untimed steps; every ratio is to the full step of the same rounds. ` +
      `1-minute load average ${res.load[0].toFixed(2)} at the start, ${res.load[1].toFixed(2)} at the end.`,
    '',
    'TDLRT and matrix DLRT run at τ = 0 with maxRank at the final ranks (the steady state once the ranks have settled: augmentation to 2r, K-step, truncation back to r); their warm-up and the steps while the ranks fall cost more and are in the epoch times of `scale.md`.',
    '',
    '| method | setting | ranks (out×in) | step (ms) | × full step |',
    '|---|---|---|---|---|',
    ...res.rows.map((r) => `| ${r.label} | ${r.setting} | ${r.ranks || '—'} | ${r.ms.toFixed(0)} | ${r.ratio.toFixed(2)} |`),
  ];
  if (res.skipped.length) lines.push('', `Not timed here: ${res.skipped.join('; ')}.`);
  return `${lines.join('\n')}\n`;
}

function main(argv: string[]): void {
  const fn = 'bench/scale-steps';
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${fn}: --${name} needs a value`);
    return v;
  };
  const known = new Set(['log', 'rounds', 'steps', 'out', 'force']);
  for (const a of argv)
    if (a.startsWith('--') && !known.has(a.slice(2))) throw new Error(`${fn}: unknown option ${a}; known: ${[...known].map((k) => `--${k}`).join(', ')}`);
  const log = value('log') ?? join(REPO, 'bench/results/scale/scale.runs.jsonl');
  const out = value('out') ?? join(REPO, 'bench/results/scale/scale-steps.md');
  if (!existsSync(log)) throw new Error(`${fn}: no run log at ${log}: run bench/scale.ts first, or pass --log`);
  if (existsSync(out) && !argv.includes('--force')) throw new Error(`${fn}: ${out} exists; pass --force to replace it`);
  const num = (name: string) => (value(name) === undefined ? undefined : Number(value(name)));
  const res = timeScaleSteps(readFileSync(log, 'utf8'), { rounds: num('rounds'), steps: num('steps') });
  const md = stepsMarkdown(res, `npx tsx bench/scale-steps.ts ${argv.join(' ')}`.trim(), currentCommit());
  writeFileAtomic(out, md);
  process.stdout.write(md);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
