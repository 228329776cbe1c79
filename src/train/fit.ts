import { noGrad } from '../autograd/grad-mode.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/loss.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/schedulers.js';
import type { Tensor } from '../tensor/tensor.js';
import { JsonlLogger } from '../io/jsonl.js';
import { formatDuration, ProgressLine } from './progress.js';
import { explainNonFiniteLoss } from '../optim/non-finite.js';
import { sgdStep } from '../optim/model-step.js';
import { tidy } from '../tensor/storage.js';

export { sgdStep };

/** What fit/evaluate iterate: batches of images and integer labels (data.DataLoader is one). */
export interface BatchSource {
  readonly length: number;
  [Symbol.iterator](): Iterator<{ x: Tensor; y: Int32Array }>;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
}

/** Mean loss and accuracy over a loader, in eval mode and without the tape. */
export function evaluate(model: Module, loader: BatchSource, lossFn: (logits: Tensor, y: Int32Array) => Tensor = crossEntropy): EvalResult {
  const wasTraining = model.training;
  model.eval();
  let loss = 0;
  let correct = 0;
  let count = 0;
  try {
    noGrad(() => {
      for (const { x, y } of loader) {
        tidy(() => {
          const logits = model.forward(x);
          loss += lossFn(logits, y).item() * y.length;
          correct += countCorrect(logits, y);
          count += y.length;
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { loss: count ? loss / count : NaN, accuracy: count ? correct / count : NaN, count };
}

export function countCorrect(logits: Tensor, y: Int32Array): number {
  const [n, c] = logits.shape;
  const d = logits.data;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (d[i * c + j] > d[i * c + best]) best = j;
    if (best === y[i]) correct++;
  }
  return correct;
}

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

/** Trains for a number of epochs with a live progress line; returns one record per epoch. */
export function fit(model: Module, loader: BatchSource, options: FitOptions): EpochRecord[] {
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${options.epochs}`);
  if (!options.step && !options.optimizer) throw new Error('fit: give an optimizer or a custom step');
  const lossFn = options.lossFn ?? crossEntropy;
  const step: StepFn = options.step ?? ((x, y) => sgdStep(model, options.optimizer as Optimizer, x, y, lossFn));
  const log = options.logFile ? new JsonlLogger(options.logFile) : null;
  const bar = new ProgressLine(options.progress === undefined ? process.stderr : options.progress);
  const records: EpochRecord[] = [];
  const total = loader.length;
  let globalStep = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    model.train();
    const t0 = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let batchIndex = 0;
    for (const { x, y } of loader) {
      // On the GPU each step's intermediates are freed here (parameters and optimizer state persist).
      const r = tidy(() => {
        const out = step(x, y);
        return { loss: out.loss, correct: countCorrect(out.logits, y) };
      });
      if (!Number.isFinite(r.loss)) throw new Error(explainNonFiniteLoss(`fit: epoch ${epoch}, step ${batchIndex + 1}`, r.loss, x, model));
      batchIndex++;
      globalStep++;
      lossSum += r.loss * y.length;
      correct += r.correct;
      seen += y.length;
      options.onStep?.(globalStep, r.loss);
      const elapsed = (performance.now() - t0) / 1000;
      const ips = seen / elapsed;
      const left = ((total - batchIndex) * elapsed) / batchIndex;
      const extra = options.extras ? ` ${formatExtras(options.extras())}` : '';
      bar.update(
        `${options.label ? `[${options.label}] ` : ''}epoch ${epoch}/${options.epochs} step ${batchIndex}/${total} loss ${(lossSum / seen).toFixed(4)} acc ${((100 * correct) / seen).toFixed(2)}% ${ips.toFixed(0)} img/s left ${formatDuration(left)}${extra}`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    const record: EpochRecord = {
      epoch,
      trainLoss: lossSum / seen,
      trainAccuracy: correct / seen,
      lr: options.optimizer?.lr ?? NaN,
      seconds,
      imagesPerSecond: seen / seconds,
      ...(options.extras ? options.extras() : {}),
    };
    if (options.testLoader) {
      const ev = evaluate(model, options.testLoader, lossFn);
      record.testLoss = ev.loss;
      record.testAccuracy = ev.accuracy;
    }
    options.scheduler?.step();
    records.push(record);
    log?.log(record);
    bar.done(
      `${options.label ? `[${options.label}] ` : ''}epoch ${epoch}/${options.epochs}: train loss ${record.trainLoss.toFixed(4)} acc ${(100 * record.trainAccuracy).toFixed(2)}%` +
        (record.testAccuracy !== undefined ? `, test loss ${record.testLoss?.toFixed(4)} acc ${(100 * record.testAccuracy).toFixed(2)}%` : '') +
        `, ${seconds.toFixed(1)} s (${record.imagesPerSecond.toFixed(0)} img/s)` +
        (options.extras ? ` ${formatExtras(options.extras())}` : ''),
    );
    options.onEpochEnd?.(record);
  }
  return records;
}

function formatExtras(e: Record<string, unknown>): string {
  return Object.entries(e)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : JSON.stringify(v)}`)
    .join(' ');
}
