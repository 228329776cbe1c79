/**
 * Truncated higher-order SVD (De Lathauwer, De Moor & Vandewalle 2000), HOOI refinement and the
 * Tucker-2 variant (only some modes factorised).
 *
 * Truncated HOSVD: for each factorised mode i, Mat_i(T) = Û Σ V̂ᵀ; U_i = the leading r_i columns
 * of Û; core C = T ×_i U_iᵀ. With D the factorised modes and σ^(i) the singular values of Mat_i(T):
 *   ‖T − T̂‖F² ≤ Σ_{i∈D} Σ_{k>r_i} σ_k^(i)²  ≤ |D| · ‖T − T_best‖F²,
 * and at full ranks T̂ = T.
 */
import { Tensor } from '../tensor/tensor.js';
import { shapeStr, sizeOf } from '../tensor/shape.js';
import { completeOrthonormal, fixColumnSigns, frob, matmul, maxAbs } from '../linalg/matrix.js';
import { qrRaw } from '../linalg/qr.js';
import { svdRaw, truncationRank } from '../linalg/svd.js';
import { GRAM_SVD_FLOOR, GRAM_SVD_MIN_SIDE, gramBySyrk, gramCols, gramRows } from '../linalg/svd-gram.js';
import { syrkUnfolding } from '../linalg/syrk.js';
import { eighSpectrumRaw } from '../linalg/eigh-top.js';
import { allocF64 } from '../backend/linalg-kernels.js';
import { checkMode, checkModes, checkNonNeg, checkRanks, checkTensorArg } from './checks.js';
import { multiModeProductRaw, reconstruct, type RawMatrix, type RawTensor } from './product.js';
import { modeView } from './unfold.js';

export { truncationRank };

/** Left singular vectors and singular values of Mat_mode(T) on plain buffers. */
export interface ModeSvdRaw {
  /** I × k row-major (k = min(I, N/I), or the rank asked for on the Gram route), the left singular vectors, largest-|.| entry positive. */
  u: Float64Array;
  /** All min(I, N/I) singular values, descending. */
  s: Float64Array;
  rows: number;
  k: number;
}

/**
 * How the leading subspace of each unfolding is computed:
 * - 'svd': the Jacobi SVD (linalg/svd.ts): every singular value to ≈ ε·σ₁ absolute or better;
 * - 'gram': the eigendecomposition of the Gram matrix of the unfolding's smaller side, Mat·Matᵀ or,
 *   for a tall unfolding, MatᵀMat (linalg/svd-gram.ts): one GEMM and a small eigh, but σ_k carries
 *   an absolute error ≈ ε·σ₁²/σ_k (noise below GRAM_SVD_FLOOR·σ₁);
 * - 'auto' (default): 'gram' for unfoldings at least as wide as tall with at least
 *   GRAM_SVD_MIN_SIDE rows or GRAM_WIDE columns, and for tall ones at least GRAM_SVD_MIN_SIDE
 *   wide, when the guard of `gramIsEnough` shows that the ranks and the factors do not depend on
 *   that error; 'svd' otherwise.
 */
export type ModeSvdMethod = 'auto' | 'svd' | 'gram';

/**
 * Left singular vectors and singular values of the mode-`mode` unfolding of a row-major tensor.
 * 'svd': only the left side is computed (through the transpose when the unfolding is wide, which
 * costs a QR of the N/I × I matrix and a Jacobi SVD of its I × I triangle, with no rotation
 * accumulation). 'gram': eigh of the Gram matrix of the smaller side (entries of moderate size
 * only; else 'svd').
 */
// Stryker disable next-line StringLiteral: another default route than 'gram' is the Jacobi SVD: the mode then goes to the Jacobi SVD, which meets every accuracy the Gram route is held to (hosvd-routes.test.ts)
export function modeSvdRaw(data: ArrayLike<number>, shape: readonly number[], mode: number, route: 'svd' | 'gram' = 'svd'): ModeSvdRaw {
  const { P, I, Q } = modeView(shape, mode);
  const M = P * Q;
  // Stryker disable next-line BlockStatement,StringLiteral: without this branch the mode then goes to the Jacobi SVD, which meets every accuracy the Gram route is held to (hosvd-routes.test.ts)
  if (route === 'gram') {
    const g = modeGramSpectrum(data, shape, mode);
    if (g) return { u: g.top(g.s.length), s: g.s, rows: I, k: g.s.length };
  }
  if (M >= I) {
    // X = Mat_modeᵀ (M × I); the left vectors of Mat_mode are the right vectors of X.
    const x = new Float64Array(M * I);
    for (let p = 0; p < P; p++)
      for (let i = 0; i < I; i++) {
        const src = (p * I + i) * Q;
        for (let q = 0; q < Q; q++) x[(p * Q + q) * I + i] = data[src + q];
      }
    // Stryker disable next-line ObjectLiteral: {} also computes U, which is not read
    const r = svdRaw(x, M, I, { wantU: false, wantV: true });
    const u = r.v!;
    fixColumnSigns(u, I, I);
    return { u, s: r.s, rows: I, k: I };
  }
  const a = new Float64Array(I * M);
  for (let p = 0; p < P; p++)
    for (let i = 0; i < I; i++) {
      const src = (p * I + i) * Q;
      for (let q = 0; q < Q; q++) a[i * M + p * Q + q] = data[src + q];
    }
  // Stryker disable next-line ObjectLiteral: {} also computes V, which is not read
  const r = svdRaw(a, I, M, { wantU: true, wantV: false });
  return { u: r.u!, s: r.s, rows: I, k: M };
}

