/**
 * The seed paper's claims where its networks live (issue 21): a VGG-style net whose cost is in 3×3
 * convolutions (bench/scale-setup.ts), trained by every method at 2–3 budgets on Fashion-MNIST
 * (20,000 training images and the full 10,000 test images by default) or on CIFAR-10 files a user has.
 * Test accuracy, parameters kept in the convs, time per epoch and the peak memory of a step, each
 * against the full model of the same invocation.
 *
 *   npm run bench:scale -- [--quick] [--data fashion-mnist|cifar10] [--dir D] [--width 32]
 *        [--train 20000|all] [--val 2000] [--test 10000] [--epochs 3] [--batch 64] [--seeds 2]
 *        [--lrs 0.05,0.01] [--taus 0.05,0.1,0.2] [--budgets b1,b2,b3] [--methods full,tdlrt,...]
 *        [--integrator parallel|bug] [--trp-interval 20] [--trp-energy 0.98,0.95,0.9]
 *        [--lra-interval 200] [--warmup-epochs 1] [--resume | --force] [--report-only] [--out bench/results/scale]
 *
 * The protocol is bench/methods.ts's: every method compresses the same layers (every conv but the
 * first; the one linear layer is the last and stays whole), trains for the same epochs on the same
 * batches, and picks its lr from the same grid on seed 0 by accuracy on held-out validation images
 * of the training split, then runs the other seeds at that lr. TDLRT's runs at the taus set the
 * budgets (the kept fraction of the compressed layers' parameters they land at, mean over seeds),
 * which tucker-fixed, lra, elrt and post-hoc solve their ranks for; dlrt-matrix runs at TDLRT's tau
 * and TRP at an energy per budget, and land where they land. 'tdlrt-other' is TDLRT with the other
 * integrator step at the lr the chosen step picked, so that its row differs from TDLRT's by the step alone.
 *
 * Every run is a child process (bench/scale-run.ts: the memory column needs a process of its own)
 * and is appended to scale.runs.jsonl with its commit and the machine load; --resume skips runs
 * whose key (every setting that changes the run) is already there, so the full run can go in pieces;
 * --report-only writes the table of what the log holds so far, running nothing. The table lists the
 * methods asked for and every method the log already holds, so a piece that runs one method rewrites
 * the whole table rather than a table of that method alone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { INTEGRATOR_KINDS, type IntegratorKind } from '../src/lowrank/integrator.js';
import { startRunLog } from './run-log.js';
import type { RunSpec, ScaleRun } from './scale-run.js';
import { NOT_RUN, writeScaleReport } from './scale-report.js';
import { SCALE_DATASETS, type ScaleDataset } from './scale-setup.js';

export const SCALE_METHODS = ['full', 'tdlrt', 'tdlrt-other', 'tucker-fixed', 'dlrt-matrix', 'trp', 'lra', 'elrt', 'post-hoc'] as const;

export interface ScaleConfig {
  data: ScaleDataset;
  dir?: string;
  /** Channels of the first stage (w, 2w, 4w). */
  width: number;
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
  /** The integrator step of the tdlrt and dlrt-matrix rows; tdlrt-other takes the other one. */
  integrator: IntegratorKind;
  trpInterval: number;
  trpEnergies: number[];
  lraInterval: number;
  /** Epochs with tau held at 0 (docs/integrator.md §7). */
  warmupEpochs: number;
  /** Where the table, plots, run log and the full runs' weights (for post-hoc) go. */
  out: string;
  resume: boolean;
  /** Without resume, start over even where the run log holds finished runs (they are dropped). */
  force?: boolean;
  /** Run nothing: the table from the runs already in the run log (implies resume); the others show as not run yet. */
  reportOnly?: boolean;
  /** Live progress on stderr (the children's progress lines too). */
  progress: boolean;
}

