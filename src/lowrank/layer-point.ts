/**
 * The current point of one Tucker layer as the integrator reads it: core and factors in float64,
 * the factors' orthonormality repaired when float32 storage has let it drift, and the conditioning
 * of each core unfolding, which decides how the K-step directions are recovered
 * (docs/integrator.md, "The K-step directions" and "Drift").
 */
import { gemm64, matmul, matmulTB } from '../linalg/matrix.js';
import { eighRaw } from '../linalg/eigh.js';
import { gramCols, gramRows } from '../linalg/svd-gram.js';
import { unfoldRaw } from '../tucker/unfold.js';
import { modeProductRaw } from '../tucker/product.js';
import type { TuckerLayer } from './tucker-layer.js';

/**
 * Largest condition number of Mat_i(C) for which the K-step direction Mat_i(G)V_i is recovered
 * from the factor gradient ∇_{U_i}L = Mat_i(G)V_i S_iᵀ through (Mat_i(C)Mat_i(C)ᵀ)⁻¹: the
 * Gram matrix then has condition ≤ 1e6, so the solve loses at most ~1e-10 in float64, and the
 * float32 gradient's rounding (~1e-7 relative) is amplified to at most ~1e-4. Above it, the layer
 * runs one forward/backward through its full kernel (the gradient probe) instead.
 */
export const K_STEP_COND_LIMIT = 1e3;

/** ‖UᵀU − I‖_F above which a stored factor is re-orthonormalised (float32 rounding accumulates). */
export const DRIFT_LIMIT = 5e-7;

/**
 * The limit for a factor of r columns: float32 storage alone leaves ‖UᵀU − I‖_F ≈ 1.6e-9·r (measured:
 * 8e-7 at r = 500), so a fixed limit would repair every step at large r and gain nothing.
 */
export function driftLimit(r: number): number {
  return Math.max(DRIFT_LIMIT, 5e-9 * r);
}

export interface LayerPoint {
  /** Core shape: r_i on stored modes, n_i where the mode is kept full. */
  shape: number[];
  core: Float64Array;
  /** U_i, n_i × r_i row-major, null where the mode is kept full. */
  factors: (Float64Array | null)[];
  /** Per stored mode: ‖U_iᵀU_i − I‖_F as read, before any repair. */
  drift: number[];
  /** Whether any factor was re-orthonormalised (the point W is unchanged up to rounding). */
  repaired: boolean;
}

/** Reads a layer's point in float64 and re-orthonormalises factors whose drift passed DRIFT_LIMIT. */
export function readPoint(layer: TuckerLayer): LayerPoint {
  const shape = layer.ranks;
  let core: Float64Array = new Float64Array(layer.core.data);
  const factors: (Float64Array | null)[] = layer.factors.map((f) => (f ? new Float64Array(f.data) : null));
  const drift = factors.map(() => 0);
  let repaired = false;
  factors.forEach((u, i) => {
    if (!u) return;
    const n = layer.fullShape[i];
    const r = shape[i];
    const gram = gramCols(u, n, r);
    let d2 = 0;
    for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) d2 += (gram[a * r + b] - (a === b ? 1 : 0)) ** 2;
    drift[i] = Math.sqrt(d2);
    if (drift[i] <= driftLimit(r)) return;
    // Polar repair: U = U'·(UᵀU)^½ with U' orthonormal, so C ×_i (UᵀU)^½ keeps W = C ×_i U exactly.
    const { half, invHalf } = drift[i] <= POLAR_SERIES_MAX ? gramRootsBySeries(gram, r) : gramRootsByEigh(gram, r);
    factors[i] = matmul(u, n, r, invHalf, r);
    core = modeProductRaw(core, shape, half, r, i).data;
    repaired = true;
  });
  return { shape, core, factors, drift, repaired };
}

/**
 * Drift up to which the polar repair takes (UᵀU)^{±½} from their series rather than an
 * eigendecomposition. Float32 storage leaves a factor's drift at about 1e-7·√(n·r) (5e-6 at
 * 128 × 64), past DRIFT_LIMIT, so the repair runs on most steps of wide layers, and its r × r
 * eigendecomposition was the larger part of reading the point there.
 */
export const POLAR_SERIES_MAX = 1e-4;

/**
 * (UᵀU)^{±½} for UᵀU = I + E with ‖E‖_F ≤ POLAR_SERIES_MAX: I ± ½E + (−⅛, ⅜)E², whose truncation
 * errors are O(‖E‖³) ≤ 1e-12: the repaired factor is orthonormal, and the two roots multiply to I,
 * to that order. One r × r product on the GEMM in place of an eigendecomposition.
 */
