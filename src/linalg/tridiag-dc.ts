/**
 * Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by divide and conquer (Cuppen;
 * the algorithm of LAPACK dstedc/dlaed0–dlaed4): T splits at its middle off-diagonal β into
 * diag(T₁, T₂) + |β|·v·vᵀ (v = e_last + sign(β)·e_first, |β| taken off the two diagonal entries
 * next to the split), each half is solved recursively (QL, tql2, on the leaves), and the halves are
 * merged by the eigendecomposition of the rank-one update D + ρ·z·zᵀ:
 *
 *  - deflation (dlaed2): a component ρ·|z_j| below tol = 8ε·max(|D|, ρ·|z|) keeps d_j and its
 *    vector; two poles closer than tol (after a Givens rotation zeroing one z) keep one each;
 *  - the secular equation 1 + ρ·Σ z_j²/(d_j − λ) = 0 is solved root by root in coordinates
 *    shifted to the nearer pole (so that d_j − λ is computed without cancellation), by a
 *    bracketed two-pole rational model (the "middle way" of dlaed4) with bisection as safeguard;
 *  - the vectors come from the Löwner / Gu–Eisenstat recomputed ẑ, whose D + ρ·ẑ·ẑᵀ has the
 *    computed roots as its exact eigenvalues, so that the vectors ẑ_j/(d_j − λ_i) are orthogonal to
 *    working precision however close the roots are;
 *  - the merged eigenvectors are the halves' vectors times the secular ones: two GEMMs, one per
 *    half, over only the rows that are non-zero there (as dlaed3 groups its columns).
 *
 * All the O(k³) work of a merge is in those GEMMs; what stays scalar is O(k²) per merge.
 * Eigenvectors are kept as rows (row i of `zt` is the eigenvector of values[i]), the layout of
 * tql2's Z, so that the deflating rotations and the GEMMs walk contiguous rows.
 */
import { allocF64 } from '../backend/linalg-kernels.js';
import { tql2 } from './eigh.js';
import { EPS, gemm64 } from './matrix.js';

/** Blocks of at most this order are solved by QL (tql2) directly (LAPACK's SMLSIZ is 25; 64 measured faster here than 32, docs/linalg.md). */
export const DC_LEAF = 64;

export interface TridiagEig {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** n×n row-major; row i is the unit eigenvector of values[i]. */
  zt: Float64Array;
}

/**
 * Eigendecomposition of the symmetric tridiagonal matrix with diagonal d[0..n) and off-diagonal
 * e[1..n) (e[i] between rows i−1 and i, e[0] unused: the convention of tridiag.ts and tql2), by
 * divide and conquer. d and e are not modified.
 */
export function tridiagEigDC(d: Float64Array, e: Float64Array, n: number): TridiagEig {
  if (!Number.isInteger(n) || n < 0 || d.length < n || e.length < n) {
    throw new Error(`tridiagEigDC: expected d and e of length ≥ n with n an integer ≥ 0, got n = ${n}, |d| = ${d.length}, |e| = ${e.length}`);
  }
  const dd = new Float64Array(d.subarray(0, n));
  const off = new Float64Array(Math.max(0, n - 1));
  for (let i = 0; i + 1 < n; i++) off[i] = e[i + 1];
  return solve(dd, off, 0, n);
}

/** The block of order k starting at row lo (d already carries its parents' rank-one corrections). */
function solve(d: Float64Array, off: Float64Array, lo: number, k: number): TridiagEig {
  if (k <= DC_LEAF) return leaf(d, off, lo, k);
  const n1 = k >> 1;
  const mid = lo + n1;
  const beta = off[mid - 1];
  d[mid - 1] -= Math.abs(beta);
  d[mid] -= Math.abs(beta);
  const a = solve(d, off, lo, n1);
  const b = solve(d, off, mid, k - n1);
  return merge(a, b, n1, k - n1, beta);
}

