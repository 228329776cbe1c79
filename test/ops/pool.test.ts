import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../../src/ops/pool.js';
import { tensor } from '../../src/tensor/tensor.js';
import { fcOptions, randT } from '../helpers.js';

const arbPool = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 2, max: 7 }),
  w: fc.integer({ min: 2, max: 7 }),
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 3 }),
  padding: fc.integer({ min: 0, max: 1 }),
  includePad: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('pooling', () => {
  it('maxPool2d and avgPool2d match finite differences (stride, padding)', () => {
    fc.assert(
      fc.property(arbPool, (p) => {
        fc.pre(p.padding * 2 <= p.k && p.h + 2 * p.padding >= p.k && p.w + 2 * p.padding >= p.k);
        const x = randT([p.n, p.c, p.h, p.w], p.seed);
        gradcheck((t) => maxPool2d(t, p.k, { stride: p.stride, padding: p.padding }), [x]);
        gradcheck((t) => avgPool2d(t, p.k, { stride: p.stride, padding: p.padding, countIncludePad: p.includePad }), [x]);
      }),
      fcOptions(30),
    );
  });
  it('adaptiveAvgPool2d matches finite differences, including uneven windows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1e6 }),
        (h, w, o, seed) => {
          gradcheck((t) => adaptiveAvgPool2d(t, [Math.min(o, h), Math.min(o + 1, w)]), [randT([1, 2, h, w], seed)]);
        },
      ),
      fcOptions(20),
    );
  });
  it('values match definitions', () => {
    const x = tensor(
      [
        [
          [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
            [9, 10, 11, 12],
            [13, 14, 15, 16],
          ],
        ],
      ],
      { dtype: 'float64' },
    );
    expect(maxPool2d(x, 2).toArray()).toEqual([
      [
        [
          [6, 8],
          [14, 16],
        ],
      ],
    ]);
    expect(avgPool2d(x, 2).toArray()).toEqual([
      [
        [
          [3.5, 5.5],
          [11.5, 13.5],
        ],
      ],
    ]);
    expect(adaptiveAvgPool2d(x, 1).item()).toBe(8.5);
    // Padding counted (PyTorch default) vs not: the corner window holds one real value.
    expect(avgPool2d(x, 2, { stride: 2, padding: 1 }).data[0]).toBe(0.25);
    expect(avgPool2d(x, 2, { stride: 2, padding: 1, countIncludePad: false }).data[0]).toBe(1);
  });
  it('errors name the op and argument', () => {
    expect(() => maxPool2d(tensor([[1, 2]]), 2)).toThrow(/maxPool2d: input must be 4-D/);
    expect(() => maxPool2d(randT([1, 1, 4, 4], 1), 2, { padding: 2 })).toThrow(/maxPool2d: padding must be at most half/);
  });
});