export function gramRootsBySeries(gram: Float64Array, r: number): { half: Float64Array; invHalf: Float64Array } {
  const e = new Float64Array(gram);
  for (let a = 0; a < r; a++) e[a * r + a] -= 1;
  const e2 = matmul(e, r, r, e, r);
  const half = new Float64Array(r * r);
  const invHalf = new Float64Array(r * r);
  for (let k = 0; k < r * r; k++) {
    half[k] = 0.5 * e[k] - 0.125 * e2[k];
    invHalf[k] = -0.5 * e[k] + 0.375 * e2[k];
  }
  for (let a = 0; a < r; a++) {
    half[a * r + a] += 1;
    invHalf[a * r + a] += 1;
  }
  return { half, invHalf };
}

/**
 * (UᵀU)^{±½} = V·diag(λ^{±½})·Vᵀ for any drift: the columns of V scaled once, then two products on
 * the GEMM (in plain loops with a square root per term this was r³ work in every repair).
 */
export function gramRootsByEigh(gram: Float64Array, r: number): { half: Float64Array; invHalf: Float64Array } {
  const { values, vectors } = eighRaw(gram, r);
  const scaled = new Float64Array(r * r);
  const invScaled = new Float64Array(r * r);
  for (let k = 0; k < r; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    const is = s > 0 ? 1 / s : 0;
    for (let a = 0; a < r; a++) {
      scaled[a * r + k] = vectors[a * r + k] * s;
      invScaled[a * r + k] = vectors[a * r + k] * is;
    }
  }
  return { half: matmulTB(scaled, r, r, vectors, r), invHalf: matmulTB(invScaled, r, r, vectors, r) };
}

/**
 * The Gram matrix Mat_i(C)·Mat_i(C)ᵀ (r_i × r_i) and the unfolding itself. The Gram matrix by
 * gramRows (the lower triangle, mirrored): the same values as the full product, at half its
 * multiply-adds (a 128 × 128 × 3 × 3 core, 256 channels at ratio ½: 3.0–3.6 → 1.6–1.7 ms a mode;
 * a 256 × 256 × 3 × 3 core: 21–26 → 12–15 ms; interleaved, two threads available, which the full
 * product splits over and the Gram's syrk does not).
 */
export function unfoldingGram(core: Float64Array, shape: readonly number[], i: number): { unfolded: Float64Array; gram: Float64Array } {
  const rows = shape[i];
  const cols = core.length / rows;
  const unfolded = unfoldRaw(core, shape, i);
  return { unfolded, gram: gramRows(unfolded, rows, cols) };
}

/** Order up to which cholesky factors a diagonal block by plain loops; larger ones are halved. */
export const CHOLESKY_LEAF = 80;

/**
 * Cholesky factor L (lower, row-major) of a symmetric positive definite matrix (its lower triangle
 * is read), or null when a pivot is not positive (the matrix is singular to working precision).
 * Up to CHOLESKY_LEAF rows by plain loops; a larger matrix is halved (right-looking, LAPACK's
 * dpotrf in spirit): L₁₁ from A₁₁, L₂₁ = A₂₁·L₁₁⁻ᵀ and the Schur complement A₂₂ − L₂₁·L₂₁ᵀ on the
 * float64 GEMM, L₂₂ from that. The plain loops' n³/6 multiply-adds ran at well under a GFLOP/s:
 * 1.1 ms at 128 rows and 10 ms at 256, the sizes of a wide layer's unfoldings and new directions.
 */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  // The trailing Schur complements are formed in a copy; the leaves read their block of it.
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a copy where none is written only costs the copy
  const work = n > CHOLESKY_LEAF ? Float64Array.from(a) : a;
  return choleskyBlock(work, n, 0, n, l) ? l : null;
}

/** l's m × m diagonal block at (at, at) = the Cholesky factor of work's (both n × n); false at a pivot ≤ 0. */
function choleskyBlock(work: Float64Array, n: number, at: number, m: number, l: Float64Array): boolean {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: route switch only: by halves or by plain loops, the same factor to rounding
  if (m <= CHOLESKY_LEAF) return choleskyLeaf(work, n, at, m, l);
  const m1 = m >> 1;
  const m2 = m - m1;
  const b = at + m1;
  if (!choleskyBlock(work, n, at, m1, l)) return false;
  // L₂₁ = A₂₁·L₁₁⁻ᵀ, written into l in place (row stride n).
  const l11 = new Float64Array(m1 * m1);
  // Stryker disable next-line EqualityOperator: row m1 would land past l11's end, where writes are dropped
  for (let i = 0; i < m1; i++) for (let j = 0; j <= i; j++) l11[i * m1 + j] = l[(at + i) * n + at + j];
  gemm64(false, true, m2, m1, m1, work, b * n + at, n, lowerInverse(l11, m1), 0, m1, l, b * n + at, n);
  // A₂₂ − L₂₁·L₂₁ᵀ into work's trailing block (its lower triangle is what the next block reads).
  const update = gramRows(l.subarray(b * n + at), m2, m1, n);
  for (let i = 0; i < m2; i++) for (let j = 0; j <= i; j++) work[(b + i) * n + b + j] -= update[i * m2 + j];
  return choleskyBlock(work, n, b, m2, l);
}