function leaf(d: Float64Array, off: Float64Array, lo: number, k: number): TridiagEig {
  const values = d.slice(lo, lo + k);
  const el = new Float64Array(k);
  for (let i = 1; i < k; i++) el[i] = off[lo + i - 1];
  const zt = new Float64Array(k * k);
  for (let i = 0; i < k; i++) zt[i * k + i] = 1;
  tql2(zt, values, el, k);
  return { values, zt };
}

/** Where a row of the merged problem is non-zero: the first half's columns, the second's, or both. */
const LEFT = 0;
const MIXED = 1;
const RIGHT = 2;

/**
 * Eigendecomposition of diag(T₁, T₂) + |β|·v·vᵀ from those of T₁ (order n1) and T₂ (order n2).
 */
function merge(a: TridiagEig, b: TridiagEig, n1: number, n2: number, beta: number): TridiagEig {
  const k = n1 + n2;
  // The rank-one update in the halves' eigenbases: z = [last entries of T₁'s vectors; sign(β)·first
  // entries of T₂'s], unit after the 1/√2 (rows of orthogonal matrices), ρ = 2|β|.
  const sgn = beta < 0 ? -1 : 1;
  const rho = 2 * Math.abs(beta);
  const D = new Float64Array(k);
  const z = new Float64Array(k);
  const rows = allocF64(k * k); // row j: the halves' eigenvector j, widened to k entries
  const type = new Uint8Array(k);
  for (let j = 0; j < n1; j++) {
    D[j] = a.values[j];
    z[j] = a.zt[j * n1 + n1 - 1] * Math.SQRT1_2;
    rows.set(a.zt.subarray(j * n1, j * n1 + n1), j * k);
    type[j] = LEFT;
  }
  for (let j = 0; j < n2; j++) {
    D[n1 + j] = b.values[j];
    z[n1 + j] = sgn * b.zt[j * n2] * Math.SQRT1_2;
    rows.set(b.zt.subarray(j * n2, j * n2 + n2), (n1 + j) * k + n1);
    type[n1 + j] = RIGHT;
  }
  // Both halves are sorted: merge their orders.
  const order = new Int32Array(k);
  for (let i = 0, p = 0, q = n1; i < k; i++) order[i] = q >= k || (p < n1 && D[p] <= D[q]) ? p++ : q++;
  let dMax = 0;
  let zMax = 0;
  for (let j = 0; j < k; j++) {
    dMax = Math.max(dMax, Math.abs(D[j]));
    zMax = Math.max(zMax, Math.abs(z[j]));
  }
  const tol = 8 * EPS * Math.max(dMax, rho * zMax);
  // Deflation (dlaed2): `kept` in ascending order of D, `gone` keep their d and vector.
  const kept: number[] = [];
  const gone: number[] = [];
  let pj = -1;
  for (let t = 0; t < k; t++) {
    const nj = order[t];
    if (rho * Math.abs(z[nj]) <= tol) {
      gone.push(nj);
      continue;
    }
    if (pj < 0) {
      pj = nj;
      continue;
    }
    // Poles pj < nj close enough that a rotation zeroing z[pj] changes the matrix by less than tol.
    const tau = Math.hypot(z[pj], z[nj]);
    const c = z[nj] / tau;
    const s = -z[pj] / tau;
    const gap = D[nj] - D[pj];
    if (Math.abs(gap * c * s) <= tol) {
      z[nj] = tau;
      z[pj] = 0;
      rotateRows(rows, pj * k, nj * k, k, c, s);
      if (type[pj] !== type[nj]) type[pj] = type[nj] = MIXED;
      const dp = D[pj] * c * c + D[nj] * s * s;
      D[nj] = D[pj] * s * s + D[nj] * c * c;
      D[pj] = dp;
      gone.push(pj);
    } else kept.push(pj);
    pj = nj;
  }
  if (pj >= 0) kept.push(pj);
  const K = kept.length;
  const values = new Float64Array(k);
  const zt = allocF64(k * k);
  // The secular equation's roots and the vectors of D + ρ·ẑ·ẑᵀ, row i of u for root i.
  const lam = new Float64Array(K);
  const u = secularVectors(kept, D, z, rho, lam);
  // New rows = u · (kept rows), the first half's columns from LEFT and MIXED rows, the second's
  // from MIXED and RIGHT ones: group the kept rows as LEFT, MIXED, RIGHT.
  const grp: number[] = [];
  for (const want of [LEFT, MIXED, RIGHT]) for (let c = 0; c < K; c++) if (type[kept[c]] === want) grp.push(c);
  let nLeft = 0;
  let nMixed = 0;
  for (const c of grp) {
    if (type[kept[c]] === LEFT) nLeft++;
    else if (type[kept[c]] === MIXED) nMixed++;
  }
  const ug = allocF64(K * K);
  const rg = allocF64(K * k);
  for (let g = 0; g < K; g++) {
    const c = grp[g];
    for (let i = 0; i < K; i++) ug[i * K + g] = u[i * K + c];
    rg.set(rows.subarray(kept[c] * k, kept[c] * k + k), g * k);
  }
  const out = allocF64(K * k);
  const cl = nLeft + nMixed;
  if (cl > 0) gemm64(false, false, K, n1, cl, ug, 0, K, rg, 0, k, out, 0, k);
  if (K - nLeft > 0) gemm64(false, false, K, n2, K - nLeft, ug, nLeft, K, rg, nLeft * k + n1, k, out, n1, k);
  // All eigenvalues ascending: the roots (ascending) merged with the deflated d (sorted here).
  gone.sort((x, y) => D[x] - D[y]);
  for (let i = 0, p = 0, q = 0; i < k; i++) {
    if (q >= gone.length || (p < K && lam[p] <= D[gone[q]])) {
      values[i] = lam[p];
      zt.set(out.subarray(p * k, p * k + k), i * k);
      p++;
    } else {
      const j = gone[q++];
      values[i] = D[j];
      zt.set(rows.subarray(j * k, j * k + k), i * k);
    }
  }
  return { values, zt };
}

