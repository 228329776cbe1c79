/**
 * Internal dense-matrix helpers for linalg/ and tucker/: plain row-major Float64Array matrices,
 * no Tensor ops and no autograd. Not part of the public `linalg` namespace, but stable enough for
 * other numerical code of the project (lowrank/) to import directly.
 *
 * Conventions: a matrix is `(data, rows, cols)` with element (i, j) at `data[i * cols + j]`.
 */
import { Tensor } from '../tensor/tensor.js';
import { shapeStr } from '../tensor/shape.js';
import { allocF64, gemmF64 as gemm } from '../backend/linalg-kernels.js';

/**
 * Products with at least this many multiply-adds go to the CPU backend's GEMM (the WebAssembly
 * f64x2 kernel, threaded when large); smaller ones stay in the plain loops below, where packing
 * would not pay. With the f64x2 kernel the GEMM wins from small sizes on: the integrator's
 * 500×20·20×20 and 40×40·40×40 products ran 5–8× faster than the plain loops (measured on this
 * project's 2-core machine), so the threshold is 16³.
 */
export const BLOCKED_GEMM_MACS = 1 << 12;

/** C (m×n, fresh) = op(A)·op(B) on the blocked GEMM; lda/ldb as stored (row-major). */
export function gemm64(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  aOffset: number,
  lda: number,
  b: Float64Array,
  bOffset: number,
  ldb: number,
  c: Float64Array = allocF64(m * n),
  cOffset = 0,
  ldc = n,
): Float64Array {
  if (m > 0 && n > 0) gemm({ transA, transB, m, n, k, alpha: 1, a, aOffset, lda, b, bOffset, ldb, beta: 0, c, cOffset, ldc });
  return c;
}

/** Unit round-off of float64 (2^-52). */
export const EPS = 2.220446049250313e-16;

/** A float64 copy of a tensor's buffer (always a fresh array the caller may overwrite). */
export function toF64(t: Tensor): Float64Array {
  return new Float64Array(t.data);
}

/** Throws `op: arg must hold finite values, got NaN at index 3 (shape [2, 2])` on NaN or ±Infinity. */
export function checkFinite(data: ArrayLike<number>, op: string, arg: string, shape?: readonly number[]): void {
  // A typed array is checked by one branch-free pass first: Σ x·0 is 0 exactly when every x is
  // finite (±Infinity·0 and NaN give NaN). Only a failed pass looks for the index.
  if ((data instanceof Float64Array || data instanceof Float32Array) && zeroTimesSum(data) === 0) return;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      throw new Error(`${op}: ${arg} must hold finite values, got ${v} at flat index ${i}${shape ? ` (shape ${shapeStr(shape)})` : ''}`);
    }
  }
}

/** Checks that `t` is a Tensor. */
export function checkTensor(t: unknown, op: string, arg: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) {
    const got = t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t;
    throw new Error(`${op}: ${arg} must be a Tensor, got ${got}`);
  }
}

/** Checks that `t` is a 2-D tensor with finite entries and returns [rows, cols]. */
export function check2D(t: unknown, op: string, arg = 'a'): [number, number] {
  checkTensor(t, op, arg);
  if (t.shape.length !== 2) throw new Error(`${op}: ${arg} must be 2-D [rows, cols], got shape ${shapeStr(t.shape)}`);
  checkFinite(t.data, op, arg, t.shape);
  return [t.shape[0], t.shape[1]];
}

/** A float64 tensor over `data` (no copy). */
export function f64Tensor(data: Float64Array, shape: readonly number[]): Tensor {
  return Tensor.fromData(data, shape);
}

/** C = A·B for A (m×k) and B (k×n). */
export function matmul(a: Float64Array, m: number, k: number, b: Float64Array, n: number): Float64Array {
  if (m * n * k >= BLOCKED_GEMM_MACS) return gemm64(false, false, m, n, k, a, 0, k, b, 0, n);
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const co = i * n;
    const ao = i * k;
    for (let p = 0; p < k; p++) {
      const v = a[ao + p];
      if (v === 0) continue;
      const bo = p * n;
      for (let j = 0; j < n; j++) c[co + j] += v * b[bo + j];
    }
  }
  return c;
}

