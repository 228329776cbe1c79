/**
 * Linear systems: `solve` (square, LU with partial pivoting) and `lstsq` (minimum-norm least
 * squares through the SVD), plus `orth` (orthonormal basis of the range with numerical-rank
 * detection) and `norm`.
 */
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { EPS, check2D, checkFinite, checkTensor, f64Tensor, frob, matmul, maxAbs } from './matrix.js';
import { svdRaw } from './svd.js';

/** b as a row-major n×k matrix: a 1-D b of length n is one column. */
function rhs(b: Tensor, rows: number, op: string): { data: Float64Array; k: number; vector: boolean } {
  checkTensor(b, op, 'b');
  checkFinite(b.data, op, 'b', b.shape);
  if (b.shape.length === 1) {
    if (b.shape[0] !== rows) throw new Error(`${op}: b must have ${rows} rows (the rows of a), got shape ${shapeStr(b.shape)}`);
    return { data: new Float64Array(b.data), k: 1, vector: true };
  }
  if (b.shape.length === 2) {
    if (b.shape[0] !== rows) throw new Error(`${op}: b must have ${rows} rows (the rows of a), got shape ${shapeStr(b.shape)}`);
    return { data: new Float64Array(b.data), k: b.shape[1], vector: false };
  }
  throw new Error(`${op}: b must be 1-D [${rows}] or 2-D [${rows}, k], got shape ${shapeStr(b.shape)}`);
}

/**
 * Solves `A·x = b` for a square non-singular A by LU with partial pivoting (float64). b is 1-D
 * (length n) or 2-D (n×k); x has b's shape. Throws when A is singular to working precision
 * (a pivot |u_jj| ≤ n·ε·max|A|); use `lstsq` for singular or non-square systems.
 */
export function solve(a: Tensor, b: Tensor): Tensor {
  const [m, n] = check2D(a, 'solve', 'a');
  if (m !== n) throw new Error(`solve: a must be square, got shape [${m}, ${n}] (use lstsq for non-square systems)`);
  const { data: x, k, vector } = rhs(b, n, 'solve');
  const lu = new Float64Array(a.data);
  const tiny = n * EPS * maxAbs(lu);
  for (let c = 0; c < n; c++) {
    let p = c;
    let best = Math.abs(lu[c * n + c]);
    for (let i = c + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + c]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (best <= tiny || best === 0) {
      throw new Error(`solve: a is singular to working precision (pivot ${c} is ${best}, threshold n·ε·max|a| = ${tiny}); use lstsq`);
    }
    if (p !== c) {
      for (let j = 0; j < n; j++) {
        const t = lu[c * n + j];
        lu[c * n + j] = lu[p * n + j];
        lu[p * n + j] = t;
      }
      for (let j = 0; j < k; j++) {
        const t = x[c * k + j];
        x[c * k + j] = x[p * k + j];
        x[p * k + j] = t;
      }
    }
    const piv = lu[c * n + c];
    for (let i = c + 1; i < n; i++) {
      const f = lu[i * n + c] / piv;
      if (f === 0) continue;
      lu[i * n + c] = f;
      for (let j = c + 1; j < n; j++) lu[i * n + j] -= f * lu[c * n + j];
      for (let j = 0; j < k; j++) x[i * k + j] -= f * x[c * k + j];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const piv = lu[i * n + i];
    for (let j = 0; j < k; j++) {
      let s = x[i * k + j];
      for (let l = i + 1; l < n; l++) s -= lu[i * n + l] * x[l * k + j];
      x[i * k + j] = s / piv;
    }
  }
  return f64Tensor(x, vector ? [n] : [n, k]);
}

export interface LstsqOptions {
  /** Singular values σ ≤ rcond·σ_max are treated as zero. Default max(m, n)·ε (numpy's). */
  rcond?: number;
}

export interface LstsqResult {
  /** The minimum-norm minimiser of ‖A·x − b‖, shape [n] or [n, k] like b. */
  x: Tensor;
  /** ‖b − A·x‖² per column of b (always given, unlike numpy), shape [1] or [k]. */
  residuals: Tensor;
  /** The numerical rank used. */
  rank: number;
  /** The singular values of A, descending. */
  s: Tensor;
}

/** Minimum-norm least squares `argmin ‖A·x − b‖` by the SVD, for any shape and rank of A. */
export function lstsq(a: Tensor, b: Tensor, options: LstsqOptions = {}): LstsqResult {
  const [m, n] = check2D(a, 'lstsq', 'a');
  const { data: bd, k, vector } = rhs(b, m, 'lstsq');
  const rcond = options.rcond ?? Math.max(m, n) * EPS;
  if (typeof rcond !== 'number' || !(rcond >= 0) || !Number.isFinite(rcond)) {
    throw new Error(`lstsq: options.rcond must be a finite number ≥ 0, got ${rcond}`);
  }
  const ad = new Float64Array(a.data);
  const { u, s, v, uCols, vCols } = svdRaw(ad, m, n);
  const kk = Math.min(m, n);
  const cut = kk > 0 ? rcond * s[0] : 0;
  let rank = 0;
  while (rank < kk && s[rank] > cut && s[rank] > 0) rank++;
  // x = V_r Σ_r⁻¹ U_rᵀ b
  const c = new Float64Array(rank * k);
  for (let i = 0; i < rank; i++) {
    for (let l = 0; l < m; l++) {
      const ul = u![l * uCols + i];
      if (ul === 0) continue;
      for (let j = 0; j < k; j++) c[i * k + j] += ul * bd[l * k + j];
    }
    for (let j = 0; j < k; j++) c[i * k + j] /= s[i];
  }
  const x = new Float64Array(n * k);
  for (let l = 0; l < n; l++)
    for (let i = 0; i < rank; i++) {
      const vl = v![l * vCols + i];
      if (vl === 0) continue;
      for (let j = 0; j < k; j++) x[l * k + j] += vl * c[i * k + j];
    }
  const ax = matmul(ad, m, n, x, k);
  const res = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const col = new Float64Array(m);
    for (let l = 0; l < m; l++) col[l] = bd[l * k + j] - ax[l * k + j];
    const r = frob(col);
    res[j] = r * r;
  }
  return { x: f64Tensor(x, vector ? [n] : [n, k]), residuals: f64Tensor(res, [k]), rank, s: f64Tensor(s, [kk]) };
}

