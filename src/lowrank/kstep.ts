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
import { matmul, matmulTA, transpose } from '../linalg/matrix.js';
import { qrRaw } from '../linalg/qr.js';
import { unfoldRaw } from '../tucker/unfold.js';
import { modeProductRaw } from '../tucker/product.js';
import { choleskyQr, choleskySolve, type LayerPoint } from './layer-point.js';
import { eighRaw } from '../linalg/eigh.js';

export interface ModeDirections {
  /** n_i × r_i: span[U_i, D_i] is the span of the K-step's result. */
  d: Float64Array;
  /** r_i × Π_{j≠i} r_j: Z_i Q_i Q_iᵀ = D_i·E_i (Kolda–Bader column order of Mat_i). */
  e: Float64Array;
}

/**
 * Directions from the autograd gradients: D_i = ∇_{U_i}L, E_i = (Mat_i(C)Mat_i(C)ᵀ)⁻¹Mat_i(C)
 * through the Cholesky factor L of that Gram matrix (the caller checked its conditioning).
 */
export function directionsFromFactorGrad(factorGrad: Float64Array, unfolded: Float64Array, chol: Float64Array, rows: number): ModeDirections {
  const cols = unfolded.length / rows;
  const e = Float64Array.from(unfolded);
  choleskySolve(chol, rows, e, cols);
  return { d: factorGrad, e };
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
    const { q, qCols } = qrRaw(mt, cols, r, 'reduced');
    const d = matmul(z, n, cols, q, qCols);
    return { d, e: transpose(q, cols, qCols) };
  });
  return { coreGrad, modes };
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
 *   unblocked QR cost a quarter of the step): the eigendecomposition of the r × r Gram matrix RᵀR
 *   on the GEMM, directions above 1e-7‖D‖ kept, Ũ = R·V·Λ^{-½}, then projected against U a second
 *   time (on the m kept columns, not the r of the residual) and re-orthonormalised by one
 *   Cholesky QR (CholeskyQR2).
 * At most n − r directions exist.
 */
export function newDirections(u: Float64Array, d: Float64Array, n: number, r: number): { basis: Float64Array; count: number } {
  const cols = d.length / n;
  let norm = 0;
  for (let k = 0; k < d.length; k++) norm += d[k] * d[k];
  norm = Math.sqrt(norm);
  const room = n - r;
  if (room <= 0 || !(norm > 0)) return { basis: new Float64Array(0), count: 0 };
  const res = Float64Array.from(d);
  // The Gram route projects its basis against U again at the end, so one round here is enough.
  const gram = n * cols >= NEW_DIRECTION_GRAM_MIN;
  for (let pass = 0; pass < (gram ? 1 : 2); pass++) {
    const coef = matmulTA(u, n, r, res, cols);
    const back = matmul(u, n, r, coef, cols);
    for (let k = 0; k < res.length; k++) res[k] -= back[k];
  }
  if (gram) return newDirectionsByGram(u, res, n, r, cols, norm, room);
  const { q, r: rr, qCols } = qrRaw(res, n, cols, 'reduced', true);
  let count = 0;
  const limit = Math.min(qCols, room);
  while (count < limit && Math.abs(rr[count * cols + count]) > NEW_DIRECTION_TOL * norm) count++;
  const basis = new Float64Array(n * count);
  for (let i = 0; i < n; i++) for (let j = 0; j < count; j++) basis[i * count + j] = q[i * qCols + j];
  return { basis, count };
}

function newDirectionsByGram(
  u: Float64Array,
  res: Float64Array,
  n: number,
  r: number,
  cols: number,
  norm: number,
  room: number,
): { basis: Float64Array; count: number } {
  const { values, vectors } = eighRaw(matmulTA(res, n, cols, res, cols), cols);
  const floor = (NEW_DIRECTION_GRAM_TOL * norm) ** 2;
  let count = 0;
  while (count < Math.min(cols, room) && values[cols - 1 - count] > floor) count++;
  if (count === 0) return { basis: new Float64Array(0), count: 0 };
  // V_k·Λ_k^{-½}, largest first.
  const w = new Float64Array(cols * count);
  for (let j = 0; j < count; j++) {
    const src = cols - 1 - j;
    const inv = 1 / Math.sqrt(values[src]);
    for (let i = 0; i < cols; i++) w[i * count + j] = vectors[i * cols + src] * inv;
  }
  const basis = matmul(res, n, cols, w, count);
  const back = matmul(u, n, r, matmulTA(u, n, r, basis, count), count);
  for (let k = 0; k < basis.length; k++) basis[k] -= back[k];
  if (!choleskyQr(basis, n, count)) return { basis: new Float64Array(0), count: 0 };
  return { basis, count };
}
