import { Tensor } from '../tensor/tensor.js';
import { allocate } from '../tensor/dtype.js';
import { dev, deviceFor, fromDevice } from '../ops/util.js';

/** A fresh tensor holding a + b (same shape); never writes into either, as gradients can be shared. */
export function addGrads(a: Tensor, b: Tensor): Tensor {
  const device = a.storage.onDevice || b.storage.onDevice ? deviceFor([a, b]) : undefined;
  if (device) return fromDevice(device.binary('add', dev(a, device), a.shape, dev(b, device), b.shape, a.shape), a.shape);
  const out = allocate(a.dtype, a.size);
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < out.length; i++) out[i] = x[i] + y[i];
  return new Tensor(out, a.shape);
}

/** Accumulates g into a leaf's own .grad buffer in place. */
export function accumulateInPlace(target: Tensor, g: Tensor): void {
  const device = target.storage.onDevice || g.storage.onDevice ? deviceFor([target, g]) : undefined;
  if (device) {
    target.adoptDevice(device.binary('add', dev(target, device), target.shape, dev(g, device), g.shape, target.shape));
    return;
  }
  const x = target.data;
  const y = g.data;
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}

export function onesLike(t: Tensor): Tensor {
  return new Tensor(allocate(t.dtype, t.size).fill(1), t.shape);
}