/** The plain-loop Cholesky of work's m × m diagonal block at (at, at) into l's; false at a pivot ≤ 0. */
function choleskyLeaf(a: Float64Array, n: number, at: number, m: number, l: Float64Array): boolean {
  for (let j = 0; j < m; j++) {
    const rj = (at + j) * n + at;
    let d = a[rj + j];
    // Stryker disable next-line EqualityOperator: l's entry j of row j is still 0 here
    for (let k = 0; k < j; k++) d -= l[rj + k] * l[rj + k];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    l[rj + j] = ljj;
    // Stryker disable next-line EqualityOperator: row m lies past the block: outside the matrix (writes dropped), or in a block below whose part left of the diagonal the enclosing product overwrites
    for (let i = j + 1; i < m; i++) {
      const ri = (at + i) * n + at;
      let s = a[ri + j];
      // Stryker disable next-line EqualityOperator: l's entry j of row i is still 0 here
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      l[ri + j] = s / ljj;
    }
  }
  return true;
}

/** Solves L·Lᵀ·X = B in place for B (n × c, row-major). */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, c: number): void {
  // One right-hand side (the condition estimate's solves): the loop over columns costs more than the arithmetic.
  if (c === 1) {
    choleskySolveVector(l, n, b);
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const f = l[i * n + k];
      if (f !== 0) for (let j = 0; j < c; j++) b[i * c + j] -= f * b[k * c + j];
    }
    const d = l[i * n + i];
    for (let j = 0; j < c; j++) b[i * c + j] /= d;
  }
  // Stryker disable next-line ArithmeticOperator: starting at n + 1 adds two passes whose reads and writes fall past the end of l and b (dropped)
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const f = l[k * n + i];
      if (f !== 0) for (let j = 0; j < c; j++) b[i * c + j] -= f * b[k * c + j];
    }
    const d = l[i * n + i];
    for (let j = 0; j < c; j++) b[i * c + j] /= d;
  }
}

/**
 * Solves L·Lᵀ·x = b in place for one vector (choleskySolve with c = 1 comes here): the same
 * substitutions without the inner loop over right-hand sides, which for a single one cost more
 * than the arithmetic (up to 12 solves of an r × r factor per condition estimate, every step).
 */
export function choleskySolveVector(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let v = b[i];
    const row = i * n;
    for (let k = 0; k < i; k++) v -= l[row + k] * b[k];
    b[i] = v / l[row + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let v = b[i];
    for (let k = i + 1; k < n; k++) v -= l[k * n + i] * b[k];
    b[i] = v / l[i * n + i];
  }
}

/** Most iterations of each of the condition estimate's two iterations. */
export const CONDITION_ITERATIONS = 12;

/**
 * An iteration of the condition estimate stops once its eigenvalue estimate moves by at most this
 * share between two iterations (after three): the estimate only has to tell orders of magnitude
 * apart, and at r = 64 and 128 this stops it after about a third of the iterations.
 */
export const CONDITION_SETTLED = 1e-3;

/**
 * The 2-norm condition number of Mat_i(C), √(λ_max/λ_min) of its Gram matrix, estimated by power
 * and inverse iteration (the Cholesky factor does the inverse), at most CONDITION_ITERATIONS steps
 * each and fewer once the estimate settles (CONDITION_SETTLED); Infinity where the Gram matrix is
 * not numerically positive definite. Both iterations estimate their eigenvalue from below
 * (‖Gv‖ ≤ λ_max and ‖G⁻¹v‖ ≤ 1/λ_min for a unit v), so the condition number is estimated from
 * below; it converges fast for the clustered small-rank spectra met here, and the guard needs its
 * order of magnitude only.
 */
