import { run, update } from '../backend/dispatch.js';
import { allocate } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Gradient arithmetic for backward(). It goes through the kernels like any op, placed where the
 * gradients already are ('follow'): on the device only when one of them lives there.
 */

/** A fresh tensor holding a + b (same shape); never writes into either, as gradients can be shared. */
export function addGrads(a: Tensor, b: Tensor): Tensor {
  return run('binary', [a, b], a.shape, (k, [x, y]) => k.binary('add', x, a.shape, y, b.shape, a.shape), 'follow');
}

/** Accumulates g into a leaf's own .grad buffer (in place on the host). */
export function accumulateInPlace(target: Tensor, g: Tensor): void {
  update('accumulate', [target, g], [target], target.shape, (k, [t, x]) => [k.accumulate(t as NonNullable<typeof t>, x as NonNullable<typeof x>)]);
}

/** A fresh copy of t (the first gradient a leaf keeps). */
export function copyGrad(t: Tensor): Tensor {
  return run('copy', [t], t.shape, (k, [x]) => k.copy(x), 'follow');
}

export function onesLike(t: Tensor): Tensor {
  return new Tensor(allocate(t.dtype, t.size).fill(1), t.shape);
}
