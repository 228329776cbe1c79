/**
 * Singular value decomposition by one-sided Jacobi (Hestenes) with QR preconditioning
 * (Drmač–Veselić): for a tall A (m ≥ n; a wide A is handled through its transpose),
 *   1. A·P = Q·R by Householder QR with column pivoting;
 *   2. one-sided Jacobi on X = Rᵀ: X·W = Y with mutually orthogonal columns (de Rijk pivoting,
 *      threshold |x_pᵀx_q| ≤ √n·ε·‖x_p‖‖x_q‖, which is a relative, hence high-accuracy, test);
 *   3. σ_j = ‖y_j‖, U_x = Y·Σ⁻¹, and A = (Q·W)·Σ·(P·U_x)ᵀ.
 * Every singular value is computed to high relative accuracy for well-scaled input, U = Q·W is
 * orthonormal whatever the rank, and V is completed deterministically where σ = 0.
 *
 * Conventions: singular values sorted descending and non-negative (ties keep their Jacobi order);
 * sign: the entry of largest |.| of each left singular vector u_j is positive (the first such on
 * ties), v_j follows. Columns of U or V belonging to σ = 0 are completed deterministically
 * (Gram–Schmidt against the standard basis, largest residual first).
 */
import type { Tensor } from '../tensor/tensor.js';
import { allocF64 } from '../backend/linalg-kernels.js';
import { eighRows } from './eigh.js';
import { EPS, check2D, completeOrthonormal, eye, f64Tensor, fixColumnSigns, gemm64, pow2Scale, pow2ScaleOf, rowDot, transpose } from './matrix.js';
import { applyQ, householder } from './qr.js';
import { gramRows } from './svd-gram.js';
import { type RowPairKernels, wasmRowPairs } from './jacobi-wasm.js';

export interface SvdRaw {
  /** m×uCols row-major (uCols = k thin, m full); absent unless wantU. */
  u?: Float64Array;
  /** min(m, n) singular values, descending. */
  s: Float64Array;
  /** n×vCols row-major (V, not Vᵀ; vCols = k thin, n full); absent unless wantV. */
  v?: Float64Array;
  uCols: number;
  vCols: number;
}

export interface SvdRawOptions {
  wantU?: boolean;
  wantV?: boolean;
  /** Complete U to m×m and V to n×n. */
  full?: boolean;
  /** Jacobi sweep limit (default 60; convergence usually takes 4–10, 2–4 preconditioned). */
  maxSweeps?: number;
  /**
   * 'fast' (default): the Jacobi iteration starts from the eigenvectors of the Gram matrix of the
   * triangular factor (see `svdTall`) when min(m, n) ≥ PRECONDITION_MIN; 'jacobi': it starts from
   * the triangular factor itself. Same accuracy contract; 'fast' needs 3–5× fewer sweeps.
   */
  method?: SvdMethod;
}

/** The SVD routes: 'fast' (Gram-eigenvector preconditioned Jacobi) and 'jacobi' (plain, the reference). */
export type SvdMethod = 'fast' | 'jacobi';

/**
 * From this size of the smaller side on, 'fast' preconditions; below it a Jacobi sweep costs less
 * than the Gram product and the eigendecomposition it would save.
 */
export const PRECONDITION_MIN = 24;

interface TallResult {
  /** m×n row-major, if wantU. */
  u?: Float64Array;
  s: Float64Array;
  /** n×n row-major, if wantV (zero-σ columns not yet completed: flagged in `zero`). */
  v?: Float64Array;
  zero: boolean[];
}

/** Columns of X with a squared norm below this (X scaled to max|entry| ≈ 1) count as exact zeros. */
export const TINY2 = 1e-300;

