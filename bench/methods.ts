/**
 * The seed baselines side by side (docs/design.md §5.3, §8): LeNet-5 on Fashion-MNIST trained by every
 * method at three budgets, one table and two kinds of plot.
 *
 *   npm run bench:methods -- [--quick] [--full] [--epochs 5] [--seeds 3] [--lrs 0.05,0.01]
 *        [--taus 0.05,0.1,0.2] [--budgets 0.2,0.07,0.03] [--methods full,tdlrt,...] [--train 10000]
 *        [--max-rank-linear 100] [--trp-interval 20] [--trp-energy 0.98,0.95,0.9] [--lra-interval 200]
 *        [--integrator parallel|bug] [--warmup full|integrator] [--resume | --force | --report-only] [--out bench/results]
 *
 * How it is fair. Every method compresses conv2 and fc1 (conv1 and fc2 stay whole), trains for the
 * same epochs with the same batches, and gets the same learning-rate grid: each (method, budget)
 * picks its lr on seed 0 by accuracy on a held-out validation set (2,000 images of the training
 * split that no method trains on), then runs the other seeds at that lr; the table reports test
 * accuracy over the seeds. The budgets are set by TDLRT: its runs at the three tau values land
 * where they land, and the kept fraction of the compressed layers' parameters they reach (mean over
 * seeds) is the budget every budget-matched method (tucker-fixed, matrix-fixed, elrt, lra,
 * post-hoc) solves its ranks for. dlrt-matrix runs at the same tau as TDLRT and TRP at an energy
 * per budget: both land where their thresholds take them, which the table shows.
 *
 * Writes bench/results/methods.md, methods.json, methods.accuracy.svg and one
 * methods.tdlrt-ranks.tau-<τ>.svg per tau; with --resume, runs already in methods.runs.jsonl
 * (same settings) are not run again; --report-only runs nothing and writes the table of what the
 * log holds (a run it lacks shows as 'not run yet'), so that a table of every method can be
 * written from a log filled one method per invocation.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataLoader } from '../src/data/loader.js';
import { loadFashionMnistSplit } from '../src/data/fashion-mnist.js';
import { subset, take, type Dataset } from '../src/data/dataset.js';
import { lineChart, stepChart, type ChartSeries } from '../src/io/svg-plot.js';
import { writeFileAtomic } from '../src/io/files.js';
import { startRunLog } from './run-log.js';
import { lenet5 } from '../src/nn/models.js';
import type { StateDict } from '../src/nn/module.js';
import { Generator } from '../src/tensor/random.js';
import { evaluate, fit } from '../src/train/fit.js';
import { compressOnce } from '../src/lowrank/methods/post-hoc.js';
import { createMethod, type MethodOptions } from '../src/lowrank/methods/registry.js';
import { reportOf } from '../src/lowrank/methods/report.js';
import { TdlrtMethod } from '../src/lowrank/methods/tdlrt.js';
import { INTEGRATOR_KINDS, type IntegratorKind } from '../src/lowrank/integrator.js';
import type { TdlrtOptions } from '../src/lowrank/methods/tdlrt.js';
import type { MethodReport } from '../src/lowrank/methods/types.js';

/** The rows of the bench: post-hoc gives two (Tucker and matrix compression of the same full runs). */
export const BENCH_METHODS = ['full', 'tdlrt', 'tucker-fixed', 'matrix-fixed', 'dlrt-matrix', 'trp', 'lra', 'elrt', 'post-hoc'] as const;

export interface BenchConfig {
  /** Training images, from the training split minus the validation images; 'all' for every one. */
  trainSize: number | 'all';
  valSize: number;
  testSize: number;
  epochs: number;
  batchSize: number;
  seeds: number[];
  lrs: number[];
  /** TDLRT's (and dlrt-matrix's) relative tolerances, one per budget, mildest first. */
  taus: number[];
  /** Kept fractions of the compressed layers' parameters; default: where TDLRT lands at each tau. */
  budgets?: number[];
  methods: string[];
  /** Cap on the ranks of fc1 for tdlrt and dlrt-matrix (the CPU is slow). */
  maxRankLinear: number;
  trpInterval: number;
  /** TRP's energy per budget. */
  trpEnergies: number[];
  lraInterval: number;
  /** Epochs with tau held at 0 (docs/integrator.md §7). */
  warmupEpochs: number;
  /** The integrator step of tdlrt and dlrt-matrix (the library's default: 'parallel'). */
  integrator: IntegratorKind;
  /**
   * How tdlrt and dlrt-matrix warm up (the library's default: 'full', the full model converted
   * exactly at the switch; 'integrator': the integrator at τ = 0 at the capped ranks, which every
   * run logged before 2026-12-06 15:00 UTC used).
   */
  warmup: NonNullable<TdlrtOptions['warmup']>;
  /** Live progress (per epoch and per run); null for silence. */
  progress: NodeJS.WriteStream | null;
  dataDir?: string;
  /** A JSONL file of finished runs: appended to, and read back when resume is set. */
  runLog?: string;
  resume?: boolean;
  /** Run nothing: read the run log and report what it holds, a run missing from it as NOT_RUN. */
  reportOnly?: boolean;
}