/**
 * Whether the Gram matrix of `data` can be formed unscaled without overflow or loss to
 * subnormals (max|entry| in [1e-100, 1e100]); outside, 'gram' falls back to the Jacobi route,
 * which scales by a power of two first.
 */
function gramRange(data: ArrayLike<number>): boolean {
  const m = maxAbs(data);
  return m === 0 || (m >= 1e-100 && m <= 1e100);
}

/**
 * Widest I·Q for which the Gram matrix of a short unfolding is folded from H = XᵀX, X the
 * P × (I·Q) view of the buffer (one GEMM over the tensor in place, no copy): Q times the flops of
 * the Gram matrix itself, worth it while I·Q is small (the 3 × 196,608 unfoldings of a 3×3 kernel's
 * spatial modes: 0.5 ms against 3–5 ms for in-place sums).
 */
const FOLD_GRAM_WIDTH = 64;

/** Slices of the [P, I, Q] view copied together into the unfolding (see unfoldingGram). */
const COPY_BLOCK = 16;

/**
 * Mat·Matᵀ (I × I) of the [P, I, Q] view of a row-major tensor, the column order of the
 * unfolding being irrelevant: the buffer itself for mode 0, a fold of XᵀX for short unfoldings,
 * else the unfolding gathered into syrk's slices (linalg/syrk.ts) or, on the threaded GEMM route,
 * a row-major copy of it. No scaling: a Gram entry overflows only for
 * entries beyond 1e150, which hosvd's callers (weights, activations) never hold.
 */
export function unfoldingGram(data: ArrayLike<number>, P: number, I: number, Q: number): Float64Array {
  const M = P * Q;
  const x = data instanceof Float64Array ? data : new Float64Array(data);
  if (P === 1) return gramRows(x, I, M);
  // Stryker disable next-line ArithmeticOperator,BlockStatement,ConditionalExpression,EqualityOperator: route switch only: the fold of XᵀX and the copied unfolding give the same Gram matrix (hosvd-routes.test.ts)
  if (I * Q <= FOLD_GRAM_WIDTH) {
    // G[i, j] = Σ_p Σ_q X[p, (i, q)]·X[p, (j, q)] = Σ_q H[(i, q), (j, q)], H = XᵀX.
    const w = I * Q;
    const h = gramCols(x, P, w);
    const g = new Float64Array(I * I);
    for (let i = 0; i < I; i++)
      for (let j = 0; j < I; j++) {
        let s = 0;
        for (let q = 0; q < Q; q++) s += h[(i * Q + q) * w + j * Q + q];
        g[i * I + j] = s;
      }
    // H is symmetric only to rounding (its two triangles come from different tiles): mirror.
    // Stryker disable next-line ConditionalExpression: gemm64's XᵀX is exactly symmetric for I·Q ≤ 64 today (checked up to P = 5,000), so the mirror copies equal values
    for (let i = 0; i < I; i++) for (let j = 0; j < i; j++) g[j * I + i] = g[i * I + j];
    return g;
  }
  // On the syrk route the unfolding is gathered slice by slice into the kernels' memory, uncopied.
  const direct = gramBySyrk(I, M) ? syrkUnfolding(x, P, I, Q) : null;
  if (direct) return direct;
  const a = allocF64(I * M);
  // Blocks of COPY_BLOCK slices p: their I·Q values each stay in cache while every row of the
  // unfolding takes its share (a straight walk touches a new page per Q values, on one side or the other).
  for (let p0 = 0; p0 < P; p0 += COPY_BLOCK) {
    const p1 = Math.min(P, p0 + COPY_BLOCK);
    for (let i = 0; i < I; i++) {
      let d = i * M + p0 * Q;
      for (let p = p0; p < p1; p++, d += Q) {
        const src = (p * I + i) * Q;
        for (let q = 0; q < Q; q++) a[d + q] = x[src + q];
      }
    }
  }
  return gramRows(a, I, M);
}

/**
 * The Gram matrix of the mode-`mode` unfolding for a mode of the trailing group of short modes
 * (Π shape[k ≥ mode] ≤ FOLD_GRAM_WIDTH; null for the others): folded from H = XᵀX, X the P × W view
 * of the buffer, W the widest trailing product within FOLD_GRAM_WIDTH, which every mode of the
 * group shares. `folds` keeps H by W for the group's other modes within one hosvd call (a 3×3
 * kernel's two spatial modes: one pass over the tensor instead of two, each pass ≈ 1–3 ms of
 * copying a 256×256×3×3 tensor into the GEMM). G[a, b] = Σ_{pre, post} H[(pre, a, post), (pre, b, post)].
 */