/**
 * SVD of a tall, already scaled row-major m×n matrix (m ≥ n).
 *
 * With `precondition`, the Jacobi iteration on X = Rᵀ starts from X·V₀ instead of X, where V₀ holds
 * the eigenvectors of XᵀX (one GEMM, eighRaw, one GEMM), and W starts at V₀. The columns of X·V₀ are
 * orthogonal up to the Gram route's error (≈ ε·σ₁²/gap), so Jacobi only has to polish: 2–4 sweeps
 * instead of 8–12 on a random matrix. Accuracy is that of Jacobi on X: V₀ multiplies X from the
 * right, as the rotations do, so the computed X·V₀ has a row-wise small backward error, which is
 * the perturbation class under which one-sided Jacobi on the row-graded Rᵀ keeps high relative
 * accuracy (Drmač & Veselić 2008); V₀ itself needs no accuracy, only orthogonality.
 */
function svdTall(a: Float64Array, m: number, n: number, wantU: boolean, wantV: boolean, maxSweeps: number, precondition: boolean): TallResult {
  const h = householder(a, m, n, true);
  // Working columns x_j = column j of Rᵀ = row j of R, stored contiguously (row j of X).
  let x: Float64Array = allocF64(n * n);
  for (let j = 0; j < n; j++) for (let c = j; c < n; c++) x[j * n + c] = h.at[c * m + j];
  // Accumulated rotations W, stored by columns (column j of W at wt[j*n..]).
  let wt: Float64Array | null = wantU ? eye(n) : null;
  // Stryker disable next-line BlockStatement,ConditionalExpression: preconditioning on or off: the 'fast' and 'jacobi' routes, held to the same contract (svd-fast.test.ts)
  if (precondition) {
    const v0t = gramEigenvectors(x, n);
    x = gemm64(false, false, n, n, n, v0t, 0, n, x, 0, n);
    if (wt) wt = v0t;
  }
  // Squared norms of the rows, recomputed at the start of each round and carried through its rotations.
  let nrm2 = new Float64Array(n);
  // Rows rotated since the last Gram check: only pairs involving them can have changed.
  const touched = new Uint8Array(n);
  // Stryker disable next-line ArithmeticOperator,MethodExpression: a tighter tolerance implies this one; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
  const tol = EPS * Math.sqrt(Math.max(n, 1));
  /** The Jacobi rotation of columns p, q (squared norms a2, b2) if their cosine exceeds tol. */
  // During a long listed round the rows live in wasm memory and these kernels act on them.
  let kern: RowPairKernels | null = null;
  const rotatePair = (p: number, q: number, a2: number, b2: number): boolean => {
    // Stryker disable next-line BooleanLiteral: counting a rotation that did not happen adds sweeps
    if (Math.min(a2, b2) < TINY2) return false;
    const po = p * n;
    const qo = q * n;
    const g = kern ? kern.dot(p, q) : rowDot(x, po, qo, n);
    // Stryker disable next-line BooleanLiteral: counting a converged pair as rotated only adds sweeps; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
    if (Math.abs(g) <= tol * Math.sqrt(a2) * Math.sqrt(b2)) return false;
    const zeta = (b2 - a2) / (2 * g);
    let t: number;
    if (Math.abs(zeta) > 1e150) t = 0.5 / zeta;
    else t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
    const c = 1 / Math.sqrt(1 + t * t);
    const s = c * t;
    if (kern) kern.rotate(p, q, c, s);
    else {
      rotate(x, po, qo, n, c, s);
      if (wt) rotate(wt, po, qo, n, c, s);
    }
    touched[p] = 1;
    touched[q] = 1;
    nrm2[p] = Math.max(0, a2 - t * g);
    nrm2[q] = b2 + t * g;
    return true;
  };
  // Pairs left to rotate, found by a Gram check (preconditioned route): a short list replaces a sweep.
  let targets: Int32Array | null = null;
  // A listed pair costs what a sweep spends on every pair (one dot product, a rotation if needed):
  // a list is the cheaper round unless it holds most of the pairs (flattened: two entries per pair).
  // Stryker disable next-line ArithmeticOperator: whether a listed round or a full sweep comes next is a cost choice; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
  const maxTargets = (n * (n - 1)) / 2;
  // Stryker disable next-line BlockStatement,ConditionalExpression: a first Gram check or a first full sweep: a cost choice; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
  if (precondition) {
    // X·V₀ is nearly orthogonal already: on a random 512×512 matrix a tenth of the pairs still
    // exceed the threshold, and a list of them replaces the first sweep. (An empty list makes a
    // round that rotates nothing, which ends the loop.)
    const bad = unconvergedPairs(x, n, tol);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a listed round or a full sweep: a cost choice; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
    if (bad.length <= maxTargets) targets = bad;
  }
  // Stryker disable next-line UpdateOperator: without the sweep limit the loop still ends at convergence, which one-sided Jacobi always reaches
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotations = 0;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: only picks the partial or the full Gram check below, both valid after any round (untouched rows kept their pairs' last verdict)
    const listed = targets !== null;
    // Stryker disable next-line CallExpression: stale flags only add rows to the partial Gram check (or make it the full one)
    touched.fill(0);
    nrm2 = Float64Array.from({ length: n }, (_, j) => rowDot(x, j * n, j * n, n));
    if (targets) {
      // The norms are carried through the rotations as in a sweep (rotatePair updates them).
      // Lists of at least n pairs go to the wasm kernels (two copies of the rows, against JavaScript
      // dot products and rotations at a third of the speed).
      // Stryker disable next-line ArithmeticOperator,ConditionalExpression,EqualityOperator: route switch only: the wasm kernels or the JavaScript loops run the same rotations (svd-pairs.test.ts)
      kern = targets.length >= 2 * n ? wasmRowPairs(x, wt, n) : null;
      for (let i = 0; i < targets.length; i += 2) {
        const p = targets[i];
        const q = targets[i + 1];
        // Stryker disable next-line UpdateOperator: a listed round counts down from 0, so the count is 0 exactly when nothing rotated
        if (rotatePair(p, q, nrm2[p], nrm2[q])) rotations++;
      }
      kern?.finish();
      kern = null;
    } else {
      // Stryker disable next-line ArithmeticOperator: steps p ≥ n − 1 have no pair q > p: no swap, no rotation
      for (let p = 0; p < n - 1; p++) {
        // de Rijk: bring the largest remaining column to position p.
        let best = p;
        // Stryker disable next-line ConditionalExpression,EqualityOperator: de Rijk's choice of the column brought to p only orders the pairs; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
        for (let q = p + 1; q < n; q++) if (nrm2[q] > nrm2[best]) best = q;
        // Stryker disable next-line BlockStatement,ConditionalExpression,EqualityOperator: a swap (or none, or of a row with itself) only orders the pairs; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
        if (best !== p) {
          swapRows(x, p, best, n);
          if (wt) swapRows(wt, p, best, n);
          const t = nrm2[p];
          nrm2[p] = nrm2[best];
          nrm2[best] = t;
        }
        for (let q = p + 1; q < n; q++)
          // Stryker disable next-line UpdateOperator: a sweep counts down from 0, so the count is 0 exactly when nothing rotated
          if (rotatePair(p, q, nrm2[p], nrm2[q])) rotations++;
      }
    }
    // (Pairs the GEMM's rounding flags but the dot products do not are converged too.)
    if (rotations === 0) break;
    targets = null;
    // A sweep costs n³ flops of dot products, most of them on pairs already converged: one Gram
    // product on the GEMM finds the pairs left (or shows there are none) for a fraction of that.
    // Stryker disable next-line BlockStatement,ConditionalExpression: a Gram check or another full sweep decides the next round: a cost choice; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
    if (precondition) {
      // After a listed round every other pair is as the last check left it (converged): when few
      // rows moved, their products with all rows (a thin GEMM) are the whole check.
      let moved = 0;
      // Stryker disable next-line AssignmentOperator,ConditionalExpression,EqualityOperator: `moved` only picks the partial or the full Gram check, both valid
      for (let j = 0; j < n; j++) moved += touched[j];
      // Stryker disable next-line ArithmeticOperator,ConditionalExpression,EqualityOperator,LogicalOperator: the partial and the full Gram check find the same pairs (untouched rows kept their pairs' last verdict; svd-pairs.test.ts)
      const bad = listed && moved <= n / 4 ? unconvergedPairsOf(x, n, tol, touched) : unconvergedPairs(x, n, tol);
      // (An empty list: the next round rotates nothing and ends the loop.)
      // Stryker disable next-line ConditionalExpression,EqualityOperator: a listed round or a full sweep: a cost choice; the loop still ends only after a round in which every pair passes the same test (or at maxSweeps), and every rotation is orthogonal: only the number of sweeps changes
      if (bad.length <= maxTargets) targets = bad;
    }
  }
  // Singular values, sorted descending (Array.prototype.sort is stable: ties keep the Jacobi order).
  const sig = Float64Array.from({ length: n }, (_, j) => {
    const v2 = rowDot(x, j * n, j * n, n);
    return v2 < TINY2 ? 0 : Math.sqrt(v2);
  });
  const order = Array.from({ length: n }, (_, j) => j).sort((i, j) => sig[j] - sig[i]);
  const s = Float64Array.from(order, (j) => sig[j]);
  const zero = Array.from(s, (v) => v === 0);
  const out: TallResult = { s, zero };
  if (wantV) {
    // V = P·U_x: row perm[i] of V is row i of U_x; U_x[:, c] = y_{order[c]} / σ.
    const v = new Float64Array(n * n);
    for (let c = 0; c < n; c++) {
      if (zero[c]) continue;
      const src = order[c] * n;
      const inv = 1 / s[c];
      for (let i = 0; i < n; i++) v[h.perm[i] * n + c] = x[src + i] * inv;
    }
    out.v = v;
  }
  if (wt) {
    // U = Q·[W; 0] = H_0…H_{n-1}·[W; 0], built column by column (column-major n×m).
    const ut = allocF64(n * m);
    for (let c = 0; c < n; c++) ut.set(wt.subarray(order[c] * n, order[c] * n + n), c * m);
    applyQ(h, ut, n);
    out.u = transpose(ut, n, m);
  }
  return out;
}

