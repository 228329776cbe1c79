/**
 * Mode-n unfolding and folding in the Kolda–Bader convention (Kolda & Bader, "Tensor
 * Decompositions and Applications", SIAM Review 2009, §2.4):
 *
 *   Mat_n(T) is I_n × Π_{k≠n} I_k, and entry (i_0, …, i_{d-1}) of T goes to row i_n and column
 *   j = Σ_{k≠n} i_k · J_k,  J_k = Π_{m<k, m≠n} I_m,
 *
 * i.e. the remaining indices are laid out with the EARLIEST varying fastest (column-major order
 * of the other modes; numpy's `moveaxis(T, n, 0).reshape(I_n, -1)` is the row-major order instead
 * and differs by a column permutation). With this convention
 *
 *   Mat_n(C ×_0 U_0 ⋯ ×_{d-1} U_{d-1}) = U_n · Mat_n(C) · (U_{d-1} ⊗ ⋯ ⊗ U_{n+1} ⊗ U_{n-1} ⊗ ⋯ ⊗ U_0)ᵀ
 *
 * (Kronecker factors in DECREASING mode order). Singular values and left singular vectors of an
 * unfolding do not depend on the column order.
 */
import { shapeStr, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFinite, checkTensor } from '../linalg/matrix.js';
import { checkMode, checkTensorArg } from './checks.js';

/** Sizes of the view [P, I, Q] of a row-major tensor around `mode`. */
export function modeView(shape: readonly number[], mode: number): { P: number; I: number; Q: number } {
  let P = 1;
  let Q = 1;
  for (let k = 0; k < mode; k++) P *= shape[k];
  for (let k = mode + 1; k < shape.length; k++) Q *= shape[k];
  return { P, I: shape[mode], Q };
}

/** For each row-major linear index of `dims`, the column-major linear index of the same multi-index. */
function colMajorOf(dims: readonly number[]): Int32Array {
  const total = sizeOf(dims);
  const out = new Int32Array(total);
  const r = dims.length;
  // Stryker disable next-line ArrayDeclaration: every entry is assigned by index below; a JS array grows to fit
  const cm = new Array<number>(r);
  let acc = 1;
  for (let k = 0; k < r; k++) {
    cm[k] = acc;
    acc *= dims[k];
  }
  const idx = new Array<number>(r).fill(0);
  let c = 0;
  for (let f = 0; f < total; f++) {
    out[f] = c;
    // increment the row-major odometer (last index fastest) and keep c in step
    for (let k = r - 1; k >= 0; k--) {
      idx[k]++;
      c += cm[k];
      if (idx[k] < dims[k]) break;
      c -= cm[k] * dims[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** Kolda–Bader column index for every (p, q) of the [P, I, Q] view: col = pre[p] + P·post[q]. */
function kbMaps(shape: readonly number[], mode: number): { pre: Int32Array; post: Int32Array } {
  return { pre: colMajorOf(shape.slice(0, mode)), post: colMajorOf(shape.slice(mode + 1)) };
}

/** Mode-n unfolding of a row-major buffer (Kolda–Bader column order), I_n × (N / I_n) row-major. */
export function unfoldRaw(data: ArrayLike<number>, shape: readonly number[], mode: number): Float64Array {
  const { P, I, Q } = modeView(shape, mode);
  const { pre, post } = kbMaps(shape, mode);
  const cols = P * Q;
  const out = new Float64Array(I * cols);
  for (let p = 0; p < P; p++) {
    const cp = pre[p];
    for (let i = 0; i < I; i++) {
      const src = (p * I + i) * Q;
      const dst = i * cols + cp;
      for (let q = 0; q < Q; q++) out[dst + P * post[q]] = data[src + q];
    }
  }
  return out;
}

/** Inverse of unfoldRaw. */
export function foldRaw(m: ArrayLike<number>, mode: number, shape: readonly number[]): Float64Array {
  const { P, I, Q } = modeView(shape, mode);
  const { pre, post } = kbMaps(shape, mode);
  const cols = P * Q;
  const out = new Float64Array(P * I * Q);
  for (let p = 0; p < P; p++) {
    const cp = pre[p];
    for (let i = 0; i < I; i++) {
      const dst = (p * I + i) * Q;
      const src = i * cols + cp;
      for (let q = 0; q < Q; q++) out[dst + q] = m[src + P * post[q]];
    }
  }
  return out;
}

/**
 * Mode-n unfolding Mat_n(T): a float64 tensor [I_n, Π_{k≠n} I_k] in the Kolda–Bader column order
 * (see the module comment). `mode` may be negative (counted from the end).
 */
export function unfold(t: Tensor, mode: number): Tensor {
  const shape = checkTensorArg(t, 'unfold', 't');
  const n = checkMode(mode, shape.length, 'unfold');
  const I = shape[n];
  const rest = I === 0 ? sizeOf(shape.filter((_, k) => k !== n)) : t.data.length / I;
  return Tensor.fromData(unfoldRaw(t.data, shape, n), [I, rest]);
}

/** Folds a mode-n unfolding back into a tensor of `shape` (the inverse of `unfold`). */
export function fold(m: Tensor, mode: number, shape: readonly number[]): Tensor {
  checkTensor(m, 'fold', 'm');
  if (!Array.isArray(shape) || shape.length < 1 || shape.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 0)) {
    throw new Error(`fold: shape must be a non-empty array of non-negative integers, got ${Array.isArray(shape) ? shapeStr(shape) : String(shape)}`);
  }
  const n = checkMode(mode, shape.length, 'fold');
  const rows = shape[n];
  const cols = sizeOf(shape) / (rows || 1);
  const expected = [rows, rows === 0 ? sizeOf(shape.filter((_, k) => k !== n)) : cols];
  if (m.shape.length !== 2 || m.shape[0] !== expected[0] || m.shape[1] !== expected[1]) {
    throw new Error(`fold: m must be 2-D ${shapeStr(expected)} (the mode-${n} unfolding of shape ${shapeStr(shape)}), got ${shapeStr(m.shape)}`);
  }
  checkFinite(m.data, 'fold', 'm', m.shape);
  return Tensor.fromData(foldRaw(m.data, n, shape), shape);
}
