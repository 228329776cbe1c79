/**
 * The leading eigenpairs of a symmetric matrix without the cost of all its eigenvectors: the
 * tridiagonal reduction (tridiag.ts), every eigenvalue by QL without vectors (O(n²)), then the
 * eigenvectors of the r largest by inverse iteration on the tridiagonal (LAPACK dstein in spirit:
 * O(n) per solve), orthonormalised (orth-rows.ts: Cholesky QR, or a Householder QR for nearly
 * dependent vectors), and brought back by the reduction's
 * reflectors on the blocked GEMM. For r ≪ n this replaces QL's ≈ 6n³ flops of rotations by
 * O(n²·r); each vector is checked (residual ‖T·x − λ·x‖ at rounding level) and any failure
 * falls back to the full eigendecomposition, so the result is always that of eighRaw's contract.
 */
import { symmetricScaled, tql2 } from './eigh.js';
import { EPS, fixColumnSigns, transpose } from './matrix.js';
import type { HouseholderQR } from './qr.js';
import { orthonormalRows } from './orth-rows.js';
import { applyTridiagonalQ, formTridiagonalQt, reduceToTridiagonal } from './tridiag.js';

/** Inverse iteration pays below this share of the eigenvectors; above it, the full QL with vectors. */
export const TOP_EIGEN_SHARE = 1 / 3;

export interface SymmetricSpectrum {
  /** All n eigenvalues, ascending. */
  values: Float64Array;
  /** n×r row-major: column j is the unit eigenvector of values[n−1−j] (largest first), largest-|.| entry positive. */
  top(r: number): Float64Array;
}

/** Eigenvalues of the symmetric row-major n×n `a` (lower triangle read), and the leading eigenvectors on demand. */
export function eighSpectrumRaw(a: Float64Array, n: number): SymmetricSpectrum {
  const { sym, scale } = symmetricScaled(a, n);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const h = reduceToTridiagonal(sym, n, d, e);
  const d0 = d.slice();
  const e0 = e.slice();
  if (n > 0) tql2(null, d, e, n);
  const lambda = d; // ascending, in units of `scale`
  const values = lambda.map((v) => v * scale);
  return {
    values,
    top(r: number): Float64Array {
      if (!Number.isInteger(r) || r < 0 || r > n) throw new Error(`eighSpectrumRaw: top(r) needs an integer r in [0, ${n}], got ${r}`);
      const u = (r <= TOP_EIGEN_SHARE * n ? inverseIteration(d0, e0, lambda, h, n, r) : null) ?? allVectors(d0, e0, h, n, r);
      fixColumnSigns(u, n, r);
      return u;
    },
  };
}

/** The r leading eigenvectors from QL with vectors (the eighRaw path), n×r row-major. */
function allVectors(d0: Float64Array, e0: Float64Array, h: HouseholderQR, n: number, r: number): Float64Array {
  const z = formTridiagonalQt(h, n);
  const d = d0.slice();
  tql2(z, d, e0.slice(), n);
  const u = new Float64Array(n * r);
  for (let j = 0; j < r; j++) {
    const src = (n - 1 - j) * n;
    for (let i = 0; i < n; i++) u[i * r + j] = z[src + i];
  }
  return u;
}

/**
 * Eigenvectors of T = tridiag(e, d, e) for lambda[n−1], …, lambda[n−r] by inverse iteration
 * (three solves each from a fixed start, coincident shifts pulled apart by 10ε·‖T‖ as dstein
 * does), orthonormalised together, checked, and multiplied by Q. Null when a check fails.
 */