/** The error a report-only invocation gives a run the log does not hold (not a failure). */
export const NOT_RUN = 'not run yet';

export function defaultConfig(mode: 'default' | 'quick' | 'full' = 'default'): BenchConfig {
  const base: BenchConfig = {
    trainSize: 10_000,
    valSize: 2_000,
    testSize: 10_000,
    epochs: 5,
    batchSize: 64,
    seeds: [0, 1, 2],
    lrs: [0.05, 0.01],
    taus: [0.05, 0.1, 0.2],
    methods: [...BENCH_METHODS],
    maxRankLinear: 100,
    trpInterval: 20,
    trpEnergies: [0.98, 0.95, 0.9],
    lraInterval: 200,
    warmupEpochs: 1,
    integrator: 'parallel',
    warmup: 'full',
    progress: process.stderr,
  };
  if (mode === 'full') return { ...base, trainSize: 'all' };
  // One lr in quick mode: 0.02, where every method trains (fixed-rank factors diverge at 0.05 in a 2,000-image epoch).
  if (mode === 'quick')
    return {
      ...base,
      trainSize: 2_000,
      valSize: 1_000,
      testSize: 2_000,
      epochs: 1,
      seeds: [0],
      lrs: [0.02],
      taus: [0.1],
      trpEnergies: [0.95],
      lraInterval: 10,
      warmupEpochs: 0.5,
    };
  return base;
}

/** One training run (or one post-hoc compression of a full run). */
export interface RunResult {
  /** Row label: the method name, or 'post-hoc (Tucker)' / 'post-hoc (matrix)'. */
  label: string;
  budgetIndex: number | null;
  /** What sets the compression: tau, energy, or the budget. */
  setting: string;
  lr: number;
  seed: number;
  valAccuracy: number;
  testAccuracy: number;
  report: MethodReport;
  secondsPerEpoch: number;
  flopsPerStep: number;
  memoryBytes: number;
  /** TDLRT / dlrt-matrix: ranks of every adapted mode after each step (layer.mode → ranks). */
  rankTrace?: Record<string, number[]>;
  error?: string;
}

/** One row of the table: a method at a budget, over the seeds at the chosen lr. */
export interface RowResult {
  label: string;
  budgetIndex: number | null;
  setting: string;
  lr: number;
  runs: RunResult[];
  /** Validation accuracy of each lr on seed 0 (the selection). */
  lrSearch: { lr: number; valAccuracy: number; error?: string }[];
}

export interface BenchResult {
  config: Omit<BenchConfig, 'progress'>;
  budgets: number[];
  rows: RowResult[];
  data: { train: number; validation: number; test: number };
  seconds: number;
  /** Runs read back from the run log (resume) rather than run now. */
  resumedRuns: number;
}

interface BenchData {
  train: Dataset;
  val: Dataset;
  test: Dataset;
}