/** C = Aᵀ·B for A (k×m) and B (k×n): an m×n result. */
export function matmulTA(a: Float64Array, k: number, m: number, b: Float64Array, n: number): Float64Array {
  if (m * n * k >= BLOCKED_GEMM_MACS) return gemm64(true, false, m, n, k, a, 0, m, b, 0, n);
  const c = new Float64Array(m * n);
  for (let p = 0; p < k; p++) {
    const ao = p * m;
    const bo = p * n;
    for (let i = 0; i < m; i++) {
      const v = a[ao + i];
      if (v === 0) continue;
      const co = i * n;
      for (let j = 0; j < n; j++) c[co + j] += v * b[bo + j];
    }
  }
  return c;
}

/** C = A·Bᵀ for A (m×k) and B (n×k): an m×n result (row-by-row dot products). */
export function matmulTB(a: Float64Array, m: number, k: number, b: Float64Array, n: number): Float64Array {
  if (m * n * k >= BLOCKED_GEMM_MACS) return gemm64(false, true, m, n, k, a, 0, k, b, 0, k);
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ao = i * k;
    for (let j = 0; j < n; j++) {
      const bo = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ao + p] * b[bo + p];
      c[i * n + j] = s;
    }
  }
  return c;
}

/** The transpose of an m×n matrix (an n×m result). */
export function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  const B = 32;
  for (let i0 = 0; i0 < m; i0 += B) {
    const i1 = Math.min(m, i0 + B);
    for (let j0 = 0; j0 < n; j0 += B) {
      const j1 = Math.min(n, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) t[j * m + i] = a[i * n + j];
    }
  }
  return t;
}

/** Columns c0..c1-1 of an m×n matrix. */
export function sliceCols(a: Float64Array, m: number, n: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array(m * w);
  for (let i = 0; i < m; i++) for (let j = 0; j < w; j++) out[i * w + j] = a[i * n + c0 + j];
  return out;
}

/** The identity of size n. */
export function eye(n: number): Float64Array {
  const e = new Float64Array(n * n);
  for (let i = 0; i < n; i++) e[i * n + i] = 1;
  return e;
}

/**
 * Frobenius norm of a buffer, safe from overflow/underflow: the entries are scaled by a power of
 * two near the largest (exact), and only when that largest lies outside [2^-480, 2^480], where
 * the plain sum of squares could over- or underflow (an entry whose square underflows inside that
 * range is under 2^-57 of the largest: below rounding). In range, the four-chain rowDot of the
 * buffer with itself, no division per entry: it is read on every integrator step.
 */
export function frob(a: ArrayLike<number>): number {
  const big = maxAbs(a);
  if (big === 0 || !Number.isFinite(big)) return big;
  const n = a.length;
  if (big > 2 ** -480 && big < 2 ** 480 && a instanceof Float64Array) return Math.sqrt(rowDot(a, 0, 0, n));
  const k = 1 / pow2ScaleOf(big);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i] * k;
    s += v * v;
  }
  return Math.sqrt(s) / k;
}

/**
 * Σ a[i]·0 over four partial sums: 0 for finite entries, NaN otherwise. Four independent chains
 * (one would wait on each add's latency): 0.37 against 1.3 ms for the loop of checkFinite over a
 * 256×256×3×3 tensor, which hosvd and every linalg entry point scan.
 */
function zeroTimesSum(a: Float64Array | Float32Array): number {
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i] * 0;
    s1 += a[i + 1] * 0;
    s2 += a[i + 2] * 0;
    s3 += a[i + 3] * 0;
  }
  for (; i < n; i++) s0 += a[i] * 0;
  return s0 + s1 + (s2 + s3);
}

/**
 * Σ a[po+i]·a[qo+i] for i < n with four partial sums (one accumulator would wait on each add's
 * latency): the dot product of two stretches of one buffer (rows of a Jacobi SVD, columns of a
 * compact QR).
 */
export function rowDot(a: Float64Array, po: number, qo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[po + i] * a[qo + i];
    s1 += a[po + i + 1] * a[qo + i + 1];
    s2 += a[po + i + 2] * a[qo + i + 2];
    s3 += a[po + i + 3] * a[qo + i + 3];
  }
  for (; i < n; i++) s0 += a[po + i] * a[qo + i];
  return s0 + s1 + (s2 + s3);
}

