/** Issue #19, defect 7: products over an empty dimension give zeros (PyTorch), not an internal gemm error. */
import { describe, expect, it } from 'vitest';
import { matmul } from '../../src/ops/matmul.js';
import { sum } from '../../src/ops/index.js';
import { randT } from '../helpers.js';

describe('matmul with empty dimensions', () => {
  it('[2,0]×[0,4] is a [2,4] of zeros, with zero gradients of the empty shapes', () => {
    const a = randT([2, 0], 1);
    const b = randT([0, 4], 2);
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 4]);
    expect(Array.from(c.data)).toEqual(new Array(8).fill(0));
    sum(c).backward();
    expect(a.grad?.shape).toEqual([2, 0]);
    expect(b.grad?.shape).toEqual([0, 4]);
  });

  it('an empty row, column or batch gives an empty result of the broadcast shape', () => {
    expect(matmul(randT([0, 3], 3), randT([3, 4], 4)).shape).toEqual([0, 4]);
    expect(matmul(randT([2, 3], 5), randT([3, 0], 6)).shape).toEqual([2, 0]);
    expect(matmul(randT([0, 2, 3], 7), randT([3, 4], 8)).shape).toEqual([0, 2, 4]);
    expect(matmul(randT([5, 2, 0], 9), randT([5, 0, 4], 10)).shape).toEqual([5, 2, 4]);
    expect(Array.from(matmul(randT([5, 2, 0], 9), randT([5, 0, 4], 10)).data).every((v) => v === 0)).toBe(true);
  });
});
