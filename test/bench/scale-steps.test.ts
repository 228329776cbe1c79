import { describe, expect, it } from 'vitest';
import { stepRowsOf, stepsMarkdown, timeScaleSteps } from '../../bench/scale-steps.js';

// A run log as bench/scale.ts writes it, for a width-4 net (conv2–conv6 compressed: Sequential
// indices 3, 7, 10, 14, 17), with the fields scale-steps reads.
const common = { data: 'fashion-mnist', dir: null, width: 4, trainSize: 100, valSize: 50, testSize: 50, epochs: 1, batchSize: 8 };
const tucker = { '3': [2, 2, 3, 3], '7': [4, 3, 3, 3], '10': [5, 4, 3, 3], '14': [6, 5, 3, 3], '17': [8, 7, 3, 3] };
const matrix = { '3': [2, 2], '7': [3, 3], '10': [4, 4], '14': [5, 5], '17': [6, 6] };
const adaptive = { tau: 0.1, warmupEpochs: 1, integrator: 'parallel', warmup: 'integrator' };

function record(label: string, method: string, setting: string, seed: number, options: object, ranks: Record<string, number[]> | null, error?: string): string {
  const key = JSON.stringify({ ...common, kind: 'train', label, method, options, budget: null, lr: 0.05, seed });
  const layers = ranks ? Object.entries(ranks).map(([name, r]) => ({ name, ranks: r, params: 1, fullParams: 2 })) : [];
  return JSON.stringify({ key, run: { label, setting, seed, lr: 0.05, error, report: { layers } } });
}

const log = [
  record('full', 'full', '—', 1, {}, null),
  record('full', 'full', '—', 0, {}, null),
  record('tdlrt', 'tdlrt', 'τ = 0.1', 0, adaptive, tucker),
  // A later seed of the same row, at other ranks: the row takes seed 0's.
  record('tdlrt', 'tdlrt', 'τ = 0.1', 1, adaptive, { ...tucker, '3': [3, 3, 3, 3] }),
  record('tdlrt (bug)', 'tdlrt', 'τ = 0.1', 0, { ...adaptive, integrator: 'bug' }, tucker),
  record('tucker-fixed', 'tucker-fixed', 'budget 20%', 0, { budget: 0.2 }, tucker),
  record('dlrt-matrix', 'dlrt-matrix', 'τ = 0.1', 0, adaptive, matrix),
  record('elrt', 'elrt', 'budget 20%', 0, { budget: 0.2 }, null, 'the run failed'),
  record('trp', 'trp', 'e = 0.9, m = 20', 0, { trpEnergy: 0.9, trpInterval: 20 }, tucker),
  record('post-hoc (Tucker)', 'post-hoc', 'budget 20%', 0, {}, tucker),
].join('\n');

describe('bench/scale-steps', () => {
  it('reads one row per label and setting from the run log: the lowest seed, finished runs, timed methods only', () => {
    const { rows, data, width, batchSize, skipped } = stepRowsOf(log);
    expect([data, width, batchSize]).toEqual(['fashion-mnist', 4, 8]);
    expect(rows.map((r) => `${r.label} ${r.seed}`)).toEqual(['full 0', 'tdlrt 0', 'tdlrt (bug) 0', 'tucker-fixed 0', 'dlrt-matrix 0']);
    expect(rows[1].ranks['3']).toEqual([2, 2, 3, 3]);
    expect(skipped.join('; ')).toMatch(/trp.*post-hoc/);
  });

  it('times every row at its logged ranks against the full step, and writes the table', () => {
    const res = timeScaleSteps(log, { rounds: 1, steps: 1 });
    expect(res.rows.map((r) => r.label)).toEqual(['full', 'tdlrt', 'tdlrt (bug)', 'tucker-fixed', 'dlrt-matrix']);
    expect(res.rows[0].ratio).toBe(1);
    for (const r of res.rows) {
      expect(r.ms).toBeGreaterThan(0);
      expect(r.ratio).toBeCloseTo(r.ms / res.rows[0].ms, 12);
    }
    // The ranks the rows were built at are the logged ones, by conv name.
    expect(res.rows[1].ranks).toBe('conv2 2×2, conv3 4×3, conv4 5×4, conv5 6×5, conv6 8×7');
    expect(res.rows[4].ranks).toBe('conv2 2×2, conv3 3×3, conv4 4×4, conv5 5×5, conv6 6×6');
    const md = stepsMarkdown(res, 'npx tsx bench/scale-steps.ts', 'abc');
    const table = md.split('\n').filter((l) => l.startsWith('| '));
    expect(table).toHaveLength(1 + res.rows.length);
    expect(md).toContain('| tdlrt (bug) | τ = 0.1 |');
    expect(md).toContain('Not timed here: trp');
  }, 120_000);

  it('refuses a log it cannot time, saying why', () => {
    expect(() => stepRowsOf('')).toThrow(/run log is empty/);
    expect(() => stepRowsOf(`${log}\nnot json`)).toThrow(/line 11 of the run log is not a run record/);
    const line = JSON.parse(record('tucker-fixed', 'tucker-fixed', 'budget 5%', 0, { budget: 0.05 }, tucker));
    const other = JSON.stringify({ ...line, key: JSON.stringify({ ...JSON.parse(line.key), width: 8 }) });
    expect(() => stepRowsOf(`${log}\n${other}`)).toThrow(/mixes settings \(tucker-fixed ran on fashion-mnist, width 8, batch 8\)/);
    expect(() => stepRowsOf(log.split('\n').slice(2).join('\n'))).toThrow(/no finished full run/);
    expect(() => timeScaleSteps(log, { rounds: 0 })).toThrow(/rounds must be a positive integer, got 0/);
    expect(() => timeScaleSteps(log, { steps: 1.5 })).toThrow(/steps must be a positive integer, got 1.5/);
  });
});
