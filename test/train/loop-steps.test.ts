/**
 * The training loop as a generator (loopSteps): driven one step at a time, with the caller's event
 * loop running between steps (as the web demo's worker does), it takes the steps runLoop takes,
 * bit for bit; every step is handed back once, the last of an epoch with the epoch's record; a
 * caller that stops asking stops at a step boundary; epochs = Infinity runs to the step limit.
 */
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.js';
import { DataLoader } from '../../src/data/loader.js';
import { createMethod } from '../../src/lowrank/methods/registry.js';
import { buildBaseModel, type ModelSpec } from '../../src/nn/zoo.js';
import { Generator } from '../../src/tensor/random.js';
import { freshProgress, type LogRecord, type LoopOptions, type LoopStep, loopSteps, runLoop } from '../../src/train/loop.js';
import { ProgressLine } from '../../src/train/progress.js';

const MLP: ModelSpec = { builder: 'mlp', numClasses: 10, dtype: 'float32', inputShape: [1, 28, 28] };

function digits(n: number, seed: number): Dataset {
  const g = new Generator(seed);
  return {
    images: new Float32Array(n * 784).map(() => g.normal()),
    labels: Int32Array.from({ length: n }, (_, i) => (i * 7) % 10),
    shape: [1, 28, 28],
    numClasses: 10,
    name: 'noise',
  };
}

/** A fresh run of tucker-fixed on the small MLP over 40 noise digits (batches of 16: 3 steps an epoch, the last short). */
function setup(overrides: Partial<LoopOptions> = {}) {
  const method = createMethod('tucker-fixed', { lr: 0.05, budget: 0.3, momentum: 0.9 });
  const model = method.setup(buildBaseModel(MLP), { stepsPerEpoch: 3, epochs: 2, generator: new Generator(5) });
  const checkpoints: number[] = [];
  const logs: LogRecord[] = [];
  const options: LoopOptions = {
    method,
    model,
    loader: new DataLoader(digits(40, 1), { batchSize: 16, shuffle: true, seed: 2 }),
    testLoader: new DataLoader(digits(16, 3), { batchSize: 8 }),
    epochs: 2,
    progress: freshProgress(),
    checkpointEvery: 2,
    logEvery: 1,
    checkpoint: (p) => checkpoints.push(p.step),
    log: (r) => logs.push(r),
    bar: new ProgressLine(null),
    ...overrides,
  };
  return { options, model, checkpoints, logs };
}

const weights = (model: ReturnType<typeof setup>['model']) => Object.entries(model.stateDict()).map(([k, t]) => [k, Buffer.from(t.data.buffer)] as const);

describe('loopSteps', () => {
  it('driven step by step with the event loop between steps, it is runLoop bit for bit, one hand-back per step', async () => {
    const straight = setup();
    const result = runLoop(straight.options);

    const stepped = setup();
    const gen = loopSteps(stepped.options);
    const got: LoopStep[] = [];
    for (;;) {
      const r = gen.next();
      if (r.done) {
        expect(r.value.stopped).toBe(false);
        expect(r.value.epochs).toEqual(result.epochs.map((e) => ({ ...e, seconds: expect.any(Number), imagesPerSecond: expect.any(Number) })));
        break;
      }
      got.push(r.value);
      // A pause: other work (the worker's messages) runs before the next step is asked for.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(got.map((s) => [s.step, s.epoch])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 2],
      [5, 2],
      [6, 2],
    ]);
    // The last step of each epoch comes back with its record (evaluated on the test loader).
    expect(got.map((s) => s.epochEnd?.epoch)).toEqual([undefined, undefined, 1, undefined, undefined, 2]);
    expect(got[2].epochEnd?.testAccuracy).toBeTypeOf('number');
    const stepLosses = straight.logs.filter((l) => l.type === 'step').map((l) => l.loss);
    expect(got.map((s) => s.loss)).toEqual(stepLosses);
    expect(stepped.checkpoints).toEqual(straight.checkpoints);
    expect(stepped.logs.map((l) => ({ ...l, seconds: 0, imagesPerSecond: 0 }))).toEqual(straight.logs.map((l) => ({ ...l, seconds: 0, imagesPerSecond: 0 })));
    for (const [[k, a], [, b]] of weights(straight.model).map((w, i) => [w, weights(stepped.model)[i]])) expect(b.equals(a), k as string).toBe(true);
  });

  it('a caller that stops asking stops at a step boundary: the progress and the loader are at that step', () => {
    const run = setup();
    const gen = loopSteps(run.options);
    gen.next();
    gen.next();
    gen.return({ stopped: true, epochs: [] });
    expect(gen.next().done).toBe(true);
    expect(run.options.progress).toMatchObject({ epoch: 0, step: 2, stepInEpoch: 2, seen: 32 });
    expect((run.options.loader as DataLoader).position).toBe(2);
    expect(run.logs.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 2]);
  });

  it('epochs = Infinity runs until the step limit, across epoch ends, and reports that it stopped', () => {
    const run = setup({ epochs: Number.POSITIVE_INFINITY, maxSteps: 5, testLoader: null });
    const gen = loopSteps(run.options);
    const steps: number[] = [];
    let r = gen.next();
    while (!r.done) {
      steps.push(r.value.step);
      r = gen.next();
    }
    expect(steps).toEqual([1, 2, 3, 4, 5]);
    expect(r.value.stopped).toBe(true);
    expect(r.value.epochs.map((e) => e.epoch)).toEqual([1]);
    // The checkpoint at the limit (step 5), after those every 2 steps and at the epoch end.
    expect(run.checkpoints).toEqual([2, 3, 4, 5]);
  });
});