export function groupFoldGram(x: Float64Array, shape: readonly number[], mode: number, folds: Map<number, Float64Array>): Float64Array | null {
  const I = shape[mode];
  let post = 1;
  for (let k = mode + 1; k < shape.length; k++) post *= shape[k];
  let w = I * post;
  if (w > FOLD_GRAM_WIDTH) return null;
  for (let k = mode - 1; k >= 0 && w * shape[k] <= FOLD_GRAM_WIDTH; k--) w *= shape[k];
  let h = folds.get(w);
  if (!h) {
    h = gramCols(x, x.length / w, w);
    folds.set(w, h);
  }
  const pre = w / (I * post);
  const g = new Float64Array(I * I);
  // One triangle, mirrored: G is exactly symmetric.
  for (let a = 0; a < I; a++)
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let p = 0; p < pre; p++) {
        const ra = (p * I + a) * post;
        const rb = (p * I + b) * post;
        for (let q = 0; q < post; q++) s += h[(ra + q) * w + rb + q];
      }
      g[a * I + b] = s;
      g[b * I + a] = s;
    }
  return g;
}

/**
 * Unfoldings at least this wide take the Gram route whatever their height: the QR of the
 * M × I transpose that the Jacobi route starts with costs more than the whole Gram route (the
 * 3 × 196,608 unfoldings of a 256×256×3×3 kernel: 40 ms against 1 ms).
 */
const GRAM_WIDE = 4096;

/** The spectrum of an unfolding from its Gram matrix, with the leading left singular vectors on demand. */
export interface ModeGramSpectrum {
  /** All min(I, M) singular values, descending (√ of the Gram eigenvalues, clamped at 0). */
  s: Float64Array;
  /** I×r row-major: the r leading left singular vectors (largest-|.| entry positive). */
  top(r: number): Float64Array;
}

/**
 * The Gram route's spectrum of the mode-`mode` unfolding (null where the route does not apply:
 * a tall unfolding, or entries whose squares would leave the float64 range; `inRange`, when
 * given, is that range check already made on `data`, which hosvd does once for all modes; `folds`,
 * when given, lets the short trailing modes share one product, see groupFoldGram). The eigenvalues
 * come first and cheaply, so that the rank can be chosen before any vector is computed; `top(r)`
 * then costs O(I²·r) for small r (eigh-top.ts).
 */
export function modeGramSpectrum(
  data: ArrayLike<number>,
  shape: readonly number[],
  mode: number,
  inRange?: boolean,
  folds?: Map<number, Float64Array>,
): ModeGramSpectrum | null {
  const { P, I, Q } = modeView(shape, mode);
  if (!(inRange ?? gramRange(data))) return null;
  if (P * Q < I) return tallGramSpectrum(data, P, I, Q);
  const x = data instanceof Float64Array ? data : null;
  const gram = (folds && x && groupFoldGram(x, shape, mode, folds)) || unfoldingGram(data, P, I, Q);
  const spec = eighSpectrumRaw(gram, I);
  const s = new Float64Array(I);
  for (let j = 0; j < I; j++) s[j] = Math.sqrt(Math.max(0, spec.values[I - 1 - j]));
  return { s, top: (r) => spec.top(r) };
}

/**
 * The Gram route of a tall unfolding X = Mat_mode (I × M, M = P·Q < I): the M × M Gram matrix
 * XᵀX has the same nonzero spectrum, and its leading eigenvectors V_r give the left vectors
 * U_r = X·V_r·Σ_r⁻¹ (one GEMM), orthonormal to within the eigenvectors' rounding magnified by
 * σ₁/σ_j, up to 1/GRAM_SVD_FLOOR where the guard (gramIsEnough) lets the route decide; a
 * Householder QR of X·V_r gives them orthonormal, with the span of X·V_r, as accurate as V_r. Columns
 * whose σ_j is at or under the floor carry no direction of X; they are completed to an
 * orthonormal set, as the Jacobi route completes a rank-deficient unfolding (docs/linalg.md).
 * `right`, when given, is already the spectrum of XᵀX with its leading eigenvectors (a matrix's
 * other mode: Mat_1 = Mat_0ᵀ), and no Gram matrix is formed.
 */
