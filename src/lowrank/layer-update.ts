/**
 * One layer's part of an integrator step once its gradient is known, as a function of plain arrays:
 * the S-step's update of the augmented core and its truncation (both steps), and for the parallel
 * step the augmentation and the augmented gradient before them. Plain data in and out, so that the
 * same code runs on the calling thread or on a layer worker (layer-lanes.ts) with the same result
 * (docs/integrator.md §8, "Layers side by side").
 */
import { frob } from '../linalg/matrix.js';
import { recycleTemporaries } from '../tensor/storage.js';
import { augmentPoint, parallelGradient, type AugmentedPoint } from './augment.js';
import { modeDirectionsOf, type DirectionsSource } from './kstep.js';
import type { LayerPoint } from './layer-point.js';
import { truncateCore } from './truncate-core.js';

/** The step's constants for one layer. */
export interface StepSettings {
  lr: number;
  weightDecay: number;
  momentum: number;
  /** The absolute tolerance ϑ; null: ϑ_i = tauNow·‖Ĉ1‖_F. */
  theta: number | null;
  tauNow: number;
  minRank: number;
  /** Per mode: whether its rank adapts (a stored mode listed in the layer's adaptModes). */
  adapts: boolean[];
  /** Per mode: the largest rank an adapted mode may reach. */
  maxRanks: number[];
}

/** What one layer's update produced: the new point, its velocity, and what the checks read. */
export interface LayerUpdate {
  core: Float64Array;
  coreShape: number[];
  factors: (Float64Array | null)[];
  /** The velocity projected with the core (null without momentum). */
  velocity: Float64Array | null;
  /** Ranks of the augmented core Ĉ1. */
  augmentedShape: number[];
  /** Ĉ0, Ĉ1 and the bases Û_i. */
  liftedCore: Float64Array;
  updatedCore: Float64Array;
  augmentedBases: (Float64Array | null)[];
  /** The S-step's gradient g in the augmented coordinates. */
  gradient: Float64Array;
  /** The HOSVD bound on the truncation error, and ϑ_i per mode (0 where the mode does not adapt). */
  tailBound: number;
  thresholds: number[];
  /** P_i per truncated mode (null where kept): the truncation error is formed from them when read. */
  projections: (Float64Array | null)[];
}

/** The parallel step of one layer, as plain arrays (what a layer worker receives). */
export interface ParallelLayerJob {
  point: Pick<LayerPoint, 'core' | 'shape' | 'factors'>;
  fullShape: number[];
  /** ∇_C L at the point. */
  coreGrad: Float64Array;
  /** The K-step directions of each stored mode with room to grow (null elsewhere). */
  modes: (DirectionsSource | null)[];
  /** The core's velocity before the step (null before the first step or without momentum). */
  velocity: Float64Array | null;
  settings: StepSettings;
}

/**
 * The S-step's update of one core, Ĉ1 = Ĉ0 − λ(g + wd·Ĉ0) or, with a velocity (heavy ball),
 * v = μ·v0 + g + wd·Ĉ0 and Ĉ1 = Ĉ0 − λ·v, with ‖Ĉ1‖² and max|Ĉ1| gathered in the same pass (two
 * passes over the core less). Its own small function: inside a long method the same loop ran at
 * less than half the speed (timers around it, 128 channels at ratio ½, three layers: 5.5 ms a
 * step there, 2.3 ms here; V8 compiles a small function's loop better than a long method's).
 */
function coreUpdate(
  c0: Float64Array,
  g: Float64Array,
  v0: Float64Array | null,
  v: Float64Array | null,
  c1: Float64Array,
  lr: number,
  wd: number,
  mu: number,
): { ss: number; big: number } {
  let ss = 0;
  let big = 0;
  // Stryker disable next-line LogicalOperator: the caller passes both or neither (momentum > 0 or not)
  if (v0 && v) {
    // Stryker disable next-line EqualityOperator: the loop's ‖Ĉ1‖ and max|Ĉ1| are a shortcut: any mutant that spoils them (NaN from a read past the end, a wrong or zero max) sends the norm to frob(c1) and the max to truncateCore's own maxAbs, the same values
    for (let k = 0; k < c1.length; k++) {
      const vk = mu * v0[k] + g[k] + wd * c0[k];
      v[k] = vk;
      const ck = c0[k] - lr * vk;
      c1[k] = ck;
      ss += ck * ck;
      const m = Math.abs(ck);
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the loop's ‖Ĉ1‖ and max|Ĉ1| are a shortcut: any mutant that spoils them (NaN from a read past the end, a wrong or zero max) sends the norm to frob(c1) and the max to truncateCore's own maxAbs, the same values
      if (m > big) big = m;
    }
    // Stryker disable next-line ObjectLiteral: without ss and big the caller takes frob(c1) and truncateCore's own maxAbs, the same values
    return { ss, big };
  }
  // Stryker disable next-line EqualityOperator: the loop's ‖Ĉ1‖ and max|Ĉ1| are a shortcut: any mutant that spoils them (NaN from a read past the end, a wrong or zero max) sends the norm to frob(c1) and the max to truncateCore's own maxAbs, the same values
  for (let k = 0; k < c1.length; k++) {
    const ck = c0[k] - lr * (g[k] + wd * c0[k]);
    c1[k] = ck;
    ss += ck * ck;
    const m = Math.abs(ck);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the loop's ‖Ĉ1‖ and max|Ĉ1| are a shortcut: any mutant that spoils them (NaN from a read past the end, a wrong or zero max) sends the norm to frob(c1) and the max to truncateCore's own maxAbs, the same values
    if (m > big) big = m;
  }
  // Stryker disable next-line ObjectLiteral: without ss and big the caller takes frob(c1) and truncateCore's own maxAbs, the same values
  return { ss, big };
}

