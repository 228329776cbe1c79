/**
 * The truncation's Gram matrices and projections on a core with a known zero corner.
 *
 * The parallel step's updated core Ĉ1 (and its velocity) is zero on every block that is new in two
 * or more modes (docs/integrator.md, "The parallel step"). When the modes that grew are exactly the
 * first two, as for a conv core [out, in, kh, kw] or a matrix core, view it as [R0, R1, S] with S
 * the product of the other modes: entries with i0 ≥ r0 and i1 ≥ r1 (r_i the ranks before the
 * augmentation) are zero. At r̂ = 2r that is a quarter of the core, and it is a third of the work of
 * the Gram matrices and a quarter of that of the first projection (docs/integrator.md, "Cost").
 *
 * Mode unfoldings here are row-major (numpy's moveaxis + reshape): a column permutation of the
 * Kolda–Bader unfolding, which changes neither a Gram matrix nor a left singular vector. For mode 0
 * that unfolding is the buffer itself, with the r1·S columns of the old mode-1 indices first.
 */
import { gemm64, transpose } from '../linalg/matrix.js';
import { gramRows } from '../linalg/svd-gram.js';

export interface ZeroCorner {
  R0: number;
  R1: number;
  /** Product of the remaining modes' sizes (1 for a matrix). */
  S: number;
  r0: number;
  r1: number;
}

/**
 * The corner of a core of `shape` grown from `before`, when exactly modes 0 and 1 grew; null
 * otherwise (no hint, one mode grew, or another mode changed size), and the caller takes the
 * dense route.
 */
export function zeroCorner(shape: readonly number[], before: readonly number[] | undefined): ZeroCorner | null {
  if (!before || before.length !== shape.length || shape.length < 2) return null;
  if (!(shape[0] > before[0] && shape[1] > before[1] && before[0] > 0 && before[1] > 0)) return null;
  let S = 1;
  for (let i = 2; i < shape.length; i++) {
    if (shape[i] !== before[i]) return null;
    S *= shape[i];
  }
  return { R0: shape[0], R1: shape[1], S, r0: before[0], r1: before[1] };
}

/** Whether x (laid out [R0, R1, S]) is exactly zero on its corner i0 ≥ r0, i1 ≥ r1. */
export function cornerIsZero(x: Float64Array, z: ZeroCorner): boolean {
  const { R1, S, R0, r0, r1 } = z;
  for (let i0 = r0; i0 < R0; i0++) {
    const end = (i0 * R1 + R1) * S;
    for (let k = (i0 * R1 + r1) * S; k < end; k++) if (x[k] !== 0) return false;
  }
  return true;
}

/** Tile of swapLeading: SWAP_TILE × SWAP_TILE runs of S values at a time. */
export const SWAP_TILE = 8;

/**
 * [A, B, S] → [B, A, S]: the row-major unfolding of mode 1 (runs of S values move together).
 * Tile by tile (SWAP_TILE values of a and of b), each tile written in the output's order: for a
 * fixed b the runs read lie B·S values apart, so a whole column of them (256 at a 256-channel
 * core) touched as many pages and cache lines as it read runs, where a tile's 64 runs stay in
 * cache for the next b. Against one column at a time (interleaved, one thread, medians of 40):
 * 1.6–1.8× faster at 256 × 256 × 9 (the augmented core of a 256-channel conv at ratio ½), 1.1–1.6×
 * at 128 × 256 × 9, within 6% at 128 × 128 × 9, whose columns fit in cache anyway.
 */
