import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import * as S from '../../src/ops/shape.js';
import { mul } from '../../src/ops/elementwise.js';
import { tensor } from '../../src/tensor/tensor.js';
import { fcOptions, randT } from '../helpers.js';

const arbShape = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });
const seed = fc.integer({ min: 0, max: 1e6 });

describe('shape ops', () => {
  it('permute and transpose: gradients and values', () => {
    fc.assert(
      fc.property(
        arbShape.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.shuffledSubarray(
              s.map((_, i) => i),
              { minLength: s.length, maxLength: s.length },
            ),
          ),
        ),
        seed,
        ([shape, perm], sd) => {
          const x = randT(shape, sd);
          gradcheck((t) => S.permute(t, perm), [x]);
          const y = S.permute(x, perm);
          expect(y.shape).toEqual(perm.map((p) => shape[p]));
        },
      ),
      fcOptions(20),
    );
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(S.transpose(x, 0, 1).toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });
  it('reshape/flatten/unsqueeze/squeeze keep values and pass gradients', () => {
    fc.assert(
      fc.property(arbShape, seed, (shape, sd) => {
        const x = randT(shape, sd);
        gradcheck((t) => mul(S.reshape(t, [-1]), 2), [x]);
        gradcheck((t) => S.flatten(S.unsqueeze(t, 0), 1), [x]);
      }),
      fcOptions(15),
    );
    expect(() => S.reshape(tensor([1, 2, 3]), [2, 2])).toThrow(/reshape: shape \[2, 2\] does not fit \[3\]/);
  });
  it('slice, indexSelect, gather match finite differences', () => {
    fc.assert(
      fc.property(arbShape, seed, fc.nat(), (shape, sd, r) => {
        const x = randT(shape, sd);
        const axis = r % shape.length;
        const n = shape[axis];
        const start = r % n;
        gradcheck((t) => S.slice(t, axis, start, n), [x]);
        const idx = [n - 1, 0, n - 1];
        gradcheck((t) => S.indexSelect(t, axis, idx), [x]);
        const ishape = [...shape];
        ishape[axis] = 2;
        const index = Array.from({ length: ishape.reduce((a, b) => a * b, 1) }, (_, i) => (i * 7 + r) % n);
        gradcheck((t) => S.gather(t, axis, index, ishape), [x]);
      }),
      fcOptions(20),
    );
  });
  it('cat, stack and pad match finite differences and values', () => {
    fc.assert(
      fc.property(arbShape, seed, fc.nat(), (shape, sd, r) => {
        const axis = r % shape.length;
        const other = [...shape];
        other[axis] = 1 + (r % 3);
        gradcheck((a, b) => S.cat([a, b], axis), [randT(shape, sd), randT(other, sd + 1)]);
        gradcheck((a, b) => S.stack([a, b], axis), [randT(shape, sd), randT(shape, sd + 2)]);
        gradcheck((a) => S.pad(a, [1, 2], 0.5), [randT(shape, sd)]);
      }),
      fcOptions(15),
    );
    expect(S.pad(tensor([[1, 2]]), [1, 0, 0, 1]).toArray()).toEqual([
      [0, 1, 2],
      [0, 0, 0],
    ]);
    expect(() => S.cat([tensor([[1, 2]]), tensor([[1, 2, 3]])], 0)).toThrow(/cat: tensors\[1\] has shape \[1, 3\]/);
  });
  it('broadcastTo sums its gradient back', () => {
    gradcheck((t) => S.broadcastTo(t, [3, 2, 4]), [randT([2, 1], 3)]);
  });
});