/**
 * Ĉ1 = Ĉ0 − λ(g + wd·Ĉ0) (heavy-ball: v = μv + g + wd·Ĉ0, Ĉ1 = Ĉ0 − λv), then the truncation.
 * `parallel`: g is the parallel step's gradient, zero on the blocks new in two or more modes, as
 * are Ĉ0 and the lifted velocity, so Ĉ1 and v are too (the truncation skips them).
 */
export function updateAndTruncate(a: AugmentedPoint, g: Float64Array, fullShape: readonly number[], s: StepSettings, parallel: boolean): LayerUpdate {
  const c0 = a.core;
  const c1 = new Float64Array(c0.length);
  let velocity: Float64Array | null = null;
  // ‖Ĉ1‖ and max|Ĉ1| are gathered in the update's own loop rather than by two more passes over
  // the core (a tenth of the truncation's time at 128 channels): the sum of squares is exact
  // enough wherever no square can overflow or underflow, and frob's scaled sum takes the rest.
  // A fresh array, not the lifted velocity itself: augmentPoint returns the stored one when the shape did not grow.
  if (s.momentum > 0) velocity = new Float64Array(c0.length);
  const { ss, big } = coreUpdate(c0, g, velocity ? (a.velocity ?? velocity) : null, velocity, c1, s.lr, s.weightDecay, s.momentum);
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,UnaryOperator: within the range both routes give the norm to rounding, and outside it only values beyond a finite loss's reach (2^±480) tell them apart; false means frob(c1) and truncateCore's own maxAbs, the same values
  const inRange = Number.isFinite(ss) && big > 2 ** -480 && big < 2 ** 480;
  const norm = inRange ? Math.sqrt(ss) : frob(c1);
  const d = a.shape.length;
  const thresholds = new Array<number>(d).fill(0);
  const perMode: (number | null)[] = [];
  const bounds: [number, number][] = [];
  // Stryker disable next-line EqualityOperator: one mode past the shape adds entries the truncation never reads (no basis there)
  for (let i = 0; i < d; i++) {
    // Stryker disable next-line ConditionalExpression: s.adapts[i] holds for stored modes only (the integrator's settingsOf), so the basis test only restates it
    const adapts = a.bases[i] !== null && s.adapts[i];
    if (adapts) thresholds[i] = s.theta ?? s.tauNow * norm;
    perMode.push(adapts ? thresholds[i] : null);
    bounds.push([s.minRank, adapts ? s.maxRanks[i] : a.shape[i]]);
  }
  const t = truncateCore({
    shape: a.shape,
    c1,
    bases: a.bases,
    fullShape,
    thresholds: perMode,
    keep: a.before,
    bounds,
    velocity,
    zeroCornerFrom: parallel ? a.before : undefined,
    norm,
    maxAbs: inRange ? big : undefined,
  });
  return {
    core: t.core,
    coreShape: t.coreShape,
    factors: t.factors,
    velocity: t.velocity,
    augmentedShape: a.shape,
    liftedCore: a.core,
    updatedCore: c1,
    augmentedBases: a.bases,
    gradient: g,
    tailBound: t.tailBound,
    thresholds,
    projections: t.projections,
  };
}

/**
 * The parallel step of one layer after the forward/backward: the bases augmented by the K-step
 * directions, the augmented gradient (docs/integrator.md, "The parallel step"), then the update
 * and the truncation.
 */
export function parallelLayerUpdate(job: ParallelLayerJob): LayerUpdate {
  const modes = job.modes.map((m) => (m ? modeDirectionsOf(m) : null));
  const aug = augmentPoint(job.point, job.fullShape, modes, job.velocity);
  // Stryker disable next-line BooleanLiteral: without the declared zero corner the truncation takes the dense route, which the corner route reproduces (truncate-blocks.test.ts)
  return updateAndTruncate(aug, parallelGradient(aug, job.coreGrad, job.fullShape, modes), job.fullShape, job.settings, true);
}

/** Every array a LayerUpdate holds (some may share a buffer). */
export function arraysOf(u: LayerUpdate): (Float64Array | null)[] {
  return [u.core, u.velocity, u.liftedCore, u.updatedCore, u.gradient, ...u.factors, ...u.augmentedBases, ...u.projections];
}

/**
 * parallelLayerUpdate with its temporaries given back to the buffer pool when it returns
 * (recycleTemporaries): the same result; the next step's update of the same shapes takes its
 * buffers from the pool.
 */
export function parallelLayerUpdatePooled(job: ParallelLayerJob): LayerUpdate {
  return recycleTemporaries(() => parallelLayerUpdate(job), arraysOf);
}
