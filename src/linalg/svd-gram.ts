/**
 * Left singular vectors and singular values of a row-major m×n matrix through the symmetric
 * eigendecomposition of its Gram matrix A·Aᵀ = U·Σ²·Uᵀ: one GEMM on the blocked kernel and
 * tridiagonal QL (eigh.ts), about four times faster than one-sided Jacobi at the sizes a training
 * step truncates (100–200), which is where the integrator spent a third of its step.
 *
 * The price is accuracy at the bottom of the spectrum: squaring puts an absolute error of about
 * ε·‖A‖² on σ², so singular values below GRAM_SVD_FLOOR·σ₁ are noise, and their vectors are any
 * orthonormal completion. For a truncation that keeps what lies above a tolerance of at least that
 * size (TDLRT's τ·‖Ĉ‖, TRP's energy rule) this changes nothing that matters; for high relative
 * accuracy use svdRaw (Jacobi). The kept subspace is accurate to ε·σ₁²/(σ_r² − σ_{r+1}²).
 */
import { eighRows } from './eigh.js';
import { allocF64, f64Threads } from '../backend/linalg-kernels.js';
import { syrkWasm } from './syrk.js';
import { fixColumnSigns, gemm64, maxAbs, pow2ScaleOf } from './matrix.js';

/** Relative level (to σ₁) under which Gram-route singular values carry no information. */
export const GRAM_SVD_FLOOR = 1e-6;

/**
 * From this size of a matrix's smaller side on, the truncations of training (the integrator's,
 * TRP's, LRA's) take the Gram route; below it the Jacobi SVD costs little and keeps full accuracy.
 */
export const GRAM_SVD_MIN_SIDE = 48;

/** Row block of the symmetric Gram product: blocks on and below the diagonal are computed, the rest mirrored. */
const GRAM_BLOCK = 64;

/**
 * Largest Gram product (m²·n/2 multiply-adds) that goes to the single-threaded syrkWasm when the
 * GEMM could split it over two threads: measured on one thread, 256 × 2,304 takes 8.2 ms there
 * against 12.3 ms by gramRowsGemm (copies and packing of each operand once per block row), 512 × 512
 * 7.2 against 8.7 ms, so a second thread on the GEMM route gains about what syrk saves, and
 * nothing on a machine whose other core is busy. Larger products, and any with more threads, keep
 * the threaded GEMM.
 */
export const SYRK_MAX_MACS = 1 << 27;

/** Whether a Gram product of m rows of length n goes to syrkWasm (see SYRK_MAX_MACS). */
export function gramBySyrk(m: number, n: number): boolean {
  const macs = (m * m * n) / 2;
  const threads = f64Threads();
  return threads <= 1 || (threads <= 2 && macs <= SYRK_MAX_MACS);
}

/**
 * G = A·Aᵀ (m×m, row-major, exactly symmetric) for the row-major m×n `a` (rows `lda` apart, so
 * that the leading columns of a wider matrix can be taken in place): syrkWasm where gramBySyrk
 * says so and the wasm kernels are there, else the block lower triangle on the GEMM, mirrored
 * (gramRowsGemm). The two give the same values: the same products summed in the same order.
 */
export function gramRows(a: Float64Array, m: number, n: number, lda = n): Float64Array {
  return (gramBySyrk(m, n) ? syrkWasm(a, 0, lda, m, n, false) : null) ?? gramRowsGemm(a, m, n, lda);
}

/**
 * G = AᵀA (m×m, exactly symmetric) for A stored k×m row-major (rows `lda` apart): the Gram matrix
 * of the columns, as gramRows (a fold of a tensor's short unfoldings, tucker/hosvd.ts).
 */
export function gramCols(a: Float64Array, k: number, m: number, lda = m): Float64Array {
  const g = gramBySyrk(m, k) ? syrkWasm(a, 0, lda, m, k, true) : null;
  if (g) return g;
  // No mirror needed: the GEMM sums each entry's k products in the same order whatever the tile,
  // and a·b = b·a, so entries (i, j) and (j, i) are equal to the bit (as gramRowsGemm's one-block
  // route relies on too; syrk.test.ts checks it on every route).
  return gemm64(true, false, m, m, k, a, 0, lda, a, 0, lda);
}

/** gramRows on the (threaded) GEMM, one call per block row of GRAM_BLOCK rows. */
export function gramRowsGemm(a: Float64Array, m: number, n: number, lda = n): Float64Array {
  const g = allocF64(m * m);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: route switch only: the full GEMM and the mirrored block triangle give the same A·Aᵀ (svd-gram-rows.test.ts, both sides of 64)
  if (m <= GRAM_BLOCK) return gemm64(false, true, m, m, n, a, 0, lda, a, 0, lda, g);
  for (let i0 = 0; i0 < m; i0 += GRAM_BLOCK) {
    const bi = Math.min(GRAM_BLOCK, m - i0);
    // Rows i0..i0+bi-1 against rows 0..i0+bi-1: one GEMM per block row.
    gemm64(false, true, bi, i0 + bi, n, a, i0 * lda, lda, a, 0, lda, g, i0 * m, m);
  }
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) g[i * m + j] = g[j * m + i];
  return g;
}

export interface LeftSvd {
  /** m×k row-major (k = min(m, n)), orthonormal columns, largest |entry| of each column positive. */
  u: Float64Array;
  /** k singular values, descending, ≥ 0. */
  s: Float64Array;
  uCols: number;
}

/** U and σ of A (m×n, not modified) from eig(A·Aᵀ); see the module note for the accuracy. */
export function leftSvdByGram(a: Float64Array, m: number, n: number): LeftSvd {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1 || a.length !== m * n) {
    throw new Error(`leftSvdByGram: expected an m×n buffer of ${m}×${n} = ${m * n} values with m, n ≥ 1, got ${a.length}`);
  }
  // Scaling by a power of two is exact and keeps the squares inside the float64 range. Entries
  // within 2^±300 need none (their squares, and sums of up to 2^100 of them, stay normal and finite),
  // which spares a copy of the whole matrix on every truncation of training. A zero matrix takes
  // pow2ScaleOf(0) = 1: no copy either.
  const big = maxAbs(a);
  // Stryker disable next-line UnaryOperator: scaling by a power of two where none is needed is exact, and σ is scaled back
  const scale = big >= 2 ** -300 && big <= 2 ** 300 ? 1 : pow2ScaleOf(big);
  const as = scale === 1 ? a : a.map((v) => v / scale);
  return leftSvdFromGram(gramRows(as, m, n), m, Math.min(m, n), scale);
}

/**
 * U and σ from the Gram matrix G = (A/scale)·(A/scale)ᵀ (m×m, symmetric; overwritten by nothing):
 * the k leading eigenvectors and σ = scale·√max(λ, 0), descending, largest-|.| entry of each
 * column positive. For callers that form G their own way (tucker/hosvd.ts, from a tensor's layout).
 */
export function leftSvdFromGram(gram: Float64Array, m: number, k: number, scale = 1): LeftSvd {
  // The eigenvectors as rows (eighRows): only the k kept ones are copied out and sign-fixed, where
  // eighRaw would transpose and sign-fix all m (the same vectors and signs: the rule is per column).
  const { values, rows } = eighRows(gram, m);
  const u = new Float64Array(m * k);
  const s = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const src = m - 1 - j; // eigenvalues ascend
    s[j] = Math.sqrt(Math.max(0, values[src])) * scale;
    const row = src * m;
    for (let i = 0; i < m; i++) u[i * k + j] = rows[row + i];
  }
  fixColumnSigns(u, m, k);
  return { u, s, uCols: k };
}
