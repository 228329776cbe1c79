/**
 * The pieces both QR factorisations share (qr.ts: one reflector at a time, with pivoting;
 * qr-blocked.ts: panels and compact WY): the starting compact form, and one Householder step.
 *
 * One Householder step on a column-major buffer (columns of length m, column j at at[j·m]):
 * the reflector H = I − τ·v·vᵀ that zeroes column s below row s (LAPACK dlarfg), applied to
 * columns s+1..end-1. The vector v = [1, at[s·m+s+1..]] is stored in place, β on the
 * diagonal; τ = 0 (nothing to zero) leaves the column as it is.
 */
import { allocF64 } from '../backend/linalg-kernels.js';

export function householderStep(at: Float64Array, m: number, s: number, end: number): number {
  const so = s * m;
  const alpha = at[so + s];
  const xnorm = colNorm(at, so + s + 1, m - s - 1);
  if (xnorm === 0) return 0;
  const { beta, tau, inv } = reflectorScalars(alpha, xnorm);
  for (let i = s + 1; i < m; i++) at[so + i] *= inv;
  at[so + s] = beta;
  for (let j = s + 1; j < end; j++) reflectColumn(at, so, s, m, tau, at, j * m);
  return tau;
}

/**
 * c[co + s .. co + m) ← H·c[co + s .. co + m) for the reflector H = I − τ·v·vᵀ of step s, with
 * v = [1, v[vo + s + 1 .. vo + m)] (the compact QR form). A column with vᵀc = 0 is left as it is.
 */
export function reflectColumn(v: Float64Array, vo: number, s: number, m: number, tau: number, c: Float64Array, co: number): void {
  let w = c[co + s];
  for (let i = s + 1; i < m; i++) w += v[vo + i] * c[co + i];
  w *= tau;
  if (w === 0) return;
  c[co + s] -= w;
  for (let i = s + 1; i < m; i++) c[co + i] -= w * v[vo + i];
}

/**
 * Column pivoting's exchange of columns p and q of the column-major compact form `at` (columns of
 * length m), with the permutation and the running column norms vn1/vn2 (LAPACK dgeqp3's). Column q's
 * norms go to p; q's are not read again (q is the column being reduced).
 */
export function swapPivotColumns(at: Float64Array, m: number, p: number, q: number, perm: Int32Array, vn1: Float64Array, vn2: Float64Array): void {
  const po = p * m;
  const qo = q * m;
  for (let i = 0; i < m; i++) {
    const t = at[po + i];
    at[po + i] = at[qo + i];
    at[qo + i] = t;
  }
  const tp = perm[p];
  perm[p] = perm[q];
  perm[q] = tp;
  vn1[p] = vn1[q];
  vn2[p] = vn2[q];
}

/**
 * The scalars of dlarfg's reflector for a column [α, x] with ‖x‖₂ = xnorm > 0: β = −sign(α)·‖[α, x]‖
 * (the column's new leading entry; sign(0) taken as +), τ = (β − α)/β, and inv = 1/(α − β), the
 * factor that scales x into v's tail (v = [1, x·inv]).
 */
export function reflectorScalars(alpha: number, xnorm: number): { beta: number; tau: number; inv: number } {
  const beta = -Math.sign(alpha || 1) * Math.hypot(alpha, xnorm);
  return { beta, tau: (beta - alpha) / beta, inv: 1 / (alpha - beta) };
}

/**
 * Step k of the tridiagonal reduction (tridiag.ts, and its wasm twin tridiag-wasm.ts): the reflector
 * of the column [α, x] below the diagonal (‖x‖₂ = xnorm), with τ written to tau[k] and the new
 * subdiagonal entry to e[k + 1]. Returns 1/(α − β), the scale of v's tail; null when x = 0 (then
 * e[k + 1] = α and tau[k] is left as it is, 0: v = e₁ and w = 0).
 */
export function subdiagonalReflector(alpha: number, xnorm: number, k: number, tau: Float64Array, e: Float64Array): number | null {
  if (xnorm === 0) {
    e[k + 1] = alpha;
    return null;
  }
  const r = reflectorScalars(alpha, xnorm);
  tau[k] = r.tau;
  e[k + 1] = r.beta;
  return r.inv;
}

/** The starting compact form of a QR of the row-major m×n `a`: a column-major copy, τ = 0, the identity permutation. */
export function compactCopy(a: Float64Array, m: number, n: number): { k: number; at: Float64Array; tau: Float64Array; perm: Int32Array } {
  const k = Math.min(m, n);
  const at = allocF64(m * n);
  // In 32×32 tiles: a straight walk writes a new cache line (and, for large m, page) per element.
  for (let i0 = 0; i0 < m; i0 += 32)
    for (let j0 = 0; j0 < n; j0 += 32) {
      const i1 = Math.min(m, i0 + 32);
      const j1 = Math.min(n, j0 + 32);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) at[j * m + i] = a[i * n + j];
    }
  const perm = new Int32Array(n);
  for (let j = 0; j < n; j++) perm[j] = j;
  return { k, at, tau: new Float64Array(k), perm };
}

/** ‖a[off .. off+len)‖₂ without overflow or underflow (scaled by the largest entry). */
export function colNorm(a: Float64Array, off: number, len: number): number {
  let scale = 0;
  for (let i = 0; i < len; i++) {
    const v = Math.abs(a[off + i]);
    if (v > scale) scale = v;
  }
  if (scale === 0) return 0;
  let s = 0;
  for (let i = 0; i < len; i++) {
    const v = a[off + i] / scale;
    s += v * v;
  }
  return scale * Math.sqrt(s);
}