/**
 * The eigenvectors of XᵀX for X stored by columns (row j of `x` is column j of X), as the rows of an
 * n×n matrix in the order of descending eigenvalue (so that de Rijk's pivoting finds them sorted).
 */
function gramEigenvectors(x: Float64Array, n: number): Float64Array {
  const { rows } = eighRows(gramRows(x, n, n), n);
  const v0t = allocF64(n * n);
  for (let c = 0; c < n; c++) v0t.set(rows.subarray((n - 1 - c) * n, (n - c) * n), c * n);
  return v0t;
}

/** The pairs (p, q), p < q, of rows of `x` whose cosine exceeds tol, from one GEMM (flat [p, q, p, q, …]). */
export function unconvergedPairs(x: Float64Array, n: number, tol: number): Int32Array {
  const g = gramRows(x, n, n);
  const out: number[] = [];
  for (let p = 0; p < n; p++) {
    const a2 = g[p * n + p];
    if (a2 < TINY2) continue;
    for (let q = p + 1; q < n; q++) {
      const b2 = g[q * n + q];
      if (b2 >= TINY2 && Math.abs(g[p * n + q]) > tol * Math.sqrt(a2) * Math.sqrt(b2)) out.push(p, q);
    }
  }
  return Int32Array.from(out);
}

