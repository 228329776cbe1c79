import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCH_METHODS, defaultConfig, NOT_RUN, parseArgs, runKey, runMethodsBench, writeMethodsReport } from '../../../bench/methods.js';
import { hasSystemPackage } from '../../setup/system.js';

// Before any data is read or any run trained: a budget-matched method without budgets or tdlrt fails at
// once (it used to train every run first and fail in the report; full and tdlrt alone need none).
describe('bench/methods config', () => {
  const noData = { train: null, val: null, test: null } as unknown as Parameters<typeof runMethodsBench>[1];
  it('--warmup picks how tdlrt and dlrt-matrix warm up; runs logged with the integrator warm-up keep their keys', () => {
    expect(parseArgs([]).config.warmup).toBe('full');
    expect(parseArgs(['--warmup', 'integrator']).config.warmup).toBe('integrator');
    expect(() => parseArgs(['--warmup', 'cold'])).toThrow("bench/methods: --warmup must be one of full, integrator, got 'cold'");
    const c = defaultConfig();
    const key = (label: string, warmup: 'full' | 'integrator') => JSON.parse(runKey(label, 'τ = 0.1', 0.05, 0, { ...c, warmup }));
    expect(key('tdlrt', 'integrator')).toEqual(['tdlrt', 'τ = 0.1', 0.05, 0, 10000, 2000, 10000, 5, 64, 100, 1, 'integrator parallel']);
    expect(key('tdlrt', 'full')).toEqual([...key('tdlrt', 'integrator'), 'warmup full']);
    expect(key('dlrt-matrix', 'full').at(-1)).toBe('warmup full');
    // The other methods have no warm-up: one key either way.
    expect(key('trp', 'full')).toEqual(key('trp', 'integrator'));
  });
  it('--report-only needs a run log and excludes --force', () => {
    expect(() => parseArgs(['--report-only', '--out', join(tmpdir(), 'tg-no-such-dir')])).toThrow(
      /--report-only needs a run log, and .*methods\.runs\.jsonl does not exist/,
    );
    expect(() => parseArgs(['--report-only', '--force'])).toThrow('bench/methods: --report-only and --force exclude each other');
  });
  it('refuses a budget-matched method without budgets or tdlrt before training', () => {
    const config = { ...defaultConfig('quick'), progress: null, methods: ['full', 'lra', 'tucker-fixed'] };
    expect(() => runMethodsBench(config, noData)).toThrow(
      'runMethodsBench: lra, tucker-fixed need budgets: include tdlrt in methods (its runs set them) or give budgets',
    );
  });
});

// The bench trains on the real Fashion-MNIST (Debian dataset-fashion-mnist): required under CI.
describe.runIf(hasSystemPackage('fashionMnist'))('bench/methods (quick, in process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-methods-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('runs every method once on 384 images and writes the table and the plots; --report-only reads the log back and runs nothing', () => {
    const runLog = join(dir, 'methods.runs.jsonl');
    const config = { ...defaultConfig('quick'), trainSize: 384, valSize: 256, testSize: 256, progress: null, lrs: [0.02], runLog };
    const result = runMethodsBench(config);
    const labels = result.rows.map((r) => r.label);
    expect(labels).toEqual(['full', 'tdlrt', 'tucker-fixed', 'matrix-fixed', 'dlrt-matrix', 'trp', 'lra', 'elrt', 'post-hoc (Tucker)', 'post-hoc (matrix)']);
    expect(BENCH_METHODS.length).toBe(9);
    expect(result.budgets).toHaveLength(1);
    expect(result.budgets[0]).toBeGreaterThan(0);
    expect(result.budgets[0]).toBeLessThan(1);
    for (const row of result.rows) {
      for (const run of row.runs) {
        expect(run.error, `${row.label}: ${run.error}`).toBeUndefined();
        expect(run.testAccuracy).toBeGreaterThan(0);
        expect(Number.isFinite(run.flopsPerStep)).toBe(true);
        expect(run.memoryBytes).toBeGreaterThan(0);
        if (row.label !== 'full' && row.label !== 'trp') expect(run.report.params).toBeLessThan(run.report.fullParams);
      }
    }
    // Budget-matched methods stay within the budget TDLRT set.
    for (const row of result.rows.filter((r) => ['tucker-fixed', 'matrix-fixed', 'elrt', 'lra', 'post-hoc (Tucker)', 'post-hoc (matrix)'].includes(r.label))) {
      const rep = row.runs[0].report;
      expect(rep.params / rep.fullParams).toBeLessThanOrEqual(result.budgets[0] + 1e-12);
    }
    const files = writeMethodsReport(result, null);
    expect(Object.keys(files).sort()).toEqual(['methods.accuracy.svg', 'methods.json', 'methods.md', 'methods.tdlrt-ranks.tau-0.1.svg']);
    for (const label of labels) expect(files['methods.md']).toContain(`| ${label} |`);
    expect(files['methods.accuracy.svg'].startsWith('<svg')).toBe(true);
    expect(files['methods.tdlrt-ranks.tau-0.1.svg']).toContain('conv2 out');
    expect(JSON.parse(files['methods.json']).rows).toHaveLength(10);

    // Report-only with a wider lr grid: the logged runs come back as they were, the new lr is
    // reported as not run, and the log is not touched.
    const logged = readFileSync(runLog, 'utf8');
    const again = runMethodsBench({ ...config, reportOnly: true, lrs: [0.02, 0.01] });
    expect(readFileSync(runLog, 'utf8')).toBe(logged);
    expect(again.rows.map((r) => r.label)).toEqual(labels);
    expect(again.rows.map((r) => r.runs[0].testAccuracy)).toEqual(result.rows.map((r) => r.runs[0].testAccuracy));
    expect(again.rows[0].lrSearch.map((x) => x.error)).toEqual([undefined, NOT_RUN]);
    expect(writeMethodsReport(again, null)['methods.md']).toContain(`0.01 → ${NOT_RUN}`);
  }, 180_000);
});
