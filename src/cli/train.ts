/** `tuckergrad train`: train a model with one of the training methods, checkpointing so it can resume. */
import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataLoader, type DataLoaderState } from '../data/loader.js';
import { captureMethodState, restoreMethodState } from '../lowrank/method-state.js';
import { conformModel } from '../nn/model-structure.js';
import { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { loadModelState } from '../lowrank/load-state.js';
import { MODEL_BUILDERS, type ModelSpec } from '../nn/zoo.js';
import type { StateTree } from '../tensor/state-tree.js';
import { writeFileAtomic } from '../io/files.js';
import { JsonlLogger } from '../io/jsonl.js';
import { createMethod, METHOD_NAMES, type MethodOptions } from '../lowrank/methods/registry.js';
import type { TrainingMethod } from '../lowrank/methods/types.js';
import { rankReport } from '../lowrank/rank-report.js';
import type { DType } from '../tensor/dtype.js';
import { defaultGenerator, Generator, manualSeed } from '../tensor/random.js';
import { evaluate } from '../train/fit.js';
import { ProgressLine } from '../train/progress.js';
import { parseKeyValues, UsageError, flagOf, type CommandSpec, type OptionSpecs, type Parsed } from './args.js';
import {
  BACKENDS,
  checkModelFits,
  CliError,
  cliFailure,
  DATA_OPTIONS,
  datasetSpecFrom,
  describeDataset,
  loadDataset,
  pct,
  useBackend,
  type CliIO,
  type DatasetSpec,
} from './common.js';
import { checkProgress, freshProgress, runLoop, type LoopProgress } from '../train/loop.js';
import { checkMethodOptions } from './method-options.js';
import { lockFolder, refuseExisting, removeStaleTemps } from './outdir.js';
import { metricsMarkdown, readLog, readLogTolerant, runPlots, writePlots, type LogRecord } from './reports.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const MODEL_FILE = 'model.safetensors';
export const LOG_FILE = 'log.jsonl';

const methodNames = (): readonly string[] => METHOD_NAMES;

export const TRAIN_OPTIONS = {
  model: { type: 'string', choices: Object.keys(MODEL_BUILDERS), default: 'lenet5', description: 'Network to train.' },
  dtype: { type: 'string', choices: ['float32', 'float64'], default: 'float32', description: 'Element type of the weights.' },
  ...DATA_OPTIONS,
  method: { type: 'string', choices: methodNames, default: 'tdlrt', description: 'Training method (the registry of lowrank.methods).' },
  epochs: { type: 'int', min: 1, default: 5, description: 'Epochs to train (on --resume: may be raised to train on).' },
  batch: { type: 'int', min: 1, default: 64, description: 'Mini-batch size.' },
  lr: { type: 'number', min: 0, exclusiveMin: true, default: 0.05, description: 'Learning rate.' },
  momentum: { type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0.9, description: 'Heavy-ball momentum, in [0, 1).' },
  weightDecay: { type: 'number', min: 0, default: 5e-4, description: 'Weight decay (the low-rank methods apply it to cores and full layers, not to factors).' },
  tau: { type: 'number', min: 0, max: 1, exclusiveMax: true, description: 'TDLRT, dlrt-matrix: relative truncation tolerance, in [0, 1) (default 0.1).' },
  maxRank: { type: 'int', min: 1, description: 'TDLRT: cap on every adapted rank.' },
  rankRatio: { type: 'number', min: 0, exclusiveMin: true, max: 1, description: 'TDLRT, dlrt-matrix: initial rank ratio (default 0.2).' },
  warmupEpochs: { type: 'number', min: 0, description: 'TDLRT: epochs with tau held at 0 (default 1).' },
  integrator: {
    type: 'string',
    choices: ['bug', 'parallel'],
    description: "TDLRT, dlrt-matrix: the integrator step: 'parallel' (one pass) or 'bug' (two passes, the basis-update & Galerkin integrator).",
  },
  budget: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    max: 1,
    description: "Fixed-rank methods, LRA, ELRT, post-hoc: fraction of the compressed layers' parameters kept (0.07 = 93% fewer).",
  },
  opt: {
    type: 'list',
    placeholder: 'KEY=VALUE',
    description:
      'Any other option of lowrank.methods.createMethod, e.g. --opt trpEnergy=0.9, --opt lraInterval=50, --opt convForm=matrix, --opt orthoRegularizer=srip, --opt \'ranks={"3":[8,8,5,5]}\' (numbers, true/false and JSON are converted).',
  },
  seed: { type: 'int', min: 0, default: 0, description: 'Seeds the weights, the data order and the method.' },
  backend: {
    type: 'string',
    choices: BACKENDS,
    description:
      'Kernels to run on: cpu, gpu (gpu.js; in Node it needs an X display, e.g. xvfb-run) or auto (the GPU where it works). Default: TUCKERGRAD_BACKEND, else cpu.',
  },
  out: { type: 'string', short: 'o', placeholder: 'DIR', description: 'Output folder (default runs/<model>-<method>-s<seed>).' },
  resume: {
    type: 'boolean',
    description: `Continue the run in --out from its ${CHECKPOINT_FILE}; with the same seed it ends with the same weights, bit for bit, as a run never interrupted.`,
  },
  force: { type: 'boolean', description: 'Start over in an --out folder that already holds a run, replacing its files.' },
  checkpointEvery: {
    type: 'int',
    min: 0,
    placeholder: 'STEPS',
    description: 'Also checkpoint every this many steps (0: at the end of each epoch only). Saved with the run (default 0).',
  },
  maxSteps: { type: 'int', min: 1, placeholder: 'STEPS', description: 'Stop after this many steps in all (a checkpoint is written there; --resume goes on).' },
  logEvery: {
    type: 'int',
    min: 1,
    placeholder: 'STEPS',
    description: 'A step record (loss, ranks) in log.jsonl every this many steps. Saved with the run (default 10).',
  },
  evalBatch: { type: 'int', min: 1, description: 'Batch size of the test evaluation. Saved with the run (default 500).' },
  quiet: { type: 'boolean', short: 'q', description: 'No progress on stderr.' },
} as const satisfies OptionSpecs;