export function defaultScaleConfig(mode: 'default' | 'quick' = 'default'): ScaleConfig {
  const base: ScaleConfig = {
    data: 'fashion-mnist',
    width: 32,
    trainSize: 20_000,
    valSize: 2_000,
    testSize: 10_000,
    epochs: 3,
    batchSize: 64,
    seeds: [0, 1],
    lrs: [0.05, 0.01],
    taus: [0.05, 0.1, 0.2],
    methods: [...SCALE_METHODS],
    integrator: 'parallel',
    trpInterval: 20,
    trpEnergies: [0.98, 0.95, 0.9],
    lraInterval: 200,
    warmupEpochs: 1,
    out: 'bench/results/scale',
    resume: false,
    progress: true,
  };
  if (mode === 'quick') {
    // CI: width 8, a few hundred images, one epoch, one seed, one lr, one budget.
    return {
      ...base,
      width: 8,
      trainSize: 384,
      valSize: 256,
      testSize: 256,
      epochs: 1,
      batchSize: 32,
      seeds: [0],
      lrs: [0.02],
      taus: [0.1],
      trpEnergies: [0.95],
      trpInterval: 4,
      lraInterval: 4,
      warmupEpochs: 0.5,
    };
  }
  return base;
}

/** One row of the table: a method at a budget, over the seeds at the chosen lr. */
export interface ScaleRow {
  label: string;
  budgetIndex: number | null;
  setting: string;
  lr: number;
  runs: ScaleRun[];
  lrSearch: { lr: number; valAccuracy: number; error?: string }[];
  /** Every run of the row: the lr search's and the other seeds'. */
  allRuns: ScaleRun[];
}

export interface ScaleResult {
  config: ScaleConfig;
  budgets: number[];
  rows: ScaleRow[];
  /** Runs read back from the run log rather than run now. */
  resumedRuns: number;
  ranNow: number;
  seconds: number;
  /** The commit (and whether the tree had changes) this invocation ran at. */
  commit: string;
}

export const RUN_LOG = 'scale.runs.jsonl';
const RUN_SCRIPT = fileURLToPath(new URL('./scale-run.ts', import.meta.url));
const REPO = resolve(dirname(RUN_SCRIPT), '..');

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The --methods name of a row label ('tdlrt (bug)' → 'tdlrt-other', 'post-hoc (Tucker)' → 'post-hoc'). */
export function methodOfLabel(label: string): string {
  if (label.startsWith('tdlrt (')) return 'tdlrt-other';
  if (label.startsWith('post-hoc')) return 'post-hoc';
  return label;
}

function other(k: IntegratorKind): IntegratorKind {
  return k === 'parallel' ? 'bug' : 'parallel';
}