/** Validation: the last valSize images of the training split; training: a fixed seeded subset of the rest. */
export function benchData(config: BenchConfig): BenchData {
  const all = loadFashionMnistSplit('train', { dir: config.dataDir });
  const n = all.labels.length;
  if (!(config.valSize > 0 && config.valSize < n)) throw new Error(`benchData: valSize must be in (0, ${n}), got ${config.valSize}`);
  const pool = n - config.valSize;
  const size = config.trainSize === 'all' ? pool : config.trainSize;
  if (!Number.isInteger(size) || size < 1 || size > pool)
    throw new Error(`benchData: trainSize must be an integer in [1, ${pool}] or 'all', got ${config.trainSize}`);
  const order = Int32Array.from({ length: pool }, (_, i) => i);
  const g = new Generator(20261123);
  for (let i = pool - 1; i > 0; i--) {
    const j = Math.floor(g.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const train = subset(all, order.subarray(0, size));
  const val = subset(
    all,
    Int32Array.from({ length: config.valSize }, (_, i) => pool + i),
  );
  const test = take(loadFashionMnistSplit('test', { dir: config.dataDir }), config.testSize);
  return { train, val, test };
}

const INPUT = [1, 28, 28];
const COMPRESSED_NAMES: Record<string, string> = { '3': 'conv2', '7': 'fc1' };

function log(config: BenchConfig, line: string): void {
  config.progress?.write(`${line}\n`);
}

/** The method options of a row at a budget index (everything but lr). */
function optionsFor(
  label: string,
  k: number | null,
  budgets: number[],
  config: BenchConfig,
): { name: string; options: Omit<MethodOptions, 'lr'>; setting: string } {
  const fc1Cap = (layer: string, _mode: number, size: number) => (layer === '7' ? Math.min(size, config.maxRankLinear) : size);
  const adaptive = (tau: number) => ({ tau, maxRank: fc1Cap, warmupEpochs: config.warmupEpochs, integrator: config.integrator, warmup: config.warmup });
  if (k === null) return { name: label, options: {}, setting: '—' };
  const budget = budgets[k];
  switch (label) {
    case 'tdlrt':
    case 'dlrt-matrix':
      return { name: label, options: adaptive(config.taus[k]), setting: `τ = ${config.taus[k]}` };
    case 'trp':
      return {
        name: label,
        options: { trpEnergy: config.trpEnergies[k], trpInterval: config.trpInterval },
        setting: `e = ${config.trpEnergies[k]}, m = ${config.trpInterval}`,
      };
    case 'lra':
      return { name: label, options: { budget, lraInterval: config.lraInterval }, setting: `budget ${pct(budget)}, S_D = ${config.lraInterval}` };
    default:
      return { name: label, options: { budget }, setting: `budget ${pct(budget)}` };
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export function runKey(label: string, setting: string, lr: number, seed: number, config: BenchConfig): string {
  const key: unknown[] = [
    label,
    setting,
    lr,
    seed,
    config.trainSize,
    config.valSize,
    config.testSize,
    config.epochs,
    config.batchSize,
    config.maxRankLinear,
    config.warmupEpochs,
  ];
  // Runs logged before the single-pass step existed took the two-pass step without settling: their keys carry no step.
  if (label === 'tdlrt' || label === 'dlrt-matrix') key.push(`integrator ${config.integrator}`);
  // Runs logged before the full-model warm-up became the default warmed up in the integrator: their keys carry no warm-up.
  if ((label === 'tdlrt' || label === 'dlrt-matrix') && config.warmup === 'full') key.push('warmup full');
  return JSON.stringify(key);
}

/** A run without results: failed (`error` says why), or NOT_RUN where a report-only invocation finds it missing from the log. */
function runWithout(error: string, label: string, k: number | null, setting: string, lr: number, seed: number): RunResult {
  return {
    label,
    budgetIndex: k,
    setting,
    lr,
    seed,
    valAccuracy: NaN,
    testAccuracy: NaN,
    report: emptyReport(),
    secondsPerEpoch: NaN,
    flopsPerStep: NaN,
    memoryBytes: NaN,
    error,
  };
}

/** Runs the whole bench in process; writes nothing but the run log (see writeMethodsReport). */
export function runMethodsBench(config: BenchConfig, data: BenchData = benchData(config)): BenchResult {
  const t0 = performance.now();
  checkConfig(config);
  const cache = new Map<string, RunResult>();
  let resumedRuns = 0;
  if ((config.resume || config.reportOnly) && config.runLog && existsSync(config.runLog)) {
    for (const line of readFileSync(config.runLog, 'utf8').split('\n'))
      if (line.trim()) {
        const { key, run } = JSON.parse(line) as { key: string; run: RunResult };
        cache.set(key, run);
      }
    log(config, `resuming: ${cache.size} finished runs read from ${config.runLog}`);
    resumedRuns = cache.size;
  }
  const loaders = {
    val: new DataLoader(data.val, { batchSize: 500 }),
    test: new DataLoader(data.test, { batchSize: 500 }),
  };
  const fullStates = new Map<string, { state: StateDict; run: RunResult }>();
  let runIndex = 0;

  const record = (key: string, run: RunResult): RunResult => {
    cache.set(key, run);
    if (config.runLog) appendFileSync(config.runLog, `${JSON.stringify({ key, run })}\n`);
    const r = run.report;
    log(
      config,
      run.error
        ? `[run ${++runIndex}] ${run.label} ${run.setting} lr ${run.lr} seed ${run.seed}: FAILED ${run.error}`
        : `[run ${++runIndex}] ${run.label} ${run.setting} lr ${run.lr} seed ${run.seed}: val ${pct(run.valAccuracy)} test ${pct(run.testAccuracy)}, kept ${pct(r.fullParams ? r.params / r.fullParams : 1)} of conv2+fc1, ${run.secondsPerEpoch.toFixed(1)} s/epoch`,
    );
    return run;
  };

  /** Trains one method; full runs keep their weights for post-hoc. */
  const train = (label: string, k: number | null, lr: number, seed: number): RunResult => {
    const { name, options, setting } = optionsFor(label, k, budgets, config);
    const key = runKey(label, setting, lr, seed, config);
    const done = cache.get(key);
    // A cached full run without its weights is retrained by postHoc only if a post-hoc run needs it.
    if (done) return done;
    if (config.reportOnly) return runWithout(NOT_RUN, label, k, setting, lr, seed);
    const model = lenet5({ generator: new Generator(1000 + seed) });
    const method = createMethod(name, { lr, ...options });
    const loader = new DataLoader(data.train, { batchSize: config.batchSize, shuffle: true, seed: 3000 + seed });
    const trace: Record<string, number[]> = {};
    let memoryBytes = 0;
    const sampleMemory = () => {
      const m = method.memory?.();
      if (m) memoryBytes = Math.max(memoryBytes, m.paramBytes + m.optimizerBytes);
    };
    try {
      const trained = method.setup(model, { stepsPerEpoch: loader.length, epochs: config.epochs, generator: new Generator(2000 + seed) });
      sampleMemory();
      const records = fit(trained, loader, {
        epochs: config.epochs,
        step: (x, y) => method.step(x, y),
        extras: () => method.progress?.() ?? {},
        onStep: () => {
          const integ = method instanceof TdlrtMethod ? method.state : null;
          if (!integ) return;
          for (const [layer, ranks] of Object.entries(integ.ranks())) {
            ranks.slice(0, 2).forEach((r, mode) => (trace[`${COMPRESSED_NAMES[layer] ?? layer} ${mode === 0 ? 'out' : 'in'}`] ??= []).push(r));
          }
        },
        onEpochEnd: (rec) => {
          method.onEpochEnd?.(rec.epoch);
          sampleMemory();
        },
        progress: config.progress,
        label: `${label} ${setting} lr ${lr} seed ${seed}`,
      });
      const flopsPerStep = method.stepFlops?.(config.batchSize, INPUT) ?? NaN;
      const deployed = method.finalize();
      const run: RunResult = {
        label,
        budgetIndex: k,
        setting,
        lr,
        seed,
        valAccuracy: evaluate(deployed, loaders.val).accuracy,
        testAccuracy: evaluate(deployed, loaders.test).accuracy,
        report: method.report(),
        secondsPerEpoch: records.reduce((s, r) => s + r.seconds, 0) / records.length,
        flopsPerStep,
        memoryBytes,
        rankTrace: Object.keys(trace).length ? trace : undefined,
      };
      if (label === 'full') fullStates.set(`${seed}|${lr}`, { state: deployed.stateDict(), run });
      return record(key, run);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return record(key, runWithout(message, label, k, setting, lr, seed));
    }
  };

  const wantsPostHoc = config.methods.includes('post-hoc');

  /** Post-hoc: the full run of the same seed and lr, compressed once (Tucker or matrix), no fine-tuning. */
  const postHoc = (label: string, conv: 'tucker' | 'matrix', k: number, lr: number, seed: number): RunResult => {
    const setting = `budget ${pct(budgets[k])}`;
    const key = runKey(label, setting, lr, seed, config);
    const done = cache.get(key);
    if (done) return done;
    if (config.reportOnly) return runWithout(NOT_RUN, label, k, setting, lr, seed);
    let full = fullStates.get(`${seed}|${lr}`);
    if (!full) {
      cache.delete(runKey('full', '—', lr, seed, config));
      train('full', null, lr, seed);
      full = fullStates.get(`${seed}|${lr}`);
    }
    if (!full) return record(key, runWithout('the full run failed', label, k, setting, lr, seed));
    try {
      const model = lenet5({ generator: new Generator(0) });
      model.loadStateDict(full.state);
      compressOnce(model, { budget: budgets[k], conv });
      return record(key, {
        label,
        budgetIndex: k,
        setting,
        lr,
        seed,
        valAccuracy: evaluate(model, loaders.val).accuracy,
        testAccuracy: evaluate(model, loaders.test).accuracy,
        report: reportOf(model),
        secondsPerEpoch: full.run.secondsPerEpoch,
        flopsPerStep: full.run.flopsPerStep,
        memoryBytes: full.run.memoryBytes,
      });
    } catch (err) {
      return record(key, runWithout(err instanceof Error ? err.message : String(err), label, k, setting, lr, seed));
    }
  };

  /** lr chosen on seed 0 by validation accuracy, then the other seeds at that lr. */
  const row = (label: string, k: number | null, runOne: (lr: number, seed: number) => RunResult): RowResult => {
    const [first, ...rest] = config.seeds;
    const search = config.lrs.map((lr) => ({ lr, run: runOne(lr, first) }));
    const best = search.reduce((a, b) => ((b.run.valAccuracy > a.run.valAccuracy || Number.isNaN(a.run.valAccuracy)) && !b.run.error ? b : a));
    const runs = [best.run, ...rest.map((seed) => runOne(best.lr, seed))];
    return {
      label,
      budgetIndex: k,
      setting: best.run.setting,
      lr: best.lr,
      runs,
      lrSearch: search.map((s) => ({ lr: s.lr, valAccuracy: s.run.valAccuracy, error: s.run.error })),
    };
  };

  const rows: RowResult[] = [];
  let budgets: number[] = config.budgets ?? [];
  const has = (m: string) => config.methods.includes(m);
  if (has('full')) rows.push(row('full', null, (lr, seed) => train('full', null, lr, seed)));
  const K = config.taus.length;
  if (has('tdlrt')) {
    for (let k = 0; k < K; k++) rows.push(row('tdlrt', k, (lr, seed) => train('tdlrt', k, lr, seed)));
  }
  // Without given budgets the tdlrt rows set them (checkConfig made sure they run where a method needs them).
  if (!config.budgets && has('tdlrt')) {
    const tdlrtRows = rows.filter((r) => r.label === 'tdlrt');
    budgets = tdlrtRows.map((r) => {
      const kept = r.runs.filter((x) => !x.error).map((x) => x.report.params / x.report.fullParams);
      if (kept.length === 0) throw new Error(`runMethodsBench: every tdlrt run at ${r.setting} failed, so it sets no budget`);
      return kept.reduce((a, b) => a + b, 0) / kept.length;
    });
    log(config, `budgets set by TDLRT (kept fraction of conv2+fc1 parameters): ${budgets.map(pct).join(', ')}`);
  }
  for (const label of ['tucker-fixed', 'matrix-fixed', 'dlrt-matrix', 'trp', 'lra', 'elrt']) {
    if (!has(label)) continue;
    for (let k = 0; k < K; k++) rows.push(row(label, k, (lr, seed) => train(label, k, lr, seed)));
  }
  if (wantsPostHoc) {
    for (const [label, conv] of [
      ['post-hoc (Tucker)', 'tucker'],
      ['post-hoc (matrix)', 'matrix'],
    ] as const) {
      for (let k = 0; k < K; k++) rows.push(row(label, k, (lr, seed) => postHoc(label, conv, k, lr, seed)));
    }
  }
  const { progress: _p, ...rest } = config;
  return {
    config: rest,
    budgets,
    rows,
    data: { train: data.train.labels.length, validation: data.val.labels.length, test: data.test.labels.length },
    seconds: (performance.now() - t0) / 1000,
    resumedRuns,
  };
}

function emptyReport(): MethodReport {
  return { layers: [], params: 0, fullParams: 0, networkParams: 0, fullNetworkParams: 0, convParams: 0, fullConvParams: 0 };
}

function checkConfig(c: BenchConfig): void {
  const fn = 'runMethodsBench';
  if (!Number.isInteger(c.epochs) || c.epochs < 1) throw new Error(`${fn}: epochs must be a positive integer, got ${c.epochs}`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1) throw new Error(`${fn}: batchSize must be a positive integer, got ${c.batchSize}`);
  if (c.seeds.length < 1 || c.seeds.some((s) => !Number.isInteger(s)))
    throw new Error(`${fn}: seeds must be a non-empty list of integers, got [${c.seeds.join(', ')}]`);
  if (c.lrs.length < 1 || c.lrs.some((x) => !(x > 0))) throw new Error(`${fn}: lrs must be a non-empty list of positive numbers, got [${c.lrs.join(', ')}]`);
  if (c.taus.length < 1 || c.taus.some((x) => !(x >= 0))) throw new Error(`${fn}: taus must be a non-empty list of numbers ≥ 0, got [${c.taus.join(', ')}]`);
  if (c.budgets && (c.budgets.length !== c.taus.length || c.budgets.some((b) => !(b > 0 && b <= 1))))
    throw new Error(`${fn}: budgets must give one fraction in (0, 1] per tau (${c.taus.length}), got [${c.budgets.join(', ')}]`);
  if (c.trpEnergies.length !== c.taus.length || c.trpEnergies.some((e) => !(e > 0 && e <= 1)))
    throw new Error(`${fn}: trpEnergies must give one energy in (0, 1] per budget (${c.taus.length}), got [${c.trpEnergies.join(', ')}]`);
  for (const m of c.methods)
    if (!(BENCH_METHODS as readonly string[]).includes(m)) throw new Error(`${fn}: unknown method '${m}'; choose from ${BENCH_METHODS.join(', ')}`);
  // Before any training: a budget-matched method needs budgets, given or set by the tdlrt rows.
  const matched = c.methods.filter((m) => BUDGET_MATCHED.includes(m));
  if (!c.budgets && matched.length > 0 && !c.methods.includes('tdlrt'))
    throw new Error(`${fn}: ${matched.join(', ')} need budgets: include tdlrt in methods (its runs set them) or give budgets`);
}

/** The methods whose ranks are solved for a budget (the others run at tau, an energy or full rank). */
const BUDGET_MATCHED: readonly string[] = ['tucker-fixed', 'matrix-fixed', 'lra', 'elrt', 'post-hoc'];

// ---------------------------------------------------------------------------------------------
// Report

function stats(xs: number[]): { mean: number; sd: number; min: number; max: number; n: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, min: Math.min(...v), max: Math.max(...v), n };
}

const ok = (r: RowResult) => r.runs.filter((x) => !x.error);
const kept = (rep: MethodReport, which: 'params' | 'conv' | 'network'): number => {
  if (which === 'params') return rep.fullParams ? 1 - rep.params / rep.fullParams : 0;
  if (which === 'conv') return rep.fullConvParams ? 1 - rep.convParams / rep.fullConvParams : 0;
  return rep.fullNetworkParams ? 1 - rep.networkParams / rep.fullNetworkParams : 0;
};
const compressionOf = (r: RowResult, which: 'params' | 'conv' | 'network') => stats(ok(r).map((x) => kept(x.report, which))).mean;

function ranksOf(run: RunResult): string {
  return (
    run.report.layers
      .map(
        (l) =>
          `${COMPRESSED_NAMES[l.name] ?? l.name} ${l.ranks.length === 4 ? l.ranks.slice(0, 2).join('×') : l.ranks.length === 2 && l.ranks[0] === l.ranks[1] ? l.ranks[0] : l.ranks.join('×')}`,
      )
      .join(', ') || '—'
  );
}

/** The Markdown table and the SVGs; returns them by file name (relative to outDir) and writes them there. */
export function writeMethodsReport(result: BenchResult, outDir: string | null): Record<string, string> {
  const files: Record<string, string> = {};
  const c = result.config;
  const fullRow = result.rows.find((r) => r.label === 'full');
  const fullAcc = fullRow ? stats(ok(fullRow).map((x) => x.testAccuracy)).mean : NaN;
  const lines: string[] = [];
  const say = (s = '') => lines.push(s);
  say('# Methods side by side: LeNet-5 on Fashion-MNIST');
  say();
  say(
    `${result.data.train.toLocaleString('en')} training images (${c.trainSize === 'all' ? 'all of the training split but the validation images' : 'a fixed seeded subset'}), ${result.data.validation.toLocaleString('en')} held-out validation images from the training split (lr selection), ${result.data.test.toLocaleString('en')} test images. ${c.epochs} epoch(s), batch ${c.batchSize}, SGD momentum 0.9, weight decay 5e-4, lr grid {${c.lrs.join(', ')}} for every method (chosen on seed ${c.seeds[0]} by validation accuracy), seeds {${c.seeds.join(', ')}}. Bench time ${(result.seconds / 60).toFixed(1)} min${result.resumedRuns ? ` (this invocation; ${result.resumedRuns} runs were read back from methods.runs.jsonl)` : ''}.`,
  );
  say();
  say(
    `Compressed layers: conv2 (50×20×5×5) and fc1 (500×800, 93% of the weights); conv1 and fc2 stay whole in every method. Budgets (kept fraction of conv2+fc1 parameters, biases included): ${result.budgets.map(pct).join(', ')}${c.budgets ? ' (given)' : `, set by where TDLRT lands at τ = ${c.taus.join(', ')}`}; each budget-matched method solves its own ranks for it, every compressed layer keeping the same fraction.`,
  );
  say();
  say(
    '| method | setting | lr | ranks (seed 0) | fewer params: conv | conv2+fc1 | network | test accuracy (mean ± sd, n) | Δ vs full | s / epoch | train GFLOP / step | params + optimizer (KiB) |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of result.rows) {
    const good = ok(r);
    const acc = stats(good.map((x) => x.testAccuracy));
    const first = good[0];
    if (!first) {
      const why = r.runs[0]?.error ?? '';
      say(`| ${r.label} | ${r.setting} | ${r.lr} | ${why === NOT_RUN ? NOT_RUN : `failed: ${why.replace(/\|/g, '/')}`} | | | | | | | | |`);
      continue;
    }
    const time = stats(good.map((x) => x.secondsPerEpoch)).mean;
    const flops = stats(good.map((x) => x.flopsPerStep)).mean;
    const mem = stats(good.map((x) => x.memoryBytes)).mean;
    const delta = r.label === 'full' || !Number.isFinite(fullAcc) ? '—' : `${(100 * (acc.mean - fullAcc)).toFixed(2)}`;
    const failed = r.runs.length - good.length;
    say(
      `| ${r.label} | ${r.setting} | ${r.lr} | ${ranksOf(first)} | ${pct(compressionOf(r, 'conv'))} | ${pct(compressionOf(r, 'params'))} | ${pct(compressionOf(r, 'network'))} | ${(100 * acc.mean).toFixed(2)} ± ${(100 * acc.sd).toFixed(2)} (${acc.n}${failed ? `, ${failed} failed` : ''}) | ${delta} | ${time.toFixed(1)} | ${(flops / 1e9).toFixed(3)} | ${(mem / 1024).toFixed(0)} |`,
    );
  }
  say();
  say('Notes.');
  say(
    `- Ranks: Tucker layers out×in (spatial modes full), matrix layers one rank. tdlrt and dlrt-matrix cap fc1's ranks at ${c.maxRankLinear} (the CPU is slow; the cap is a ceiling the tolerance rarely reaches after the warm-up), hold τ = 0 for the first ${c.warmupEpochs} epoch(s) (${c.warmup === 'full' ? 'training the full model, converted exactly to Tucker form at the switch, where the ranks settle' : 'in the integrator, at the capped ranks'}) and land where τ takes them; trp truncates every m = ${c.trpInterval} steps at energy e (default of the method: every step) and lands where e takes it; its deployed rank is the energy-e rank of the final weights.`,
  );
  say(
    '- Weight decay acts on cores / singular-value parts and on the uncompressed layers only, never on factors (tucker-fixed, matrix-fixed, elrt, tdlrt, dlrt-matrix); full-weight methods (full, trp, lra) decay their full weights.',
  );
  say(
    "- elrt is ELRT-style: fixed-rank Tucker-2 from scratch with the SO regulariser λ‖UᵀU − I‖² (λ = 1e-3) on every factor (the paper's exact choices could not be confirmed).",
  );
  say(
    '- post-hoc rows compress the trained full models of the same seeds and lr once (truncated HOSVD on the channel modes, or SVD of the lowered kernel), without fine-tuning: the negative control.',
  );
  say(
    '- Time per epoch is measured training time (no evaluation) on this machine; train GFLOP/step is an analytic estimate at the ranks at the end of training (forward + backward ≈ 3× forward; two passes for the integrator, its second at the augmented ranks; SVD/QR costs amortised); memory is the peak over epoch ends of parameters plus optimizer state of the training model (TRP counts its cached subgradients, the integrator its float64 core velocities; a TDLRT step briefly holds its augmented bases too).',
  );
  // post-hoc is the negative control: it is expected to fall behind, and is not held to the 3 points.
  const mild = result.rows.filter((r) => r.budgetIndex === 0 && !r.label.startsWith('post-hoc'));
  if (Number.isFinite(fullAcc) && mild.length) {
    say();
    say(
      `Acceptance (mildest budget, trained methods within 3 points of full at ${(100 * fullAcc).toFixed(2)}%; post-hoc is the negative control): ` +
        mild
          .map((r) => {
            const a = stats(ok(r).map((x) => x.testAccuracy)).mean;
            return `${r.label} ${Number.isFinite(a) ? `${(100 * (a - fullAcc)).toFixed(2)} ${100 * (fullAcc - a) <= 3 ? '✓' : '✗'}` : 'failed ✗'}`;
          })
          .join('; ') +
        '.',
    );
  }
  const searched = result.rows.filter((r) => r.lrSearch.length > 1);
  if (searched.length) {
    say();
    say(
      'Learning-rate selection (validation accuracy on seed 0): ' +
        searched
          .map(
            (r) =>
              `${r.label}${r.budgetIndex === null ? '' : ` [${r.setting}]`}: ${r.lrSearch.map((s) => `${s.lr} → ${s.error ? (s.error === NOT_RUN ? NOT_RUN : /NaN|Infinity/.test(s.error) ? 'diverged' : 'failed') : pct(s.valAccuracy)}`).join(', ')}`,
          )
          .join('; ') +
        '.',
    );
  }
  files['methods.md'] = `${lines.join('\n')}\n`;

  // Accuracy against compression, one line per method (full as a dashed reference line).
  const byLabel = new Map<string, RowResult[]>();
  for (const r of result.rows) if (r.label !== 'full') byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const series: ChartSeries[] = [...byLabel].map(([label, rs]) => ({
    name: label,
    markers: true,
    points: rs
      .map((r) => [100 * compressionOf(r, 'params'), 100 * stats(ok(r).map((x) => x.testAccuracy)).mean] as const)
      .filter((p) => Number.isFinite(p[1]))
      .sort((a, b) => a[0] - b[0]),
  }));
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  if (Number.isFinite(fullAcc) && xs.length)
    series.unshift({
      name: 'full',
      dashed: true,
      color: '#000000',
      points: [
        [Math.min(...xs), 100 * fullAcc],
        [Math.max(...xs), 100 * fullAcc],
      ],
    });
  files['methods.accuracy.svg'] = lineChart({
    title: 'LeNet-5 on Fashion-MNIST: test accuracy against compression',
    xLabel: '% fewer parameters in conv2 + fc1',
    yLabel: 'test accuracy (%), mean over seeds',
    series,
    width: 820,
    height: 480,
  });

  // TDLRT's ranks over training, one plot per tau (seed 0 at the chosen lr).
  for (const r of result.rows.filter((x) => x.label === 'tdlrt')) {
    const trace = ok(r)[0]?.rankTrace;
    if (!trace) continue;
    const tau = c.taus[r.budgetIndex as number];
    files[`methods.tdlrt-ranks.tau-${tau}.svg`] = stepChart({
      title: `TDLRT ranks during training, τ = ${tau} (fc1 capped at ${c.maxRankLinear})`,
      xLabel: 'step',
      yLabel: 'rank',
      logY: true,
      width: 760,
      height: 420,
      series: Object.entries(trace).map(([name, ranks]) => ({ name, points: ranks.map((v, i) => [i + 1, v] as const) })),
    });
  }
  files['methods.json'] = JSON.stringify({ ...result, rows: result.rows.map((r) => ({ ...r, runs: r.runs.map(({ rankTrace: _t, ...x }) => x) })) }, null, 1);
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileAtomic(join(outDir, name), text);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// Command line

export function parseArgs(argv: string[]): { config: BenchConfig; out: string; force: boolean } {
  const has = (f: string) => argv.includes(`--${f}`);
  const value = (f: string): string | undefined => {
    const i = argv.indexOf(`--${f}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`bench/methods: --${f} needs a value`);
    return v;
  };
  const list = (f: string): number[] | undefined =>
    value(f)
      ?.split(',')
      .map((s) => {
        const x = Number(s);
        if (!Number.isFinite(x)) throw new Error(`bench/methods: --${f} must be a comma-separated list of numbers, got '${s}'`);
        return x;
      });
  const int = (f: string): number | undefined => {
    const v = value(f);
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isInteger(x)) throw new Error(`bench/methods: --${f} must be an integer, got '${v}'`);
    return x;
  };
  const known = new Set([
    'quick',
    'full',
    'resume',
    'force',
    'epochs',
    'seeds',
    'lrs',
    'taus',
    'budgets',
    'methods',
    'train',
    'test',
    'max-rank-linear',
    'trp-interval',
    'trp-energy',
    'lra-interval',
    'warmup-epochs',
    'out',
    'batch',
    'integrator',
    'warmup',
    'report-only',
  ]);
  for (const a of argv)
    if (a.startsWith('--') && !known.has(a.slice(2)))
      throw new Error(`bench/methods: unknown option ${a} (known: ${[...known].map((k) => `--${k}`).join(' ')})`);
  if (has('quick') && has('full')) throw new Error('bench/methods: --quick and --full exclude each other');
  const c = defaultConfig(has('quick') ? 'quick' : has('full') ? 'full' : 'default');
  const seeds = int('seeds');
  if (seeds !== undefined) c.seeds = Array.from({ length: seeds }, (_, i) => i);
  c.epochs = int('epochs') ?? c.epochs;
  c.batchSize = int('batch') ?? c.batchSize;
  c.lrs = list('lrs') ?? c.lrs;
  c.taus = list('taus') ?? c.taus;
  c.budgets = list('budgets') ?? c.budgets;
  c.trpEnergies =
    list('trp-energy') ?? (c.taus.length === c.trpEnergies.length ? c.trpEnergies : c.taus.map((_, k) => c.trpEnergies[Math.min(k, c.trpEnergies.length - 1)]));
  c.methods = value('methods')?.split(',') ?? c.methods;
  c.trainSize = int('train') ?? c.trainSize;
  c.testSize = int('test') ?? c.testSize;
  c.maxRankLinear = int('max-rank-linear') ?? c.maxRankLinear;
  c.trpInterval = int('trp-interval') ?? c.trpInterval;
  c.lraInterval = int('lra-interval') ?? c.lraInterval;
  c.warmupEpochs = list('warmup-epochs')?.[0] ?? c.warmupEpochs;
  const integrator = value('integrator') ?? c.integrator;
  if (!(INTEGRATOR_KINDS as readonly string[]).includes(integrator))
    throw new Error(`bench/methods: --integrator must be one of ${INTEGRATOR_KINDS.join(', ')}, got '${integrator}'`);
  c.integrator = integrator as IntegratorKind;
  const warmup = value('warmup') ?? c.warmup;
  if (warmup !== 'full' && warmup !== 'integrator') throw new Error(`bench/methods: --warmup must be one of full, integrator, got '${warmup}'`);
  c.warmup = warmup;
  c.resume = has('resume');
  c.reportOnly = has('report-only');
  if (c.reportOnly && has('force'))
    throw new Error('bench/methods: --report-only and --force exclude each other (--report-only changes no file but the table)');
  const out = value('out') ?? 'bench/results';
  c.runLog = join(out, 'methods.runs.jsonl');
  if (c.reportOnly && !existsSync(c.runLog)) throw new Error(`bench/methods: --report-only needs a run log, and ${c.runLog} does not exist`);
  return { config: c, out, force: has('force') };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { config, out, force } = parseArgs(process.argv.slice(2));
  mkdirSync(out, { recursive: true });
  if (!config.resume && !config.reportOnly && config.runLog) startRunLog(config.runLog, force, 'bench/methods');
  const result = runMethodsBench(config);
  const files = writeMethodsReport(result, out);
  process.stdout.write(files['methods.md']);
  process.stderr.write(
    `wrote ${Object.keys(files)
      .map((f) => join(out, f))
      .join(', ')}\n`,
  );
  // A row without one successful run is a failure of the bench (a NaN at one lr of the grid is not).
  const failed = result.rows.filter((r) => r.runs.every((x) => x.error && x.error !== NOT_RUN)).map((r) => `${r.label} [${r.setting}]`);
  if (failed.length) {
    process.stderr.write(`bench/methods: no run succeeded for ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}