function tallGramSpectrum(data: ArrayLike<number>, P: number, I: number, Q: number, right?: ModeGramSpectrum): ModeGramSpectrum {
  const M = P * Q;
  // X row-major, its columns in (p, q) order: any fixed order gives the same left vectors.
  const x = new Float64Array(I * M);
  for (let p = 0; p < P; p++)
    // Stryker disable next-line EqualityOperator: one row past the end writes past x, which a typed array drops
    for (let i = 0; i < I; i++) {
      const src = (p * I + i) * Q;
      for (let q = 0; q < Q; q++) x[i * M + p * Q + q] = data[src + q];
    }
  let s: Float64Array;
  let rightTop: (r: number) => Float64Array;
  // Stryker disable next-line ConditionalExpression: a route for speed only: without `right` the same Gram matrix is formed and decomposed again
  if (right) {
    s = right.s.slice();
    rightTop = (r) => right.top(r);
  } else {
    const spec = eighSpectrumRaw(gramCols(x, I, M), M);
    s = new Float64Array(M);
    // Stryker disable next-line EqualityOperator: one value past the end writes past s, which a typed array drops
    for (let j = 0; j < M; j++) s[j] = Math.sqrt(Math.max(0, spec.values[M - 1 - j]));
    rightTop = (r) => spec.top(r);
  }
  return {
    s,
    top(r: number): Float64Array {
      // Stryker disable next-line ArithmeticOperator: a column under the floor is noise on either side of the cut (X·v_j/σ_j from a noise eigenvector, or a completion): both are orthonormal to the live columns, which is all the route promises of them
      const floor = GRAM_SVD_FLOOR * s[0];
      let live = 0;
      // Stryker disable next-line LogicalOperator,ConditionalExpression,EqualityOperator: counting past r only computes more columns of the same QR, whose first r do not change (the QR is column-sequential); a value at the floor exactly counts either way (the note above)
      while (live < r && s[live] > floor) live++;
      const out = new Float64Array(I * r);
      // Stryker disable next-line ConditionalExpression,EqualityOperator: with no live column the QR of an I × 0 matrix is empty and copies nothing
      if (live > 0) {
        // X·V_r's columns are σ_j·u_j up to rounding. The QR both divides by σ_j (Q does not depend
        // on a positive scaling of the columns) and removes the loss of orthogonality; R's diagonal
        // is non-negative, so Q keeps each column's direction.
        // Stryker disable next-line StringLiteral: qrRaw treats every mode but 'complete' as reduced
        const q = qrRaw(matmul(x, I, M, rightTop(live), live), I, live, 'reduced').q;
        // Stryker disable next-line EqualityOperator: a column past `live` is overwritten by the completion, or by the next row (or dropped past the end)
        for (let i = 0; i < I; i++) for (let j = 0; j < live; j++) out[i * r + j] = q[i * live + j];
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator: with every column live the completion has nothing to complete
      if (live < r)
        completeOrthonormal(
          out,
          I,
          r,
          Array.from({ length: r }, (_, j) => j < live),
        );
      fixColumnSigns(out, I, r);
      return out;
    },
  };
}

/** A mode's singular values first, its leading left vectors on demand. */
interface ModeSpectrum {
  /** Singular values of the unfolding, descending. */
  s: Float64Array;
  /** Whether they came from the Gram route under 'auto', whose guard (gramIsEnough) must accept the rank. */
  guarded: boolean;
  /** The r leading left vectors: u is rows × k with k ≥ r, or k < r columns that leadingColumns completes. */
  vectors(r: number): { u: Float64Array; k: number };
  /** The Gram route's spectrum, when it gave s. */
  gram?: ModeGramSpectrum;
}

/** The Jacobi route's spectrum (every vector is computed with it). */
function jacobiSpectrum(data: ArrayLike<number>, shape: readonly number[], mode: number): ModeSpectrum {
  // Stryker disable next-line StringLiteral: modeSvdRaw takes every route but 'gram' as the Jacobi SVD
  const j = modeSvdRaw(data, shape, mode, 'svd');
  return { s: j.s, guarded: false, vectors: () => ({ u: j.u, k: j.k }) };
}

/**
 * The spectrum of one unfolding for hosvd/hooi: the Gram route when `method` asks for it or 'auto'
 * finds it applicable (its vectors computed only for the rank then chosen), else the Jacobi route.
 */
function modeSpectrum(
  data: ArrayLike<number>,
  shape: readonly number[],
  mode: number,
  method: ModeSvdMethod,
  inRange?: boolean,
  folds?: Map<number, Float64Array>,
): ModeSpectrum {
  // Stryker disable next-line BlockStatement,StringLiteral: skipping the Gram route here: the mode then goes to the Jacobi SVD, which meets every accuracy the Gram route is held to (hosvd-routes.test.ts)
  if (method === 'gram' || (method === 'auto' && gramCandidate(shape, mode))) {
    const g = modeGramSpectrum(data, shape, mode, inRange, folds);
    // Stryker disable next-line BlockStatement,ConditionalExpression: skipping the Gram route here: the mode then goes to the Jacobi SVD, which meets every accuracy the Gram route is held to (hosvd-routes.test.ts)
    if (g) return gramModeSpectrum(g, method);
  }
  return jacobiSpectrum(data, shape, mode);
}

function gramModeSpectrum(g: ModeGramSpectrum, method: ModeSvdMethod): ModeSpectrum {
  // Stryker disable next-line ConditionalExpression,StringLiteral: guarding the route 'gram' forces too only sends more modes to the Jacobi SVD, which meets every accuracy the Gram route is held to
  return { s: g.s, guarded: method !== 'gram', vectors: (r) => ({ u: g.top(r), k: r }), gram: g };
}

/**
 * The spectra of the factorised modes of `data`. A matrix factorised on both modes has one Gram
 * matrix for the two: its smaller side's, whose eigenvectors are the other mode's right vectors
 * (tallGramSpectrum), so the larger side's Gram matrix and eigendecomposition are never formed.
 */
function modeSpectra(
  data: ArrayLike<number>,
  shape: readonly number[],
  modes: readonly number[],
  method: ModeSvdMethod,
  inRange?: boolean,
  folds?: Map<number, Float64Array>,
): ModeSpectrum[] {
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,BlockStatement: a route for speed only: without it the other mode takes its own tall Gram route, the eigenvectors of the same matrix formed again (hosvd-routes.test.ts checks both modes' factors against the Jacobi route)
  if (shape.length === 2 && modes.length === 2) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: either side's Gram matrix serves both modes (the larger one costs more, which is why the smaller is taken)
    const small = shape[0] <= shape[1] ? 0 : 1;
    const first = modeSpectrum(data, shape, small, method, inRange, folds);
    // Stryker disable next-line ConditionalExpression,BlockStatement: a route for speed only (above): the other mode's own route gives the same subspace
    if (first.gram) {
      const { P, I, Q } = modeView(shape, 1 - small);
      const other = gramModeSpectrum(tallGramSpectrum(data, P, I, Q, first.gram), method);
      return small === 0 ? [first, other] : [other, first];
    }
  }
  return modes.map((i) => modeSpectrum(data, shape, i, method, inRange, folds));
}

/**
 * Ranks from the spectra of the factorised modes, with the Gram route's guard: while some mode's
 * rank rests on values the Gram route cannot resolve (gramIsEnough), that mode goes to the Jacobi
 * route and every rank is chosen again (a rule may tie the modes together). `spectra[k]` is mode
 * `modes[k]`'s and is replaced in place; `threshold` is the tolerance the rule cut at (null if none).
 */
function ranksWithGuard(
  data: ArrayLike<number>,
  shape: readonly number[],
  modes: readonly number[],
  spectra: ModeSpectrum[],
  pick: (s: readonly Float64Array[]) => number[],
  threshold: number | null,
): number[] {
  for (;;) {
    const ranks = pick(spectra.map((m) => m.s));
    const k = modes.findIndex((i, k) => spectra[k].guarded && !gramIsEnough(spectra[k].s, ranks[i], threshold));
    if (k < 0) return ranks;
    spectra[k] = jacobiSpectrum(data, shape, modes[k]);
  }
}

/** Whether 'auto' tries the Gram route on the mode-`mode` unfolding of `shape`. */
export function gramCandidate(shape: readonly number[], mode: number): boolean {
  const { P, I, Q } = modeView(shape, mode);
  const M = P * Q;
  // A tall unfolding's Gram matrix is M × M: the route pays from the same smaller side on.
  // Stryker disable next-line EqualityOperator: a square unfolding (M = I) is a candidate on either branch alike (its side is ≥ GRAM_SVD_MIN_SIDE whenever M ≥ GRAM_WIDE)
  return M >= I ? I >= GRAM_SVD_MIN_SIDE || M >= GRAM_WIDE : M >= GRAM_SVD_MIN_SIDE;
}

/**
 * The accuracy guard of the Gram route: its σ_k² carry an absolute error of a few ε·σ₁², so they
 * are trusted only above GRAM_SVD_FLOOR·σ₁. The route is enough when the decision it drives stays
 * above that floor: a tolerance-chosen rank needs θ ≥ GRAM_SVD_FLOOR·σ₁ (its tail energies are then
 * exact to ≈ 1e-4 relative or better), and every rank needs σ_{r−1} (the last kept value) above
 * the floor, so that no kept direction is noise. Otherwise the Jacobi SVD decides.
 */
export function gramIsEnough(s: Float64Array, r: number, threshold: number | null): boolean {
  const floor = GRAM_SVD_FLOOR * (s[0] ?? 0);
  if (threshold !== null && threshold < floor) return false;
  return r < 1 || s[r - 1] > floor;
}

/** The leading r columns of an I × k orthonormal set, completed deterministically when r > k. */
export function leadingColumns(u: Float64Array, rows: number, k: number, r: number): Float64Array {
  const out = new Float64Array(rows * r);
  // Stryker disable next-line MethodExpression: the extra columns are completed afterwards, and the completion ignores their old contents
  const c = Math.min(k, r);
  for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) out[i * r + j] = u[i * k + j];
  if (r > k) {
    const have = Array.from({ length: r }, (_, j) => j < k);
    completeOrthonormal(out, rows, r, have);
  }
  return out;
}