function checkScaleConfig(c: ScaleConfig): void {
  const fn = 'runScaleBench';
  const posInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${v}`);
  };
  if (!(SCALE_DATASETS as readonly string[]).includes(c.data)) throw new Error(`${fn}: data must be one of ${SCALE_DATASETS.join(', ')}, got '${c.data}'`);
  if (c.data === 'cifar10' && !c.dir) throw new Error(`${fn}: data 'cifar10' needs dir (the folder of the CIFAR-10 binary batches)`);
  posInt('width', c.width);
  posInt('epochs', c.epochs);
  posInt('batchSize', c.batchSize);
  if (c.seeds.length < 1 || c.seeds.some((s) => !Number.isInteger(s)))
    throw new Error(`${fn}: seeds must be a non-empty list of integers, got [${c.seeds.join(', ')}]`);
  if (c.lrs.length < 1 || c.lrs.some((x) => !(x > 0))) throw new Error(`${fn}: lrs must be a non-empty list of positive numbers, got [${c.lrs.join(', ')}]`);
  if (c.taus.length < 1 || c.taus.some((x) => !(x >= 0))) throw new Error(`${fn}: taus must be a non-empty list of numbers ≥ 0, got [${c.taus.join(', ')}]`);
  if (c.budgets && (c.budgets.length !== c.taus.length || c.budgets.some((b) => !(b > 0 && b <= 1))))
    throw new Error(`${fn}: budgets must give one fraction in (0, 1] per tau (${c.taus.length}), got [${c.budgets.join(', ')}]`);
  if (c.trpEnergies.length !== c.taus.length || c.trpEnergies.some((e) => !(e > 0 && e <= 1)))
    throw new Error(`${fn}: trpEnergies must give one energy in (0, 1] per tau (${c.taus.length}), got [${c.trpEnergies.join(', ')}]`);
  if (!(INTEGRATOR_KINDS as readonly string[]).includes(c.integrator))
    throw new Error(`${fn}: integrator must be one of ${INTEGRATOR_KINDS.join(', ')}, got '${c.integrator}'`);
  if (c.methods.length < 1) throw new Error(`${fn}: methods must name at least one of ${SCALE_METHODS.join(', ')}`);
  for (const m of c.methods)
    if (!(SCALE_METHODS as readonly string[]).includes(m)) throw new Error(`${fn}: unknown method '${m}'; choose from ${SCALE_METHODS.join(', ')}`);
  if (!(c.warmupEpochs >= 0)) throw new Error(`${fn}: warmupEpochs must be ≥ 0, got ${c.warmupEpochs}`);
  posInt('trpInterval', c.trpInterval);
  posInt('lraInterval', c.lraInterval);
}

/** The commit of the working tree, marked '+changes' where files under src/ or bench/ (results aside) differ from it. */
export function currentCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    // Untracked sources count (a new bench file changes what ran); the results folder does not.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench', ':(exclude)bench/results'], { cwd: REPO, encoding: 'utf8' }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** Revives the NaNs that JSON wrote as null. */
function revive(run: ScaleRun): ScaleRun {
  for (const k of ['valAccuracy', 'testAccuracy', 'secondsPerEpoch', 'flopsPerStep', 'stateBytes'] as const) run[k] ??= NaN;
  return run;
}

/** Runs the bench: one child process per run not already in the run log; returns the rows. Writes the run log and the full runs' weights. */
export function runScaleBench(config: ScaleConfig): ScaleResult {
  const t0 = performance.now();
  checkScaleConfig(config);
  const c = config;
  mkdirSync(c.out, { recursive: true });
  const runLog = join(c.out, RUN_LOG);
  const say = (line: string) => {
    if (c.progress) process.stderr.write(`${line}\n`);
  };
  const cache = new Map<string, ScaleRun>();
  if ((c.resume || c.reportOnly) && existsSync(runLog)) {
    for (const line of readFileSync(runLog, 'utf8').split('\n'))
      if (line.trim()) {
        const { key, run } = JSON.parse(line) as { key: string; run: ScaleRun };
        cache.set(key, revive(run));
      }
    say(`resuming: ${cache.size} finished runs read from ${runLog}`);
  } else startRunLog(runLog, c.force === true, 'bench/scale');
  const resumedRuns = cache.size;
  let ranNow = 0;
  const commit = currentCommit();

  /** Every setting that changes a run, besides its row's own (method, setting, lr, seed). */
  const common = {
    data: c.data,
    dir: c.dir ?? null,
    width: c.width,
    trainSize: c.trainSize,
    valSize: c.valSize,
    testSize: c.testSize,
    epochs: c.epochs,
    batchSize: c.batchSize,
  };
  const keyOf = (spec: RunSpec) =>
    JSON.stringify({
      ...common,
      kind: spec.kind,
      label: spec.label,
      method: spec.method,
      options: spec.options,
      budget: spec.budget ?? null,
      lr: spec.lr,
      seed: spec.seed,
    });
  const stateFile = (lr: number, seed: number) =>
    join(
      c.out,
      'states',
      `full-${createHash('sha256')
        .update(JSON.stringify({ ...common, lr, seed }))
        .digest('hex')
        .slice(0, 16)}.safetensors`,
    );

  const asked = (m: string) => c.methods.includes(m);
  // A method the log holds gets its row even when this invocation does not ask for it; only the asked-for
  // methods, and what they need (TDLRT's budgets and lr, the full runs' weights), may run.
  const logged = new Set([...cache.values()].map((r) => methodOfLabel(r.label)));
  const has = (m: string) => asked(m) || logged.has(m);
  const needsBudgets = !c.budgets && ['tucker-fixed', 'lra', 'elrt', 'post-hoc'].some(asked);
  const runnable = new Set<string>(c.reportOnly ? [] : c.methods);
  if (!c.reportOnly && (needsBudgets || asked('tdlrt-other'))) runnable.add('tdlrt');
  if (!c.reportOnly && asked('post-hoc')) runnable.add('full');

  const launch = (spec: RunSpec): ScaleRun => {
    const key = keyOf(spec);
    const done = cache.get(key);
    if (done) return done;
    if (!runnable.has(methodOfLabel(spec.label)))
      return revive({ label: spec.label, budgetIndex: spec.budgetIndex, setting: spec.setting, lr: spec.lr, seed: spec.seed, error: NOT_RUN } as ScaleRun);
    const child = spawnSync(process.execPath, ['--expose-gc', '--single-threaded-gc', '--import', 'tsx', RUN_SCRIPT, JSON.stringify(spec)], {
      cwd: REPO,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      stdio: ['ignore', 'pipe', c.progress ? 'inherit' : 'pipe'],
    });
    // A run stopped by a signal (the bench interrupted, the machine out of memory) is not logged: the bench stops, and a resume runs it again.
    if (child.signal)
      throw new Error(
        `runScaleBench: the run ${spec.label} ${spec.setting} lr ${spec.lr} seed ${spec.seed} was stopped by ${child.signal}; not logged, so --resume runs it again`,
      );
    const last = child.stdout?.trim().split('\n').pop() ?? '';
    let run: ScaleRun;
    try {
      run = revive(JSON.parse(last) as ScaleRun);
    } catch {
      const why = child.error?.message ?? `exit ${child.status ?? child.signal}: ${(child.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}`;
      run = revive({
        label: spec.label,
        budgetIndex: spec.budgetIndex,
        setting: spec.setting,
        lr: spec.lr,
        seed: spec.seed,
        error: `the run's process failed (${why})`,
      } as ScaleRun);
    }
    cache.set(key, run);
    appendFileSync(runLog, `${JSON.stringify({ key, run })}\n`);
    ranNow++;
    const r = run.report;
    say(
      run.error
        ? `[run ${ranNow}] ${run.label} ${run.setting} lr ${run.lr} seed ${run.seed}: FAILED ${run.error}`
        : `[run ${ranNow}] ${run.label} ${run.setting} lr ${run.lr} seed ${run.seed}: val ${pct(run.valAccuracy)} test ${pct(run.testAccuracy)}, kept ${pct(r.fullParams ? r.params / r.fullParams : 1)} of the compressed convs, ${run.secondsPerEpoch.toFixed(1)} s/epoch (load ${run.provenance.load.map((x) => x.toFixed(1)).join('→')})`,
    );
    return run;
  };

  const specBase = {
    data: c.data,
    dir: c.dir,
    trainSize: c.trainSize,
    valSize: c.valSize,
    testSize: c.testSize,
    width: c.width,
    epochs: c.epochs,
    batchSize: c.batchSize,
    progress: c.progress,
    commit,
  };
  let budgets: number[] = c.budgets ?? [];
  const adaptive = (k: number, integrator: IntegratorKind) => ({ tau: c.taus[k], warmupEpochs: c.warmupEpochs, integrator, warmup: 'integrator' as const });
  /** The spec of a training run of a row at budget index k (null: full). */
  const trainSpec = (label: string, k: number | null, lr: number, seed: number): RunSpec => {
    const s = { ...specBase, kind: 'train' as const, label, budgetIndex: k, lr, seed };
    if (k === null) return { ...s, method: label, options: {}, setting: '—', statePath: label === 'full' ? stateFile(lr, seed) : undefined };
    switch (label) {
      case 'tdlrt':
      case 'dlrt-matrix':
        return { ...s, method: label, options: adaptive(k, c.integrator), setting: `τ = ${c.taus[k]}` };
      case `tdlrt (${other(c.integrator)})`:
        return { ...s, method: 'tdlrt', options: adaptive(k, other(c.integrator)), setting: `τ = ${c.taus[k]}` };
      case 'trp':
        return {
          ...s,
          method: label,
          options: { trpEnergy: c.trpEnergies[k], trpInterval: c.trpInterval },
          setting: `e = ${c.trpEnergies[k]}, m = ${c.trpInterval}`,
        };
      case 'lra':
        return {
          ...s,
          method: label,
          options: { budget: budgets[k], lraInterval: c.lraInterval },
          setting: `budget ${pct(budgets[k])}, S_D = ${c.lraInterval}`,
        };
      default:
        return { ...s, method: label, options: { budget: budgets[k] }, setting: `budget ${pct(budgets[k])}` };
    }
  };
  const train = (label: string, k: number | null, lr: number, seed: number) => launch(trainSpec(label, k, lr, seed));

  /** Post-hoc Tucker: the full run of the same seed and lr, compressed once, no fine-tuning. */
  const postHoc = (k: number, lr: number, seed: number): ScaleRun => {
    const statePath = stateFile(lr, seed);
    const spec: RunSpec = {
      ...specBase,
      kind: 'post-hoc',
      label: 'post-hoc (Tucker)',
      method: 'post-hoc',
      options: {},
      budgetIndex: k,
      setting: `budget ${pct(budgets[k])}`,
      lr,
      seed,
      statePath,
      budget: budgets[k],
    };
    if (!cache.has(keyOf(spec)) && !existsSync(statePath) && runnable.has('post-hoc')) {
      // The weights are gone (another checkout): train the full run again, which saves them.
      const fullSpec = trainSpec('full', null, lr, seed);
      cache.delete(keyOf(fullSpec));
      const full = launch(fullSpec);
      // Not logged: once the full run trains, the post-hoc run can go.
      if (full.error || !existsSync(statePath))
        return revive({
          label: spec.label,
          budgetIndex: k,
          setting: spec.setting,
          lr,
          seed,
          error: `the full run failed, so there is nothing to compress (${full.error ?? 'no weights saved'})`,
        } as ScaleRun);
    }
    return launch(spec);
  };

  const row = (label: string, k: number | null, runOne: (lr: number, seed: number) => ScaleRun, lrs = c.lrs): ScaleRow => {
    const [first, ...rest] = c.seeds;
    const search = lrs.map((lr) => ({ lr, run: runOne(lr, first) }));
    const best = search.reduce((a, b) => ((b.run.valAccuracy > a.run.valAccuracy || Number.isNaN(a.run.valAccuracy)) && !b.run.error ? b : a));
    const runs = [best.run, ...rest.map((seed) => runOne(best.lr, seed))];
    return {
      label,
      budgetIndex: k,
      setting: best.run.setting,
      lr: best.lr,
      runs,
      lrSearch: search.map((s) => ({ lr: s.lr, valAccuracy: s.run.valAccuracy, error: s.run.error })),
      allRuns: [...new Set([...search.map((s) => s.run), ...runs])],
    };
  };

  const rows: ScaleRow[] = [];
  const K = c.taus.length;
  if (has('full')) rows.push(row('full', null, (lr, seed) => train('full', null, lr, seed)));
  const tdlrtRows: ScaleRow[] = [];
  // TDLRT runs where asked for, and where another row needs them: its lr (tdlrt-other) or its budgets.
  // (asked implies has, so this covers needsBudgets.)
  if (has('tdlrt') || has('tdlrt-other') || (!c.budgets && ['tucker-fixed', 'lra', 'elrt', 'post-hoc'].some(has))) {
    for (let k = 0; k < K; k++) tdlrtRows.push(row('tdlrt', k, (lr, seed) => train('tdlrt', k, lr, seed)));
    rows.push(...tdlrtRows);
  }
  if (has('tdlrt-other')) {
    const label = `tdlrt (${other(c.integrator)})`;
    for (let k = 0; k < K; k++) rows.push(row(label, k, (lr, seed) => train(label, k, lr, seed), [tdlrtRows[k].lr]));
  }
  if (!c.budgets && tdlrtRows.length) {
    budgets = tdlrtRows.map((r) => {
      const kept = r.runs.filter((x) => !x.error).map((x) => x.report.params / x.report.fullParams);
      if (kept.length === 0 && runnable.has('tdlrt')) throw new Error(`runScaleBench: every tdlrt run at ${r.setting} failed, so it sets no budget`);
      return kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : NaN;
    });
    say(`budgets set by TDLRT (kept fraction of the compressed convs' parameters): ${budgets.map(pct).join(', ')}`);
  }
  // A report of a partial log leaves out the rows whose budgets TDLRT has not set yet.
  const budgetsKnown = budgets.length === K && budgets.every((b) => Number.isFinite(b));
  for (const label of ['tucker-fixed', 'dlrt-matrix', 'trp', 'lra', 'elrt']) {
    if (!has(label) || (!budgetsKnown && ['tucker-fixed', 'lra', 'elrt'].includes(label))) continue;
    for (let k = 0; k < K; k++) rows.push(row(label, k, (lr, seed) => train(label, k, lr, seed)));
  }
  if (has('post-hoc') && budgetsKnown) for (let k = 0; k < K; k++) rows.push(row('post-hoc (Tucker)', k, (lr, seed) => postHoc(k, lr, seed)));
  return { config: c, budgets, rows, resumedRuns, ranNow, seconds: (performance.now() - t0) / 1000, commit };
}