/** Rows p and q of `a` (length k): p ← c·p + s·q, q ← c·q − s·p (LAPACK drot on dlaed2's vectors). */
function rotateRows(a: Float64Array, po: number, qo: number, k: number, c: number, s: number): void {
  for (let i = 0; i < k; i++) {
    const x = a[po + i];
    const y = a[qo + i];
    a[po + i] = c * x + s * y;
    a[qo + i] = c * y - s * x;
  }
}

/**
 * The roots λ_i (written to `lam`, ascending) of 1 + ρ·Σ z_j²/(d_j − λ) over the kept poles
 * d_j = D[kept[j]] (ascending, distinct, z_j ≠ 0, ρ > 0), and the K×K matrix whose row i is the
 * unit eigenvector of D + ρ·ẑ·ẑᵀ for λ_i, with ẑ recomputed from the roots (Gu–Eisenstat).
 */
function secularVectors(kept: number[], D: Float64Array, z: Float64Array, rho: number, lam: Float64Array): Float64Array {
  const K = kept.length;
  const d = new Float64Array(K);
  const w = new Float64Array(K);
  let wSum = 0;
  for (let j = 0; j < K; j++) {
    d[j] = D[kept[j]];
    w[j] = rho * z[kept[j]] * z[kept[j]];
    wSum += w[j];
  }
  // delta[i·K + j] = d_j − λ_i, computed as (d_j − d_origin) − τ_i.
  const delta = new Float64Array(K * K);
  for (let i = 0; i < K; i++) lam[i] = secularRoot(d, w, wSum, i, delta, i * K);
  const u = new Float64Array(K * K);
  // ẑ_j² = (λ_j − d_j)/ρ · Π_{i≠j} (λ_i − d_j)/(d_i − d_j): every factor positive, each ratio O(1).
  const zh = new Float64Array(K);
  for (let j = 0; j < K; j++) {
    let p = -delta[j * K + j] / rho;
    for (let i = 0; i < K; i++) if (i !== j) p *= -delta[i * K + j] / (d[i] - d[j]);
    zh[j] = (z[kept[j]] < 0 ? -1 : 1) * Math.sqrt(Math.max(0, p));
  }
  for (let i = 0; i < K; i++) {
    const o = i * K;
    let s = 0;
    for (let j = 0; j < K; j++) {
      const v = zh[j] / delta[o + j];
      u[o + j] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < K; j++) u[o + j] *= inv;
  }
  return u;
}

