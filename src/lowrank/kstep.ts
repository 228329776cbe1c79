/**
 * The K-step of every stored mode from ONE gradient evaluation at the current point, and the new
 * basis directions it brings (docs/integrator.md, "The K-step directions").
 *
 * With Mat_i(C) = S_i Q_iᵀ and V_i = (⊗_{j≠i} U_j) Q_i, the K-step moves K_i = U_i S_i along
 * −Mat_i(G)V_i = −Z_i Q_i, where Z_i = Mat_i(G ×_{j≠i} U_jᵀ) and G = ∇_W L. Two routes give Z_i Q_i:
 * - from the factor gradient: ∇_{U_i}L = Z_i Mat_i(C)ᵀ = Z_i Q_i S_iᵀ, so when Mat_i(C) is
 *   well-conditioned, span(Z_i Q_i) = span(∇_{U_i}L) and the projector Q_iQ_iᵀ onto its row space
 *   is Mat_i(C)ᵀ(Mat_i(C)Mat_i(C)ᵀ)⁻¹Mat_i(C): no inverse decides a basis, one (well-conditioned)
 *   solve gives the core blocks;
 * - from G itself (the gradient probe, a forward through the full kernel) when Mat_i(C) is
 *   ill-conditioned or zero: Z_i is formed, Q_i comes from the Householder QR of Mat_i(C)ᵀ, as in
 *   the paper's K-step, so that a zero core keeps the gradient's directions.
 * Either way a mode yields a direction matrix D_i (n_i × r_i, span[U_i, D_i] = span[U_i, K_i'])
 * and a coefficient matrix E_i (r_i × Π_{j≠i} r_j) with Z_i Q_i Q_iᵀ = D_i E_i.
 */
import { matmul, matmulTA, matmulTB, transpose } from '../linalg/matrix.js';
import { qrRaw } from '../linalg/qr.js';
import { gramCols } from '../linalg/svd-gram.js';
import { unfoldRaw } from '../tucker/unfold.js';
import { modeProductRaw } from '../tucker/product.js';
import { cholesky, choleskyQr, choleskySolve, gramCondition, lowerInverse, solveRowsByCholesky, type LayerPoint } from './layer-point.js';

export interface ModeDirections {
  /** n_i × r_i: span[U_i, D_i] is the span of the K-step's result. */
  d: Float64Array;
  /** r_i × Π_{j≠i} r_j: Z_i Q_i Q_iᵀ = D_i·E_i (Kolda–Bader column order of Mat_i). Formed on first read. */
  readonly e: Float64Array;
  /** X·E_i for an m × r_i matrix X, without forming E_i where a cheaper order exists. */
  timesE(x: Float64Array, m: number): Float64Array;
  /** The plain arrays these directions are built from: modeDirectionsOf(source) rebuilds them (on another thread). */
  readonly source: DirectionsSource;
}

/** What a ModeDirections is made of, as plain arrays (structured-cloneable). */
export type DirectionsSource =
  | { kind: 'factor'; factorGrad: Float64Array; unfolded: Float64Array; chol: Float64Array; rows: number }
  | { kind: 'explicit'; d: Float64Array; e: Float64Array; w: number };

/** The directions a DirectionsSource describes: the same arrays, the same products. */
export function modeDirectionsOf(source: DirectionsSource): ModeDirections {
  return source.kind === 'factor'
    ? directionsFromFactorGrad(source.factorGrad, source.unfolded, source.chol, source.rows)
    : explicitDirections(source.d, source.e, source.w);
}

/**
 * Directions from the autograd gradients: D_i = ∇_{U_i}L, E_i = (Mat_i(C)Mat_i(C)ᵀ)⁻¹Mat_i(C)
 * through the Cholesky factor L of that Gram matrix (the caller checked its conditioning). The
 * step needs only (Ũ_iᵀD_i)·E_i, so the solve is applied to that small m × r_i matrix
 * ((X·L⁻ᵀ)·L⁻¹, then one product with Mat_i(C)) rather than to all Π_{j≠i} r_j columns of Mat_i(C).
 */
export function directionsFromFactorGrad(factorGrad: Float64Array, unfolded: Float64Array, chol: Float64Array, rows: number): ModeDirections {
  const cols = unfolded.length / rows;
  let e: Float64Array | null = null;
  return {
    d: factorGrad,
    source: { kind: 'factor', factorGrad, unfolded, chol, rows },
    get e() {
      if (!e) {
        e = new Float64Array(unfolded);
        choleskySolve(chol, rows, e, cols);
      }
      return e;
    },
    timesE(x: Float64Array, m: number): Float64Array {
      const inv = lowerInverse(chol, rows);
      const y = matmul(matmulTB(x, m, rows, inv, rows), m, rows, inv, rows); // X·L⁻ᵀ·L⁻¹ = X·(LLᵀ)⁻¹
      return matmul(y, m, rows, unfolded, cols);
    },
  };
}