export const TRAIN_SPEC: CommandSpec<typeof TRAIN_OPTIONS> = {
  name: 'train',
  summary: 'Train a CNN, full or in low-rank form, writing checkpoints, a JSONL log, metrics.md and SVG plots into --out.',
  description:
    `Files in --out: ${CHECKPOINT_FILE} (the resumable state: weights, Tucker cores and factors, optimizer and RNG state, epoch/step),\n` +
    `${MODEL_FILE} (the final model), ${LOG_FILE}, metrics.md, loss.svg, accuracy.svg and ranks.svg (low-rank runs).\n` +
    'Progress goes to stderr, the final report to stdout.',
  options: TRAIN_OPTIONS,
  examples: [
    'tuckergrad train --method tdlrt --tau 0.1 --epochs 5 --out runs/tdlrt',
    'tuckergrad train --method full --dataset fashion-mnist --epochs 3 --lr 0.05 --out runs/full-fmnist',
    'tuckergrad train --method tucker-fixed --budget 0.07 --out runs/tucker-fixed',
    'tuckergrad train --method trp --opt trpEnergy=0.9 --opt trpInterval=20 --out runs/trp',
    'tuckergrad train --model resnet20 --dataset cifar10 --data-dir ~/data/cifar-10-batches-bin --batch 128 --out runs/r20',
    'tuckergrad train --out runs/tdlrt --resume            # continue an interrupted run',
    'tuckergrad train --dataset mnist --train-size 256 --test-size 64 --epochs 1 --batch 32 --max-steps 3 --out /tmp/t',
  ],
};

