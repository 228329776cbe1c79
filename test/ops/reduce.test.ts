import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import * as R from '../../src/ops/reduce.js';
import { tensor } from '../../src/tensor/tensor.js';
import { fcOptions, randT } from '../helpers.js';

/** A shape with rank 1..4 and a subset of its axes (possibly empty meaning "all"). */
const arbShapeAxes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    fc.option(
      fc.subarray(
        shape.map((_, i) => i),
        { minLength: 1 },
      ),
      { nil: undefined },
    ),
    fc.boolean(),
  ),
);

describe('reductions', () => {
  for (const name of ['sum', 'mean', 'max', 'min'] as const) {
    it(`${name} over axis lists with keepdim matches finite differences`, () => {
      fc.assert(
        fc.property(arbShapeAxes, fc.integer({ min: 0, max: 1e6 }), ([shape, axes, keepdim], seed) => {
          gradcheck((x) => R[name](x, axes, keepdim), [randT(shape, seed)]);
        }),
        fcOptions(25),
      );
    });
  }
  it('var (unbiased) matches finite differences', () => {
    fc.assert(
      fc.property(arbShapeAxes, fc.integer({ min: 0, max: 1e6 }), ([shape, axes, keepdim], seed) => {
        const count = (axes ?? shape.map((_, i) => i)).reduce((n, a) => n * shape[a], 1);
        fc.pre(count > 1);
        gradcheck((x) => R.variance(x, axes, keepdim), [randT(shape, seed)]);
      }),
      fcOptions(20),
    );
  });
  it('values match definitions', () => {
    const x = tensor(
      [
        [1, 5, 3],
        [4, 2, 6],
      ],
      { dtype: 'float64' },
    );
    expect(R.sum(x).item()).toBe(21);
    expect(R.sum(x, 0).toList()).toEqual([5, 7, 9]);
    expect(R.sum(x, -1, true).shape).toEqual([2, 1]);
    expect(R.max(x, 1).toList()).toEqual([5, 6]);
    expect(R.min(x, [0, 1]).item()).toBe(1);
    expect(R.mean(x, 1).toList()).toEqual([3, 4]);
    expect(R.variance(x, 1).toList()).toEqual([4, 4]);
    expect(Array.from(R.argmax(x, 1))).toEqual([1, 2]);
  });
  it('rejects bad axes with the valid range named', () => {
    const x = tensor([[1, 2]]);
    expect(() => R.sum(x, 2)).toThrow(/sum: axis must be an integer in \[-2, 1\], got 2/);
    expect(() => R.sum(x, [0, 0])).toThrow(/distinct/);
  });
});