/**
 * unconvergedPairs restricted to the pairs that involve a row flagged in `rows`: one GEMM of those
 * rows against all of them (flat [p, q, …], p < q).
 */
export function unconvergedPairsOf(x: Float64Array, n: number, tol: number, rows: Uint8Array): Int32Array {
  const idx = Array.from({ length: n }, (_, j) => j).filter((j) => rows[j]);
  const s = idx.length;
  const xs = allocF64(s * n);
  idx.forEach((p, t) => xs.set(x.subarray(p * n, p * n + n), t * n));
  const g = gemm64(false, true, s, n, n, xs, 0, n, x, 0, n);
  const norms2 = Float64Array.from({ length: n }, (_, q) => rowDot(x, q * n, q * n, n));
  const out: number[] = [];
  for (let t = 0; t < s; t++) {
    const p = idx[t];
    const a2 = g[t * n + p];
    if (a2 < TINY2) continue;
    for (let q = 0; q < n; q++) {
      // A pair of two flagged rows is listed once, from its smaller row.
      if (q === p || (rows[q] && q < p)) continue;
      const b2 = norms2[q];
      if (b2 >= TINY2 && Math.abs(g[t * n + q]) > tol * Math.sqrt(a2) * Math.sqrt(b2)) out.push(Math.min(p, q), Math.max(p, q));
    }
  }
  return Int32Array.from(out);
}

