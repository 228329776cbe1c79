import { getBackend } from '../backend/index.js';
import { record } from '../autograd/record.js';
import { allocate } from '../tensor/dtype.js';
import { normAxes, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { div, sub, square } from './elementwise.js';
import { broadcastTo, permute, reshape } from './shape.js';
import { checkTensor, dev, deviceFor, emptyLike, fromDevice } from './util.js';
import type { DeviceArray } from '../tensor/storage.js';

/** Sum over `axis` (a number, a list, or all axes when omitted), PyTorch-style keepdim. */
export function sum(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  checkTensor(x, 'sum', 'x');
  const axes = normAxes(axis, x.ndim, 'sum');
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  const backward = (g: Tensor) => [broadcastTo(reshape(g, keptShape), x.shape)];
  const device = deviceFor([x]);
  if (device) {
    let cur: DeviceArray = dev(x, device);
    let owned = false;
    let curShape = [...x.shape];
    for (let k = axes.length - 1; k >= 0; k--) {
      const next = curShape.slice();
      next[axes[k]] = 1;
      const reduced = device.sumAxis(cur, curShape, axes[k]);
      if (owned) cur.release();
      cur = reduced;
      owned = true;
      curShape = next;
    }
    if (!owned) cur = device.permute(cur, [x.size], [0]);
    return record(fromDevice(cur, outShape), 'sum', [x], backward);
  }
  const backend = getBackend();
  let data = x.data;
  let shape = [...x.shape];
  // Reduce from the last axis down so earlier axis indices stay valid.
  for (let k = axes.length - 1; k >= 0; k--) {
    const a = axes[k];
    const next = shape.slice();
    next[a] = 1;
    const out = allocate(x.dtype, sizeOf(next));
    backend.sumAxis(data, shape, a, out);
    data = out;
    shape = next;
  }
  if (axes.length === 0) data = data.slice();
  return record(new Tensor(data, outShape), 'sum', [x], backward);
}

export function mean(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  checkTensor(x, 'mean', 'x');
  const axes = normAxes(axis, x.ndim, 'mean');
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  if (count === 0) throw new Error(`mean: cannot average over an empty axis of shape [${x.shape.join(', ')}]`);
  return div(sum(x, axes, keepdim), count);
}

/**
 * Variance with Bessel's correction by default (PyTorch's torch.var: correction = 1).
 */
export function variance(x: Tensor, axis?: number | readonly number[], keepdim = false, correction = 1): Tensor {
  checkTensor(x, 'var', 'x');
  const axes = normAxes(axis, x.ndim, 'var');
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  if (count - correction <= 0) throw new Error(`var: need more than ${correction} element(s) over the reduced axes, got ${count}`);
  const centred = sub(x, mean(x, axes, true));
  return div(sum(square(centred), axes, keepdim), count - correction);
}

export function max(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  return extreme('max', x, axis, keepdim);
}

export function min(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  return extreme('min', x, axis, keepdim);
}

/**
 * Max/min over axes: the reduced axes are moved last and flattened, so one kernel call finds the
 * extreme of each row. The gradient goes to the first extreme element (PyTorch's max(dim)).
 */
function extreme(kind: 'max' | 'min', x: Tensor, axis: number | readonly number[] | undefined, keepdim: boolean): Tensor {
  checkTensor(x, kind, 'x');
  const axes = normAxes(axis, x.ndim, kind);
  for (const a of axes) if (x.shape[a] === 0) throw new Error(`${kind}: cannot reduce over an empty axis ${a} of shape [${x.shape.join(', ')}]`);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const outer = kept.reduce((n, i) => n * x.shape[i], 1);
  const inner = axes.reduce((n, i) => n * x.shape[i], 1);
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepdim ? keptShape : kept.map((i) => x.shape[i]);
  const movedShape = perm.map((p) => x.shape[p]);
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  const device = deviceFor([x]);
  if (device) {
    const moved = perm.every((p, i) => p === i) ? dev(x, device) : device.permute(dev(x, device), x.shape, perm);
    const { values, index } = device.extremeRows(kind, moved, outer, inner);
    if (moved !== dev(x, device)) moved.release();
    const where = fromDevice(index, [outer]);
    return record(fromDevice(values, outShape), kind, [x], (g) => {
      const scattered = fromDevice(device.scatterRows(dev(g, device), dev(where, device), outer, inner), movedShape);
      return [permute(scattered, inverse)];
    });
  }
  const moved = perm.every((p, i) => p === i) ? x.data : permuteRaw(x, perm);
  const outData = allocate(x.dtype, outer);
  const arg = new Int32Array(outer);
  getBackend().extremeAxis(kind, moved, [outer, inner], 1, outData, arg);
  const out = new Tensor(outData, outShape);
  return record(out, kind, [x], (g) => {
    const scattered = allocate(x.dtype, outer * inner);
    const gd = g.data;
    for (let r = 0; r < outer; r++) scattered[r * inner + arg[r]] = gd[r];
    return [permute(new Tensor(scattered, movedShape), inverse)];
  });
}

function permuteRaw(x: Tensor, perm: number[]): Float32Array | Float64Array {
  const out = emptyLike(perm.map((p) => x.shape[p]), x.dtype);
  getBackend().permute(x.data, x.shape, perm, out.data);
  return out.data;
}

/** Index of the max along one axis (no gradient). */
export function argmax(x: Tensor, axis: number): Int32Array {
  checkTensor(x, 'argmax', 'x');
  const [a] = normAxes(axis, x.ndim, 'argmax');
  const outer = x.shape.slice(0, a).reduce((n, d) => n * d, 1);
  const inner = x.shape.slice(a + 1).reduce((n, d) => n * d, 1);
  const len = x.shape[a];
  const out = new Int32Array(outer * inner);
  const d = x.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity;
      let bi = 0;
      for (let k = 0; k < len; k++) {
        const v = d[(o * len + k) * inner + i];
        if (v > best) {
          best = v;
          bi = k;
        }
      }
      out[o * inner + i] = bi;
    }
  }
  return out;
}
