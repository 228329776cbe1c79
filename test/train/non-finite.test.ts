/**
 * Issue #19, defect 7: a loss that is not finite stops the step before any weight changes, and the
 * message checks the inputs first (NaN data is not the learning rate's fault).
 */
import { describe, expect, it } from 'vitest';
import { Linear, Sequential, Flatten } from '../../src/nn/layers.js';
import { SGD } from '../../src/optim/sgd.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { fit, sgdStep } from '../../src/train/fit.js';

function net() {
  return new Sequential(new Flatten(), new Linear(6, 3, { generator: new Generator(4) }));
}

function batch(poison?: number): { x: Tensor; y: Int32Array } {
  const g = new Generator(9);
  const d = Float32Array.from({ length: 4 * 6 }, () => g.normal());
  if (poison !== undefined) d[5] = poison;
  return { x: new Tensor(d, [4, 1, 2, 3]), y: Int32Array.from([0, 1, 2, 0]) };
}

const weights = (m: Sequential) => m.parameters().map((p) => Array.from(p.data));

describe('non-finite losses', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY])('sgdStep on an input holding %s throws, naming the input, and changes no weight', (bad) => {
    const model = net();
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const before = weights(model);
    const { x, y } = batch(bad);
    expect(() => sgdStep(model, opt, x, y)).toThrow(
      `sgdStep: the loss is NaN because the input batch holds ${bad} at flat index 5 (shape [4, 1, 2, 3]); check the data, not the learning rate`,
    );
    expect(weights(model)).toEqual(before);
  });

  it('fit on NaN data blames the data, not the learning rate', () => {
    const model = net();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const loader = {
      length: 1,
      *[Symbol.iterator]() {
        yield batch(Number.NaN);
      },
    };
    expect(() => fit(model, loader, { epochs: 1, optimizer: opt, progress: null })).toThrow(
      'the input batch holds NaN at flat index 5 (shape [4, 1, 2, 3]); check the data, not the learning rate',
    );
  });

  it('fit with a custom step on NaN data names the epoch, the step and the input', () => {
    const model = net();
    const loader = {
      length: 1,
      *[Symbol.iterator]() {
        yield batch(Number.NaN);
      },
    };
    const step = (x: Tensor) => ({ loss: Number.NaN, logits: model.forward(x) });
    expect(() => fit(model, loader, { epochs: 1, step, progress: null })).toThrow(
      'fit: epoch 1, step 1: the loss is NaN because the input batch holds NaN at flat index 5',
    );
  });

  it('on finite data, spoiled weights (an earlier step diverged) are named, with the learning rate', () => {
    const model = net();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    model.parameters()[0].data[2] = Number.POSITIVE_INFINITY;
    const { x, y } = batch();
    expect(() => sgdStep(model, opt, x, y)).toThrow(
      "sgdStep: the loss is NaN because parameter '1.weight' holds Infinity at flat index 2; an earlier step diverged, lower the learning rate",
    );
  });
});
