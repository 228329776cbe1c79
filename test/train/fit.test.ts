import { describe, expect, it } from 'vitest';
import { loadMnistEmbedded, take, DataLoader } from '../../src/data/index.js';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../../src/nn/layers.js';
import { StepLR } from '../../src/optim/schedulers.js';
import { SGD } from '../../src/optim/sgd.js';
import { evaluate, fit } from '../../src/train/fit.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function tinyNet(seed: number) {
  const g = new Generator(seed);
  return new Sequential(new Conv2d(1, 4, 5, { generator: g }), new ReLU(), new MaxPool2d(4), new Flatten(), new Linear(4 * 6 * 6, 10, { generator: g }));
}

function runOnce(seed: number, dir: string) {
  manualSeed(seed);
  const { train, test } = loadMnistEmbedded({ seed });
  const loader = new DataLoader(take(train, 512), { batchSize: 32, shuffle: true, seed });
  const model = tinyNet(seed);
  const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const before = evaluate(model, new DataLoader(take(test, 200), { batchSize: 100 }));
  const records = fit(model, loader, {
    epochs: 2,
    optimizer,
    testLoader: new DataLoader(take(test, 200), { batchSize: 100 }),
    logFile: join(dir, 'log.jsonl'),
    progress: null,
  });
  return { before, records, weights: Array.from(model.parameters()[0].data) };
}

describe('fit and evaluate', () => {
  it('a tiny CNN learns real digits: the loss falls and accuracy rises well above chance', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-fit-'));
    const { before, records } = runOnce(0, dir);
    expect(records[1].trainLoss).toBeLessThan(records[0].trainLoss);
    expect(records[1].trainLoss).toBeLessThan(before.loss);
    expect(records[1].testAccuracy).toBeGreaterThan(0.6);
    const lines = readFileSync(join(dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
    expect(lines[0]).toHaveProperty('imagesPerSecond');
  });
  it('the same seed gives the same numbers', () => {
    const a = runOnce(3, mkdtempSync(join(tmpdir(), 'tg-fit-')));
    const b = runOnce(3, mkdtempSync(join(tmpdir(), 'tg-fit-')));
    expect(b.weights).toEqual(a.weights);
    expect(b.records.map((r) => r.trainLoss)).toEqual(a.records.map((r) => r.trainLoss));
  });
  it('runs its hooks through the one loop: steps, extras, the schedule after each epoch, the records in order', () => {
    manualSeed(1);
    const model = tinyNet(1);
    const loader = new DataLoader(take(loadMnistEmbedded().train, 96), { batchSize: 32, shuffle: true, seed: 1 });
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const scheduler = new StepLR(optimizer, 1, 0.5);
    const steps: number[] = [];
    const ended: number[] = [];
    let out = '';
    const write = (t: string): boolean => {
      out += t;
      return true;
    };
    const progress = { isTTY: false, write } as unknown as NodeJS.WriteStream;
    let calls = 0;
    const records = fit(model, loader, {
      epochs: 2,
      optimizer,
      scheduler,
      extras: () => ({ calls: ++calls, tag: 'x' }),
      onStep: (s, loss) => {
        expect(Number.isFinite(loss)).toBe(true);
        steps.push(s);
      },
      onEpochEnd: (r) => ended.push(r.epoch),
      progress,
      label: 'hooks',
    });
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ended).toEqual([1, 2]);
    // The lr of each record is the one the epoch trained with; the schedule halves it after each epoch.
    expect(records.map((r) => r.lr)).toEqual([0.1, 0.05]);
    expect(optimizer.lr).toBe(0.025);
    expect(records.every((r) => r.tag === 'x' && typeof r.calls === 'number')).toBe(true);
    expect(out).toMatch(/\[hooks\] epoch 2\/2: train loss \d\.\d{4} acc \d+\.\d\d%.* tag x/);
    // A second fit on the same loader starts at the loader's next epoch: fit never resumes mid-epoch.
    expect(fit(model, loader, { epochs: 1, optimizer, progress: null })).toHaveLength(1);
  });

  it('rejects bad options', () => {
    const model = tinyNet(0);
    const loader = new DataLoader(take(loadMnistEmbedded().train, 64), { batchSize: 32 });
    expect(() => fit(model, loader, { epochs: 0, optimizer: new SGD(model.parameters(), { lr: 0.1 }) })).toThrow(
      /fit: epochs must be a positive integer, got 0/,
    );
    expect(() => fit(model, loader, { epochs: 1 })).toThrow(/give an optimizer or a custom step/);
  });
});