/**
 * Root i of the secular equation (poles d ascending, weights w = ρ·z² > 0, wSum = Σ w): λ_i in
 * (d_i, d_{i+1}), or (d_{K−1}, d_{K−1} + wSum] for the last. Writes d_j − λ_i to delta[o + j].
 */
function secularRoot(d: Float64Array, w: Float64Array, wSum: number, i: number, delta: Float64Array, o: number): number {
  const K = d.length;
  if (K === 1) {
    delta[o] = -w[0];
    return d[0] + w[0];
  }
  const last = i === K - 1;
  // The origin: the pole nearer the root (the sign of f at the midpoint says which half holds it).
  let org = i;
  let lo = 0;
  let hi: number;
  let tau: number;
  if (last) {
    hi = wSum;
    tau = wSum / 2;
  } else {
    const half = (d[i + 1] - d[i]) / 2;
    let f = 1;
    for (let j = 0; j < K; j++) f += w[j] / (d[j] - d[i] - half);
    if (f >= 0) {
      hi = half;
    } else {
      org = i + 1;
      lo = -half;
      hi = 0;
    }
    tau = org === i ? half : -half;
  }
  const dOrg = d[org];
  for (let j = 0; j < K; j++) delta[o + j] = d[j] - dOrg; // the poles in shifted coordinates
  for (let it = 0; it < 100; it++) {
    let psi = 0;
    let dpsi = 0;
    let phi = 0;
    let dphi = 0;
    for (let j = 0; j <= i; j++) {
      const r = 1 / (delta[o + j] - tau);
      const t = w[j] * r;
      psi += t;
      dpsi += t * r;
    }
    for (let j = i + 1; j < K; j++) {
      const r = 1 / (delta[o + j] - tau);
      const t = w[j] * r;
      phi += t;
      dphi += t * r;
    }
    const g = 1 + psi + phi;
    // Rounding in the sums, and in the shifted poles δ_j − τ (|τ|·ε each), bounds what g can resolve.
    const err = 8 * EPS * (1 + phi - psi) + EPS * Math.abs(tau) * (dpsi + dphi);
    if (Math.abs(g) <= err) break;
    if (g < 0) lo = tau;
    else hi = tau;
    let next: number;
    const d1 = delta[o + i] - tau;
    if (last) {
      // One pole and a constant: A + b/(δ − x) = 0 with b = ψ'·(δ − τ)², A = g − b/(δ − τ).
      const bb = dpsi * d1 * d1;
      const A = g - bb / d1;
      next = A > 0 ? tau + d1 + bb / A : Number.NaN;
    } else {
      // Two poles and a constant, matching g and g′ at τ; η from A·η² − B·η + C = 0 (its root
      // between the poles, in the form without cancellation).
      const d2 = delta[o + i + 1] - tau;
      const bb = dpsi * d1 * d1;
      const ee = dphi * d2 * d2;
      const A = g - bb / d1 - ee / d2;
      const B = A * (d1 + d2) + bb + ee;
      const C = d1 * d2 * g;
      const disc = Math.sqrt(Math.max(0, B * B - 4 * A * C));
      const eta = B > 0 ? (2 * C) / (B + disc) : (B - disc) / (2 * A);
      next = tau + eta;
    }
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    if (next === tau || hi - lo <= 2 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) {
      tau = next;
      break;
    }
    tau = next;
  }
  for (let j = 0; j < K; j++) delta[o + j] -= tau;
  return dOrg + tau;
}
