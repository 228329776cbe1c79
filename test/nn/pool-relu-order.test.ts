/**
 * nn.lenet5 runs each ReLU after its max-pool (a quarter of the values). The claim that this is the
 * papers' conv → ReLU → pool network bit for bit, values and every gradient, checked on the same
 * parameters against that order, on inputs whose pooling windows are often all negative or tied.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossEntropy } from '../../src/ops/loss.js';
import { type Conv2d, Flatten, type Linear, MaxPool2d, ReLU, Sequential } from '../../src/nn/layers.js';
import { lenet5 } from '../../src/nn/models.js';
import { Generator } from '../../src/tensor/random.js';
import { randn } from '../../src/tensor/creation.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { fcOptions } from '../helpers.js';

/** The same parameters in the order conv → ReLU → pool. */
function reluFirst(model: Sequential): Sequential {
  const layers = model.layers;
  const conv1 = layers[0] as Conv2d;
  const conv2 = layers[3] as Conv2d;
  const fc1 = layers[7] as Linear;
  const fc2 = layers[9] as Linear;
  return new Sequential(conv1, new ReLU(), new MaxPool2d(2), conv2, new ReLU(), new MaxPool2d(2), new Flatten(), fc1, new ReLU(), fc2);
}

describe('lenet5 pools before its ReLUs', () => {
  it('has the layer order max-pool, then ReLU, after each conv', () => {
    const kinds = lenet5().layers.map((m) => m.constructor.name);
    expect(kinds).toEqual(['Conv2d', 'MaxPool2d', 'ReLU', 'Conv2d', 'MaxPool2d', 'ReLU', 'Flatten', 'Linear', 'ReLU', 'Linear']);
  });

  it('gives the same output and the same gradients, bit for bit, as conv → ReLU → pool', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 3 }), fc.double({ min: -2, max: 0.5, noNaN: true }), (seed, batch, shift) => {
        const model = lenet5({ generator: new Generator(seed) });
        const other = reluFirst(model);
        // Shifted inputs, some rounded to few values: many windows all negative, many ties.
        const x = randn([batch, 1, 28, 28], { generator: new Generator(seed + 1) });
        const xs = new Tensor(
          Float32Array.from(x.data, (v, i) => (i % 3 === 0 ? Math.round(v + shift) : v + shift)),
          x.shape,
        );
        const y = Int32Array.from({ length: batch }, (_, i) => (seed + i) % 10);
        const run = (m: Sequential) => {
          for (const p of m.parameters()) p.grad = null;
          const out = m.forward(xs);
          crossEntropy(out, y).backward();
          return { out: Array.from(out.data), grads: m.parameters().map((p) => Array.from(p.grad!.data)) };
        };
        const a = run(model);
        const b = run(other);
        expect(a.out).toEqual(b.out);
        expect(a.grads).toEqual(b.grads);
      }),
      fcOptions(6),
    );
  });
});
