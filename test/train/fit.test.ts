import { describe, expect, it } from 'vitest';
import { loadMnistEmbedded, take, DataLoader } from '../../src/data/index.js';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../../src/nn/layers.js';
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
  it('rejects bad options', () => {
    const model = tinyNet(0);
    const loader = new DataLoader(take(loadMnistEmbedded().train, 64), { batchSize: 32 });
    expect(() => fit(model, loader, { epochs: 0, optimizer: new SGD(model.parameters(), { lr: 0.1 }) })).toThrow(
      /fit: epochs must be a positive integer, got 0/,
    );
    expect(() => fit(model, loader, { epochs: 1 })).toThrow(/give an optimizer or a custom step/);
  });
});