/** Σ_{k ≥ r} σ_k², summed from the smallest value up. */
export function tailEnergy(s: ArrayLike<number>, r: number): number {
  let t = 0;
  for (let k = s.length - 1; k >= r; k--) t += s[k] * s[k];
  return t;
}

/**
 * Left singular vectors and singular values of Mat_mode(t): `u` is [I_mode, k] with
 * k = min(I_mode, N/I_mode) (largest-|.| entry of each column positive), `s` is [k] descending.
 */
export function modeSvd(t: Tensor, mode: number): { u: Tensor; s: Tensor } {
  const shape = checkTensorArg(t, 'modeSvd', 't');
  const n = checkMode(mode, shape.length, 'modeSvd');
  const r = modeSvdRaw(t.data, shape, n);
  return { u: Tensor.fromData(r.u, [r.rows, r.k]), s: Tensor.fromData(r.s, [r.s.length]) };
}

/**
 * How hosvd chooses the ranks of the factorised modes (exactly one key):
 * - `ranks`: one entry per mode; an integer in [1, n_i] for a factorised mode, null (or n_i) for
 *   the others.
 * - `tol`: a TOTAL absolute Frobenius error ϑ ≥ 0. Each of the |D| factorised modes gets
 *   r_i = the smallest r with Σ_{k>r} σ_k² ≤ ϑ²/|D|, so that ‖T − T̂‖F ≤ ϑ.
 * - `relTol`: the same with ϑ = relTol · ‖T‖F.
 * - `modeTol`: a PER-MODE absolute threshold θ ≥ 0 (DLRT's θ): r_i = the smallest r with
 *   sqrt(Σ_{k>r} σ_k²) ≤ θ; then ‖T − T̂‖F ≤ √|D| · θ.
 * - `rankRatio`: r_i = clamp(round(rankRatio · n_i), 1, n_i), 0 < rankRatio ≤ 1.
 * - `rankRule`: a function of the singular values of every unfolding at once (one array per mode,
 *   descending, null for the modes not factorised) that returns the ranks as `ranks` would list
 *   them: for rules that tie the modes together or read the spectra in their own way (TDLRT's
 *   switch from the warm-up, lowrank/factorize.ts). It may be called more than once: again, with the
 *   Jacobi route's values for a mode, when the Gram route's guard rejects the ranks it returned.
 * Tolerance-chosen ranks are clamped below by `minRank` (default 1), which only lowers the error.
 */
