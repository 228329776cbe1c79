/**
 * Orthonormalising a few nearly orthogonal vectors (the eigenvectors that inverse iteration gives
 * for well-separated eigenvalues, eigh-top.ts) by Cholesky QR: G = X·Xᵀ on the GEMM, G = L·Lᵀ, and
 * Q = L⁻¹·X on the GEMM — the Q of the QR of Xᵀ with a positive diagonal (the leading rows keep
 * their span, row by row), for two small GEMMs instead of a Householder QR and the formation of
 * its Q (256 × 64: 0.3 against 1.7 ms).
 *
 * Cholesky QR loses orthogonality as ε·κ(X)², so it is taken only where Gershgorin's theorem
 * bounds the spectrum of the normalised G to [1/2, 3/2] (κ(X)² ≤ 3): every row's off-diagonal
 * cosines sum to at most 1/2. Vectors that are closer to dependent (clustered or repeated
 * eigenvalues) go to the Householder QR of qr.ts, as everything did before.
 */
import { allocF64 } from '../backend/linalg-kernels.js';
import { gemm64, transpose } from './matrix.js';
import { qrRaw } from './qr.js';

/** Largest Σ_{j≠i} |cos(x_i, x_j)| for which the Cholesky route is taken (Gershgorin: κ(G) ≤ 3). */
export const CHOLESKY_QR_MAX_COS_SUM = 0.5;

/**
 * The rows of the r×n row-major `xs` (r ≤ n, not modified) orthonormalised in order: row j of the
 * result spans, with rows 0..j−1, what rows 0..j of xs span, and has a positive inner product
 * with row j of xs. `route` says which factorisation did it (for the tests).
 */
export function orthonormalRows(xs: Float64Array, r: number, n: number): { q: Float64Array; route: 'cholesky' | 'householder' } {
  if (!Number.isInteger(r) || !Number.isInteger(n) || r < 0 || r > n || xs.length < r * n) {
    throw new Error(`orthonormalRows: expected an r×n buffer with 0 ≤ r ≤ n, got r = ${r}, n = ${n}, length ${xs.length}`);
  }
  const q = choleskyQR(xs, r, n);
  if (q) return { q, route: 'cholesky' };
  // Householder QR of Xᵀ (n×r): its Q's columns are the rows wanted.
  return { q: transpose(qrRaw(transpose(xs, r, n), n, r).q, n, r), route: 'householder' };
}

/** Cholesky QR of the rows of xs, or null when they are not orthogonal enough for it (see module note). */
function choleskyQR(xs: Float64Array, r: number, n: number): Float64Array | null {
  if (r === 0) return new Float64Array(0);
  const g = gemm64(false, true, r, r, n, xs, 0, n, xs, 0, n);
  const d = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    const gii = g[i * r + i];
    if (!(gii > 0) || !Number.isFinite(gii)) return null;
    d[i] = 1 / Math.sqrt(gii);
  }
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < r; j++) if (j !== i) s += Math.abs(g[i * r + j]) * d[i] * d[j];
    if (!(s <= CHOLESKY_QR_MAX_COS_SUM)) return null;
  }
  // G = L·Lᵀ (lower triangle of g overwritten by L, row by row).
  for (let i = 0; i < r; i++) {
    for (let j = 0; j <= i; j++) {
      let s = g[i * r + j];
      for (let t = 0; t < j; t++) s -= g[i * r + t] * g[j * r + t];
      if (j < i) g[i * r + j] = s / g[j * r + j];
      else {
        if (!(s > 0)) return null;
        g[i * r + i] = Math.sqrt(s);
      }
    }
  }
  // L⁻¹ (lower triangular) by forward substitution, column by column; then Q = L⁻¹·X on the GEMM.
  const li = allocF64(r * r);
  for (let c = 0; c < r; c++) {
    li[c * r + c] = 1 / g[c * r + c];
    for (let i = c + 1; i < r; i++) {
      let s = 0;
      for (let t = c; t < i; t++) s += g[i * r + t] * li[t * r + c];
      li[i * r + c] = -s / g[i * r + i];
    }
  }
  return gemm64(false, false, r, n, r, li, 0, r, xs, 0, n);
}