export interface OrthOptions {
  /** Relative rank tolerance: columns with σ > rtol·σ_max are kept. Default max(m, n)·ε (scipy's). */
  rtol?: number;
}

/**
 * An orthonormal basis of the range of A (m×r, r = numerical rank: the number of σ > rtol·σ_max),
 * the leading left singular vectors of A. A zero matrix gives an m×0 tensor. For a basis of fixed
 * width whatever the rank, use `qr(a).q` instead.
 */
export function orth(a: Tensor, options: OrthOptions = {}): Tensor {
  const [m, n] = check2D(a, 'orth', 'a');
  const rtol = options.rtol ?? Math.max(m, n) * EPS;
  if (typeof rtol !== 'number' || !(rtol >= 0) || !Number.isFinite(rtol)) {
    throw new Error(`orth: options.rtol must be a finite number ≥ 0, got ${rtol}`);
  }
  const { u, s, uCols } = svdRaw(new Float64Array(a.data), m, n, { wantV: false });
  const k = Math.min(m, n);
  const cut = k > 0 ? rtol * s[0] : 0;
  let r = 0;
  while (r < k && s[r] > cut && s[r] > 0) r++;
  const out = new Float64Array(m * r);
  for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) out[i * r + j] = u![i * uCols + j];
  return f64Tensor(out, [m, r]);
}

/** Matrix norms: 'fro' (any shape, the 2-norm of all entries; the default), 2 (spectral, σ_max) and 'nuc' (Σσ), 2-D only. */
export function norm(a: Tensor, ord: 'fro' | 2 | 'nuc' = 'fro'): number {
  checkTensor(a, 'norm', 'a');
  if (ord === 'fro') {
    checkFinite(a.data, 'norm', 'a', a.shape);
    return frob(a.data);
  }
  if (ord !== 2 && ord !== 'nuc') throw new Error(`norm: ord must be 'fro', 2 or 'nuc', got ${String(ord)}`);
  const [m, n] = check2D(a, 'norm', 'a');
  const { s } = svdRaw(new Float64Array(a.data), m, n, { wantU: false, wantV: false });
  if (ord === 2) return s.length > 0 ? s[0] : 0;
  let t = 0;
  for (let i = s.length - 1; i >= 0; i--) t += s[i];
  return t;
}
