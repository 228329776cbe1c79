import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/loss.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/schedulers.js';
import type { Tensor } from '../tensor/tensor.js';
import { JsonlLogger } from '../io/jsonl.js';
import { ProgressLine } from './progress.js';
import { freshProgress, runLoop } from './loop.js';
import type { TrainingMethod } from '../lowrank/methods/types.js';
import { sgdStep } from '../optim/model-step.js';
import type { BatchSource } from './evaluate.js';

export { sgdStep };
export { countCorrect, evaluate, type BatchSource, type EvalResult } from './evaluate.js';

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss?: number;
  testAccuracy?: number;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
  [extra: string]: unknown;
}

/**
 * One training step over a batch. The default is forward, loss, backward, optimizer step;
 * training methods that need more (the two passes of the rank-adaptive integrator) supply their own.
 */
export type StepFn = (x: Tensor, y: Int32Array) => { loss: number; logits: Tensor };

export interface FitOptions {
  epochs: number;
  optimizer?: Optimizer;
  /** Replaces the default step (then optimizer may be omitted). */
  step?: StepFn;
  scheduler?: LRScheduler;
  testLoader?: BatchSource;
  lossFn?: (logits: Tensor, y: Int32Array) => Tensor;
  /** JSONL file that gets one line per epoch. */
  logFile?: string;
  /** Extra fields for the progress line and the epoch record (e.g. current ranks). */
  extras?: () => Record<string, unknown>;
  onEpochEnd?: (record: EpochRecord) => void;
  /** Called after every optimizer step with the global step index. */
  onStep?: (step: number, loss: number) => void;
  /** Where the live progress goes; null silences it. */
  progress?: NodeJS.WriteStream | null;
  label?: string;
}

/**
 * Trains for a number of epochs with a live progress line; returns one record per epoch. The loop
 * is runLoop (loop.ts), the same one `train` runs, with the optimizer's step (or `step`) as the method.
 */
export function fit(model: Module, loader: BatchSource, options: FitOptions): EpochRecord[] {
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${options.epochs}`);
  if (!options.step && !options.optimizer) throw new Error('fit: give an optimizer or a custom step');
  const lossFn = options.lossFn ?? crossEntropy;
  const step: StepFn = options.step ?? ((x, y) => sgdStep(model, options.optimizer as Optimizer, x, y, lossFn));
  const method: TrainingMethod = {
    name: 'fit',
    setup: (m) => m,
    step,
    finalize: () => model,
    report: () => {
      throw new Error('fit: no method report');
    },
    progress: options.extras,
  };
  const log = options.logFile ? new JsonlLogger(options.logFile) : null;
  const records: EpochRecord[] = [];
  runLoop({
    method,
    model,
    // Only the batches: fit always starts at the loader's next epoch, wherever an earlier fit left it.
    loader: { length: loader.length, [Symbol.iterator]: () => loader[Symbol.iterator]() },
    testLoader: options.testLoader ?? null,
    lossFn,
    epochs: options.epochs,
    progress: freshProgress(),
    checkpointEvery: 0,
    logEvery: Number.POSITIVE_INFINITY,
    checkpoint: () => {},
    log: () => {},
    onStep: options.onStep,
    bar: new ProgressLine(options.progress === undefined ? process.stderr : options.progress),
    label: options.label,
    where: 'fit: ',
    onEpoch: (e) => {
      const record: EpochRecord = {
        epoch: e.epoch,
        trainLoss: e.trainLoss,
        trainAccuracy: e.trainAccuracy,
        lr: options.optimizer?.lr ?? Number.NaN,
        seconds: e.seconds,
        imagesPerSecond: e.imagesPerSecond,
        ...(options.extras ? options.extras() : {}),
      };
      if (e.testAccuracy !== undefined) {
        record.testLoss = e.testLoss;
        record.testAccuracy = e.testAccuracy;
      }
      options.scheduler?.step();
      records.push(record);
      log?.log(record);
      options.onEpochEnd?.(record);
    },
  });
  return records;
}