function swapRows(a: Float64Array, p: number, q: number, n: number): void {
  const po = p * n;
  const qo = q * n;
  for (let i = 0; i < n; i++) {
    const t = a[po + i];
    a[po + i] = a[qo + i];
    a[qo + i] = t;
  }
}

function rotate(a: Float64Array, po: number, qo: number, n: number, c: number, s: number): void {
  for (let i = 0; i < n; i++) {
    const xp = a[po + i];
    const xq = a[qo + i];
    a[po + i] = c * xp - s * xq;
    a[qo + i] = s * xp + c * xq;
  }
}

/** Widens an r×c row-major matrix to r×c2 (c2 ≥ c), zero-padding the new columns. */
function widen(a: Float64Array, r: number, c: number, c2: number): Float64Array {
  if (c2 === c) return a;
  const out = new Float64Array(r * c2);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c2 + j] = a[i * c + j];
  return out;
}

/**
 * SVD of the row-major m×n matrix `a` (not modified) on plain buffers: A = U·diag(s)·Vᵀ.
 * Only what is asked for is computed (s alone is the cheapest; U alone of a wide matrix and V alone
 * of a tall one avoid the rotation accumulation). Signs follow the module convention when U is
 * computed; V-only results are deterministic but their signs are not normalised.
 */
export function svdRaw(a: Float64Array, m: number, n: number, options: SvdRawOptions = {}): SvdRaw {
  const wantU = options.wantU ?? true;
  const wantV = options.wantV ?? true;
  const full = options.full ?? false;
  const maxSweeps = options.maxSweeps ?? 60;
  // Stryker disable next-line LogicalOperator,StringLiteral: route switch only: a default other than 'fast' takes the plain Jacobi route, held to the same contract (svd-fast.test.ts)
  const method = options.method ?? 'fast';
  const k = Math.min(m, n);
  // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator,StringLiteral: route switch only: preconditioned or plain Jacobi, held to the same contract (svd-fast.test.ts)
  const precondition = method === 'fast' && k >= PRECONDITION_MIN;
  const scale = pow2Scale(a);
  // A power-of-two scale: the multiplication by its inverse is exact (a loop, not map's callback).
  let as = a;
  if (scale !== 1) {
    as = new Float64Array(a.length);
    const inv = 1 / scale;
    for (let i = 0; i < a.length; i++) as[i] = a[i] * inv;
  }
  let u: Float64Array | undefined;
  let v: Float64Array | undefined;
  let s: Float64Array;
  // Stryker disable next-line ArrayDeclaration: reassigned on both branches below before any read
  let uZero: boolean[] = [];
  // Stryker disable next-line ArrayDeclaration: reassigned on both branches below before any read
  let vZero: boolean[] = [];
  if (m >= n) {
    const t = svdTall(as, m, n, wantU, wantV, maxSweeps, precondition);
    s = t.s;
    u = t.u; // m×k, always orthonormal
    v = t.v; // n×n = n×k
    uZero = new Array(k).fill(false);
    vZero = t.zero;
  } else {
    const t = svdTall(transpose(as, m, n), n, m, wantV, wantU, maxSweeps, precondition);
    s = t.s;
    u = t.v; // m×m = m×k
    v = t.u; // n×k
    uZero = t.zero;
    vZero = new Array(k).fill(false);
  }
  const uCols = full ? m : k;
  const vCols = full ? n : k;
  if (u) {
    u = widen(u, m, k, uCols);
    // Stryker disable next-line ArithmeticOperator: extra `false` flags past column uCols are never read by completeOrthonormal (it walks j < uCols)
    const have = [...uZero.map((z) => !z), ...new Array(uCols - k).fill(false)];
    if (have.some((x) => !x)) completeOrthonormal(u, m, uCols, have);
  }
  if (v) {
    v = widen(v, n, k, vCols);
    // Stryker disable next-line ArithmeticOperator: extra `false` flags past column vCols are never read by completeOrthonormal (it walks j < vCols)
    const have = [...vZero.map((z) => !z), ...new Array(vCols - k).fill(false)];
    if (have.some((x) => !x)) completeOrthonormal(v, n, vCols, have);
  }
  if (u) {
    const vv = v;
    fixColumnSigns(u, m, uCols, (j) => {
      if (vv && j < vCols) for (let i = 0; i < n; i++) vv[i * vCols + j] = -vv[i * vCols + j];
    });
  }
  if (scale !== 1) for (let i = 0; i < k; i++) s[i] *= scale;
  return { u, s, v, uCols, vCols };
}

