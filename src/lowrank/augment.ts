/**
 * Basis augmentation, shared by both integrator steps, and the augmented core gradient of the
 * parallel step (docs/integrator.md, "The parallel step"). Û_i = [U_i | Ũ_i] with Ũ_i the new
 * directions of mode i, so Û_iᵀU_i = [I; 0] and the lift of the core (and of its velocity) is a
 * zero padding: Ĉ0 ×_i Û_i = C ×_i U_i exactly.
 */
import { matmulTA } from '../linalg/matrix.js';
import { stridesOf } from '../tensor/shape.js';
import { foldRaw } from '../tucker/unfold.js';
import { newDirections, type ModeDirections } from './kstep.js';
import type { LayerPoint } from './layer-point.js';

export interface AugmentedPoint {
  /** Ranks before augmentation. */
  before: number[];
  /** Augmented ranks r̂_i = r_i + m_i. */
  shape: number[];
  /** Ĉ0: the core padded with zeros to `shape`. */
  core: Float64Array;
  /** Û_i (n_i × r̂_i), null where the mode is kept full. */
  bases: (Float64Array | null)[];
  /** Ũ_i (n_i × m_i), null where the mode is kept full. */
  fresh: (Float64Array | null)[];
  /** The velocity padded like the core (null without one). */
  velocity: Float64Array | null;
}

/** Writes `src` (srcShape) into `dst` (dstShape) at the index offset `at` (srcShape + at ≤ dstShape). */
export function embed(dst: Float64Array, dstShape: readonly number[], src: ArrayLike<number>, srcShape: readonly number[], at: readonly number[]): void {
  // Trailing modes where the block spans the whole destination (a conv core's kept spatial modes)
  // are one contiguous run: fold them into the mode before, so that each copy moves a whole run.
  let d = srcShape.length;
  // Stryker disable next-line ArithmeticOperator,UpdateOperator: these end the loop with no mode folded (an index past the shapes reads undefined): the same copy, run by run
  while (d > 1 && srcShape[d - 1] === dstShape[d - 1] && at[d - 1] === 0) d--;
  // Stryker disable next-line BlockStatement,ConditionalExpression,EqualityOperator: folding the trailing modes only makes each copy move a whole run (with d = length the fold changes nothing)
  if (d < srcShape.length) {
    const run = srcShape.slice(d).reduce((p, n) => p * n, 1);
    const fold = (shape: readonly number[]) => [...shape.slice(0, d - 1), shape[d - 1] * run];
    embedRuns(dst, fold(dstShape), src, fold(srcShape), [...at.slice(0, d - 1), at[d - 1] * run]);
    return;
  }
  embedRuns(dst, dstShape, src, srcShape, at);
}

function embedRuns(dst: Float64Array, dstShape: readonly number[], src: ArrayLike<number>, srcShape: readonly number[], at: readonly number[]): void {
  const d = srcShape.length;
  const ds = stridesOf(dstShape);
  const idx = new Array<number>(d).fill(0);
  const last = srcShape[d - 1];
  for (let k = 0; k < src.length; k += last) {
    let o = 0;
    for (let j = 0; j < d; j++) o += (idx[j] + at[j]) * ds[j];
    for (let q = 0; q < last; q++) dst[o + q] = src[k + q];
    for (let j = d - 2; j >= 0; j--) {
      if (++idx[j] < srcShape[j]) break;
      idx[j] = 0;
    }
  }
}

function pad(src: Float64Array, from: readonly number[], to: readonly number[]): Float64Array {
  const out = new Float64Array(to.reduce((p, n) => p * n, 1));
  embed(
    out,
    to,
    src,
    from,
    from.map(() => 0),
  );
  return out;
}

/**
 * Û_i = [U_i | orth((I − U_iU_iᵀ)D_i)] for every stored mode with room to grow (r_i < n_i) and
 * directions; modes at full rank keep U_i.
 */
export function augmentPoint(
  point: Pick<LayerPoint, 'core' | 'shape' | 'factors'>,
  fullShape: readonly number[],
  modes: readonly (ModeDirections | null)[],
  velocity: Float64Array | null,
): AugmentedPoint {
  // Stryker disable next-line MethodExpression: `before` is never written (the augmented shape is a copy of it)
  const before = point.shape.slice();
  const shape = before.slice();
  const bases: (Float64Array | null)[] = [];
  const fresh: (Float64Array | null)[] = [];
  point.factors.forEach((u, i) => {
    if (!u) {
      bases.push(null);
      fresh.push(null);
      return;
    }
    const n = fullShape[i];
    const r = before[i];
    const dir = modes[i];
    const { basis, count } = dir ? newDirections(u, dir.d, n, r) : { basis: new Float64Array(0), count: 0 };
    // Stryker disable next-line BlockStatement: with no new direction the code below rebuilds the basis as a copy of U at the same rank
    if (count === 0) {
      bases.push(u);
      fresh.push(basis);
      return;
    }
    const hat = new Float64Array(n * (r + count));
    for (let row = 0; row < n; row++) {
      hat.set(u.subarray(row * r, (row + 1) * r), row * (r + count));
      hat.set(basis.subarray(row * count, (row + 1) * count), row * (r + count) + r);
    }
    bases.push(hat);
    fresh.push(basis);
    shape[i] = r + count;
  });
  // Stryker disable next-line ArrowFunction: `same` false pads to the same shape, i.e. copies
  const same = shape.every((s, i) => s === before[i]);
  return {
    before,
    shape,
    bases,
    fresh,
    core: same ? point.core : pad(point.core, before, shape),
    velocity: velocity ? (same ? velocity : pad(velocity, before, shape)) : null,
  };
}

/**
 * The parallel step's augmented gradient, in the coordinates of Û: the old block is ∇_C L (the
 * Galerkin gradient in the old bases); the block new in mode i alone is Ũ_iᵀ Z_i Q_i Q_iᵀ = (Ũ_iᵀD_i)E_i;
 * blocks new in two or more modes are zero. Then Ĉ0 − λ·g, mapped by Û, is Y0 − λ P_T(G).
 */
export function parallelGradient(
  aug: AugmentedPoint,
  coreGrad: Float64Array,
  fullShape: readonly number[],
  modes: readonly (ModeDirections | null)[],
): Float64Array {
  const { before, shape } = aug;
  // Stryker disable next-line ArrowFunction: `same` false pads to the same shape, i.e. copies
  const same = shape.every((s, i) => s === before[i]);
  const g = same ? new Float64Array(coreGrad) : pad(coreGrad, before, shape);
  for (let i = 0; i < shape.length; i++) {
    const fresh = aug.fresh[i];
    const dir = modes[i];
    const m = shape[i] - before[i];
    // Stryker disable next-line LogicalOperator: a mode without Ũ_i or D_i has m = 0, so either form skips it or adds an empty block
    if (!fresh || !dir || m === 0) continue;
    const n = fullShape[i];
    const r = before[i];
    // D_i is n_i × w and E_i is w × Π_{j≠i} r_j, with w = r_i unless the core's unfolding has fewer columns.
    const w = dir.d.length / n;
    const coef = matmulTA(fresh, n, m, dir.d, w); // Ũ_iᵀ D_i, m × w
    const block = dir.timesE(coef, m); // m × Π_{j≠i} r_j
    const blockShape = before.slice();
    blockShape[i] = m;
    const at = before.map(() => 0);
    at[i] = r;
    embed(g, shape, foldRaw(block, i, blockShape), blockShape, at);
  }
  return g;
}
