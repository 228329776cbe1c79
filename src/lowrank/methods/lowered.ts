/**
 * Weights as matrices and their low-rank approximations, in float64 on plain buffers: the
 * reshapings of a conv kernel used by TRP (channel-wise out × in·kh·kw, spatial-wise
 * in·kh × out·kw), the energy rule, and truncated SVDs.
 */
import { gemm64, sliceCols, transpose } from '../../linalg/matrix.js';
import { svdRaw } from '../../linalg/svd.js';
import { GRAM_SVD_FLOOR, GRAM_SVD_MIN_SIDE, leftSvdByGram } from '../../linalg/svd-gram.js';

/** How a conv kernel [out, in, kh, kw] is lowered to a matrix. */
export type Reshaping = 'channel' | 'spatial';

export interface Lowered {
  data: Float64Array;
  rows: number;
  cols: number;
}

function checkKernelShape(shape: readonly number[], fn: string): void {
  if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 4) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`${fn}: shape must be a weight shape [out, in] or [out, in, kh, kw], got [${String(shape)}]`);
  }
}

/** rows × cols of lowerWeight's matrix for a weight shape. */
export function loweredShape(shape: readonly number[], reshaping: Reshaping = 'channel'): { rows: number; cols: number } {
  checkKernelShape(shape, 'loweredShape');
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 2 || reshaping === 'channel') return { rows: shape[0], cols: size / shape[0] };
  return { rows: shape[1] * shape[2], cols: shape[0] * shape[3] };
}

/**
 * The matrix of a weight: a Linear weight [out, in] as it is; a conv kernel channel-wise as
 * out × (in·kh·kw) (row o, column (i, h, w)), or spatial-wise as (in·kh) × (out·kw) (row (i, h),
 * column (o, w)): the reshaping whose rank-r factors are a kh×1 conv to r channels followed by a
 * 1×kw conv.
 */
export function lowerWeight(w: ArrayLike<number>, shape: readonly number[], reshaping: Reshaping = 'channel'): Lowered {
  checkKernelShape(shape, 'lowerWeight');
  const size = shape.reduce((a, b) => a * b, 1);
  if (w.length !== size) throw new Error(`lowerWeight: w must hold ${size} values for shape [${shape.join(', ')}], got ${w.length}`);
  if (reshaping !== 'channel' && reshaping !== 'spatial') throw new Error(`lowerWeight: reshaping must be 'channel' or 'spatial', got ${String(reshaping)}`);
  if (shape.length === 2 || reshaping === 'channel') return { data: Float64Array.from(w), rows: shape[0], cols: size / shape[0] };
  const [o, i, kh, kw] = shape;
  const data = new Float64Array(size);
  const cols = o * kw;
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let h = 0; h < kh; h++) for (let x = 0; x < kw; x++) data[(b * kh + h) * cols + a * kw + x] = w[((a * i + b) * kh + h) * kw + x];
  return { data, rows: i * kh, cols };
}

/** The inverse of lowerWeight: the matrix back in the weight's own layout. */
export function raiseWeight(m: Float64Array, shape: readonly number[], reshaping: Reshaping = 'channel'): Float64Array {
  checkKernelShape(shape, 'raiseWeight');
  const size = shape.reduce((a, b) => a * b, 1);
  if (m.length !== size) throw new Error(`raiseWeight: m must hold ${size} values for shape [${shape.join(', ')}], got ${m.length}`);
  if (shape.length === 2 || reshaping === 'channel') return m.slice();
  const [o, i, kh, kw] = shape;
  const out = new Float64Array(size);
  const cols = o * kw;
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let h = 0; h < kh; h++) for (let x = 0; x < kw; x++) out[((a * i + b) * kh + h) * kw + x] = m[(b * kh + h) * cols + a * kw + x];
  return out;
}

/**
 * The energy rank: the smallest k ≥ 1 with Σ_{j<k} σ_j² ≥ e·Σ σ² (TRP's rule). A zero spectrum
 * has rank 1.
 */
export function energyRank(sigma: ArrayLike<number>, energy: number): number {
  if (!(energy > 0 && energy <= 1)) throw new Error(`energyRank: energy must be in (0, 1], got ${energy}`);
  if (sigma.length === 0) throw new Error('energyRank: sigma must not be empty');
  // Tails Σ_{j≥k} σ_j², summed from the smallest value up so that small tails are exact.
  const n = sigma.length;
  const tail = new Float64Array(n + 1);
  for (let k = n - 1; k >= 0; k--) tail[k] = tail[k + 1] + sigma[k] * sigma[k];
  const total = tail[0];
  if (total === 0) return 1;
  // Σ_{j<k} σ_j² ≥ e·total  ⇔  tail_k ≤ (1 − e)·total.
  for (let k = 1; k <= n; k++) if (tail[k] <= (1 - energy) * total) return k;
  return n;
}