/** Directions with E_i given explicitly (w × Π_{j≠i} r_j): the probe's route, and any caller holding both. */
export function explicitDirections(d: Float64Array, e: Float64Array, w: number): ModeDirections {
  const cols = e.length / w;
  return { d, e, timesE: (x: Float64Array, m: number) => matmul(x, m, w, e, cols), source: { kind: 'explicit', d, e, w } };
}

/** G ×_{j∈modes} U_jᵀ for the stored modes listed (the others are left at full size). */
function projectModes(g: Float64Array, fullShape: readonly number[], point: LayerPoint, skip: number): { data: Float64Array; shape: number[] } {
  let data = g;
  let shape = [...fullShape];
  point.factors.forEach((u, j) => {
    if (!u || j === skip) return;
    const ut = transpose(u, fullShape[j], point.shape[j]);
    const next = modeProductRaw(data, shape, ut, point.shape[j], j);
    data = next.data;
    shape = next.shape;
  });
  return { data, shape };
}

/**
 * Everything a step needs from the full-kernel gradient G (the probe): ∇_C L = G ×_j U_jᵀ, and per
 * stored mode D_i = Z_i Q_i, E_i = Q_iᵀ with Q_i from the Householder QR of Mat_i(C)ᵀ, and the
 * factor gradient ∇_{U_i}L = Z_i Mat_i(C)ᵀ.
 */
export function directionsFromKernelGrad(
  g: Float64Array,
  fullShape: readonly number[],
  point: LayerPoint,
): { coreGrad: Float64Array; modes: (ModeDirections | null)[] } {
  const coreGrad = projectModes(g, fullShape, point, -1).data;
  const modes = point.factors.map((u, i) => {
    if (!u) return null;
    const partial = projectModes(g, fullShape, point, i);
    const n = fullShape[i];
    const r = point.shape[i];
    const z = unfoldRaw(partial.data, partial.shape, i); // n_i × Π_{j≠i} r_j
    const cols = z.length / n;
    const mt = transpose(unfoldRaw(point.core, point.shape, i), r, cols); // Mat_i(C)ᵀ, cols × r
    // Stryker disable next-line StringLiteral: qrRaw treats every mode but 'complete' as reduced
    const { q, qCols } = qrRaw(mt, cols, r, 'reduced');
    return explicitDirections(matmul(z, n, cols, q, qCols), transpose(q, cols, qCols), qCols);
  });
  return { coreGrad, modes };
}

/** x ← (I − UUᵀ)x in place, for orthonormal U (n × r) and x (n × cols): one round of projection. */
function projectOut(u: Float64Array, n: number, r: number, x: Float64Array, cols: number): void {
  const back = matmul(u, n, r, matmulTA(u, n, r, x, cols), cols);
  for (let k = 0; k < x.length; k++) x[k] -= back[k];
}

/** Relative size (to ‖D‖_F) below which a residual direction counts as none. */
export const NEW_DIRECTION_TOL = 1e-12;

/** Relative size (to ‖D‖_F) below which a residual direction counts as none on the Gram route (its squares resolve ~1e-8). */
export const NEW_DIRECTION_GRAM_TOL = 1e-7;

/** From this many residual entries (n·r) on, the new basis comes from the residual's Gram matrix. */
export const NEW_DIRECTION_GRAM_MIN = 16_384;

/**
 * The new directions of a mode: an orthonormal basis Ũ (n × m) of (I − UUᵀ)D, computed from the
 * residual only (U is already orthonormal): two rounds of projection ("twice is enough"), then
 * - small residuals: a column-pivoted Householder QR of the n × r residual, whose diagonal reveals
 *   its rank down to 1e-12‖D‖;
 * - large ones (n·r ≥ NEW_DIRECTION_GRAM_MIN, e.g. a 500-wide layer at rank 100, where the pivoted,
 *   unblocked QR cost a quarter of the step): a Cholesky factorisation of the r × r Gram matrix
 *   RᵀR with diagonal pivoting, stopped where every column left lies within 1e-7‖D‖ of the span
 *   of those chosen (its rank revealed in r²·m flops, no eigendecomposition), Ũ = R_π·L⁻ᵀ on the
 *   m chosen columns, then projected against U a second time and re-orthonormalised by one
 *   Cholesky QR (CholeskyQR2).
 * At most n − r directions exist.
 */
