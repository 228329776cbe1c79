/**
 * The Koch–Lubich tangent projection of the Tucker manifold, computed on full tensors for the
 * tests, independently of the integrator's block assembly:
 *   P_T(Z) = Z ×_j P_j + Σ_i (I − P_i) ×_i Ten_i(Mat_i(Z ×_{j≠i} U_jᵀ) Π_i) ×_{j≠i} U_j,
 * with P_j = U_jU_jᵀ on the stored modes (identity elsewhere) and Π_i the orthogonal projector
 * onto the row space of Mat_i(C), taken from a Jacobi SVD of the unfolding.
 */
import { matmul, matmulTA, transpose } from '../../src/linalg/matrix.js';
import { svdRaw } from '../../src/linalg/svd.js';
import type { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { modeProductRaw } from '../../src/tucker/product.js';
import { foldRaw, unfoldRaw } from '../../src/tucker/unfold.js';

export interface TuckerPoint {
  fullShape: number[];
  ranks: number[];
  core: Float64Array;
  factors: (Float64Array | null)[];
}

export function pointOf(layer: TuckerLayer): TuckerPoint {
  return {
    fullShape: [...layer.fullShape],
    ranks: layer.ranks,
    core: Float64Array.from(layer.core.data),
    factors: layer.factors.map((f) => (f ? Float64Array.from(f.data) : null)),
  };
}

/** T ×_j M_j over the listed modes (M_j given as rows × current size). */
function applyModes(t: Float64Array, shape: number[], mats: (Float64Array | null)[], rows: number[]): { data: Float64Array; shape: number[] } {
  let data = t;
  let s = shape.slice();
  mats.forEach((m, j) => {
    if (!m) return;
    const r = modeProductRaw(data, s, m, rows[j], j);
    data = r.data;
    s = r.shape;
  });
  return { data, shape: s };
}

/** Row-space projector of Mat_i(C) (cols × cols), from the right singular vectors of nonzero σ. */
function rowSpaceProjector(core: Float64Array, ranks: number[], i: number): Float64Array {
  const rows = ranks[i];
  const cols = core.length / rows;
  const { s, v } = svdRaw(unfoldRaw(core, ranks, i), rows, cols, { wantU: false, wantV: true });
  const k = s.length;
  let rank = 0;
  while (rank < k && s[rank] > 1e-12 * s[0]) rank++;
  const vk = new Float64Array(cols * rank);
  const vv = v as Float64Array;
  const vCols = vv.length / cols;
  for (let a = 0; a < cols; a++) for (let b = 0; b < rank; b++) vk[a * rank + b] = vv[a * vCols + b];
  return matmul(vk, cols, rank, transpose(vk, cols, rank), cols);
}

export function tangentProject(p: TuckerPoint, z: Float64Array): Float64Array {
  const n = p.fullShape;
  const d = n.length;
  const proj = p.factors.map((u, j) => (u ? matmul(u, n[j], p.ranks[j], transpose(u, n[j], p.ranks[j]), n[j]) : null));
  const out = applyModes(z, n, proj, n).data.slice();
  for (let i = 0; i < d; i++) {
    const ui = p.factors[i];
    if (!ui) continue;
    const ut = p.factors.map((u, j) => (u && j !== i ? transpose(u, n[j], p.ranks[j]) : null));
    const small = applyModes(z, n, ut, p.ranks);
    const rest = small.data.length / n[i];
    const y = matmul(unfoldRaw(small.data, small.shape, i), n[i], rest, rowSpaceProjector(p.core, p.ranks, i), rest);
    const back = applyModes(
      foldRaw(y, i, small.shape),
      small.shape,
      p.factors.map((u, j) => (u && j !== i ? u : null)),
      n,
    );
    // (I − P_i) on mode i.
    const inSpan = modeProductRaw(back.data, n, proj[i] as Float64Array, n[i], i).data;
    for (let k = 0; k < out.length; k++) out[k] += back.data[k] - inSpan[k];
  }
  return out;
}

/** Z ×_j Û_jᵀ over the stored modes (coordinates in an augmented basis). */
export function coordinates(z: Float64Array, fullShape: number[], bases: (Float64Array | null)[], augRanks: number[]): Float64Array {
  const bt = bases.map((b, j) => (b ? transpose(b, fullShape[j], augRanks[j]) : null));
  return applyModes(z, fullShape, bt, augRanks).data;
}

/** Mat_i(G ×_{j≠i} U_jᵀ), n_i × Π_{j≠i} r_j. */
export function partialProjection(p: TuckerPoint, g: Float64Array, i: number): Float64Array {
  const ut = p.factors.map((u, j) => (u && j !== i ? transpose(u, p.fullShape[j], p.ranks[j]) : null));
  const small = applyModes(g, p.fullShape, ut, p.ranks);
  return unfoldRaw(small.data, small.shape, i);
}

/** Orthonormal basis of the column space of a (rows × cols), by Jacobi SVD (σ > 1e-10·σ₁). */
export function rangeBasis(a: Float64Array, rows: number, cols: number): { basis: Float64Array; rank: number } {
  const { u, s } = svdRaw(a, rows, cols, { wantU: true, wantV: false });
  let rank = 0;
  while (rank < s.length && s[rank] > 1e-10 * s[0]) rank++;
  const uu = u as Float64Array;
  const uCols = uu.length / rows;
  const basis = new Float64Array(rows * rank);
  for (let a = 0; a < rows; a++) for (let b = 0; b < rank; b++) basis[a * rank + b] = uu[a * uCols + b];
  return { basis, rank };
}

/** ‖(I − QQᵀ)A‖_F for Q with orthonormal columns: how far A's columns lie outside span(Q). */
export function outsideSpan(q: Float64Array, rows: number, qc: number, a: Float64Array, ac: number): number {
  const coef = matmulTA(q, rows, qc, a, ac);
  const back = matmul(q, rows, qc, coef, ac);
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - back[k]) ** 2;
  return Math.sqrt(s);
}
