/**
 * The last part of every integrator step: truncation of the updated augmented core Ĉ1 by HOSVD at
 * a per-mode tolerance ϑ_i, the new bases Û_i P_i and core Ĉ1 ×_i P_iᵀ, and the velocity projected
 * alike (docs/integrator.md, "Truncation").
 *
 * Route: the SVD of each unfolding is taken through its Gram matrix where its short side is at least
 * TRUNCATION_GRAM_MIN_SIDE (a matrix core: both sides, from one eigendecomposition), several times faster
 * than Jacobi on the wide unfoldings of a conv core, but only where the cut it decides lies well
 * above the Gram route's noise (GRAM_SVD_FLOOR·σ₁): below it, the spectrum there is noise and the
 * mode is recomputed by one-sided Jacobi. So τ = 0 prunes nothing but values at Jacobi's rounding
 * level, on any route.
 */
import { frob, matmul, matmulTA, maxAbs, sliceCols, transpose } from '../linalg/matrix.js';
import { svdRaw, truncationRank } from '../linalg/svd.js';
import { GRAM_SVD_FLOOR, leftSvdByGram, leftSvdFromGram, type LeftSvd } from '../linalg/svd-gram.js';
import { unfoldRaw } from '../tucker/unfold.js';
import { modeProductRaw } from '../tucker/product.js';
import { choleskyQr } from './layer-point.js';
import { cornerGram, cornerIsZero, modeGram, projectCorner, zeroCorner, type ZeroCorner } from './truncate-blocks.js';

/** Relative level (to ‖Ĉ1‖) of Jacobi's rounding noise: values below it are dropped even at τ = 0. */
export const JACOBI_FLOOR = 1e-14;

/**
 * Short side of a core's unfolding (a matrix core: of the core) from which the Gram route is taken:
 * one Gram product on the GEMM and a small eigendecomposition against Jacobi's sweeps (3× faster
 * at 40 × 40, LeNet-5's fc1 core at rank 20 augmented).
 */
export const TRUNCATION_GRAM_MIN_SIDE = 16;

/** A Gram-route cut must lie this far above GRAM_SVD_FLOOR·‖Ĉ1‖ to be trusted. */
export const GRAM_CUT_MARGIN = 100;

export interface TruncationInput {
  /** Shape of Ĉ1 (augmented ranks; n_i on modes kept full). */
  shape: number[];
  c1: Float64Array;
  /** Û_i (n_i × shape[i]) per stored mode, null where the mode is kept full. */
  bases: (Float64Array | null)[];
  fullShape: readonly number[];
  /** Per mode: the tolerance ϑ_i when the mode adapts, or null to keep rank `keep[i]`. */
  thresholds: (number | null)[];
  keep: number[];
  /** Per mode: [minRank, maxRank] for adapted modes. */
  bounds: [number, number][];
  /** Replaces the tolerance rule of the adapted modes (thresholds[i] !== null): the kept rank from the spectrum. */
  rankRule?: (mode: number, sigma: Float64Array) => number;
  velocity: Float64Array | null;
  /**
   * The ranks before augmentation, when Ĉ1 and the velocity are zero on every block new in two or
   * more modes (the parallel step): the Gram matrices and projections then skip that corner
   * (truncate-blocks.ts). Checked, not trusted: a core that is not zero there takes the dense route.
   */
  zeroCornerFrom?: readonly number[];
  /** ‖Ĉ1‖_F when the caller has it already (the integrator scales ϑ by it): not read again. */
  norm?: number;
  /** max|Ĉ1| when the caller has it already (the integrator's update loop gathers it): not read again. */
  maxAbs?: number;
}

export interface TruncationResult {
  coreShape: number[];
  core: Float64Array;
  factors: (Float64Array | null)[];
  velocity: Float64Array | null;
  /** ‖Ĉ1 − C_new ×_i P_i‖_F, computed on first call. */
  truncationError: () => number;
  /** P_i (shape[i] × r_i) per truncated mode, null where a mode kept its basis: what truncationErrorOf reads. */
  projections: (Float64Array | null)[];
  /** (Σ_i tail_i(r_i)²)^½ over the stored modes. */
  tailBound: number;
  /** Per mode, which route gave the spectrum ('jacobi' | 'gram'), null where not stored. */
  routes: ('jacobi' | 'gram' | null)[];
}