// ---------------------------------------------------------------------------------------------
// Command line

export function parseScaleArgs(argv: string[]): ScaleConfig {
  const fn = 'bench/scale';
  const known = new Set([
    'quick',
    'resume',
    'force',
    'data',
    'dir',
    'width',
    'train',
    'val',
    'test',
    'epochs',
    'batch',
    'seeds',
    'lrs',
    'taus',
    'budgets',
    'methods',
    'integrator',
    'trp-interval',
    'trp-energy',
    'lra-interval',
    'warmup-epochs',
    'out',
    'quiet',
    'report-only',
  ]);
  for (const a of argv)
    if (a.startsWith('--') && !known.has(a.slice(2))) throw new Error(`${fn}: unknown option ${a} (known: ${[...known].map((k) => `--${k}`).join(' ')})`);
  const has = (f: string) => argv.includes(`--${f}`);
  const value = (f: string): string | undefined => {
    const i = argv.indexOf(`--${f}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${fn}: --${f} needs a value`);
    return v;
  };
  const num = (f: string, s: string): number => {
    const x = Number(s);
    if (s.trim() === '' || !Number.isFinite(x)) throw new Error(`${fn}: --${f} must be a number (or a comma-separated list of numbers), got '${s}'`);
    return x;
  };
  const list = (f: string): number[] | undefined =>
    value(f)
      ?.split(',')
      .map((s) => num(f, s));
  const int = (f: string): number | undefined => {
    const v = value(f);
    if (v === undefined) return undefined;
    const x = num(f, v);
    if (!Number.isInteger(x)) throw new Error(`${fn}: --${f} must be an integer, got '${v}'`);
    return x;
  };
  const c = defaultScaleConfig(has('quick') ? 'quick' : 'default');
  const data = value('data') ?? c.data;
  if (!(SCALE_DATASETS as readonly string[]).includes(data)) throw new Error(`${fn}: --data must be one of ${SCALE_DATASETS.join(', ')}, got '${data}'`);
  c.data = data as ScaleDataset;
  c.dir = value('dir') ?? c.dir;
  c.width = int('width') ?? c.width;
  const trainArg = value('train');
  c.trainSize = trainArg === 'all' ? 'all' : (int('train') ?? c.trainSize);
  c.valSize = int('val') ?? c.valSize;
  c.testSize = int('test') ?? c.testSize;
  c.epochs = int('epochs') ?? c.epochs;
  c.batchSize = int('batch') ?? c.batchSize;
  const seeds = int('seeds');
  if (seeds !== undefined) c.seeds = Array.from({ length: seeds }, (_, i) => i);
  c.lrs = list('lrs') ?? c.lrs;
  c.taus = list('taus') ?? c.taus;
  c.budgets = list('budgets') ?? c.budgets;
  c.trpEnergies = list('trp-energy') ?? c.taus.map((_, k) => c.trpEnergies[Math.min(k, c.trpEnergies.length - 1)]);
  c.methods = value('methods')?.split(',') ?? c.methods;
  const integrator = value('integrator') ?? c.integrator;
  if (!(INTEGRATOR_KINDS as readonly string[]).includes(integrator))
    throw new Error(`${fn}: --integrator must be one of ${INTEGRATOR_KINDS.join(', ')}, got '${integrator}'`);
  c.integrator = integrator as IntegratorKind;
  c.trpInterval = int('trp-interval') ?? c.trpInterval;
  c.lraInterval = int('lra-interval') ?? c.lraInterval;
  c.warmupEpochs = list('warmup-epochs')?.[0] ?? c.warmupEpochs;
  c.out = value('out') ?? c.out;
  c.resume = has('resume');
  c.force = has('force');
  c.reportOnly = has('report-only');
  c.progress = !has('quiet');
  return c;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = parseScaleArgs(process.argv.slice(2));
  const result = runScaleBench(config);
  const files = writeScaleReport(result, config.out);
  process.stdout.write(files['scale.md']);
  process.stderr.write(
    `wrote ${Object.keys(files)
      .map((f) => join(config.out, f))
      .join(', ')}\n`,
  );
  const failed = result.rows.filter((r) => r.runs.every((x) => x.error && x.error !== NOT_RUN)).map((r) => `${r.label} [${r.setting}]`);
  if (failed.length) {
    process.stderr.write(`bench/scale: no run succeeded for ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}
