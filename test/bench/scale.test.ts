import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScaleArgs, RUN_LOG, runScaleBench, SCALE_METHODS } from '../../bench/scale.js';
import { NOT_RUN, writeScaleReport } from '../../bench/scale-report.js';
import { convNames, scaleData, vggNet } from '../../bench/scale-setup.js';
import { CIFAR10_RECORD_BYTES } from '../../src/data/cifar10.js';
import { compressedLayers } from '../../src/lowrank/methods/budget.js';
import { Generator } from '../../src/tensor/random.js';
import { hasSystemPackage } from '../setup/system.js';

const tmp = mkdtempSync(join(tmpdir(), 'tuckergrad-scale-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** CIFAR-10 binary batches of `count` records each: seeded labels, pixels that carry the label (so the net can learn). */
function writeCifar(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  const g = new Generator(7);
  const files = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`).concat('test_batch.bin');
  for (const name of files) {
    const bytes = new Uint8Array(count * CIFAR10_RECORD_BYTES);
    for (let i = 0; i < count; i++) {
      const label = Math.floor(g.uniform() * 10);
      bytes[i * CIFAR10_RECORD_BYTES] = label;
      for (let p = 1; p < CIFAR10_RECORD_BYTES; p++) bytes[i * CIFAR10_RECORD_BYTES + p] = Math.min(255, label * 24 + Math.floor(g.uniform() * 32));
    }
    writeFileSync(join(dir, name), bytes);
  }
}

/** Cells of a Markdown table row. */
const cells = (line: string) => line.split('|').slice(1, -1);

describe('bench/scale setup', () => {
  it('builds the VGG-style net: six 3×3 convs, five of them compressed', () => {
    const model = vggNet({ width: 4, inChannels: 3, generator: new Generator(0) });
    const layers = compressedLayers(model);
    expect(layers.map((l) => l.kind)).toEqual(['conv', 'conv', 'conv', 'conv', 'conv']);
    expect(layers.map((l) => l.shape)).toEqual([
      [4, 4, 3, 3],
      [8, 4, 3, 3],
      [8, 8, 3, 3],
      [16, 8, 3, 3],
      [16, 16, 3, 3],
    ]);
    expect(Object.values(convNames(model))).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'conv6']);
    expect(() => vggNet({ width: 0, inChannels: 1, generator: new Generator(0) })).toThrow(/width must be a positive integer, got 0/);
  });

  it('rejects unknown options and bad values, naming them', () => {
    expect(() => parseScaleArgs(['--widht', '8'])).toThrow(/unknown option --widht/);
    expect(() => parseScaleArgs(['--integrator', 'euler'])).toThrow(/--integrator must be one of bug, parallel, got 'euler'/);
    expect(() => parseScaleArgs(['--epochs', '1.5'])).toThrow(/--epochs must be an integer, got '1.5'/);
    expect(parseScaleArgs(['--train', 'all', '--seeds', '3']).trainSize).toBe('all');
    expect(() => runScaleBench({ ...parseScaleArgs(['--quick']), data: 'cifar10' })).toThrow(/cifar10' needs dir/);
  });

  it.runIf(hasSystemPackage('fashionMnist'))('splits Fashion-MNIST into training, held-out validation and test images', () => {
    const d = scaleData({ data: 'fashion-mnist', trainSize: 500, valSize: 300, testSize: 200 });
    expect([d.train.labels.length, d.val.labels.length, d.test.labels.length]).toEqual([500, 300, 200]);
    expect(d.train.shape).toEqual([1, 28, 28]);
  });
});

describe('bench/scale --quick on synthetic CIFAR-10 files', () => {
  const dataDir = join(tmp, 'cifar');
  const out = join(tmp, 'out');
  writeCifar(dataDir, 60);
  const args = ['--quick', '--quiet', '--data', 'cifar10', '--dir', dataDir, '--train', '200', '--val', '100', '--test', '60', '--out', out];

  it('runs every method, writes the table, the run log and the plots, and resumes without rerunning', () => {
    const config = parseScaleArgs(args);
    expect(config.methods).toEqual([...SCALE_METHODS]);
    const result = runScaleBench(config);
    const files = writeScaleReport(result, out);
    const labels = ['full', 'tdlrt', 'tdlrt (bug)', 'tucker-fixed', 'dlrt-matrix', 'trp', 'lra', 'elrt', 'post-hoc (Tucker)'];
    expect(result.rows.map((r) => r.label)).toEqual(labels);
    for (const row of result.rows) {
      for (const run of row.runs) {
        expect(run.error, `${row.label}: ${run.error}`).toBeUndefined();
        expect(run.testAccuracy).toBeGreaterThanOrEqual(0);
        expect(run.provenance.load).toHaveLength(2);
        if (!row.label.startsWith('post-hoc')) {
          expect(run.secondsPerEpoch).toBeGreaterThan(0);
          expect(run.memory?.epochPeakKiB).toHaveLength(1);
        }
        if (row.label !== 'full' && row.label !== 'trp') expect(run.report.params).toBeLessThan(run.report.fullParams);
      }
    }
    // The budget-matched rows keep at most what TDLRT kept.
    for (const row of result.rows.filter((r) => ['tucker-fixed', 'lra', 'elrt', 'post-hoc (Tucker)'].includes(r.label))) {
      const rep = row.runs[0].report;
      expect(rep.params / rep.fullParams).toBeLessThanOrEqual(result.budgets[0] + 1e-12);
    }
    // TDLRT with the other step runs at the lr its row chose, and traces ranks per conv.
    expect(result.rows[2].lr).toBe(result.rows[1].lr);
    expect(Object.keys(result.rows[1].runs[0].rankTrace ?? {})).toContain('conv6 in');

    // The files on disk: the table is well-formed, the JSON and every JSONL line parse, the SVGs are SVGs.
    const md = readFileSync(join(out, 'scale.md'), 'utf8');
    expect(md).toBe(files['scale.md']);
    const table = md.split('\n').filter((l) => l.startsWith('| '));
    expect(table).toHaveLength(labels.length + 1);
    for (const line of table) expect(cells(line)).toHaveLength(cells(table[0]).length);
    for (const label of labels) expect(md).toContain(`| ${label} |`);
    expect(md).toContain('conv5 16→32');
    expect(md).toMatch(/commit [0-9a-f]{12}/);
    expect(JSON.parse(readFileSync(join(out, 'scale.json'), 'utf8')).rows).toHaveLength(labels.length);
    const log = readFileSync(join(out, RUN_LOG), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; run: { label: string } });
    expect(log).toHaveLength(result.ranNow);
    expect(new Set(log.map((l) => l.key)).size).toBe(log.length);
    for (const svg of ['scale.accuracy.svg', 'scale.time.svg', 'scale.ranks.parallel.tau-0.1.svg', 'scale.ranks.bug.tau-0.1.svg']) {
      const text = readFileSync(join(out, svg), 'utf8');
      expect(text.startsWith('<svg'), svg).toBe(true);
      expect(text.trimEnd().endsWith('</svg>'), svg).toBe(true);
      expect((text.match(/<g\b/g) ?? []).length, svg).toBe((text.match(/<\/g>/g) ?? []).length);
    }
    expect(readFileSync(join(out, 'scale.accuracy.svg'), 'utf8')).toContain('tucker-fixed');

    // Resume: nothing finished runs again; a new lr in the grid is the only new run.
    const again = runScaleBench(parseScaleArgs([...args, '--resume']));
    expect(again.ranNow).toBe(0);
    expect(again.resumedRuns).toBe(log.length);
    expect(again.rows.map((r) => r.runs[0].testAccuracy)).toEqual(result.rows.map((r) => r.runs[0].testAccuracy));
    // --report-only runs nothing and shows what the log lacks.
    const partial = runScaleBench(parseScaleArgs([...args, '--report-only', '--methods', 'full', '--lrs', '0.02,0.01']));
    expect(partial.ranNow).toBe(0);
    expect(partial.rows[0].lrSearch.map((x) => x.error)).toEqual([undefined, NOT_RUN]);
    expect(writeScaleReport(partial, null)['scale.md']).toContain('0.01 → not run yet');
    // The table keeps every method the log holds, not only the one asked for.
    expect(partial.rows.map((r) => r.label)).toEqual(labels);
    const more = runScaleBench(parseScaleArgs([...args, '--resume', '--methods', 'full', '--lrs', '0.02,0.01']));
    expect(more.ranNow).toBe(1);
    expect(more.rows.map((r) => r.label)).toEqual(labels);
    expect(more.rows.find((r) => r.label === 'trp')?.lrSearch.map((x) => x.error)).toEqual([undefined, NOT_RUN]);
    expect(readFileSync(join(out, RUN_LOG), 'utf8').trim().split('\n')).toHaveLength(log.length + 1);
    // Without --resume a log with finished runs is refused, untouched; --force starts it over.
    expect(() => runScaleBench(parseScaleArgs([...args, '--methods', 'full']))).toThrow(
      /holds \d+ finished run\(s\); pass --resume to continue them, --force to start over/,
    );
    expect(readFileSync(join(out, RUN_LOG), 'utf8').trim().split('\n')).toHaveLength(log.length + 1);
    const fresh = runScaleBench(parseScaleArgs([...args, '--methods', 'full', '--force']));
    expect(fresh.ranNow).toBe(1);
    expect(readFileSync(join(out, RUN_LOG), 'utf8').trim().split('\n')).toHaveLength(1);
  }, 240_000);
});