interface ModeSpectrum {
  u: Float64Array;
  s: Float64Array;
  route: 'jacobi' | 'gram';
  /** Vectors derived from the other side (V = ĈᵀUΣ⁻¹): re-orthonormalise the kept ones. */
  derived?: boolean;
}

/**
 * Both sides of a matrix core from one Gram eigendecomposition (of the smaller side): the other
 * side's vectors are Ĉᵀu_k/σ_k. They are accurate where σ_k is resolved, which is where a trusted
 * cut keeps them (gramCutTrusted), and are re-orthonormalised once kept.
 */
function matrixByGram(c1: Float64Array, m: number, n: number, corner: ZeroCorner | null): [ModeSpectrum, ModeSpectrum] {
  const wide = m <= n;
  const a = wide ? c1 : transpose(c1, m, n);
  const rows = wide ? m : n;
  const cols = wide ? n : m;
  // A is Ĉ1 or its transpose already: the corner's Gram matrix from it (old rows first, old columns first).
  const left = corner
    ? leftSvdFromGram(cornerGram(a, rows, cols, wide ? corner.r0 : corner.r1, wide ? corner.r1 : corner.r0), rows, rows)
    : leftSvdByGram(a, rows, cols);
  const k = left.uCols;
  const other = matmulTA(a, rows, cols, left.u, k); // cols × k = Aᵀ U
  // Stryker disable next-line BlockStatement,ConditionalExpression: without the division by σ_k the kept derived columns differ by a column scaling, which their Cholesky QR (below) removes: Cholesky is invariant under diagonal scaling
  for (let j = 0; j < k; j++) {
    const sj = left.s[j];
    for (let i = 0; i < cols; i++) other[i * k + j] = sj > 0 ? other[i * k + j] / sj : 0;
  }
  const first: ModeSpectrum = { u: left.u, s: left.s, route: 'gram' };
  const second: ModeSpectrum = { u: other, s: left.s, route: 'gram', derived: true };
  return wide ? [first, second] : [second, first];
}

function jacobiLeft(c1: Float64Array, shape: readonly number[], i: number): ModeSpectrum {
  const rows = shape[i];
  const cols = c1.length / rows;
  // Stryker disable next-line ObjectLiteral: {} also computes V, which is not read
  const svd = svdRaw(unfoldRaw(c1, shape, i), rows, cols, { wantU: true, wantV: false });
  return { u: svd.u as Float64Array, s: svd.s, route: 'jacobi' };
}

/** The tail rule's rank: the smallest whose tail is within max(ϑ, Jacobi floor). */
function tailRank(s: Float64Array, theta: number, norm: number): number {
  return truncationRank(s, Math.max(theta, JACOBI_FLOOR * norm));
}

/** Kept rank of one adapted mode: the tail rule (or the caller's rule), clamped to its bounds. */
function rankOf(s: Float64Array, theta: number, norm: number, [lo, hi]: [number, number], rule?: (sigma: Float64Array) => number): number {
  const r = rule ? rule(s) : tailRank(s, theta, norm);
  return Math.min(s.length, hi, Math.max(lo, r));
}

/**
 * Whether a Gram-route cut at rank r (some values dropped) can be trusted. The Gram route resolves
 * σ down to about GRAM_SVD_FLOOR·‖Ĉ1‖: a tolerance above that level (with a margin) is decided on
 * resolved values. A cut at a fixed rank (theta null) or at the mode's cap (r = hi) keeps an
 * accurate subspace as long as the smallest value kept is resolved, and Jacobi would cut at the
 * same rank: its σ_r is then above the floor too, so its rule keeps at least r and the cap or the
 * fixed rank decides. A cut at the rule's own rank below the cap is trusted only where the rule,
 * on the Gram values, would keep more than r (a minRank clamp). Otherwise the cut would fall among
 * noise: take Jacobi.
 */
function gramCutTrusted(s: Float64Array, r: number, theta: number | null, norm: number, hi: number): boolean {
  const resolved = GRAM_CUT_MARGIN * GRAM_SVD_FLOOR * norm;
  if (theta !== null && theta >= resolved) return true;
  if (!(r > 0 && s[r - 1] > 0 && s[r - 1] >= resolved)) return false;
  return theta === null || r >= hi || tailRank(s, theta, norm) > r;
}

