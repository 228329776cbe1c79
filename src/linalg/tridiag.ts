/**
 * Householder tridiagonalisation of a symmetric matrix, Q·T·Qᵀ = A (LAPACK dsytd2, lower, in the
 * row-major layout this library uses): step k reflects row/column k below the diagonal, and the
 * trailing block takes the symmetric rank-2 update A₂₂ −= v·wᵀ + w·vᵀ on whole rows, so every
 * inner loop runs over contiguous memory (EISPACK tred2 walks columns of a row-major matrix, which
 * cost eigh most of its time). The reflectors are kept in the compact form of qr.ts, so Q is formed
 * by the blocked, GEMM-based application of qr-blocked.ts.
 */
import { allocF64 } from '../backend/linalg-kernels.js';
import { type HouseholderQR, formQt } from './qr.js';

/**
 * Reduces the symmetric n×n row-major `sym` (full storage; overwritten) to the tridiagonal
 * (d, e) — d the diagonal, e[i] the entry between rows i−1 and i, e[0] = 0 — and returns
 * Z = Qᵀ (row-major n×n), so that sym = Zᵀ·T·Z.
 */
export function tridiagonalize(sym: Float64Array, n: number, d: Float64Array, e: Float64Array): Float64Array {
  const A = sym;
  const m = n - 1;
  const steps = Math.max(0, n - 2);
  const at = allocF64(Math.max(0, m * steps));
  const tau = new Float64Array(steps);
  const p = new Float64Array(n);
  e[0] = 0;
  for (let k = 0; k < steps; k++) {
    const L = n - k - 1;
    const ro = k * n + k + 1; // row k from column k+1: column k below the diagonal, by symmetry
    const alpha = A[ro];
    let scale = 0;
    for (let t = 1; t < L; t++) scale = Math.max(scale, Math.abs(A[ro + t]));
    let xnorm = 0;
    if (scale > 0) {
      let s = 0;
      for (let t = 1; t < L; t++) {
        const v = A[ro + t] / scale;
        s += v * v;
      }
      xnorm = scale * Math.sqrt(s);
    }
    d[k] = A[k * n + k];
    if (xnorm === 0) {
      e[k + 1] = alpha;
      continue;
    }
    const beta = -Math.sign(alpha || 1) * Math.hypot(alpha, xnorm);
    const tk = (beta - alpha) / beta;
    tau[k] = tk;
    e[k + 1] = beta;
    // v = [1, x₁/(α−β), …] stored in the compact QR form (local row index = global − 1).
    const inv = 1 / (alpha - beta);
    const vo = k * m + k;
    at[vo] = 1;
    for (let t = 1; t < L; t++) at[vo + t] = A[ro + t] * inv;
    // p = τ·A₂₂·v (rows of A₂₂ are contiguous), then w = p − (τ/2)(pᵀv)·v.
    const base = (k + 1) * n + k + 1;
    let pv = 0;
    for (let i = 0; i < L; i++) {
      const row = base + i * n;
      let s = 0;
      for (let j = 0; j < L; j++) s += A[row + j] * at[vo + j];
      s *= tk;
      p[i] = s;
      pv += s * at[vo + i];
    }
    const a2 = -0.5 * tk * pv;
    for (let i = 0; i < L; i++) p[i] += a2 * at[vo + i];
    // A₂₂ −= v·wᵀ + w·vᵀ.
    for (let i = 0; i < L; i++) {
      const row = base + i * n;
      const vi = at[vo + i];
      const wi = p[i];
      for (let j = 0; j < L; j++) A[row + j] -= vi * p[j] + wi * at[vo + j];
    }
  }
  if (n >= 2) {
    d[n - 2] = A[(n - 2) * n + n - 2];
    e[n - 1] = A[(n - 1) * n + n - 2];
  }
  if (n >= 1) d[n - 1] = A[(n - 1) * n + n - 1];
  const z = allocF64(n * n);
  if (n === 0) return z;
  z[0] = 1;
  if (n === 1) return z;
  // Q = H₀·H₁⋯ acts on rows 1..n−1; formQt returns its columns contiguously, i.e. Qᵀ row-major.
  const h: HouseholderQR = { at, tau, perm: new Int32Array(steps), m, n: steps, k: steps };
  const qt = formQt(h, m);
  for (let j = 0; j < m; j++) z.set(qt.subarray(j * m, j * m + m), (j + 1) * n + 1);
  return z;
}