export type HosvdSpec =
  | { ranks: readonly (number | null)[] }
  | { tol: number }
  | { relTol: number }
  | { modeTol: number }
  | { rankRatio: number }
  | { rankRule: HosvdRankRule };

/** See HosvdSpec's `rankRule`. */
export type HosvdRankRule = (singularValues: readonly (Float64Array | null)[]) => readonly (number | null)[];

export interface HosvdOptions {
  /** The factorised modes (default all). Tucker-2 of a conv kernel: `[0, 1]`. Other modes get a null factor. */
  modes?: readonly number[];
  /** Lower clamp of tolerance-chosen ranks (default 1; capped at n_i). */
  minRank?: number;
  /** How each unfolding's leading subspace is computed (default 'auto'; see ModeSvdMethod). */
  method?: ModeSvdMethod;
}

export interface HosvdResult {
  /** The core C = T ×_{i∈D} U_iᵀ, of shape `ranks`. */
  core: Tensor;
  /** U_i (n_i × r_i, orthonormal columns) for factorised modes, null for the others. */
  factors: (Tensor | null)[];
  /** One entry per mode; n_i for a mode that is not factorised. */
  ranks: number[];
  /** Per mode, the discarded energy Σ_{k>r_i} σ_k(Mat_i T)² (0 for unfactorised modes). */
  discarded: number[];
  /** Per mode, all singular values of Mat_i(T), descending (null for unfactorised modes). */
  singularValues: (Float64Array | null)[];
  /** The factorised modes, sorted. */
  modes: number[];
}

const SPEC_KEYS = ['ranks', 'tol', 'relTol', 'modeTol', 'rankRatio', 'rankRule'] as const;

function checkMethod(method: unknown, op: string): ModeSvdMethod {
  const m = method ?? 'auto';
  if (m !== 'auto' && m !== 'svd' && m !== 'gram') throw new Error(`${op}: options.method must be 'auto', 'svd' or 'gram', got ${String(method)}`);
  return m;
}

/**
 * Truncated HOSVD of `t` (float32 or float64; computed and returned in float64). See HosvdSpec for
 * the rank rules; `options.modes` restricts the factorisation (Tucker-2: two modes). The error
 * bound ‖T − T̂‖F² ≤ Σ_i discarded[i] holds for every rule; reconstruct with
 * `reconstruct(core, factors)`.
 */