/**
 * The zero corner of Ĉ1 when the input declares one, it holds (in the velocity too), and the
 * values need no scaling for their squares (leftSvdByGram's 2^±300 range); else null.
 */
// Stryker disable next-line BlockStatement: an empty body returns no corner: the dense route, which the corner route reproduces (truncate-blocks.test.ts)
function checkedCorner(input: TruncationInput): ZeroCorner | null {
  const z = zeroCorner(input.shape, input.zeroCornerFrom);
  if (!z) return null;
  const big = input.maxAbs ?? maxAbs(input.c1);
  if (big !== 0 && !(big >= 2 ** -300 && big <= 2 ** 300)) return null;
  if (!cornerIsZero(input.c1, z) || (input.velocity && !cornerIsZero(input.velocity, z))) return null;
  return z;
}

export function truncateCore(input: TruncationInput): TruncationResult {
  const { shape, c1, bases, fullShape, thresholds, keep, bounds } = input;
  let velocity = input.velocity;
  const norm = input.norm ?? frob(c1);
  const d = shape.length;
  const corner = checkedCorner(input);
  const spectra: (ModeSpectrum | null)[] = new Array(d).fill(null);
  const ranks = shape.slice();
  // A matrix layer's two unfoldings are Ĉ1 and Ĉ1ᵀ: one SVD gives both sides.
  if (d === 2 && bases[0] && bases[1]) {
    if (Math.min(shape[0], shape[1]) < TRUNCATION_GRAM_MIN_SIDE) {
      const svd = svdRaw(c1, shape[0], shape[1]);
      spectra[0] = { u: svd.u as Float64Array, s: svd.s, route: 'jacobi' };
      spectra[1] = { u: svd.v as Float64Array, s: svd.s, route: 'jacobi' };
    } else {
      [spectra[0], spectra[1]] = matrixByGram(c1, shape[0], shape[1], corner);
    }
  }
  const byGram = (i: number, rows: number, cols: number): LeftSvd =>
    corner && i < 2 ? leftSvdFromGram(modeGram(c1, corner, i as 0 | 1), rows, Math.min(rows, cols)) : leftSvdByGram(unfoldRaw(c1, shape, i), rows, cols);
  const spectrumOf = (i: number): ModeSpectrum => {
    const rows = shape[i];
    const cols = c1.length / rows;
    return Math.min(rows, cols) >= TRUNCATION_GRAM_MIN_SIDE ? { ...byGram(i, rows, cols), route: 'gram' } : jacobiLeft(c1, shape, i);
  };
  // A mode asked to keep everything (tolerance 0, or a kept rank at least its size, within its cap)
  // needs no SVD: its basis stays Û_i, unless the feasibility clamp below lowers its rank.
  const whole = (i: number): boolean =>
    spectra[i] === null &&
    !(input.rankRule && thresholds[i] !== null) &&
    (thresholds[i] === null ? keep[i] >= shape[i] : thresholds[i] === 0 && shape[i] <= bounds[i][1]);
  for (let i = 0; i < d; i++) {
    if (!bases[i]) continue;
    if (whole(i)) continue;
    let sp = spectra[i];
    if (!sp) sp = spectrumOf(i);
    const theta = thresholds[i];
    const rule = input.rankRule ? (sigma: Float64Array) => (input.rankRule as NonNullable<TruncationInput['rankRule']>)(i, sigma) : undefined;
    let r = theta === null ? Math.min(sp.s.length, keep[i]) : rankOf(sp.s, theta, norm, bounds[i], rule);
    const derivedUnresolved = sp.derived === true && r > 0 && sp.s[r - 1] < GRAM_CUT_MARGIN * GRAM_SVD_FLOOR * norm;
    if (sp.route === 'gram' && ((r < sp.s.length && !gramCutTrusted(sp.s, r, theta, norm, bounds[i][1])) || derivedUnresolved)) {
      sp = jacobiLeft(c1, shape, i);
      r = theta === null ? Math.min(sp.s.length, keep[i]) : rankOf(sp.s, theta, norm, bounds[i], rule);
    }
    spectra[i] = sp;
    ranks[i] = r;
  }
  // A matrix has one rank: r_i ≤ Π_{j≠i} r_j.
  for (let changed = true; changed; ) {
    changed = false;
    const total = ranks.reduce((p, r) => p * r, 1);
    for (let i = 0; i < d; i++) {
      const others = total / ranks[i];
      if (bases[i] && ranks[i] > others) {
        ranks[i] = others;
        // Stryker disable next-line BooleanLiteral: one pass suffices: two modes cannot violate r_i ≤ Π_{j≠i} r_j at once, and the clamp of one leaves the others within it
        changed = true;
        break;
      }
    }
  }

  for (let i = 0; i < d; i++) if (bases[i] && !spectra[i] && ranks[i] < shape[i]) spectra[i] = spectrumOf(i);

  let tail2 = 0;
  const factors: (Float64Array | null)[] = [];
  // Stryker disable next-line ArrayDeclaration: unassigned entries read as undefined, which every reader treats as null (`!p`, `if (p0)`; every() skips holes)
  const projections: (Float64Array | null)[] = new Array(d).fill(null);
  for (let i = 0; i < d; i++) {
    const sp = spectra[i];
    const basis = bases[i];
    // Stryker disable next-line BlockStatement: a mode without a basis has no spectrum, so the next branch pushes the same null
    if (!basis) {
      factors.push(null);
      continue;
    }
    if (!sp) {
      // Kept whole: P_i = I.
      factors.push(basis);
      continue;
    }
    const rows = shape[i];
    const k = sp.s.length;
    for (let j = ranks[i]; j < k; j++) tail2 += sp.s[j] ** 2;
    const p = sliceCols(sp.u, rows, k, 0, ranks[i]);
    if (sp.derived) choleskyQr(p, rows, ranks[i]);
    projections[i] = p;
    factors.push(matmul(basis, fullShape[i], rows, p, ranks[i]));
  }
  const coreShape = shape.map((n, i) => (projections[i] ? ranks[i] : n));
  let core: Float64Array = c1;
  // Stryker disable next-line ArrowFunction: `() => undefined` makes every() false: the dense products, which the corner route reproduces
  if (corner && projections.every((p, i) => i < 2 || !p)) {
    // Only the two grown modes project: both products at once, around the zero corner.
    const project = (x: Float64Array) => projectCorner(x, corner, projections[0], coreShape[0], projections[1], coreShape[1]);
    core = project(c1);
    if (velocity) velocity = project(velocity);
  } else {
    // Stryker disable next-line MethodExpression: `at` is copied (below) before its first write, so aliasing `shape` writes nothing into it
    let at = shape.slice();
    for (let i = 0; i < d; i++) {
      const p = projections[i];
      if (!p) continue;
      const pt = transpose(p, shape[i], ranks[i]);
      core = modeProductRaw(core, at, pt, ranks[i], i).data;
      if (velocity) velocity = modeProductRaw(velocity, at, pt, ranks[i], i).data;
      // Stryker disable next-line MethodExpression: `at` is this loop's own array (modeProductRaw copies the shape it is given)
      at = at.slice();
      at[i] = ranks[i];
    }
  }
  // ε is formed only when read: it costs as much as the projections themselves and only the checks read it.
  let error: number | null = null;
  const truncationError = (): number => {
    error ??= truncationErrorOf(c1, shape, core, coreShape, projections);
    return error;
  };
  return {
    coreShape,
    core,
    factors,
    velocity,
    truncationError,
    projections,
    tailBound: Math.sqrt(tail2),
    routes: spectra.map((s) => (s ? s.route : null)),
  };
}

/**
 * ε = ‖Ĉ1 − C_new ×_i P_i‖_F, the truncation's error in the augmented coordinates (the bases Û are
 * orthonormal), formed directly: ‖Ĉ1‖² − ‖C_new‖² would cancel catastrophically when ε is tiny.
 */
export function truncationErrorOf(
  c1: Float64Array,
  shape: readonly number[],
  core: Float64Array,
  coreShape: readonly number[],
  projections: readonly (Float64Array | null)[],
): number {
  let lifted: Float64Array = core;
  let liftedShape = [...coreShape];
  for (let i = 0; i < shape.length; i++) {
    const p = projections[i];
    if (!p) continue;
    const back = modeProductRaw(lifted, liftedShape, p, shape[i], i);
    lifted = back.data;
    liftedShape = back.shape;
  }
  let err2 = 0;
  for (let k = 0; k < c1.length; k++) err2 += (c1[k] - lifted[k]) ** 2;
  return Math.sqrt(err2);
}
