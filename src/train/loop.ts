/**
 * The one training loop: epochs of a TrainingMethod's steps over a loader that can start mid-epoch,
 * checkpoints at step boundaries, a step limit, log records and a live progress line. `train` and
 * the fine-tune of `compress` drive it with checkpoints and a JSONL log; `fit` (fit.ts) drives it
 * with an optimizer or a step function. Everything a resumed run needs to continue identically is
 * in LoopProgress (plus the model, method, generator and loader states that the caller checkpoints).
 *
 * The loop is a generator (loopSteps) that hands control back after every step, so a caller with an
 * event loop (the web demo's worker) can answer pause, stop and checkpoint requests between steps;
 * runLoop drives it to the end without stopping.
 */
import type { TrainingMethod } from '../lowrank/methods/types.js';
import { tuckerRanks } from '../lowrank/tucker-layers.js';
import type { Module } from '../nn/module.js';
import { explainNonFiniteLoss } from '../optim/non-finite.js';
import { arena } from '../tensor/storage.js';
import type { Tensor } from '../tensor/tensor.js';
import { type BatchSource, countCorrect, evaluate, type EvalResult } from './evaluate.js';
import { formatDuration, type ProgressLine } from './progress.js';

/** One line of a run's log (log.jsonl). Every record carries the global step it belongs to (resume trims by it). */
export interface LogRecord {
  type: 'run' | 'resume' | 'step' | 'epoch' | 'final' | 'compress' | 'finetune';
  step: number;
  [key: string]: unknown;
}

export interface EpochLog extends LogRecord {
  type: 'epoch';
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss?: number;
  testAccuracy?: number;
  seconds: number;
  imagesPerSecond: number;
  ranks?: Record<string, number[]>;
}

export interface StepLog extends LogRecord {
  type: 'step';
  epoch: number;
  loss: number;
  ranks?: Record<string, number[]>;
}

/** A loader that can say where it stands (data.DataLoader): a resumed loop checks it against the saved progress. */
export type LoopLoader = BatchSource & { readonly position?: number; readonly epoch?: number };

export interface LoopProgress {
  /** Epochs completed. */
  epoch: number;
  /** Steps taken since the start of the run. */
  step: number;
  /** Steps taken in the current (unfinished) epoch. */
  stepInEpoch: number;
  /** Sums over the current epoch's batches so far (for its train loss and accuracy). */
  lossSum: number;
  correct: number;
  seen: number;
}

export function freshProgress(): LoopProgress {
  return { epoch: 0, step: 0, stepInEpoch: 0, lossSum: 0, correct: 0, seen: 0 };
}

/** The saved progress of a run, checked field by field (throws naming `where`). */
export function checkProgress(p: unknown, where: string): LoopProgress {
  const o = p as Record<string, unknown>;
  const ints = ['epoch', 'step', 'stepInEpoch', 'correct', 'seen'];
  if (!o || typeof o !== 'object' || ints.some((k) => !Number.isInteger(o[k]) || (o[k] as number) < 0) || typeof o.lossSum !== 'number') {
    throw new Error(`${where}: tuckergrad.progress must hold epoch, step, stepInEpoch, lossSum, correct, seen; got ${JSON.stringify(p)}`);
  }
  return {
    epoch: o.epoch as number,
    step: o.step as number,
    stepInEpoch: o.stepInEpoch as number,
    lossSum: o.lossSum,
    correct: o.correct as number,
    seen: o.seen as number,
  };
}

export interface LoopOptions {
  method: TrainingMethod;
  model: Module;
  loader: LoopLoader;
  testLoader: BatchSource | null;
  /** The loss of the test evaluation (default: cross-entropy, as the methods train with). */
  lossFn?: (logits: Tensor, y: Int32Array) => Tensor;
  epochs: number;
  progress: LoopProgress;
  /** Stop (with a checkpoint) once this many steps have been taken in all. */
  maxSteps?: number;
  /** A checkpoint every this many steps (0: only at epoch ends). */
  checkpointEvery: number;
  /** A step record in the log every this many steps (and at each epoch end). */
  logEvery: number;
  checkpoint(progress: LoopProgress): void;
  log(record: LogRecord): void;
  /** Called after each epoch's record and checkpoint (reports are rewritten here). */
  onEpoch?(record: EpochLog): void;
  /** Called after every step with the global step index and the batch loss. */
  onStep?(step: number, loss: number): void;
  bar: ProgressLine;
  label?: string;
  /** Prefix of the loop's own errors (e.g. 'fit: '). */
  where?: string;
  /** Makes the loop's own errors (a non-finite loss, a loader that disagrees with the progress); default: Error. */
  fail?(message: string): Error;
}

/** The ranks of every low-rank layer of the model being trained. */
export function layerRanks(model: Module): Record<string, number[]> | undefined {
  const ranks = tuckerRanks(model);
  return Object.keys(ranks).length ? ranks : undefined;
}

