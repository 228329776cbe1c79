import { Tensor } from '../tensor/tensor.js';
import { allocate } from '../tensor/dtype.js';

/** A fresh tensor holding a + b (same shape); never writes into either, as gradients can be shared. */
export function addGrads(a: Tensor, b: Tensor): Tensor {
  const out = allocate(a.dtype, a.size);
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < out.length; i++) out[i] = x[i] + y[i];
  return new Tensor(out, a.shape);
}

/** Accumulates g into a leaf's own .grad buffer in place. */
export function accumulateInPlace(target: Tensor, g: Tensor): void {
  const x = target.data;
  const y = g.data;
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}

export function onesLike(t: Tensor): Tensor {
  return new Tensor(allocate(t.dtype, t.size).fill(1), t.shape);
}
