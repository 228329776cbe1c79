/**
 * The training loop behind `train` (and the fine-tune of `compress`): epochs of method steps over a
 * DataLoader that can start mid-epoch, checkpoints at step boundaries, a step limit, a JSONL log and
 * a live progress line. Everything a resumed run needs to continue identically is in LoopProgress
 * (plus the model, method, generator and loader states that the caller checkpoints).
 */
import { tidy } from '../tensor/storage.js';
import type { DataLoader } from '../data/loader.js';
import type { TrainingMethod } from '../lowrank/methods/types.js';
import { TuckerLayer } from '../lowrank/tucker-layer.js';
import type { Module } from '../nn/module.js';
import { countCorrect, evaluate, type EvalResult } from '../train/fit.js';
import { explainNonFiniteLoss } from '../optim/non-finite.js';
import { formatDuration, type ProgressLine } from '../train/progress.js';
import { CliError } from './common.js';
import type { EpochLog, LogRecord } from './reports.js';

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

export function checkProgress(p: unknown, where: string): LoopProgress {
  const o = p as Record<string, unknown>;
  const ints = ['epoch', 'step', 'stepInEpoch', 'correct', 'seen'];
  if (!o || typeof o !== 'object' || ints.some((k) => !Number.isInteger(o[k]) || (o[k] as number) < 0) || typeof o.lossSum !== 'number') {
    throw new CliError(`${where}: tuckergrad.progress must hold epoch, step, stepInEpoch, lossSum, correct, seen; got ${JSON.stringify(p)}`);
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
  loader: DataLoader;
  testLoader: DataLoader | null;
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
  bar: ProgressLine;
  label?: string;
}

/** The ranks of every low-rank layer of the model being trained. */
export function layerRanks(model: Module): Record<string, number[]> | undefined {
  const layers = model.namedModules().filter((e): e is [string, TuckerLayer] => e[1] instanceof TuckerLayer);
  return layers.length ? Object.fromEntries(layers.map(([n, l]) => [n, l.ranks])) : undefined;
}

function formatExtras(e: Record<string, unknown>): string {
  return Object.entries(e)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** Runs until `epochs` are complete or the step limit is reached. Returns whether it stopped early. */
export function runLoop(o: LoopOptions): { stopped: boolean; epochs: EpochLog[] } {
  const { method, model, loader, progress: p } = o;
  const records: EpochLog[] = [];
  const label = o.label ? `[${o.label}] ` : '';
  if (p.stepInEpoch !== loader.position || p.epoch !== loader.epoch) {
    throw new CliError(
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
    for (const { x, y } of loader) {
      // On the GPU backend the step's device buffers are freed at the end of the scope.
      const r = tidy(() => {
        const s = method.step(x, y);
        return { loss: s.loss, correct: countCorrect(s.logits, y) };
      });
      if (!Number.isFinite(r.loss)) {
        const why = explainNonFiniteLoss(`epoch ${epochNo}, step ${p.stepInEpoch + 1}`, r.loss, x, model);
        throw new CliError(why.endsWith('learning rate') ? `${why} (--lr)` : why);
      }
      p.step++;
      p.stepInEpoch++;
      p.lossSum += r.loss * y.length;
      p.correct += r.correct;
      p.seen += y.length;
      seenHere += y.length;
      stepsHere++;
      const last = p.stepInEpoch === len;
      if (p.step % o.logEvery === 0 || p.step === 1 || last) o.log({ type: 'step', step: p.step, epoch: epochNo, loss: r.loss, ranks: layerRanks(model) });
      const elapsed = (performance.now() - t0) / 1000;
      const extras = method.progress ? ` ${formatExtras(method.progress())}` : '';
      o.bar.update(
        `${label}epoch ${epochNo}/${o.epochs} step ${p.stepInEpoch}/${len} loss ${(p.lossSum / p.seen).toFixed(4)} acc ${((100 * p.correct) / p.seen).toFixed(2)}% ` +
          `${(seenHere / elapsed).toFixed(0)} img/s left ${formatDuration(((len - p.stepInEpoch) * elapsed) / stepsHere)}${extras}`,
      );
      if (!last) {
        if (o.maxSteps !== undefined && p.step >= o.maxSteps) {
          o.checkpoint(p);
          stop = true;
          break;
        }
        if (o.checkpointEvery > 0 && p.step % o.checkpointEvery === 0) o.checkpoint(p);
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
      const ev: EvalResult = evaluate(model, o.testLoader);
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
  }
  return { stopped: false, epochs: records };
}
