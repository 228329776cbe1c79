import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { cumsum } from '../../src/ops/cumsum.js';
import { stridesOf } from '../../src/tensor/shape.js';
import { tensor } from '../../src/tensor/tensor.js';
import { arbShape, fcOptions, randT } from '../helpers.js';

/** out[..., j, ...] = Σ_{l ≤ j} x[..., l, ...] by flat index arithmetic, independent of the kernel. */
function reference(x: Float64Array, shape: number[], axis: number): Float64Array {
  const out = new Float64Array(x.length);
  const stride = stridesOf(shape)[axis];
  for (let i = 0; i < x.length; i++) {
    const j = Math.floor(i / stride) % shape[axis];
    let s = 0;
    for (let l = 0; l <= j; l++) s += x[i - (j - l) * stride];
    out[i] = s;
  }
  return out;
}

describe('cumsum (the worked example of docs/design.md §3.6)', () => {
  it('matches the definition along every axis of random shapes', () => {
    fc.assert(
      fc.property(
        arbShape(3, 4).filter((s) => s.length > 0),
        fc.nat(),
        fc.integer({ min: 0, max: 1e6 }),
        (shape, axisSeed, seed) => {
          const axis = axisSeed % shape.length;
          const x = randT(shape, seed, false);
          const got = cumsum(x, axis);
          expect(got.shape).toEqual(shape);
          const want = reference(x.data as Float64Array, shape, axis);
          for (let i = 0; i < want.length; i++) expect(got.data[i]).toBeCloseTo(want[i], 12);
        },
      ),
      fcOptions(30),
    );
  });

  it('has the reverse prefix sum as its gradient (finite differences)', () => {
    fc.assert(
      fc.property(
        arbShape(3, 4).filter((s) => s.length > 0),
        fc.nat(),
        fc.integer({ min: 0, max: 1e6 }),
        (shape, axisSeed, seed) => {
          const axis = -1 - (axisSeed % shape.length);
          gradcheck((t) => cumsum(t, axis), [randT(shape, seed)]);
        },
      ),
      fcOptions(20),
    );
  });

  it('names the argument when the axis is out of range', () => {
    expect(() => cumsum(tensor([1, 2, 3]), 1)).toThrow(/cumsum/);
  });
});