export function newDirections(u: Float64Array, d: Float64Array, n: number, r: number): { basis: Float64Array; count: number } {
  const cols = d.length / n;
  let norm = 0;
  for (let k = 0; k < d.length; k++) norm += d[k] * d[k];
  norm = Math.sqrt(norm);
  // Stryker disable next-line ArithmeticOperator: the residual (I − UUᵀ)D has rank ≤ n − r whatever the cap: past it every route finds only rounding, under its cut
  const room = n - r;
  // Stryker disable next-line LogicalOperator: with no room or a zero D the residual is zero or rounding, and every route then finds no direction
  if (room <= 0 || !(norm > 0)) return { basis: new Float64Array(0), count: 0 };
  const res = new Float64Array(d);
  const gram = n * cols >= NEW_DIRECTION_GRAM_MIN;
  // One round here; every route below projects against U a second time ("twice is enough").
  projectOut(u, n, r, res, cols);
  // The Cholesky route first at any size (no eigendecomposition, no rank to reveal); a residual it
  // declines goes to the Gram route when large, to the pivoted QR otherwise.
  const fast = newDirectionsByCholesky(u, res, n, r, cols, norm, room);
  if (fast.result) return fast.result;
  if (gram) return newDirectionsByGram(u, res, n, r, cols, norm, room, fast.gram);
  projectOut(u, n, r, res, cols);
  // Stryker disable next-line StringLiteral: qrRaw treats every mode but 'complete' as reduced
  const { q, r: rr, qCols } = qrRaw(res, n, cols, 'reduced', true);
  let count = 0;
  // Stryker disable next-line MethodExpression: past the residual's rank (≤ min(cols, n − r)) the pivoted R's diagonal is rounding, under the cut, or read past R (undefined), which stops the count
  const limit = Math.min(qCols, room);
  while (count < limit && Math.abs(rr[count * cols + count]) > NEW_DIRECTION_TOL * norm) count++;
  const basis = new Float64Array(n * count);
  for (let i = 0; i < n; i++) for (let j = 0; j < count; j++) basis[i * count + j] = q[i * qCols + j];
  return { basis, count };
}

/**
 * Cholesky with diagonal pivoting of the symmetric positive semidefinite w × w `g`: the first k
 * pivots π and the k × k lower factor L with G[π, π] = L·Lᵀ, stopped before a pivot whose remaining
 * diagonal (the squared distance of that column from the span of those chosen) is ≤ floor, or at
 * `limit` pivots. The Schur complement's diagonal is updated in place of being recomputed: its
 * rounding, ~ε·max G_jj, lies far below the floors used here (1e-14·‖D‖²).
 */
export function pivotedCholesky(g: Float64Array, w: number, floor: number, limit: number): { l: Float64Array; piv: Int32Array; k: number } {
  const diag = new Float64Array(w);
  for (let j = 0; j < w; j++) diag[j] = g[j * w + j];
  const piv = Int32Array.from({ length: w }, (_, j) => j);
  // Row c of `rows` holds column c's multipliers L[c, 0..k), by original index.
  const rows = new Float64Array(w * w);
  let k = 0;
  while (k < Math.min(w, limit)) {
    let best = k;
    for (let i = k + 1; i < w; i++) if (diag[piv[i]] > diag[piv[best]]) best = i;
    const p = piv[best];
    if (!(diag[p] > floor)) break;
    piv[best] = piv[k];
    piv[k] = p;
    const lkk = Math.sqrt(diag[p]);
    rows[p * w + k] = lkk;
    // Stryker disable next-line ArithmeticOperator: starting at k − 1 also updates the rows and diagonals of pivots already chosen, which are never read again (piv[−1] writes nothing)
    for (let i = k + 1; i < w; i++) {
      const c = piv[i];
      let v = g[c * w + p];
      for (let t = 0; t < k; t++) v -= rows[c * w + t] * rows[p * w + t];
      v /= lkk;
      rows[c * w + k] = v;
      diag[c] -= v * v;
    }
    k++;
  }
  const l = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b <= a; b++) l[a * k + b] = rows[piv[a] * w + b];
  return { l, piv: piv.slice(0, k), k };
}

