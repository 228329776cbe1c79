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
  for (let j = s + 1; j < end; j++) {
    const jo = j * m;
    let w = at[jo + s];
    for (let i = s + 1; i < m; i++) w += at[so + i] * at[jo + i];
    w *= tau;
    if (w === 0) continue;
    at[jo + s] -= w;
    for (let i = s + 1; i < m; i++) at[jo + i] -= w * at[so + i];
  }
  return tau;
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