export interface SvdOptions {
  /** false (default): thin, U m×k, Vᵀ k×n with k = min(m, n). true: U m×m, Vᵀ n×n. */
  full?: boolean;
  /**
   * 'fast' (default): one-sided Jacobi preconditioned by the Gram eigenvectors (see svdTall);
   * 'jacobi': the plain one-sided Jacobi, the reference it is tested against. Both keep the same
   * contract, high relative accuracy included (docs/linalg.md).
   */
  method?: SvdMethod;
}

export interface SvdResult {
  /** Left singular vectors, m×k (m×m when full). */
  u: Tensor;
  /** Singular values, 1-D of length k = min(m, n), descending, non-negative. */
  s: Tensor;
  /** Right singular vectors transposed, k×n (n×n when full). */
  vt: Tensor;
}

/**
 * Singular value decomposition `A = U·diag(s)·Vᵀ` of a 2-D tensor (float32 or float64; computed
 * and returned in float64), thin by default. One-sided Jacobi with QR preconditioning (and, by
 * default, Gram-eigenvector preconditioning, which saves most of the sweeps): accurate
 * (‖A − UΣVᵀ‖ ≈ ε‖A‖, U and V orthonormal to ≈ ε) for tall, wide, square, rank-deficient, zero
 * and 1×n matrices and for repeated or clustered singular values. s is sorted descending; the
 * largest-|.| entry of each column of U is positive; columns for σ = 0 are completed
 * deterministically so that U and V always have orthonormal columns.
 */
export function svd(a: Tensor, options: SvdOptions = {}): SvdResult {
  const [m, n] = check2D(a, 'svd', 'a');
  const full = options.full ?? false;
  if (typeof full !== 'boolean') throw new Error(`svd: options.full must be a boolean, got ${String(full)}`);
  const method = options.method ?? 'fast';
  if (method !== 'fast' && method !== 'jacobi') throw new Error(`svd: options.method must be 'fast' or 'jacobi', got ${String(method)}`);
  const r = svdRaw(new Float64Array(a.data), m, n, { full, method });
  const k = Math.min(m, n);
  return {
    u: f64Tensor(r.u!, [m, r.uCols]),
    s: f64Tensor(r.s, [k]),
    vt: f64Tensor(transpose(r.v!, n, r.vCols), [r.vCols, n]),
  };
}