function inverseIteration(d: Float64Array, e: Float64Array, lambda: Float64Array, h: HouseholderQR, n: number, r: number): Float64Array | null {
  if (r === 0) return new Float64Array(0);
  let anorm = 0;
  for (let i = 0; i < n; i++) anorm = Math.max(anorm, Math.abs(d[i]) + (i > 0 ? Math.abs(e[i]) : 0) + (i + 1 < n ? Math.abs(e[i + 1]) : 0));
  if (anorm === 0) return null;
  const pert = 10 * EPS * anorm;
  // Factorisation workspace (LAPACK dgttrf layout): dl sub-, b main, du and du2 super-diagonals.
  const dl = new Float64Array(n);
  const b = new Float64Array(n);
  const du = new Float64Array(n);
  const du2 = new Float64Array(n);
  const swap = new Uint8Array(n);
  const xs = new Float64Array(r * n); // vector j at xs[j·n ..]
  let prev = Infinity;
  for (let j = 0; j < r; j++) {
    let shift = lambda[n - 1 - j];
    if (prev - shift < pert) shift = prev - pert;
    prev = shift;
    factor(d, e, shift, n, dl, b, du, du2, swap, pert);
    const x = xs.subarray(j * n, j * n + n);
    // A fixed start with every component non-zero (no eigenvector is orthogonal to it generically).
    for (let i = 0; i < n; i++) x[i] = 1 + ((i * 7919 + j * 104729) % 1009) / 1009;
    for (let it = 0; it < 3; it++) {
      solve(x, n, dl, b, du, du2, swap);
      let nrm = 0;
      for (let i = 0; i < n; i++) nrm = Math.max(nrm, Math.abs(x[i]));
      if (!(nrm > 0) || !Number.isFinite(nrm)) return null;
      for (let i = 0; i < n; i++) x[i] /= nrm;
    }
  }
  // Orthonormalise (the leading vectors keep their span, one by one) and check each residual.
  const xt = orthonormalRows(xs, r, n).q; // row j: vector j
  const tol = 100 * Math.sqrt(n) * EPS * anorm;
  for (let j = 0; j < r; j++) {
    const lam = lambda[n - 1 - j];
    const o = j * n;
    let res = 0;
    for (let i = 0; i < n; i++) {
      let t = (d[i] - lam) * xt[o + i];
      if (i > 0) t += e[i] * xt[o + i - 1];
      if (i + 1 < n) t += e[i + 1] * xt[o + i + 1];
      res = Math.max(res, Math.abs(t));
    }
    if (!(res <= tol)) return null;
  }
  applyTridiagonalQ(h, n, xt, r);
  return transpose(xt, r, n);
}

/** LU with partial pivoting of T − shift·I (LAPACK dgttrf); zero pivots become `tiny`. */
function factor(
  d: Float64Array,
  e: Float64Array,
  shift: number,
  n: number,
  dl: Float64Array,
  b: Float64Array,
  du: Float64Array,
  du2: Float64Array,
  swap: Uint8Array,
  tiny: number,
): void {
  for (let i = 0; i < n; i++) {
    b[i] = d[i] - shift;
    dl[i] = i + 1 < n ? e[i + 1] : 0;
    du[i] = i + 1 < n ? e[i + 1] : 0;
    du2[i] = 0;
    swap[i] = 0;
  }
  for (let i = 0; i < n - 1; i++) {
    if (Math.abs(b[i]) >= Math.abs(dl[i])) {
      if (b[i] === 0) b[i] = tiny;
      const f = dl[i] / b[i];
      dl[i] = f;
      b[i + 1] -= f * du[i];
    } else {
      const f = b[i] / dl[i];
      b[i] = dl[i];
      dl[i] = f;
      const t = du[i];
      du[i] = b[i + 1];
      b[i + 1] = t - f * b[i + 1];
      if (i < n - 2) {
        du2[i] = du[i + 1];
        du[i + 1] = -f * du[i + 1];
      }
      swap[i] = 1;
    }
  }
  if (n > 0 && b[n - 1] === 0) b[n - 1] = tiny;
}

/** x ← (LU)⁻¹·x for the factors of `factor` (LAPACK dgttrs, one right-hand side). */
function solve(x: Float64Array, n: number, dl: Float64Array, b: Float64Array, du: Float64Array, du2: Float64Array, swap: Uint8Array): void {
  for (let i = 0; i < n - 1; i++) {
    if (swap[i] === 0) x[i + 1] -= dl[i] * x[i];
    else {
      const t = x[i];
      x[i] = x[i + 1];
      x[i + 1] = t - dl[i] * x[i];
    }
  }
  x[n - 1] /= b[n - 1];
  if (n > 1) x[n - 2] = (x[n - 2] - du[n - 2] * x[n - 1]) / b[n - 2];
  for (let i = n - 3; i >= 0; i--) x[i] = (x[i] - du[i] * x[i + 1] - du2[i] * x[i + 2]) / b[i];
}