export function swapLeading(x: Float64Array, A: number, B: number, S: number): Float64Array {
  // Stryker disable next-line ConditionalExpression: route switch only: the tiles move runs of one value the same way
  if (S === 1) return transpose(x, A, B);
  const out = new Float64Array(x.length);
  // Stryker disable next-line EqualityOperator: a tile starting at B has no column to move
  for (let b0 = 0; b0 < B; b0 += SWAP_TILE) {
    // Stryker disable next-line MethodExpression: a tile running on to B moves the later columns early, with the values their own tiles write again; past B its writes fall outside the array
    const b1 = Math.min(B, b0 + SWAP_TILE);
    // Stryker disable next-line EqualityOperator: a tile starting at A has no row to move
    for (let a0 = 0; a0 < A; a0 += SWAP_TILE) {
      const a1 = Math.min(A, a0 + SWAP_TILE);
      // Stryker disable next-line EqualityOperator: column b1 belongs to the next tile, which writes the same values; past B the writes fall outside the array
      for (let b = b0; b < b1; b++) {
        let dst = (b * A + a0) * S;
        for (let a = a0; a < a1; a++) {
          let src = (a * B + b) * S;
          const end = src + S;
          while (src < end) out[dst++] = x[src++];
        }
      }
    }
  }
  return out;
}

/**
 * X·Xᵀ for the row-major unfolding X (rows × cols) of one of the two grown modes, whose rows from
 * rOld on vanish on the columns from oldCols on: the Gram of the leading oldCols columns (in place,
 * rows `cols` apart) plus, on the old rows only, the Gram of the rest.
 */
export function cornerGram(x: Float64Array, rows: number, cols: number, rOld: number, oldCols: number): Float64Array {
  const g = gramRows(x, rows, oldCols, cols);
  if (oldCols < cols) {
    const h = gemm64(false, true, rOld, rOld, cols - oldCols, x, oldCols, cols, x, oldCols, cols);
    for (let i = 0; i < rOld; i++) for (let j = 0; j < rOld; j++) g[i * rows + j] += h[i * rOld + j];
  }
  return g;
}

/** The Gram matrix of mode 0 or 1 of x (laid out [R0, R1, S], zero corner). */
export function modeGram(x: Float64Array, z: ZeroCorner, mode: 0 | 1): Float64Array {
  const { R0, R1, S, r0, r1 } = z;
  return mode === 0 ? cornerGram(x, R0, R1 * S, r0, r1 * S) : cornerGram(swapLeading(x, R0, R1, S), R1, R0 * S, r1, r0 * S);
}

/**
 * x ×_0 P0ᵀ ×_1 P1ᵀ for x laid out [R0, R1, S] with a zero corner; P_i is R_i × k_i (its columns
 * the kept directions), null for a mode kept whole. Returns [k0, k1, S] row-major.
 */
export function projectCorner(x: Float64Array, z: ZeroCorner, p0: Float64Array | null, k0: number, p1: Float64Array | null, k1: number): Float64Array {
  const { R0, R1, S, r0, r1 } = z;
  let y = x;
  let rows0 = R0;
  if (p0) {
    // Y = P0ᵀ·Mat_0(x): the old mode-1 columns take all R0 rows, the new ones only the r0 old rows.
    const cols = R1 * S;
    const oldCols = r1 * S;
    y = new Float64Array(k0 * cols);
    gemm64(true, false, k0, oldCols, R0, p0, 0, k0, x, 0, cols, y, 0, cols);
    gemm64(true, false, k0, cols - oldCols, r0, p0, 0, k0, x, oldCols, cols, y, oldCols, cols);
    rows0 = k0;
  }
  if (!p1) return y;
  // Mode 1 as one product on its row-major unfolding [R1, rows0·S]. Without a mode-0 projection
  // the corner is still there: the new mode-1 rows vanish on the new mode-0 columns.
  const t = swapLeading(y, rows0, R1, S);
  const cols = rows0 * S;
  const w = new Float64Array(k1 * cols);
  if (p0) gemm64(true, false, k1, cols, R1, p1, 0, k1, t, 0, cols, w, 0, cols);
  else {
    const oldCols = r0 * S;
    gemm64(true, false, k1, oldCols, R1, p1, 0, k1, t, 0, cols, w, 0, cols);
    gemm64(true, false, k1, cols - oldCols, r1, p1, 0, k1, t, oldCols, cols, w, oldCols, cols);
  }
  return swapLeading(w, k1, rows0, S);
}