export function gramCondition(gram: Float64Array, l: Float64Array | null, n: number): number {
  if (!l) return Infinity;
  // Stryker disable next-line ConditionalExpression: a shortcut: for one row both iterations give λ itself, and the estimate 1
  if (n === 1) return 1;
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  // A fixed, deterministic start with a component along every direction.
  // Stryker disable next-line ArithmeticOperator,EqualityOperator: another start vector with a component along every direction (or a write past the typed array's end, which is dropped); the estimate only picks between the factor-gradient and the full-kernel K-step routes, which give the same directions (integrator-parallel.test.ts)
  for (let i = 0; i < n; i++) v[i] = 1 + i / n;
  // Stryker disable next-line ArithmeticOperator,CallExpression: the start's scale: every iteration normalises, and none before the third may stop
  scaleTo(v, n, 1 / norm2(v, n));
  let lmax = 0;
  // Stryker disable next-line EqualityOperator: a 13th iteration only sharpens an estimate from below
  for (let it = 0; it < CONDITION_ITERATIONS; it++) {
    // Stryker disable next-line EqualityOperator: row n lies past the end: its sum is NaN, written past w's end (dropped)
    for (let i = 0; i < n; i++) {
      const row = i * n;
      let s = 0;
      // Stryker disable next-line AssignmentOperator: −G·v has the same norm; the sign alternates
      for (let j = 0; j < n; j++) s += gram[row + j] * v[j];
      w[i] = s;
    }
    const next = norm2(w, n);
    // Stryker disable next-line EqualityOperator: a write past the typed array's end, which is dropped
    for (let i = 0; i < n; i++) v[i] = w[i] / next;
    const settled = settledAt(it, lmax, next);
    lmax = next;
    // Stryker disable next-line ConditionalExpression: never stopping early is the 12 iterations (see settledAt)
    if (settled) break;
  }
  // Stryker disable next-line ArithmeticOperator,ConditionalExpression,EqualityOperator: another start (or the last power-iteration vector, which rounding leaves with components that the inverse steps amplify); the estimate only picks between the factor-gradient and the full-kernel K-step routes, which give the same directions (integrator-parallel.test.ts)
  for (let i = 0; i < n; i++) v[i] = 1 - i / (2 * n);
  // Stryker disable next-line ArithmeticOperator,CallExpression: the start's scale: every iteration normalises, and none before the third may stop
  scaleTo(v, n, 1 / norm2(v, n));
  let inv = 0;
  // Stryker disable next-line EqualityOperator: a 13th iteration only sharpens an estimate from below
  for (let it = 0; it < CONDITION_ITERATIONS; it++) {
    choleskySolveVector(l, n, v);
    const next = norm2(v, n);
    scaleTo(v, n, 1 / next);
    const settled = settledAt(it, inv, next);
    inv = next;
    // Stryker disable next-line ConditionalExpression: never stopping early is the 12 iterations (see settledAt)
    if (settled) break;
  }
  const lmin = 1 / inv;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: lmin = 1/inv is positive, or 0 where inv is infinite, and √(λ_max/0) is ∞ too
  return lmin > 0 ? Math.sqrt(lmax / lmin) : Infinity;
}

/** Whether iteration `it` moved the estimate from `before` to `now` by at most CONDITION_SETTLED of it (from the third on). */
// Stryker disable next-line BlockStatement: an empty body never settles: the 12 iterations
function settledAt(it: number, before: number, now: number): boolean {
  // Stryker disable next-line ArithmeticOperator,BooleanLiteral,ConditionalExpression,EqualityOperator,LogicalOperator: when to stop only trades time for the last digits of an estimate from below: stopping never (the 12 iterations) or an iteration sooner moves it by far less than the order of magnitude the guard reads (layer-point.test.ts holds it within 10% either way)
  return it >= 2 && Math.abs(now - before) <= CONDITION_SETTLED * now;
}