/** A method's progress fields for the progress line: numbers to 4 decimals, strings as they are, the rest as JSON. */
function formatExtras(e: Record<string, unknown>): string {
  return Object.entries(e)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** What loopSteps hands back after each step. */
export interface LoopStep {
  /** Steps taken since the start of the run, this one included. */
  step: number;
  /** The epoch this step belongs to (1-based). */
  epoch: number;
  loss: number;
  /** The epoch's record, when this step ended an epoch (its evaluation, log and checkpoint done). */
  epochEnd?: EpochLog;
}

export interface LoopResult {
  stopped: boolean;
  epochs: EpochLog[];
}

/** Runs until `epochs` are complete or the step limit is reached. Returns whether it stopped early. */
export function runLoop(o: LoopOptions): LoopResult {
  const steps = loopSteps(o);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The loop of runLoop, one step per next(): each step is yielded once everything it causes is done
 * (its log record, progress line and checkpoint, and at the end of an epoch the epoch's record,
 * evaluation and checkpoint), so a caller that stops asking stops at a step boundary with the
 * same state an uninterrupted run has there. Epochs = Infinity runs until the step limit, or
 * until the caller stops.
 */
export function* loopSteps(o: LoopOptions): Generator<LoopStep, LoopResult, void> {
  const { method, model, loader, progress: p } = o;
  const records: EpochLog[] = [];
  const label = o.label ? `[${o.label}] ` : '';
  const fail = (message: string) => (o.fail ? o.fail(`${o.where ?? ''}${message}`) : new Error(`${o.where ?? ''}${message}`));
  // A loader that reports its place must be where the progress says (a resume); one that does not is read from its start.
  if (loader.position !== undefined && (p.stepInEpoch !== loader.position || p.epoch !== loader.epoch)) {
    throw fail(
      `the saved progress (epoch ${p.epoch}, step ${p.stepInEpoch} in it) and the data loader state (epoch ${loader.epoch}, position ${loader.position}) disagree`,
    );
  }
  const len = loader.length;
  while (p.epoch < o.epochs) {
    if (o.maxSteps !== undefined && p.step >= o.maxSteps) return { stopped: true, epochs: records };
    const epochNo = p.epoch + 1;
    model.train();
    const t0 = performance.now();
    let seenHere = 0;
    let stepsHere = 0;
    let stop = false;
    let lastLoss = Number.NaN;
    for (const { x, y } of loader) {
      // The step's host buffers go back to the pool for the next step, and on the GPU backend its
      // device buffers are freed, at the end of the scope (docs/design.md §3.5.1).
      const r = arena(() => {
        const s = method.step(x, y);
        return { loss: s.loss, correct: countCorrect(s.logits, y) };
      });
      if (!Number.isFinite(r.loss)) throw fail(explainNonFiniteLoss(`epoch ${epochNo}, step ${p.stepInEpoch + 1}`, r.loss, x, model));
      p.step++;
      p.stepInEpoch++;
      p.lossSum += r.loss * y.length;
      p.correct += r.correct;
      p.seen += y.length;
      seenHere += y.length;
      stepsHere++;
      o.onStep?.(p.step, r.loss);
      const last = p.stepInEpoch === len;
      if (p.step % o.logEvery === 0 || p.step === 1 || last) o.log({ type: 'step', step: p.step, epoch: epochNo, loss: r.loss, ranks: layerRanks(model) });
      const elapsed = (performance.now() - t0) / 1000;
      const extras = method.progress ? ` ${formatExtras(method.progress())}` : '';
      o.bar.update(
        `${label}epoch ${epochNo}/${o.epochs} step ${p.stepInEpoch}/${len} loss ${(p.lossSum / p.seen).toFixed(4)} acc ${((100 * p.correct) / p.seen).toFixed(2)}% ` +
          `${(seenHere / elapsed).toFixed(0)} img/s left ${formatDuration(((len - p.stepInEpoch) * elapsed) / stepsHere)}${extras}`,
      );
      lastLoss = r.loss;
      if (!last) {
        if (o.maxSteps !== undefined && p.step >= o.maxSteps) {
          o.checkpoint(p);
          stop = true;
        } else if (o.checkpointEvery > 0 && p.step % o.checkpointEvery === 0) o.checkpoint(p);
        yield { step: p.step, epoch: epochNo, loss: r.loss };
        if (stop) break;
      }
    }
    if (stop) {
      o.bar.done(`${label}stopped at step ${p.step} (epoch ${epochNo}, step ${p.stepInEpoch}/${len}) by --max-steps; a checkpoint was written`);
      return { stopped: true, epochs: records };
    }
    method.onEpochEnd?.(epochNo);
    const seconds = (performance.now() - t0) / 1000;
    const record: EpochLog = {
      type: 'epoch',
      step: p.step,
      epoch: epochNo,
      trainLoss: p.lossSum / p.seen,
      trainAccuracy: p.correct / p.seen,
      seconds,
      imagesPerSecond: seenHere / seconds,
      ranks: layerRanks(model),
    };
    if (o.testLoader) {
      const ev: EvalResult = evaluate(model, o.testLoader, o.lossFn);
      record.testLoss = ev.loss;
      record.testAccuracy = ev.accuracy;
    }
    const extras = method.progress ? method.progress() : {};
    o.log(record);
    p.epoch++;
    p.stepInEpoch = 0;
    p.lossSum = 0;
    p.correct = 0;
    p.seen = 0;
    o.checkpoint(p);
    records.push(record);
    o.bar.done(
      `${label}epoch ${epochNo}/${o.epochs}: train loss ${record.trainLoss.toFixed(4)} acc ${(100 * record.trainAccuracy).toFixed(2)}%` +
        (record.testAccuracy !== undefined ? `, test loss ${record.testLoss?.toFixed(4)} acc ${(100 * record.testAccuracy).toFixed(2)}%` : '') +
        `, ${seconds.toFixed(1)} s (${record.imagesPerSecond.toFixed(0)} img/s)${Object.keys(extras).length ? ` ${formatExtras(extras)}` : ''}`,
    );
    o.onEpoch?.(record);
    if (stepsHere > 0) yield { step: p.step, epoch: epochNo, loss: lastLoss, epochEnd: record };
  }
  return { stopped: false, epochs: records };
}
