import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { linear, matmul } from '../../src/ops/matmul.js';
import { tensor } from '../../src/tensor/tensor.js';
import { fcOptions, maxAbsDiff, randT } from '../helpers.js';

const dim = fc.integer({ min: 1, max: 5 });
const batch = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 });

describe('matmul', () => {
  it('batched with broadcast batch dims: values against a naive loop, gradients against finite differences', () => {
    fc.assert(
      fc.property(batch, batch, dim, dim, dim, fc.integer({ min: 0, max: 1e6 }), (ba, bb, m, k, n, seed) => {
        // Make the batch shapes broadcast-compatible: b's batch is a suffix of a's with some 1s.
        const bBatch = bb.length <= ba.length ? ba.slice(ba.length - bb.length).map((d, i) => (bb[i] === 1 ? 1 : d)) : ba;
        const a = randT([...ba, m, k], seed);
        const b = randT([...bBatch, k, n], seed + 1);
        const c = matmul(a, b);
        if (ba.length === 0 && bBatch.length === 0) {
          const ref = new Float64Array(m * n);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) ref[i * n + j] += a.data[i * k + p] * b.data[p * n + j];
          expect(maxAbsDiff(c.data, ref)).toBeLessThan(1e-12);
        }
        gradcheck(matmul, [a, b]);
      }),
      fcOptions(25),
    );
  });
  it('1-D operands follow PyTorch', () => {
    const v = tensor([1, 2], { dtype: 'float64' });
    const m = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    expect(matmul(v, m).toList()).toEqual([7, 10]);
    expect(matmul(m, v).toList()).toEqual([5, 11]);
    expect(matmul(v, v).item()).toBe(5);
    gradcheck(matmul, [randT([3], 1), randT([3, 2], 2)]);
  });
  it('names the mismatched inner dims', () => {
    expect(() => matmul(tensor([[1, 2, 3]]), tensor([[1, 2]]))).toThrow(/matmul: inner dims must match.*\(3 vs 1\)/);
  });
  it('linear = x·Wᵀ + b with gradients', () => {
    fc.assert(
      fc.property(dim, dim, dim, fc.boolean(), fc.integer({ min: 0, max: 1e6 }), (n, i, o, withBias, seed) => {
        const args = [randT([n, i], seed), randT([o, i], seed + 1), ...(withBias ? [randT([o], seed + 2)] : [])];
        gradcheck((x, w, b) => linear(x, w, b), args);
      }),
      fcOptions(20),
    );
    expect(() => linear(tensor([[1, 2]]), tensor([[1, 2, 3]]))).toThrow(/linear: input's last dim must be in_features = 3/);
  });
  it('a large product (inner dim > 1,000) is exact in float64', () => {
    const a = randT([3, 1500], 5, false);
    const b = randT([1500, 2], 6, false);
    const c = matmul(a, b);
    let ref = 0;
    for (let p = 0; p < 1500; p++) ref += a.data[p] * b.data[p * 2];
    expect(Math.abs(c.data[0] - ref)).toBeLessThan(1e-10);
  });
});