/** What a run is: everything that decides its weights. Stored in every checkpoint (section "run"). */
export interface RunConfig {
  model: string;
  dtype: DType;
  dataset: DatasetSpec;
  method: string;
  methodOptions: Record<string, unknown>;
  epochs: number;
  batch: number;
  seed: number;
}

/**
 * How the run checkpoints, logs and evaluates: it does not change the weights, but a resumed run
 * must keep it. Saved in the training checkpoint (section "schedule"; absent in older ones), not
 * in the final model, so that interrupted and uninterrupted runs still end in identical files.
 */
export interface RunSchedule {
  checkpointEvery: number;
  logEvery: number;
  evalBatch: number;
}

const SCHEDULE_DEFAULTS: RunSchedule = { checkpointEvery: 0, logEvery: 10, evalBatch: 500 };
const SCHEDULE_FLAGS = ['checkpointEvery', 'logEvery', 'evalBatch'] as const;

/** The schedule: each flag given now, else the saved value, else the default. */
function scheduleOf(o: TrainValues, saved: RunSchedule | undefined): RunSchedule {
  const out = { ...SCHEDULE_DEFAULTS };
  for (const k of SCHEDULE_FLAGS) {
    const v = o[k] ?? saved?.[k];
    if (v !== undefined) {
      if (!Number.isSafeInteger(v) || v < (k === 'checkpointEvery' ? 0 : 1))
        throw new CliError(`the saved run setting ${flagOf(k)} is ${JSON.stringify(v)}, not a valid step count`);
      out[k] = v;
    }
  }
  return out;
}

/**
 * The backend a run trains on: --backend, else TUCKERGRAD_BACKEND, else (on --resume) the one the
 * run was saved on (section "backend"), else cpu. Kernels on another backend round differently, so
 * a resume that changes it says so: the run will not match an uninterrupted one bit for bit.
 */
async function resumeBackend(flag: string | undefined, ckpt: LoadedCheckpoint | null, io: CliIO): Promise<'cpu' | 'gpu'> {
  const saved = ckpt?.sections.backend;
  if (saved !== undefined && saved !== 'cpu' && saved !== 'gpu')
    throw new CliError(`cannot resume from ${ckpt?.path}: its saved backend (tuckergrad.backend) must be "cpu" or "gpu", got ${JSON.stringify(saved)}`);
  const env = process.env.TUCKERGRAD_BACKEND;
  const backend = await useBackend(flag ?? (env ? undefined : saved), io);
  if (saved !== undefined && backend !== saved)
    io.stderr.write(
      `notice: the run so far trained on the ${saved} backend and now continues on ${backend}; its numbers will differ from an uninterrupted run\n`,
    );
  return backend;
}

/** Every file train writes in --out: a fresh start refuses a folder holding any of them unless --force. */
export const RUN_FILES = [CHECKPOINT_FILE, MODEL_FILE, LOG_FILE, 'metrics.md', 'loss.svg', 'accuracy.svg', 'ranks.svg'] as const;

type TrainValues = Parsed<typeof TRAIN_OPTIONS>['options'];
const METHOD_FLAGS = ['lr', 'momentum', 'weightDecay', 'tau', 'maxRank', 'rankRatio', 'warmupEpochs', 'integrator', 'budget'] as const;
/** Flags with a default that every method reads: never reported as ignored. */
const SHARED_FLAGS = new Set(['lr', 'momentum', 'weightDecay']);

function configFromFlags(o: TrainValues): RunConfig {
  const methodOptions: Record<string, unknown> = {};
  for (const k of METHOD_FLAGS) if (o[k] !== undefined) methodOptions[k] = o[k];
  const opts = parseKeyValues(o.opt, '--opt', 'train');
  for (const [k, v] of Object.entries(opts)) {
    if (k in methodOptions) throw new UsageError(`--opt ${k}=… repeats ${flagOf(k)}; give it once`, 'train');
    methodOptions[k] = v;
  }
  // A flag or --opt key the method would ignore is a mistake, not a no-op.
  const chosen = Object.fromEntries(Object.entries(methodOptions).filter(([k]) => !SHARED_FLAGS.has(k) || k in opts));
  checkMethodOptions(o.method, chosen, (k) => (k in opts ? `--opt ${k}` : flagOf(k)));
  return {
    model: o.model,
    dtype: o.dtype as DType,
    dataset: datasetSpecFrom(o, undefined, 'train'),
    method: o.method,
    methodOptions,
    epochs: o.epochs,
    batch: o.batch,
    seed: o.seed,
  };
}