export function hosvd(t: Tensor, spec: HosvdSpec, options: HosvdOptions = {}): HosvdResult {
  const op = 'hosvd';
  const shape = checkTensorArg(t, op, 't');
  const d = shape.length;
  const modes = checkModes(options.modes, d, op);
  if (spec === null || typeof spec !== 'object')
    throw new Error(`${op}: spec must be one of { ranks } | { tol } | { relTol } | { modeTol } | { rankRatio } | { rankRule }, got ${String(spec)}`);
  const keys = SPEC_KEYS.filter((k) => (spec as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) {
    throw new Error(
      `${op}: spec must have exactly one of ranks, tol, relTol, modeTol, rankRatio, rankRule; got ${keys.length === 0 ? `keys [${Object.keys(spec).join(', ')}]` : keys.join(' and ')}`,
    );
  }
  const key = keys[0];
  const minRank = options.minRank ?? 1;
  const method = checkMethod(options.method, op);
  if (typeof minRank !== 'number' || !Number.isInteger(minRank) || minRank < 1) {
    throw new Error(`${op}: options.minRank must be an integer ≥ 1, got ${String(minRank)}`);
  }
  if (sizeOf(shape) === 0) throw new Error(`${op}: t must not be empty, got shape ${shapeStr(shape)}`);
  let fixedRanks: number[] | null = null;
  let rankRule: HosvdRankRule | null = null;
  let threshold = 0;
  const value = (spec as Record<string, unknown>)[key];
  if (key === 'rankRule') {
    if (typeof value !== 'function') throw new Error(`${op}: spec.rankRule must be a function of the singular values, got ${typeof value}`);
    rankRule = value as HosvdRankRule;
  } else if (key === 'ranks') fixedRanks = checkRanks(value, shape, modes, op, 'spec.ranks');
  else if (key === 'rankRatio') {
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new Error(`${op}: spec.rankRatio must be a number in (0, 1], got ${String(value)}`);
    fixedRanks = shape.map((n, i) => (modes.includes(i) ? Math.min(n, Math.max(1, Math.round(value * n))) : n));
  } else {
    const v = checkNonNeg(value, op, `spec.${key}`);
    if (key === 'tol') threshold = v / Math.sqrt(modes.length);
    else if (key === 'relTol') threshold = (v * frob(t.data)) / Math.sqrt(modes.length);
    else threshold = v;
  }
  const ranks = [...shape];
  const discarded = new Array<number>(d).fill(0);
  const singularValues: (Float64Array | null)[] = new Array(d).fill(null);
  const mats: (RawMatrix | null)[] = new Array(d).fill(null);
  const rankOf = (s: Float64Array, i: number): number => (fixedRanks ? fixedRanks[i] : Math.min(shape[i], Math.max(minRank, truncationRank(s, threshold))));
  // Every mode's spectrum first, then the ranks (a rankRule reads them all at once), then the vectors.
  const pick = (spectra: readonly Float64Array[]): number[] => {
    if (!rankRule)
      return shape.map((n, i) => {
        const k = modes.indexOf(i);
        return k < 0 ? n : rankOf(spectra[k], i);
      });
    const all: (Float64Array | null)[] = new Array(d).fill(null);
    modes.forEach((i, k) => {
      all[i] = spectra[k];
    });
    return checkRanks(rankRule(all), shape, modes, op, 'the ranks spec.rankRule returned');
  };
  // One scan of the entries for every mode's Gram route (four scans of T cost ≈ 2 ms at 256×256×3×3).
  // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: without the shared range check modeGramSpectrum makes the same check itself
  const inRange = method === 'svd' ? undefined : gramRange(t.data);
  // The short trailing modes' Gram matrices come from one shared product (groupFoldGram).
  const folds = new Map<number, Float64Array>();
  const spectra = modeSpectra(t.data, shape, modes, method, inRange, folds);
  const chosen = ranksWithGuard(t.data, shape, modes, spectra, pick, fixedRanks || rankRule ? null : threshold);
  modes.forEach((i, k) => {
    const r = chosen[i];
    const ms = spectra[k];
    ranks[i] = r;
    discarded[i] = tailEnergy(ms.s, r);
    singularValues[i] = ms.s;
    const v = ms.vectors(r);
    mats[i] = { data: leadingColumns(v.u, shape[i], v.k, r), rows: shape[i], cols: r };
  });
  const core = multiModeProductRaw(t.data, shape, mats, true);
  const coreData = core.data === t.data ? new Float64Array(core.data) : core.data;
  return {
    core: Tensor.fromData(coreData, core.shape),
    factors: mats.map((m) => (m ? Tensor.fromData(m.data, [m.rows, m.cols]) : null)),
    ranks,
    discarded,
    singularValues,
    modes,
  };
}

export interface HooiOptions {
  /** Maximum number of sweeps over the factorised modes (default 50). */
  maxIter?: number;
  /**
   * Stopping rule: stop when a sweep raises ‖C‖F² by at most tol·‖T‖F² (equivalently, lowers the
   * squared relative error ‖T − T̂‖²/‖T‖² by at most tol). Default 1e-12.
   */
  tol?: number;
  /** The factorised modes (default all), as in hosvd. */
  modes?: readonly number[];
  /** How each unfolding's leading subspace is computed (default 'auto'), as in hosvd. */
  method?: ModeSvdMethod;
}

export interface HooiResult {
  core: Tensor;
  factors: (Tensor | null)[];
  ranks: number[];
  modes: number[];
  /** Sweeps run. */
  iterations: number;
  /** Whether the stopping rule was met before maxIter. */
  converged: boolean;
  /** ‖T − T̂‖F of the returned decomposition (computed by reconstruction). */
  error: number;
  /** ‖T − T̂‖F of the HOSVD it started from. */
  hosvdError: number;
}

/**
 * Higher-order orthogonal iteration (De Lathauwer, De Moor & Vandewalle 2000b): starts from the
 * truncated HOSVD at `ranks` and, mode by mode, replaces U_n by the leading r_n left singular
 * vectors of Mat_n(T ×_{k≠n} U_kᵀ); C = T ×_k U_kᵀ. Each update cannot lower ‖C‖F (so cannot raise
 * ‖T − T̂‖F); the result returned is the best iterate met (largest ‖C‖F), and the starting HOSVD
 * itself unless that iterate's actual error is lower by more than 1e-13·‖T‖F: never worse than
 * the HOSVD it starts from.
 */
export function hooi(t: Tensor, ranks: readonly (number | null)[], options: HooiOptions = {}): HooiResult {
  const op = 'hooi';
  const shape = checkTensorArg(t, op, 't');
  const d = shape.length;
  const modes = checkModes(options.modes, d, op);
  const full = checkRanks(ranks, shape, modes, op, 'ranks');
  const maxIter = options.maxIter ?? 50;
  if (typeof maxIter !== 'number' || !Number.isInteger(maxIter) || maxIter < 0) {
    throw new Error(`${op}: options.maxIter must be an integer ≥ 0, got ${String(maxIter)}`);
  }
  const tol = checkNonNeg(options.tol ?? 1e-12, op, 'options.tol');
  const method = checkMethod(options.method, op);
  const start = hosvd(t, { ranks: full.map((r, i) => (modes.includes(i) ? r : null)) }, { modes, method });
  const norm2 = frob(t.data) ** 2;
  const mats: (RawMatrix | null)[] = start.factors.map((f) => (f ? { data: f.data as Float64Array, rows: f.shape[0], cols: f.shape[1] } : null));
  const coreNorm2 = (c: Float64Array): number => frob(c) ** 2;
  let bestCore = start.core.data as Float64Array;
  // Stryker disable next-line MethodExpression: `mats` is never written, so the alias holds the same factors
  let bestMats = mats.slice();
  let bestFit = coreNorm2(bestCore);
  let prevFit = bestFit;
  let iterations = 0;
  let converged = false;
  // Stryker disable next-line MethodExpression: `mats` is not read after this line, so writing through the alias changes nothing
  const cur = mats.slice();
  for (let it = 0; it < maxIter && modes.length > 0; it++) {
    iterations++;
    let core: Float64Array | null = null;
    // Dimension tree: the projection onto the second half of the modes (with their factors of the
    // previous sweep, which the first half's updates must see) is shared by every first-half mode,
    // and the projection onto the updated first half by every second-half mode, instead of d full
    // projections of T per sweep.
    // Stryker disable next-line ArithmeticOperator: the dimension tree only shares projections between modes; the sweep is the same Gauss–Seidel sweep (hooi.test.ts)
    const half = Math.ceil(modes.length / 2);
    let shared: RawTensor | null = null;
    for (let idx = 0; idx < modes.length; idx++) {
      const n = modes[idx];
      const group = idx < half ? modes.slice(half) : modes.slice(0, half);
      if (idx === 0 || idx === half)
        shared = multiModeProductRaw(
          t.data,
          shape,
          cur.map((m, k) => (group.includes(k) ? m : null)),
          true,
        );
      const rest = cur.map((m, k) => (k === n || group.includes(k) ? null : m));
      const y = multiModeProductRaw(shared!.data, shared!.shape, rest, true);
      const spectrum = [modeSpectrum(y.data, y.shape, n, method)];
      // Stryker disable next-line ArrayDeclaration: without the guard a rank past the Gram route's floor keeps its noise vectors, orthonormal, on which HOOI's fit does not depend
      ranksWithGuard(y.data, y.shape, [n], spectrum, () => full, null);
      const v = spectrum[0].vectors(full[n]);
      cur[n] = { data: leadingColumns(v.u, shape[n], v.k, full[n]), rows: shape[n], cols: full[n] };
      if (n === modes[modes.length - 1]) {
        // Stryker disable next-line ArrayDeclaration: missing entries read as no product, like null
        const only: (RawMatrix | null)[] = new Array(d).fill(null);
        only[n] = cur[n];
        core = multiModeProductRaw(y.data, y.shape, only, true).data;
      }
    }
    const fit = coreNorm2(core!);
    if (fit > bestFit) {
      bestFit = fit;
      bestCore = core!;
      // Stryker disable next-line MethodExpression: HOOI's fit never falls in exact arithmetic, so the best iterate is the last one, which the alias then holds (they differ at the last bit only at convergence)
      bestMats = cur.slice();
    }
    if (fit - prevFit <= tol * norm2) {
      converged = true;
      break;
    }
    prevFit = fit;
  }
  if (modes.length === 0 || maxIter === 0) converged = true;
  const toTensors = (ms: (RawMatrix | null)[]) => ms.map((m) => (m ? Tensor.fromData(m.data, [m.rows, m.cols]) : null));
  const errOf = (core: Tensor, factors: (Tensor | null)[]): number => {
    const rec = reconstruct(core, factors).data;
    const diff = new Float64Array(rec.length);
    for (let i = 0; i < rec.length; i++) diff[i] = t.data[i] - rec[i];
    return frob(diff);
  };
  const hosvdError = errOf(start.core, start.factors);
  let core = Tensor.fromData(bestCore, [...full]);
  let factors = toTensors(bestMats);
  let error = bestCore === start.core.data ? hosvdError : errOf(core, factors);
  // Keep the HOSVD unless HOOI is better by more than rounding (so "never worse" holds however
  // the error is measured).
  if (error > hosvdError - 1e-13 * Math.sqrt(norm2)) {
    core = start.core;
    factors = start.factors;
    error = hosvdError;
  }
  return { core, factors, ranks: full, modes, iterations, converged, error, hosvdError };
}
