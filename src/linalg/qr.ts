/**
 * Householder QR, thin ("reduced") and full ("complete"), with optional column pivoting
 * (Businger–Golub, with LAPACK dlaqp2's safe norm downdating).
 *
 * Sign convention: the diagonal of R is non-negative (rows of R and columns of Q are flipped
 * together), so for a matrix of full column rank the factorisation is unique. Extra columns of a
 * complete Q come from the Householder product and are deterministic.
 */
import type { Tensor } from '../tensor/tensor.js';
import { allocF64 } from '../backend/linalg-kernels.js';
import { EPS, check2D, f64Tensor, pow2Scale } from './matrix.js';
import { QR_BLOCK, applyQBlocked, householderBlocked } from './qr-blocked.js';
import { householderPivotedBlocked } from './qr-pivoted.js';
import { colNorm, compactCopy, householderStep, reflectColumn, swapPivotColumns } from './reflector.js';

/**
 * From this many reflectors on, the factorisation (qr-blocked.ts; with pivoting, qr-pivoted.ts) and
 * the application of Q go blocked.
 */
export const BLOCKED_QR_MIN = 2 * QR_BLOCK;

/**
 * From this many reflectors on, applyQ goes blocked (two GEMMs per panel). Lower than the
 * factorisation's threshold: the application has no pivoting or panel factorisation to pay for,
 * and the unblocked loop runs at a third of the speed from one panel on (CPU time, one thread:
 * Q of a 48×48 QR applied to 48 vectors 374 → 118 µs, 64×64: 706 → 128 µs; at 24 the two tie).
 * It is most of the fixed cost of a small SVD or eigh (formed Q of the tridiagonal reduction).
 */
export const BLOCKED_APPLY_MIN = QR_BLOCK;

/**
 * A factored QR in compact Householder form. `at` is column-major (n columns of length m):
 * column j holds R[0..min(j, k-1), j] on and above the diagonal, and the Householder vector of
 * step j (implicit leading 1) below it. `perm[i]` is the original index of column i, so that
 * A[:, perm] = Q·R. R rows still carry the raw Householder signs (see `qrRaw` for the fixed ones).
 */
export interface HouseholderQR {
  at: Float64Array;
  tau: Float64Array;
  perm: Int32Array;
  m: number;
  n: number;
  k: number;
}

/** Householder QR of the row-major m×n matrix `a` (not modified). */
export function householder(a: Float64Array, m: number, n: number, pivot: boolean): HouseholderQR {
  if (Math.min(m, n) >= BLOCKED_QR_MIN) return pivot ? householderPivotedBlocked(a, m, n) : householderBlocked(a, m, n);
  return householderUnblocked(a, m, n, pivot);
}

/** The reference loops: one reflector at a time, with optional column pivoting. */
export function householderUnblocked(a: Float64Array, m: number, n: number, pivot: boolean): HouseholderQR {
  const { k, at, tau, perm } = compactCopy(a, m, n);
  const vn1 = new Float64Array(n);
  const vn2 = new Float64Array(n);
  const tol3z = Math.sqrt(EPS);
  if (pivot) {
    for (let j = 0; j < n; j++) {
      vn1[j] = colNorm(at, j * m, m);
      vn2[j] = vn1[j];
    }
  }
  for (let s = 0; s < k; s++) {
    if (pivot) {
      let p = s;
      for (let j = s + 1; j < n; j++) if (vn1[j] > vn1[p]) p = j;
      if (p !== s) swapPivotColumns(at, m, p, s, perm, vn1, vn2);
    }
    tau[s] = householderStep(at, m, s, n);
    if (pivot) {
      // Stryker disable next-line ArithmeticOperator: starting at s − 1 also downdates the norms of columns already factorised, which are never read again
      for (let j = s + 1; j < n; j++) {
        if (vn1[j] === 0) continue;
        let temp = Math.abs(at[j * m + s]) / vn1[j];
        // Stryker disable next-line MethodExpression: min(0, ·) makes temp ≤ 0, so every norm is recomputed exactly instead of downdated
        temp = Math.max(0, 1 - temp * temp);
        const ratio = vn1[j] / vn2[j];
        if (temp * ratio * ratio <= tol3z) {
          vn1[j] = colNorm(at, j * m + s + 1, m - s - 1);
          vn2[j] = vn1[j];
        } else {
          vn1[j] *= Math.sqrt(temp);
        }
      }
    }
  }
  return { at, tau, perm, m, n, k };
}

/**
 * Applies Q = H_0 H_1 … H_{k-1} to `c` vectors of length m stored contiguously in `ct`
 * (column-major: vector j at ct[j*m .. j*m+m)), in place. With `identityInit` the vectors are
 * assumed to start as e_0..e_{c-1}, which lets step s skip the vectors j < s.
 */
export function applyQ(h: HouseholderQR, ct: Float64Array, c: number, identityInit = false): void {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: route switch only; blocked and unblocked application give the same Q·C (qr-blocked.test.ts)
  if (h.k >= BLOCKED_APPLY_MIN) applyQBlocked(h, ct, c, identityInit);
  else applyQUnblocked(h, ct, c, identityInit);
}