/** On --resume, flags that would change the run must agree with the checkpoint's settings. */
function checkResumeFlags(saved: RunConfig, o: TrainValues, given: Set<string>): void {
  const problems: string[] = [];
  const differ = (flag: string, mine: unknown, theirs: unknown) => {
    if (JSON.stringify(mine) !== JSON.stringify(theirs))
      problems.push(`${flag} ${JSON.stringify(mine)} (the checkpoint has ${theirs === undefined ? 'none' : JSON.stringify(theirs)})`);
  };
  for (const k of ['model', 'dtype', 'method', 'batch', 'seed'] as const) if (given.has(k)) differ(flagOf(k), o[k], saved[k]);
  if (given.has('dataset')) differ('--dataset', o.dataset, saved.dataset.name);
  if (given.has('dataDir')) differ('--data-dir', o.dataDir, saved.dataset.dir);
  if (given.has('trainSize')) differ('--train-size', o.trainSize, saved.dataset.trainSize);
  if (given.has('testSize')) differ('--test-size', o.testSize, saved.dataset.testSize);
  for (const k of METHOD_FLAGS) if (given.has(k)) differ(flagOf(k), o[k], saved.methodOptions[k]);
  for (const [k, v] of Object.entries(parseKeyValues(o.opt, '--opt', 'train'))) differ(`--opt ${k}`, v, saved.methodOptions[k]);
  if (problems.length > 0) {
    throw new CliError(
      `the checkpoint does not match the flags: ${problems.join('; ')}. A resumed run keeps the settings it started with: leave these flags out (or start a new run in another --out)`,
    );
  }
}

function checkRunConfig(raw: unknown, where: string): RunConfig {
  const c = raw as RunConfig;
  if (
    !c ||
    typeof c !== 'object' ||
    typeof c.model !== 'string' ||
    typeof c.method !== 'string' ||
    !c.dataset ||
    typeof c.dataset.name !== 'string' ||
    !Number.isInteger(c.epochs) ||
    !Number.isInteger(c.batch) ||
    !Number.isInteger(c.seed) ||
    typeof c.methodOptions !== 'object'
  ) {
    throw new CliError(`${where}: its run settings (tuckergrad.run) are missing or malformed`);
  }
  if (!METHOD_NAMES.includes(c.method as never))
    throw new CliError(`${where}: it was trained with method '${c.method}', which this version does not know (known: ${METHOD_NAMES.join(', ')})`);
  return c;
}

const toJson = (s: number[]) => s.map((v) => (Number.isNaN(v) ? null : v));
const fromJson = (s: unknown, where: string): number[] => {
  if (!Array.isArray(s) || s.length !== 5 || !s.every((v) => v === null || typeof v === 'number'))
    throw new CliError(`${where}: a generator state must be 5 numbers, got ${JSON.stringify(s)}`);
  return s.map((v) => (v === null ? Number.NaN : (v as number)));
};

export async function runTrain(parsed: Parsed<typeof TRAIN_OPTIONS>, io: CliIO): Promise<number> {
  const o = parsed.options;
  if (o.resume && o.force) throw new UsageError('--resume and --force contradict each other: continue the run, or start it over', 'train');
  const fresh = o.resume ? null : configFromFlags(o); // usage mistakes first, before anything is touched
  const out = o.out ?? join('runs', `${o.model}-${o.method}-s${o.seed}`);
  const created = !existsSync(out);
  // One process per run folder: a second train (or compress) on it stops here instead of interleaving writes.
  const release = lockFolder(out, io);
  try {
    return await trainLocked(parsed, io, out, fresh);
  } finally {
    release();
    if (created) {
      try {
        rmdirSync(out); // only succeeds when nothing was written: a refused start leaves no empty folder
      } catch {
        /* the run wrote files: keep them */
      }
    }
  }
}

