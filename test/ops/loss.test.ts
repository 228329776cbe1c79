import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { crossEntropy, mseLoss, nllLoss } from '../../src/ops/loss.js';
import { logSoftmax, softmax } from '../../src/ops/softmax.js';
import { batchNorm2d } from '../../src/ops/normalization.js';
import { dropout } from '../../src/ops/dropout.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { fcOptions, randT } from '../helpers.js';

const seed = fc.integer({ min: 0, max: 1e6 });

describe('softmax family and losses', () => {
  it('softmax rows sum to 1 and both softmaxes match finite differences', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), seed, (n, c, s) => {
        const x = randT([n, c], s, true, 3);
        const p = softmax(x, 1);
        for (let i = 0; i < n; i++) {
          let t = 0;
          for (let j = 0; j < c; j++) t += p.data[i * c + j];
          expect(t).toBeCloseTo(1, 12);
        }
        gradcheck((t) => softmax(t, 1), [x]);
        gradcheck((t) => logSoftmax(t, 0), [x]);
      }),
      fcOptions(20),
    );
  });
  it('is stable for huge logits', () => {
    const p = softmax(tensor([[1000, 0, -1000]], { dtype: 'float64' }), 1);
    expect(p.toList()).toEqual([1, 0, 0]);
  });
  it('crossEntropy (mean/sum, label smoothing) matches finite differences and the definition', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 5 }),
        seed,
        fc.constantFrom(0, 0.1),
        fc.constantFrom('mean' as const, 'sum' as const),
        (n, c, s, eps, reduction) => {
          const g = new Generator(s);
          const labels = Array.from({ length: n }, () => g.int(0, c));
          const x = randT([n, c], s);
          gradcheck((t) => crossEntropy(t, labels, { labelSmoothing: eps, reduction }), [x]);
          // Definition: −log softmax at the label, averaged.
          let ref = 0;
          for (let i = 0; i < n; i++) {
            let z = 0;
            for (let j = 0; j < c; j++) z += Math.exp(x.data[i * c + j]);
            const logp = (j: number) => x.data[i * c + j] - Math.log(z);
            let smooth = 0;
            for (let j = 0; j < c; j++) smooth -= logp(j) / c;
            ref += (1 - eps) * -logp(labels[i]) + eps * smooth;
          }
          if (reduction === 'mean') ref /= n;
          expect(crossEntropy(x, labels, { labelSmoothing: eps, reduction }).item()).toBeCloseTo(ref, 10);
        },
      ),
      fcOptions(20),
    );
  });
  it('crossEntropy of confident one-hot logits is near 0, of uniform logits log C', () => {
    const oneHot = tensor(
      [
        [50, 0, 0],
        [0, 50, 0],
      ],
      { dtype: 'float64' },
    );
    expect(crossEntropy(oneHot, [0, 1]).item()).toBeLessThan(1e-20);
    expect(crossEntropy(tensor([[0, 0, 0, 0]], { dtype: 'float64' }), [2]).item()).toBeCloseTo(Math.log(4), 14);
  });
  it('accepts labels as number[], Int32Array or tensor, and rejects out-of-range labels', () => {
    const x = randT([2, 3], 1);
    const a = crossEntropy(x, [0, 2]).item();
    expect(crossEntropy(x, Int32Array.from([0, 2])).item()).toBe(a);
    expect(crossEntropy(x, tensor([0, 2])).item()).toBe(a);
    expect(() => crossEntropy(x, [0, 3])).toThrow(
      /crossEntropy: label 3 at position 1 is out of range \[0, 3\)|nllLoss: label 3 at position 1 is out of range \[0, 3\)/,
    );
    expect(() => crossEntropy(x, [0])).toThrow(/one label per row \(2\), got 1/);
  });
  it('nllLoss and mseLoss match finite differences', () => {
    gradcheck((t) => nllLoss(logSoftmax(t, 1), [1, 0]), [randT([2, 3], 4)]);
    gradcheck((a, b) => mseLoss(a, b), [randT([3, 2], 5), randT([3, 2], 6)]);
    expect(() => mseLoss(randT([2], 1), randT([3], 1))).toThrow(/mseLoss: input \[2\] and target \[3\] must have the same shape/);
  });
});

describe('batchNorm2d and dropout', () => {
  it('batchNorm2d in training matches finite differences and normalises', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), seed, (n, c, hw, s) => {
        const x = randT([n, c, hw, hw], s);
        gradcheck((t, w, b) => batchNorm2d(t, null, null, w, b, { training: true }), [x, randT([c], s + 1), randT([c], s + 2)]);
        const y = batchNorm2d(x, null, null, null, null, { training: true, eps: 1e-12 });
        for (let ch = 0; ch < c; ch++) {
          let m = 0;
          for (let i = 0; i < n; i++) for (let k = 0; k < hw * hw; k++) m += y.data[(i * c + ch) * hw * hw + k];
          expect(Math.abs(m)).toBeLessThan(1e-9);
        }
      }),
      fcOptions(15),
    );
  });
  it('updates running statistics (unbiased variance) and uses them in eval', () => {
    const x = tensor([[[[1, 3]]], [[[5, 7]]]], { dtype: 'float64' });
    const rm = new Tensor(new Float64Array([0]), [1]);
    const rv = new Tensor(new Float64Array([1]), [1]);
    batchNorm2d(x, rm, rv, null, null, { training: true, momentum: 0.5 });
    expect(rm.data[0]).toBeCloseTo(2, 12);
    expect(rv.data[0]).toBeCloseTo(0.5 + 0.5 * (20 / 3), 12);
    const y = batchNorm2d(x, rm, rv, null, null, { training: false, eps: 1e-5 });
    expect(y.data[0]).toBeCloseTo((1 - 2) / Math.sqrt(rv.data[0] + 1e-5), 12);
  });
  it('dropout keeps the expectation and is the identity in eval', () => {
    const x = tensor(new Float64Array(20000).fill(1));
    const y = dropout(x, 0.3, true, new Generator(1));
    const meanY = y.toList().reduce((a, b) => a + b, 0) / 20000;
    expect(Math.abs(meanY - 1)).toBeLessThan(0.03);
    expect(dropout(x, 0.3, false)).toBe(x);
    expect(() => dropout(x, 1)).toThrow(/dropout: p must be in \[0, 1\), got 1/);
  });
});
