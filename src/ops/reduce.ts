import { run, runMany } from '../backend/dispatch.js';
import { record } from '../autograd/record.js';
import { normAxes } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { div, sub, square } from './elementwise.js';
import { broadcastTo, permute, reshape } from './shape.js';
import { checkTensor, copyOf, release, sumAxisRaw } from './util.js';

const detach = (t: Tensor): Tensor => t.detach();

/** Sum over `axis` (a number, a list, or all axes when omitted), PyTorch-style keepdim. */
export function sum(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  checkTensor(x, 'sum', 'x');
  const axes = normAxes(axis, x.ndim, 'sum');
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  // Reduce from the last axis down so earlier axis indices stay valid.
  let cur = axes.length === 0 ? copyOf(x) : x;
  for (let k = axes.length - 1; k >= 0; k--) {
    const reduced = sumAxisRaw(cur, axes[k]);
    if (cur !== x) release(cur);
    cur = reduced;
  }
  return record(cur.view(outShape), 'sum', [x], (g) => [broadcastTo(reshape(g, keptShape), x.shape)]);
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
  const moved = perm.every((p, i) => p === i) ? x : permute(detach(x), perm);
  const [values, where] = runMany('extremeRows', [moved], [outShape, [outer]], (k, [m]) => {
    const r = k.extremeRows(kind, m, outer, inner);
    return [r.values, r.index];
  });
  if (moved !== x) release(moved);
  return record(values, kind, [x], (g) => {
    const scattered = run('scatterRows', [g, where], movedShape, (k, [gb, idx]) => k.scatterRows(gb, idx, outer, inner));
    return [permute(scattered, inverse)];
  });
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