function newDirectionsByGram(
  u: Float64Array,
  res: Float64Array,
  n: number,
  r: number,
  cols: number,
  norm: number,
  room: number,
  resGram: Float64Array | null,
): { basis: Float64Array; count: number } {
  // RᵀR as the Cholesky route formed it, when it got that far.
  const gram = resGram ?? gramCols(res, n, cols);
  const { l, piv, k: count } = pivotedCholesky(gram, cols, (NEW_DIRECTION_GRAM_TOL * norm) ** 2, room);
  if (count === 0) return { basis: new Float64Array(0), count: 0 };
  // Ũ = R_π·L⁻ᵀ: orthonormal in exact arithmetic (L⁻¹·G[π, π]·L⁻ᵀ = I), and to ε·cond(R_π)² here.
  const basis = new Float64Array(n * count);
  for (let i = 0; i < n; i++) for (let j = 0; j < count; j++) basis[i * count + j] = res[i * cols + piv[j]];
  solveRowsByCholesky(l, basis, n, count);
  projectOut(u, n, r, basis, count);
  // Stryker disable next-line ObjectLiteral: unreachable: the columns R_π·L⁻ᵀ are orthonormal to ε·cond(R_π)² ≪ 1, so this Cholesky QR never fails
  if (!choleskyQr(basis, n, count)) return { basis: new Float64Array(0), count: 0 };
  return { basis, count };
}

/**
 * Residuals at most this ill-conditioned (2-norm condition number, estimated) are orthonormalised
 * by Cholesky QR rather than the pivoted Householder QR: the first Cholesky QR then loses at most
 * ε·cond² ≈ 2e-8 of orthonormality, which the second restores (CholeskyQR2).
 */
export const NEW_DIRECTION_CHOL_COND = 1e4;

/** ...and whose smallest singular value is at least this share of ‖D‖_F, far above the 1e-12 cut. */
export const NEW_DIRECTION_CHOL_MIN = 1e-6;

/**
 * The common case of a small residual R = (I − UUᵀ)D: all of its columns are directions, well
 * apart from the cut, so no rank needs revealing. Ũ = R·L⁻ᵀ with L·Lᵀ = RᵀR, projected against U
 * a second time and re-orthonormalised by one more Cholesky QR: Gram products and triangular
 * solves on the GEMM, where the pivoted Householder QR runs in plain loops. Null when R is too
 * ill-conditioned or too small, or has more columns than room: the caller takes the pivoted QR
 * or, for a large residual, the Gram route, which reuses the Gram matrix RᵀR formed here.
 */
function newDirectionsByCholesky(
  u: Float64Array,
  res: Float64Array,
  n: number,
  r: number,
  cols: number,
  norm: number,
  room: number,
): { result: { basis: Float64Array; count: number } | null; gram: Float64Array | null } {
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ObjectLiteral: route switch only (a residual wider than the room is singular, which the checks below decline anyway); any orthonormal basis of the residual's range gives the same augmented span, which is all the step reads (kstep.test.ts checks each route's span)
  if (cols > room) return { result: null, gram: null };
  const gram = gramCols(res, n, cols);
  // Stryker disable next-line ObjectLiteral: without the Gram matrix the next route forms it again: the same matrix
  const declined = { result: null, gram };
  const l = cholesky(gram, cols);
  // Stryker disable next-line BooleanLiteral,ConditionalExpression: route switch only (without L the condition estimate is Infinity, which declines); any orthonormal basis of the residual's range gives the same augmented span, which is all the step reads (kstep.test.ts checks each route's span)
  if (!l) return declined;
  let trace = 0;
  // Stryker disable next-line ArithmeticOperator,AssignmentOperator,ConditionalExpression,EqualityOperator: NaN, 0 or another sum of cols Gram entries (each ≤ max g_jj ≤ σ_max²): an accepted residual still has every σ ≳ 1e-6‖D‖/1.1, all directions, so only the route changes
  for (let j = 0; j < cols; j++) trace += gram[j * cols + j];
  const cond = gramCondition(gram, l, cols);
  // σ_min = σ_max/cond ≥ (‖R‖_F/√cols)/cond.
  if (!(cond <= NEW_DIRECTION_CHOL_COND) || !(Math.sqrt(trace / cols) / cond >= NEW_DIRECTION_CHOL_MIN * norm)) return declined;
  const basis = new Float64Array(res);
  solveRowsByCholesky(l, basis, n, cols);
  projectOut(u, n, r, basis, cols);
  // Stryker disable next-line BooleanLiteral: declining a result that succeeded is a route switch, and this second Cholesky QR never fails (cond ≤ 1e4 checked above)
  if (!choleskyQr(basis, n, cols)) return declined;
  return { result: { basis, count: cols }, gram };
}
