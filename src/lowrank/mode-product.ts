import { matmul } from '../ops/matmul.js';
import { permute, reshape } from '../ops/shape.js';
import { normAxis, shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Differentiable mode-m product t ×_m U (U is n×r, t has size r along mode m): the result has
 * size n along mode m, in t's dtype. Built from recorded ops so gradients reach both the core and
 * the factor; the Tucker layers rebuild their kernels with it. Not `tucker.modeProduct`, which
 * computes the same product in float64 off the tape, for analysis (docs/design.md §4: one name per
 * meaning).
 */
export function differentiableModeProduct(t: Tensor, u: Tensor, mode: number): Tensor {
  const m = normAxis(mode, t.ndim, 'differentiableModeProduct');
  if (u.ndim !== 2 || u.shape[1] !== t.shape[m]) {
    throw new Error(`differentiableModeProduct: factor must be [n, ${t.shape[m]}] for mode ${m} of ${shapeStr(t.shape)}, got ${shapeStr(u.shape)}`);
  }
  const d = t.ndim;
  // Move mode m last, multiply by Uᵀ on the right, move it back.
  const toLast = [...Array(d).keys()].filter((i) => i !== m).concat(m);
  const moved = permute(t, toLast);
  const rows = moved.size / t.shape[m];
  const prod = matmul(reshape(moved, [rows, t.shape[m]]), permute(u, [1, 0]));
  const movedShape = [...toLast.slice(0, -1).map((i) => t.shape[i]), u.shape[0]];
  const back = new Array<number>(d);
  toLast.forEach((src, i) => (back[src] = i));
  return permute(reshape(prod, movedShape), back);
}