export interface Truncated {
  /** Kept rank. */
  rank: number;
  /** U_k (rows×k), σ_1..σ_k, V_k (cols×k), row-major. */
  u: Float64Array;
  s: Float64Array;
  v: Float64Array;
  /** U_k Σ_k V_kᵀ, rows×cols. */
  approx: Float64Array;
  /** All singular values of the matrix. */
  spectrum: Float64Array;
}

function resolveRank(spectrum: Float64Array, rank: number | { energy: number }): number {
  const k = typeof rank === 'number' ? rank : energyRank(spectrum, rank.energy);
  if (!Number.isInteger(k) || k < 1 || k > spectrum.length) throw new Error(`truncatedSvd: rank must be an integer in [1, ${spectrum.length}], got ${k}`);
  return k;
}

/**
 * Truncated SVD of a rows×cols matrix at a fixed rank, or at the energy rank when `rank` is
 * { energy }. From GRAM_SVD_MIN_SIDE on (fc1 of LeNet-5 is 500×800) the spectrum and the kept
 * vectors of the smaller side come from the Gram matrix (linalg/svd-gram.ts), the other side's from
 * one GEMM: the approximation is then the exact projection U_kU_kᵀW (or WV_kV_kᵀ), and singular
 * values below GRAM_SVD_FLOOR·σ₁ count as zero (their vectors as zero columns).
 */
export function truncatedSvd(m: Lowered, rank: number | { energy: number }): Truncated {
  const { data, rows, cols } = m;
  if (data.length !== rows * cols) throw new Error(`truncatedSvd: data must hold rows·cols = ${rows * cols} values, got ${data.length}`);
  if (Math.min(rows, cols) >= GRAM_SVD_MIN_SIDE) return truncatedByGram(data, rows, cols, rank);
  const svd = svdRaw(data, rows, cols, { wantU: true, wantV: true });
  const k = resolveRank(svd.s, rank);
  const u = sliceCols(svd.u as Float64Array, rows, svd.uCols, 0, k);
  const v = sliceCols(svd.v as Float64Array, cols, svd.vCols, 0, k);
  const s = svd.s.slice(0, k);
  const approx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = approx.subarray(r * cols, (r + 1) * cols);
    for (let j = 0; j < k; j++) {
      const a = u[r * k + j] * s[j];
      if (a === 0) continue;
      for (let c = 0; c < cols; c++) row[c] += a * v[c * k + j];
    }
  }
  return { rank: k, u, s, v, approx, spectrum: svd.s };
}

function truncatedByGram(data: Float64Array, rows: number, cols: number, rank: number | { energy: number }): Truncated {
  // A = W when W is wide, Wᵀ when tall, so that the Gram matrix A·Aᵀ is the smaller one.
  const wide = rows <= cols;
  const [m, n] = wide ? [rows, cols] : [cols, rows];
  const a = wide ? data : transpose(data, rows, cols);
  const { u: all, s: spectrum, uCols } = leftSvdByGram(a, m, n);
  const k = resolveRank(spectrum, rank);
  const left = sliceCols(all, m, uCols, 0, k);
  // B = L_kᵀ·A = Σ_k·R_kᵀ gives the other side's vectors and the projection L_k·B.
  const b = gemm64(true, false, k, n, m, left, 0, k, a, 0, n);
  const s = spectrum.slice(0, k);
  const right = new Float64Array(n * k);
  for (let j = 0; j < k; j++) {
    if (!(s[j] > GRAM_SVD_FLOOR * spectrum[0])) {
      s[j] = 0;
      continue;
    }
    for (let i = 0; i < n; i++) right[i * k + j] = b[j * n + i] / s[j];
  }
  const projected = gemm64(false, false, m, n, k, left, 0, k, b, 0, n);
  return {
    rank: k,
    s,
    spectrum,
    u: wide ? left : right,
    v: wide ? right : left,
    approx: wide ? projected : transpose(projected, m, n),
  };
}

/** U_k V_kᵀ (rows×cols): the subgradient of the nuclear norm at U_k Σ_k V_kᵀ (σ_k > 0). */
export function nuclearSubgradient(t: Truncated, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  const k = t.rank;
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < k; j++) {
      if (t.s[j] === 0) continue;
      const a = t.u[r * k + j];
      for (let c = 0; c < cols; c++) out[r * cols + c] += a * t.v[c * k + j];
    }
  return out;
}