/** Largest absolute entry (NaN entries are passed over), over four running maxima. */
export function maxAbs(a: ArrayLike<number>): number {
  const n = a.length;
  let m0 = 0;
  let m1 = 0;
  let m2 = 0;
  let m3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const v0 = Math.abs(a[i]);
    const v1 = Math.abs(a[i + 1]);
    const v2 = Math.abs(a[i + 2]);
    const v3 = Math.abs(a[i + 3]);
    if (v0 > m0) m0 = v0;
    if (v1 > m1) m1 = v1;
    if (v2 > m2) m2 = v2;
    if (v3 > m3) m3 = v3;
  }
  for (; i < n; i++) {
    const v = Math.abs(a[i]);
    if (v > m0) m0 = v;
  }
  return Math.max(m0, m1, m2, m3);
}

/**
 * A power of two close to max|a| (1 for a zero buffer): dividing by it is exact, so scaling
 * a matrix to unit size before a factorisation adds no rounding error.
 */
export function pow2Scale(a: ArrayLike<number>): number {
  return pow2ScaleOf(maxAbs(a));
}

/** pow2Scale for a matrix whose largest |entry| the caller already has. */
export function pow2ScaleOf(m: number): number {
  if (m === 0) return 1;
  let e = Math.round(Math.log2(m));
  // keep 2^e and 2^-e representable
  e = Math.max(-1000, Math.min(1000, e));
  return Math.pow(2, e);
}

/**
 * Completes the columns of the row-major m×c matrix `q` that are not flagged in `have` so that all
 * c columns are orthonormal, assuming the flagged ones already are. Deterministic: each new column
 * is the standard basis vector e_i with the largest residual against the current columns (lowest i
 * on ties), orthogonalised twice by Gram–Schmidt and normalised. Needs c ≤ m.
 */
export function completeOrthonormal(q: Float64Array, m: number, c: number, have: boolean[]): void {
  const cols: number[] = [];
  for (let j = 0; j < c; j++) if (have[j]) cols.push(j);
  const rowNorm2 = new Float64Array(m);
  for (const j of cols) for (let i = 0; i < m; i++) rowNorm2[i] += q[i * c + j] * q[i * c + j];
  const v = new Float64Array(m);
  for (let j = 0; j < c; j++) {
    if (have[j]) continue;
    let best = -1;
    let bestRes = -Infinity;
    for (let i = 0; i < m; i++) {
      const res = 1 - rowNorm2[i];
      if (res > bestRes + 1e-12) {
        bestRes = res;
        best = i;
      }
    }
    v.fill(0);
    v[best] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (const l of cols) {
        let d = 0;
        for (let i = 0; i < m; i++) d += q[i * c + l] * v[i];
        if (d !== 0) for (let i = 0; i < m; i++) v[i] -= d * q[i * c + l];
      }
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += v[i] * v[i];
    nrm = Math.sqrt(nrm);
    if (!(nrm > 0)) throw new Error(`completeOrthonormal: internal error, no residual left (m=${m}, c=${c})`);
    for (let i = 0; i < m; i++) {
      const x = v[i] / nrm;
      q[i * c + j] = x;
      rowNorm2[i] += x * x;
    }
    cols.push(j);
    have[j] = true;
  }
}

/**
 * Flips signs so that, in each column of the row-major m×c matrix `u`, the entry of largest
 * absolute value (the first such on ties) is positive; `onFlip(j)` is called for each flipped
 * column so that paired factors (V, R) can follow.
 */
export function fixColumnSigns(u: Float64Array, m: number, c: number, onFlip?: (j: number) => void): void {
  // Row by row (the layout's order; a column walk strides a page per entry at m, c ≥ 512): the
  // first entry of largest |.| per column, then the flips.
  const best = new Float64Array(c);
  const sign = new Int8Array(c);
  for (let i = 0; i < m; i++) {
    const row = i * c;
    for (let j = 0; j < c; j++) {
      const x = u[row + j];
      const v = Math.abs(x);
      if (v > best[j]) {
        best[j] = v;
        sign[j] = x < 0 ? -1 : 1;
      }
    }
  }
  let any = false;
  for (let j = 0; j < c; j++) if (sign[j] < 0) any = true;
  if (!any) return;
  for (let i = 0; i < m; i++) {
    const row = i * c;
    for (let j = 0; j < c; j++) if (sign[j] < 0) u[row + j] = -u[row + j];
  }
  if (onFlip) for (let j = 0; j < c; j++) if (sign[j] < 0) onFlip(j);
}
