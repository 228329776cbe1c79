/**
 * Issue #19, defect 7: products over an empty dimension give zeros (PyTorch), not an internal gemm
 * error: matmul, and (found on a re-check) linear with in_features 0, linear with an empty batch
 * (its bias gradient sums over the empty dim), conv2d with an empty batch or no input channels.
 */
import { describe, expect, it } from 'vitest';
import { conv2d } from '../../src/ops/conv.js';
import { linear, matmul } from '../../src/ops/matmul.js';
import { sum } from '../../src/ops/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
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

const filled = (shape: number[], v: number) => new Tensor(new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape, true);

describe('other products and sums over an empty dimension', () => {
  it('a sum over an empty axis is zeros of the other dims (it was a kernel error)', () => {
    const y = sum(randT([0, 3], 11), 0);
    expect(y.shape).toEqual([3]);
    expect(Array.from(y.data)).toEqual([0, 0, 0]);
    expect(Array.from(sum(randT([2, 0, 3], 12)).data)).toEqual([0]);
  });

  it('linear with in_features 0 is the bias broadcast (it computed the batch as 0 / 0)', () => {
    const x = filled([2, 0], 0);
    const w = filled([3, 0], 0);
    const b = filled([3], 1.5);
    const y = linear(x, w, b);
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.data)).toEqual(new Array(6).fill(1.5));
    sum(y).backward();
    expect([x.grad?.shape, w.grad?.shape]).toEqual([
      [2, 0],
      [3, 0],
    ]);
    expect(Array.from(b.grad?.data ?? [])).toEqual([2, 2, 2]);
  });

  it('linear on an empty batch: an empty result, and zero gradients for the weight and the bias', () => {
    const x = filled([0, 4], 0);
    const w = filled([3, 4], 1);
    const b = filled([3], 1);
    const y = linear(x, w, b);
    expect(y.shape).toEqual([0, 3]);
    sum(y).backward();
    expect(x.grad?.shape).toEqual([0, 4]);
    expect(Array.from(w.grad?.data ?? [])).toEqual(new Array(12).fill(0));
    expect(Array.from(b.grad?.data ?? [])).toEqual([0, 0, 0]);
  });

  it('conv2d on an empty batch, or with no input channels: zeros plus the bias, zero gradients', () => {
    const x = filled([0, 1, 5, 5], 1);
    const w = filled([2, 1, 3, 3], 1);
    const b = filled([2], 1);
    const y = conv2d(x, w, b);
    expect(y.shape).toEqual([0, 2, 3, 3]);
    sum(y).backward();
    expect(x.grad?.shape).toEqual([0, 1, 5, 5]);
    expect(Array.from(w.grad?.data ?? [])).toEqual(new Array(18).fill(0));
    expect(Array.from(b.grad?.data ?? [])).toEqual([0, 0]);

    const x0 = filled([1, 0, 5, 5], 1);
    const w0 = filled([2, 0, 3, 3], 1);
    const y0 = conv2d(x0, w0, filled([2], 0.5), { padding: 1 });
    expect(y0.shape).toEqual([1, 2, 5, 5]);
    expect(Array.from(y0.data)).toEqual(new Array(50).fill(0.5));
    sum(y0).backward();
    expect([x0.grad?.shape, w0.grad?.shape]).toEqual([
      [1, 0, 5, 5],
      [2, 0, 3, 3],
    ]);
  });
});