/** The singular values of a 2-D tensor, descending, as a 1-D float64 tensor (no vectors computed). */
export function svdvals(a: Tensor): Tensor {
  const [m, n] = check2D(a, 'svdvals', 'a');
  // Stryker disable next-line BooleanLiteral,ObjectLiteral: asking for U or V as well computes vectors that svdvals never reads
  const r = svdRaw(new Float64Array(a.data), m, n, { wantU: false, wantV: false });
  return f64Tensor(r.s, [Math.min(m, n)]);
}

/**
 * The truncation rank of a descending spectrum: the smallest r in [0, σ.length] with
 * sqrt(Σ_{k ≥ r} σ_k²) ≤ threshold (0-based: keep σ_0..σ_{r-1}), i.e. the least rank whose
 * discarded tail has Frobenius norm at most `threshold` (an absolute value; for a relative rule
 * pass τ·‖σ‖). Returns 0 when the whole spectrum is within the threshold: clamp to a minimum
 * rank yourself. Tails are summed from the smallest value up, so tiny tails are exact.
 */
export function truncationRank(sigma: ArrayLike<number>, threshold: number): number {
  if (typeof threshold !== 'number' || !(threshold >= 0)) {
    throw new Error(`truncationRank: threshold must be a number ≥ 0, got ${threshold}`);
  }
  checkFinite1(sigma);
  // Squares of values beyond ~1e154 overflow and below ~1e-154 underflow: take them of σ and the
  // threshold divided by one power of two (exact), so that the rank does not depend on the scale.
  let big = threshold;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: route switch only: a zero threshold taken as the smallest value sends the walk to the scaled tails, which drop exactly the trailing zeros too; a positive one left out of the range can only be far below every nonzero σ (then neither route drops one: √next > t)
  let small = threshold > 0 ? threshold : Infinity;
  for (let i = 0; i < sigma.length; i++) {
    big = Math.max(big, sigma[i]);
    if (sigma[i] > 0) small = Math.min(small, sigma[i]);
  }
  // A range too wide for any one scale (squares of the smallest values would underflow): each tail
  // as a running scale times a sum of squared ratios instead (as LAPACK's dlassq).
  if (big / small > 1e135) return rankByScaledTails(sigma, threshold);
  const scale = pow2ScaleOf(big);
  const t = threshold / scale;
  const t2 = t * t;
  let tail = 0;
  let r = sigma.length;
  // Walk from the end: r decreases while the tail including σ_{r-1} stays within the threshold.
  while (r > 0) {
    const v = sigma[r - 1] / scale;
    const next = tail + v * v;
    if (Math.sqrt(next) <= t || next <= t2) {
      tail = next;
      r--;
    } else break;
  }
  return r;
}

/** truncationRank's walk with each tail norm kept as scale·√ssq: no square under- or overflows. */
function rankByScaledTails(sigma: ArrayLike<number>, threshold: number): number {
  let scale = 0;
  let ssq = 0;
  let r = sigma.length;
  while (r > 0) {
    const v = sigma[r - 1];
    let s = scale;
    let q = ssq;
    if (v > scale) {
      q = 1 + (scale > 0 ? ssq * (scale / v) ** 2 : 0);
      s = v;
    } else if (v > 0) q = ssq + (v / scale) ** 2;
    if (s * Math.sqrt(q) <= threshold) {
      scale = s;
      ssq = q;
      r--;
    } else break;
  }
  return r;
}

function checkFinite1(sigma: ArrayLike<number>): void {
  for (let i = 0; i < sigma.length; i++) {
    const v = sigma[i];
    if (!Number.isFinite(v) || v < 0) throw new Error(`truncationRank: sigma must hold finite values ≥ 0, got ${v} at index ${i}`);
    if (i > 0 && v > sigma[i - 1] * (1 + 1e-12) + 1e-300) {
      throw new Error(`truncationRank: sigma must be sorted descending, got sigma[${i - 1}] = ${sigma[i - 1]} < sigma[${i}] = ${v}`);
    }
  }
}