function norm2(x: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function scaleTo(x: Float64Array, n: number, f: number): void {
  // Stryker disable next-line EqualityOperator: a write past the typed array's end, which is dropped
  for (let i = 0; i < n; i++) x[i] *= f;
}

/**
 * Cholesky QR in place: p (rows × c, columns nearly orthonormal or at least well-conditioned)
 * becomes p·L⁻ᵀ with L·Lᵀ = pᵀp, so its columns are orthonormal and span the same space. Returns
 * false, leaving p as it was, when pᵀp is not numerically positive definite.
 */
export function choleskyQr(p: Float64Array, rows: number, c: number): boolean {
  const l = cholesky(gramCols(p, rows, c), c);
  if (!l) return false;
  solveRowsByCholesky(l, p, rows, c);
  return true;
}

/** Order up to which lowerInverse inverts a diagonal block by plain loops; larger ones are halved. */
export const LOWER_INVERSE_LEAF = 48;

/**
 * The inverse of a lower-triangular c × c matrix (row-major; lower triangular too). Blocks of up
 * to LOWER_INVERSE_LEAF rows by plain loops (lowerInverseLeaf); a larger one is halved,
 * [[L₁₁, 0], [L₂₁, L₂₂]]⁻¹ = [[L₁₁⁻¹, 0], [−L₂₂⁻¹·L₂₁·L₁₁⁻¹, L₂₂⁻¹]], the two halves inverted the
 * same way and the corner formed by two products on the float64 GEMM (LAPACK's dtrtri in spirit).
 * The plain loops' c³/6 multiply-adds ran at well under a GFLOP/s: at c = 128 and 256 (the
 * Cholesky factors of a 128- and 256-channel layer's new directions) this is several times faster.
 */
export function lowerInverse(l: Float64Array, c: number): Float64Array {
  const inv = new Float64Array(c * c);
  invertDiagonalBlock(l, c, 0, c, inv);
  return inv;
}

/** inv's n × n diagonal block at (at, at) = the inverse of l's (both c × c row-major). */
function invertDiagonalBlock(l: Float64Array, c: number, at: number, n: number, inv: Float64Array): void {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: route switch only: by halves or by plain loops, the same inverse to rounding
  if (n <= LOWER_INVERSE_LEAF) {
    lowerInverseLeaf(l, c, at, n, inv);
    return;
  }
  const n1 = n >> 1;
  const n2 = n - n1;
  const b = at + n1;
  invertDiagonalBlock(l, c, at, n1, inv);
  invertDiagonalBlock(l, c, b, n2, inv);
  // X₂₁ = −X₂₂·(L₂₁·X₁₁): L₂₁ and X₁₁ read in place (row stride c), the result written in place.
  const t = gemm64(false, false, n2, n1, n1, l, b * c + at, c, inv, at * c + at, c);
  gemm64(false, false, n2, n1, n2, inv, b * c + b, c, t, 0, n1, inv, b * c + at, c);
  // Stryker disable next-line EqualityOperator: row b + n2 lies past this block: outside the matrix (writes to a typed array past its end do nothing), or in the enclosing block's corner, which its own product overwrites afterwards
  for (let i = b; i < b + n2; i++) for (let j = at; j < b; j++) inv[i * c + j] = -inv[i * c + j];
}

/**
 * The inverse of l's n × n diagonal block at (at, at) into inv's, row by row: row i is
 * (e_i − Σ_{k<i} l_ik·row k) / l_ii, so every inner loop runs along a row in memory (the
 * column-by-column form strides through both matrices).
 */
function lowerInverseLeaf(l: Float64Array, c: number, at: number, n: number, inv: Float64Array): void {
  // Stryker disable next-line EqualityOperator: row n of the block lies past it: outside the matrix, or the next block's first row, whose corner part the enclosing product overwrites and whose diagonal entry that block assigns
  for (let i = 0; i < n; i++) {
    const ri = (at + i) * c + at;
    for (let k = 0; k < i; k++) {
      const f = l[ri + k];
      // Stryker disable next-line ConditionalExpression: skipping a zero multiplier only saves its row's pass; the pass subtracts 0
      if (f === 0) continue;
      const rk = (at + k) * c + at;
      for (let j = 0; j <= k; j++) inv[ri + j] -= f * inv[rk + j];
    }
    const d = 1 / l[ri + i];
    // Stryker disable next-line EqualityOperator: entry i of the row is still 0 here, and is assigned next
    for (let j = 0; j < i; j++) inv[ri + j] *= d;
    inv[ri + i] = d;
  }
}

/**
 * p ← p·L⁻ᵀ in place (rows × c), L lower triangular c × c: each row x solves L·xᵀ = rowᵀ. For
 * many rows, through L⁻¹ (c³/3 flops) and one product on the GEMM instead of rows·c²/2 flops of
 * substitution in plain loops.
 */
export function solveRowsByCholesky(l: Float64Array, p: Float64Array, rows: number, c: number): void {
  // Stryker disable next-line BlockStatement,ConditionalExpression,EqualityOperator,LogicalOperator: route switch only: through L⁻¹ on the GEMM or by substitution, the same solve to rounding
  if (rows >= c && c >= 4) {
    p.set(matmulTB(p, rows, c, lowerInverse(l, c), c));
    return;
  }
  const row = new Float64Array(c);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < c; j++) {
      let v = p[i * c + j];
      for (let k = 0; k < j; k++) v -= l[j * c + k] * row[k];
      row[j] = v / l[j * c + j];
    }
    p.set(row, i * c);
  }
}