async function trainLocked(parsed: Parsed<typeof TRAIN_OPTIONS>, io: CliIO, out: string, fresh: RunConfig | null): Promise<number> {
  const o = parsed.options;
  const ckptPath = join(out, CHECKPOINT_FILE);
  const logPath = join(out, LOG_FILE);

  // 1. Settings: from the flags, or from the checkpoint being resumed (nothing is written until all checks pass).
  let ckpt: LoadedCheckpoint | null = null;
  let config: RunConfig;
  let progress: LoopProgress = freshProgress();
  if (!fresh) {
    if (!existsSync(ckptPath)) throw new CliError(`nothing to resume: ${ckptPath} does not exist (train without --resume to start the run)`);
    try {
      ckpt = loadCheckpoint(ckptPath);
    } catch (err) {
      throw new CliError(`cannot resume: ${(err as Error).message}`);
    }
    if (ckpt.kind !== 'training') throw new CliError(`cannot resume from ${ckptPath}: it holds a final model (kind '${ckpt.kind}'), not a training state`);
    const saved = checkRunConfig(ckpt.sections.run, `cannot resume from ${ckptPath}`);
    checkResumeFlags(saved, o, parsed.given);
    try {
      progress = checkProgress(ckpt.sections.progress, `cannot resume from ${ckptPath}`);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    config = { ...saved, epochs: parsed.given.has('epochs') ? o.epochs : saved.epochs };
    if (config.epochs < progress.epoch) throw new CliError(`--epochs ${config.epochs} is below the ${progress.epoch} epochs the run has already completed`);
    if (progress.epoch >= config.epochs) {
      io.stderr.write(
        `tuckergrad train: the run in ${out} is already complete (${progress.epoch} epochs, ${progress.step} steps); nothing to do. Pass --epochs N above ${progress.epoch} to train on.\n`,
      );
      return 0;
    }
    if (o.maxSteps !== undefined && progress.step >= o.maxSteps) {
      io.stderr.write(`tuckergrad train: the run in ${out} is at step ${progress.step}, not below --max-steps ${o.maxSteps}; nothing to do.\n`);
      return 0;
    }
  } else {
    config = fresh;
    if (existsSync(ckptPath) && !o.force)
      throw new CliError(`${out} already holds a run (${CHECKPOINT_FILE}); pass --resume to continue it, --force to start over, or choose another --out`);
    if (!o.force) refuseExisting(out, RUN_FILES, 'pass --force to replace them, or choose another --out');
  }
  const schedule = scheduleOf(o, ckpt?.sections.schedule as RunSchedule | undefined);
  const backend = await resumeBackend(o.backend, ckpt, io);

  // 2. Data, model and method, built the same way on a fresh start and on a resume.
  const data = loadDataset(config.dataset, { train: true });
  const trainSet = data.train as NonNullable<typeof data.train>;
  const builder = MODEL_BUILDERS[config.model];
  if (!builder) throw new CliError(`unknown model '${config.model}'`);
  const modelSpec: ModelSpec = { builder: config.model, numClasses: trainSet.numClasses, dtype: config.dtype, inputShape: [...builder.inputShape] };
  checkModelFits(modelSpec, trainSet);
  manualSeed(config.seed);
  const methodGen = new Generator((config.seed ^ 0x5eed5eed) >>> 0);
  const loader = new DataLoader(trainSet, { batchSize: config.batch, shuffle: true, seed: config.seed });
  const testLoader = new DataLoader(data.test, { batchSize: schedule.evalBatch });
  let method: TrainingMethod;
  try {
    method = createMethod(config.method, config.methodOptions as unknown as MethodOptions);
  } catch (err) {
    throw new CliError(`method ${config.method}: ${(err as Error).message}`);
  }
  const base = builder.build({ numClasses: modelSpec.numClasses, dtype: config.dtype, generator: defaultGenerator });
  const model = method.setup(base, { stepsPerEpoch: loader.length, epochs: config.epochs, generator: methodGen });

  if (ckpt) {
    const where = `cannot resume from ${ckptPath}`;
    const rng = ckpt.sections.rng as { default?: unknown; method?: unknown } | undefined;
    const state = ckpt.state as { method?: StateTree } | undefined;
    if (!rng || !state || state.method === undefined || !ckpt.sections.loader) throw new CliError(`${where}: it lacks the RNG, method or data loader state`);
    if (ckpt.method?.name !== config.method)
      throw new CliError(`${where}: its model state was saved by method '${ckpt.method?.name}', but its run settings name '${config.method}'`);
    if (JSON.stringify(ckpt.modelSpec) !== JSON.stringify(modelSpec))
      throw new CliError(`${where}: it holds the model ${JSON.stringify(ckpt.modelSpec)}, but the run builds ${JSON.stringify(modelSpec)}`);
    try {
      conformModel(model, modelSpec, ckpt.layers, where);
      loadModelState(model, ckpt.modelState, where);
      restoreMethodState(method, state.method, where);
      defaultGenerator.setState(fromJson(rng.default, where));
      methodGen.setState(fromJson(rng.method, where));
      loader.setState(ckpt.sections.loader as DataLoaderState);
    } catch (err) {
      throw err instanceof CliError ? err : new CliError(`${where}: ${(err as Error).message}`);
    }
  }

  // 3. From here on the output folder changes.
  const stale = removeStaleTemps(out);
  if (stale.length > 0 && !o.quiet) io.stderr.write(`notice: removed ${stale.length} temp file(s) a stopped process left in ${out}: ${stale.join(', ')}\n`);
  if (ckpt) {
    const { records, torn } = readLogTolerant(logPath);
    if (torn !== null)
      io.stderr.write(`notice: dropped the half-written last line of ${logPath} (${torn.length} bytes), as a process stopped while writing it\n`);
    const kept = records.filter((r) => r.step <= progress.step && r.type !== 'final');
    writeFileAtomic(logPath, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  } else if (o.force) {
    for (const f of RUN_FILES) rmSync(join(out, f), { force: true });
  }
  const logger = new JsonlLogger(logPath, { truncate: !ckpt });
  const log = (r: LogRecord) => logger.log(r);
  if (ckpt) log({ type: 'resume', step: progress.step, epoch: progress.epoch, stepInEpoch: progress.stepInEpoch, epochs: config.epochs, backend });
  else
    log({ type: 'run', step: 0, ...config, backend, stepsPerEpoch: loader.length, trainImages: trainSet.labels.length, testImages: data.test.labels.length });

  const methodInfo = { name: config.method, options: config.methodOptions };
  const checkpoint = (p: LoopProgress) =>
    saveCheckpoint(ckptPath, {
      model,
      modelSpec,
      kind: 'training',
      method: methodInfo,
      state: { method: captureMethodState(method) },
      sections: {
        run: config,
        schedule,
        backend,
        progress: { ...p, stepsPerEpoch: loader.length },
        rng: { default: toJson(defaultGenerator.getState()), method: toJson(methodGen.getState()) },
        loader: loader.getState(),
      },
    });

  const title = `${config.model} / ${config.method} on ${config.dataset.name}`;
  const settings = (): [string, string][] => [
    ['model', `${config.model} (${config.dtype})`],
    ['dataset', `${describeDataset(config.dataset)}: ${trainSet.labels.length} train / ${data.test.labels.length} test images`],
    ['method', `${config.method} ${JSON.stringify(config.methodOptions)}`],
    ['epochs × batch', `${config.epochs} × ${config.batch} (${loader.length} steps per epoch)`],
    ['seed', String(config.seed)],
  ];
  const writeReports = (final?: { accuracy: number; loss: number; count: number }, finalModel = model) => {
    const records = readLog(logPath);
    const files = [CHECKPOINT_FILE, ...(final ? [MODEL_FILE] : []), LOG_FILE, 'metrics.md'];
    const plots = runPlots(records, title);
    files.push(...writePlots(out, plots));
    const rank = rankReport(finalModel, { inputShape: modelSpec.inputShape });
    writeFileAtomic(join(out, 'metrics.md'), metricsMarkdown({ title, settings: settings(), records, final, rank, files }));
    return { files, rank };
  };

  const bar = new ProgressLine(o.quiet ? null : (io.stderr as NodeJS.WriteStream));
  io.stderr.write(
    o.quiet
      ? ''
      : `tuckergrad train: ${title}, ${trainSet.labels.length} images, ${config.epochs} epochs × ${loader.length} steps, lr ${String(config.methodOptions.lr)}, seed ${config.seed} → ${out}` +
          (ckpt ? ` (resumed at epoch ${progress.epoch + 1}, step ${progress.step})` : '') +
          '\n',
  );
  const result = runLoop({
    fail: cliFailure,
    method,
    model,
    loader,
    testLoader,
    epochs: config.epochs,
    progress,
    maxSteps: o.maxSteps,
    checkpointEvery: schedule.checkpointEvery,
    logEvery: schedule.logEvery,
    checkpoint,
    log,
    bar,
    onEpoch: () => writeReports(),
  });
  if (result.stopped) {
    io.stdout.write(
      `stopped at step ${progress.step} (epoch ${progress.epoch + 1}, step ${progress.stepInEpoch}); resume with: tuckergrad train --out ${out} --resume\n`,
    );
    return 0;
  }

  // 4. The deployed model, its evaluation and the reports.
  const finalModel = method.finalize();
  const ev = evaluate(finalModel, testLoader);
  const methodReport = method.report();
  log({ type: 'final', step: progress.step, testLoss: ev.loss, testAccuracy: ev.accuracy, count: ev.count, report: methodReport });
  try {
    saveCheckpoint(join(out, MODEL_FILE), {
      model: finalModel,
      modelSpec,
      kind: 'model',
      method: methodInfo,
      sections: {
        run: config,
        backend,
        metrics: { testAccuracy: ev.accuracy, testLoss: ev.loss, count: ev.count, epoch: progress.epoch, step: progress.step, report: methodReport },
      },
    });
  } catch (err) {
    throw new CliError(`training finished, but the final model cannot be saved: ${(err as Error).message} (the training state is in ${ckptPath})`);
  }
  const { files, rank } = writeReports({ accuracy: ev.accuracy, loss: ev.loss, count: ev.count }, finalModel);
  const lines = [
    `${title}: ${progress.epoch} epochs, ${progress.step} steps, seed ${config.seed}`,
    `test accuracy ${pct(ev.accuracy)} (loss ${ev.loss.toFixed(4)}) on ${ev.count} images`,
  ];
  if (rank.layers.length > 0) lines.push(rank.table);
  const r = methodReport;
  lines.push(
    r.fullParams > 0
      ? `compression (${config.method}): compressed layers ${r.params} / ${r.fullParams} parameters (${pct(1 - r.params / r.fullParams, 1)} fewer); ` +
          `whole network ${r.networkParams} / ${r.fullNetworkParams} (${pct(1 - r.networkParams / Math.max(1, r.fullNetworkParams), 1)} fewer)`
      : `no compressed layers (${config.method}): ${r.networkParams} parameters`,
    `wrote ${files.map((f) => join(out, f)).join(', ')}`,
  );
  io.stdout.write(lines.join('\n') + '\n');
  return 0;
}