/** The reference loops: one reflector at a time. */
export function applyQUnblocked(h: HouseholderQR, ct: Float64Array, c: number, identityInit = false): void {
  const { at, tau, m, k } = h;
  for (let s = k - 1; s >= 0; s--) {
    const t = tau[s];
    if (t === 0) continue;
    const so = s * m;
    for (let j = identityInit ? s : 0; j < c; j++) reflectColumn(at, so, s, m, t, ct, j * m);
  }
}

/** The leading `c` columns of Q (c ≤ m) as a column-major c×m buffer. */
export function formQt(h: HouseholderQR, c: number): Float64Array {
  const { m } = h;
  const qt = allocF64(c * m);
  for (let j = 0; j < c; j++) qt[j * m + j] = 1;
  // Stryker disable next-line BooleanLiteral: the identity start only lets step s skip the vectors e_j, j < s, which H_s leaves unchanged
  applyQ(h, qt, c, true);
  return qt;
}

/** The leading `rows` rows of R (rows ≤ m) as a row-major rows×n buffer (raw Householder signs). */
export function extractR(h: HouseholderQR, rows: number): Float64Array {
  const { at, m, n } = h;
  const r = new Float64Array(rows * n);
  for (let j = 0; j < n; j++) {
    // Stryker disable next-line ArithmeticOperator: rows + 1 only adds writes at rows ≥ `rows`, past the end of r (dropped)
    const top = Math.min(j, rows - 1);
    for (let i = 0; i <= top; i++) r[i * n + j] = at[j * m + i];
  }
  return r;
}

export interface QRRaw {
  /** m×qCols row-major. */
  q: Float64Array;
  /** qCols×n row-major, upper triangular, non-negative diagonal. */
  r: Float64Array;
  qCols: number;
  perm: Int32Array;
}

/**
 * QR of the row-major m×n matrix `a` on plain buffers: `a[:, perm] = q·r`, q m×qCols with
 * orthonormal columns (qCols = min(m, n) for 'reduced', m for 'complete'), diag(r) ≥ 0.
 */
// Stryker disable next-line StringLiteral: every mode but 'complete' is reduced, so an empty default mode behaves as 'reduced'
export function qrRaw(a: Float64Array, m: number, n: number, mode: 'reduced' | 'complete' = 'reduced', pivoting = false): QRRaw {
  const scale = pow2Scale(a);
  const as = scale === 1 ? a : a.map((v) => v / scale);
  const h = householder(as, m, n, pivoting);
  const qCols = mode === 'complete' ? m : h.k;
  const qt = formQt(h, qCols);
  const r = extractR(h, qCols);
  // Fix signs: diag(R) ≥ 0.
  // Stryker disable next-line MethodExpression: indices past min(qCols, n) read past r's end (undefined) or an entry below the diagonal (0): no flip
  for (let i = 0; i < Math.min(qCols, n); i++) {
    if (r[i * n + i] < 0) {
      for (let j = i; j < n; j++) r[i * n + j] = -r[i * n + j];
      for (let l = 0; l < m; l++) qt[i * m + l] = -qt[i * m + l];
    }
  }
  if (scale !== 1) for (let i = 0; i < r.length; i++) r[i] *= scale;
  const q = new Float64Array(m * qCols);
  for (let j = 0; j < qCols; j++) for (let i = 0; i < m; i++) q[i * qCols + j] = qt[j * m + i];
  return { q, r, qCols, perm: h.perm };
}

export interface QROptions {
  /** 'reduced' (default): Q m×k, R k×n with k = min(m, n). 'complete': Q m×m, R m×n. */
  mode?: 'reduced' | 'complete';
  /**
   * Column pivoting: picks at each step the remaining column of largest norm, so that
   * |R_00| ≥ |R_11| ≥ … and A[:, perm] = Q·R. The result then carries `perm`.
   */
  pivoting?: boolean;
}

export interface QRResult {
  q: Tensor;
  r: Tensor;
  /** Only with `pivoting`: original column index of each column of R (A[:, perm] = QR). */
  perm?: Int32Array;
}

/**
 * Householder QR of a 2-D tensor (float32 or float64; computed and returned in float64).
 * `A = Q·R` (or `A[:, perm] = Q·R` with pivoting), Q with orthonormal columns, R upper
 * triangular with non-negative diagonal. Works for tall, wide, square, rank-deficient and zero
 * matrices; for a rank-deficient A the columns of Q beyond the rank are still orthonormal.
 */
export function qr(a: Tensor, options: QROptions = {}): QRResult {
  const [m, n] = check2D(a, 'qr', 'a');
  const mode = options.mode ?? 'reduced';
  if (mode !== 'reduced' && mode !== 'complete') {
    throw new Error(`qr: options.mode must be 'reduced' or 'complete', got ${String(mode)}`);
  }
  const res = qrRaw(new Float64Array(a.data), m, n, mode, options.pivoting ?? false);
  const out: QRResult = { q: f64Tensor(res.q, [m, res.qCols]), r: f64Tensor(res.r, [res.qCols, n]) };
  if (options.pivoting) out.perm = res.perm;
  return out;
}
