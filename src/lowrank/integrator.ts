import { frob, matmul, matmulTA, sliceCols, transpose } from '../linalg/matrix.js';
import { qrRaw } from '../linalg/qr.js';
import { svdRaw, truncationRank } from '../linalg/svd.js';
import { GRAM_SVD_FLOOR, GRAM_SVD_MIN_SIDE, leftSvdByGram } from '../linalg/svd-gram.js';
import type { Module } from '../nn/module.js';
import type { Parameter } from '../nn/parameter.js';
import { SGD } from '../optim/sgd.js';
import type { OptimizerState } from '../optim/optimizer.js';
import { allocate } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { unfoldRaw } from '../tucker/unfold.js';
import { modeProductRaw } from '../tucker/product.js';
import { TuckerLayer } from './tucker-layer.js';

export interface IntegratorOptions {
  /** Learning rate λ of the K- and S-steps (and of the ordinary step of the other parameters). */
  lr: number;
  /** Relative tolerance: per adapted mode ϑ_i = tau·‖Ĉ1‖F (default 0.1). */
  tau?: number;
  /** Absolute per-mode tolerance ϑ (DLRT's θ); when given it replaces tau. */
  theta?: number;
  /** Smallest rank an adapted mode may reach (default 2). */
  minRank?: number;
  /** Largest rank per adapted mode: a number for all, or a function (default n_i, the mode size). */
  maxRank?: number | ((layer: string, mode: number, size: number) => number);
  /** Heavy-ball momentum of the core (lifted and projected with the bases) and of the other parameters. */
  momentum?: number;
  /** Weight decay on the cores (S-step) and on the other parameters; factors get none. */
  weightDecay?: number;
  /** Steps during which tau is held at 0 (flat spectra at init would be pruned at once). */
  warmupSteps?: number;
  /**
   * Which step: 'parallel' (one forward/backward per step, the parallel basis-update & Galerkin
   * step) or 'bug' (the paper's two-pass augmented basis-update & Galerkin step).
   */
  integrator?: IntegratorKind;
}

export const INTEGRATOR_KINDS = ['bug', 'parallel'] as const;
export type IntegratorKind = (typeof INTEGRATOR_KINDS)[number];

/** What one step did to one layer; the tests read the truncation error and its bound from here. */
export interface LayerStepInfo {
  name: string;
  /** Ranks after truncation (n_i on modes kept full). */
  ranks: number[];
  /** Ranks of the augmented core Ĉ1. */
  augmentedRanks: number[];
  /** ‖Ĉ1 ×Û − C_new ×U_new‖F, the error of the truncation. */
  truncationError: number;
  /** (Σ_i tail_i(r_i)²)^½ over the truncated modes: the HOSVD bound on truncationError. */
  tailBound: number;
  /** ϑ_i per mode (0 where the mode does not adapt). */
  thresholds: number[];
  /** ‖∇_Ĉ L(Ĉ0 ×Û)‖F, the Galerkin gradient of the S-step. */
  galerkinGradNorm: number;
  /** The lifted core Ĉ0, the updated core Ĉ1 (both of shape augmentedRanks) and the bases Û_i (n_i × r̂_i, null where a mode is kept full), for checks. */
  liftedCore: Float64Array;
  updatedCore: Float64Array;
  augmentedBases: (Float64Array | null)[];
}

/** The integrator's resumable state (see RankAdaptiveIntegrator.getState). */
export interface IntegratorState {
  stepCount: number;
  lr: number;
  /** Heavy-ball velocity of each layer's core, by layer name (absent before the first step or without momentum). */
  velocity: Record<string, Float64Array>;
  /** SGD state of the parameters outside the low-rank layers. */
  others: OptimizerState | null;
}

const JACOBI_FLOOR = 1e-14;

/**
 * Left singular vectors and values of the mode-i unfolding, and the relative level below which its
 * σ are rounding noise. From GRAM_SVD_MIN_SIDE on, through the Gram matrix (~4× faster than
 * Jacobi); its σ below GRAM_SVD_FLOOR·‖Ĉ1‖ are noise and are dropped even at τ = 0, a change of
 * W of that relative size at most.
 */
function unfoldingSvd(c1: Float64Array, shape: readonly number[], i: number): { u: Float64Array; s: Float64Array; floor: number } {
  const rows = shape[i];
  const cols = c1.length / rows;
  const unfolded = unfoldRaw(c1, shape, i);
  if (Math.min(rows, cols) >= GRAM_SVD_MIN_SIDE) return { ...leftSvdByGram(unfolded, rows, cols), floor: GRAM_SVD_FLOOR };
  const svd = svdRaw(unfolded, rows, cols, { wantU: true, wantV: false });
  return { u: svd.u as Float64Array, s: svd.s, floor: JACOBI_FLOOR };
}

/** [A | B] for A [n, p] and B [n, q]. */
function hcat(a: Float64Array, b: Float64Array, n: number, p: number, q: number): Float64Array {
  const out = new Float64Array(n * (p + q));
  for (let i = 0; i < n; i++) {
    out.set(a.subarray(i * p, (i + 1) * p), i * (p + q));
    out.set(b.subarray(i * q, (i + 1) * q), i * (p + q) + p);
  }
  return out;
}

interface Augmented {
  /** Ranks before augmentation (kept by stored modes that do not adapt). */
  before: number[];
  shape: number[];
  core: Float64Array;
  bases: (Float64Array | null)[];
  velocity: Float64Array | null;
}

/**
 * The rank-adaptive "basis update & Galerkin" integrator on the Tucker manifold (TDLRT,
 * DESIGN.md §3.2). One step, for every low-rank layer:
 *   1. pass 1 (closure + backward) gives ∇_{U_i}L through the factorised forward; since
 *      span[U_i, K_i'] = span[U_i, ∇_{U_i}L] when S_i is invertible, the new bases are
 *      Û_i = orth([U_i | ∇_{U_i}L]) for all modes from the same point (K-step + augmentation);
 *   2. the core is lifted exactly, Ĉ0 = C ×_i Û_iᵀU_i, so that Ĉ0 ×Û = W;
 *   3. pass 2 gives ∇_Ĉ L with the bases frozen; Ĉ1 = Ĉ0 − λ(∇_Ĉ L + wd·Ĉ0) (Galerkin S-step);
 *   4. truncation by HOSVD of the small core Ĉ1 at tolerance ϑ_i per adapted mode.
 * All other parameters take an ordinary SGD step with the same λ.
 */
export class RankAdaptiveIntegrator {
  readonly layers: [string, TuckerLayer][];
  lr: number;
  tau: number;
  theta: number | null;
  minRank: number;
  momentum: number;
  weightDecay: number;
  warmupSteps: number;
  /** Which step this integrator takes (see IntegratorOptions.integrator). */
  readonly kind: IntegratorKind;
  stepCount = 0;
  /** Per layer, what the last step did. */
  lastInfo: LayerStepInfo[] = [];
  private readonly maxRank: IntegratorOptions['maxRank'];
  private readonly others: SGD | null;
  private readonly velocity = new Map<TuckerLayer, Float64Array>();

  constructor(readonly model: Module, options: IntegratorOptions) {
    const name = 'RankAdaptiveIntegrator';
    if (!(options.lr > 0)) throw new Error(`${name}: lr must be > 0, got ${options.lr}`);
    this.lr = options.lr;
    this.tau = options.tau ?? 0.1;
    if (!(this.tau >= 0)) throw new Error(`${name}: tau must be ≥ 0, got ${options.tau}`);
    this.theta = options.theta ?? null;
    if (this.theta !== null && !(this.theta >= 0)) throw new Error(`${name}: theta must be ≥ 0, got ${options.theta}`);
    this.minRank = options.minRank ?? 2;
    if (!Number.isInteger(this.minRank) || this.minRank < 1) throw new Error(`${name}: minRank must be a positive integer, got ${options.minRank}`);
    this.maxRank = options.maxRank;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.warmupSteps = options.warmupSteps ?? 0;
    this.kind = options.integrator ?? 'bug';
    if (!INTEGRATOR_KINDS.includes(this.kind)) throw new Error(`${name}: integrator must be one of ${INTEGRATOR_KINDS.join(', ')}, got ${String(options.integrator)}`);
    if (this.momentum < 0 || this.weightDecay < 0 || this.warmupSteps < 0) throw new Error(`${name}: momentum, weightDecay and warmupSteps must be ≥ 0`);
    this.layers = model.namedModules().filter((e): e is [string, TuckerLayer] => e[1] instanceof TuckerLayer);
    if (this.layers.length === 0) throw new Error(`${name}: the model has no low-rank layers; convert it with lowrank.factorize first`);
    const lowRank = new Set<Parameter>();
    for (const [, l] of this.layers) {
      lowRank.add(l.core);
      for (const f of l.factors) if (f) lowRank.add(f);
    }
    const others = model.parameters().filter((p) => !lowRank.has(p));
    this.others = others.length > 0 ? new SGD(others, { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay }) : null;
  }

  /** The relative tolerance in force at the current step (0 during warm-up). */
  get currentTau(): number {
    return this.stepCount < this.warmupSteps ? 0 : this.tau;
  }

  /** Current ranks per low-rank layer. */
  ranks(): Record<string, number[]> {
    return Object.fromEntries(this.layers.map(([n, l]) => [n, l.ranks]));
  }

  /**
   * One integrator step. `closure` runs the forward pass on the current batch and returns the
   * scalar loss; it is called twice (K-step, then S-step) on the same batch. Returns the loss
   * of the first pass (at the point before the step).
   */
  step(closure: () => Tensor): number {
    if (typeof closure !== 'function') throw new Error('RankAdaptiveIntegrator.step: closure must be a function returning the loss');
    if (this.others) this.others.lr = this.lr;
    for (const [, layer] of this.layers) this.dropSingularDirections(layer);
    const lossBefore = this.pass(closure, 'first');
    const augmented = this.layers.map(([, layer]) => this.augment(layer));
    this.pass(closure, 'second');
    const tauNow = this.currentTau;
    this.lastInfo = this.layers.map(([name, layer], k) => this.galerkinAndTruncate(name, layer, augmented[k], tauNow));
    this.others?.step();
    this.stepCount++;
    return lossBefore;
  }

  private pass(closure: () => Tensor, which: string): number {
    this.model.zeroGrad();
    const loss = closure();
    if (!(loss instanceof Tensor) || loss.size !== 1) {
      throw new Error(`RankAdaptiveIntegrator.step: closure must return a scalar loss Tensor (${which} pass), got ${loss instanceof Tensor ? shapeStr(loss.shape) : typeof loss}`);
    }
    loss.backward();
    return loss.item();
  }

  /**
   * The factor-gradient route of the K-step needs every S_i (Mat_i(C)ᵀ = Q_i S_iᵀ) invertible:
   * where σ_min(S_i) < 1e-12‖S_i‖ (a zero or rank-deficient core) the rank of that mode is lowered
   * to its numerical rank first. W does not change (up to 1e-12), so the step stays exact.
   */
  private dropSingularDirections(layer: TuckerLayer): void {
    let shape = layer.ranks;
    let core: Float64Array = Float64Array.from(layer.core.data);
    let velocity: Float64Array | null = this.velocity.get(layer) ?? null;
    const factors: (Float64Array | null)[] = layer.factors.map((f) => (f ? Float64Array.from(f.data) : null));
    let changed = false;
    layer.factors.forEach((f, i) => {
      if (!f || shape[i] <= 1) return;
      const rows = shape[i];
      const cols = core.length / rows;
      const unfolded = unfoldRaw(core, shape, i);
      const { r, qCols } = qrRaw(transpose(unfolded, rows, cols), cols, rows, 'reduced', true);
      const first = Math.abs(r[0]);
      const last = qCols < rows ? 0 : Math.abs(r[(qCols - 1) * rows + qCols - 1]);
      if (last >= 1e-12 * first) return;
      const svd = svdRaw(unfolded, rows, cols, { wantU: true, wantV: false });
      let rank = 0;
      while (rank < svd.s.length && svd.s[rank] > 1e-12 * svd.s[0]) rank++;
      rank = Math.max(1, rank);
      const p = sliceCols(svd.u as Float64Array, rows, svd.uCols, 0, rank);
      const pt = transpose(p, rows, rank);
      core = modeProductRaw(core, shape, pt, rank, i).data;
      if (velocity) velocity = modeProductRaw(velocity, shape, pt, rank, i).data;
      factors[i] = matmul(factors[i] as Float64Array, layer.fullShape[i], rows, p, rank);
      shape = shape.slice();
      shape[i] = rank;
      changed = true;
    });
    if (!changed) return;
    layer.setTucker(this.asParamTensor(core, shape, layer), factors.map((f, i) => (f ? this.asParamTensor(f, [layer.fullShape[i], shape[i]], layer) : null)));
    if (velocity) this.velocity.set(layer, velocity);
  }

  /** K-step from one point for every stored mode, basis augmentation and the exact lift of the core. */
  private augment(layer: TuckerLayer): Augmented {
    const before = layer.ranks;
    let shape = before;
    let core: Float64Array = Float64Array.from(layer.core.data);
    let velocity = this.velocity.get(layer) ?? null;
    const bases: (Float64Array | null)[] = [];
    layer.factors.forEach((f, i) => {
      if (!f) {
        bases.push(null);
        return;
      }
      const [n, r] = f.shape;
      const u = Float64Array.from(f.data);
      const g = f.grad ? Float64Array.from(f.grad.data) : new Float64Array(n * r);
      const { q, qCols } = qrRaw(hcat(u, g, n, r, r), n, 2 * r, 'reduced');
      const m = matmulTA(q, n, qCols, u, r);
      core = modeProductRaw(core, shape, m, qCols, i).data;
      if (velocity) velocity = modeProductRaw(velocity, shape, m, qCols, i).data;
      shape = shape.slice();
      shape[i] = qCols;
      bases.push(q);
    });
    layer.setTucker(
      this.asParamTensor(core, shape, layer),
      bases.map((b, i) => (b ? this.asParamTensor(b, [layer.fullShape[i], shape[i]], layer) : null)),
    );
    // Bases are frozen in the S-step: only the core needs a gradient.
    for (const f of layer.factors) if (f) f.requiresGrad = false;
    return { before, shape, core, bases, velocity };
  }

  private galerkinAndTruncate(name: string, layer: TuckerLayer, a: Augmented, tauNow: number): LayerStepInfo {
    const { shape, bases } = a;
    const g = layer.core.grad ? layer.core.grad.data : new Float64Array(a.core.length);
    const lr = this.lr;
    const wd = this.weightDecay;
    const mu = this.momentum;
    const c1 = new Float64Array(a.core.length);
    let velocity: Float64Array | null = null;
    if (mu > 0) {
      velocity = a.velocity ?? new Float64Array(a.core.length);
      for (let k = 0; k < c1.length; k++) {
        velocity[k] = mu * velocity[k] + g[k] + wd * a.core[k];
        c1[k] = a.core[k] - lr * velocity[k];
      }
    } else {
      for (let k = 0; k < c1.length; k++) c1[k] = a.core[k] - lr * (g[k] + wd * a.core[k]);
    }

    // HOSVD truncation of Ĉ1 on the stored modes.
    const norm = frob(c1);
    const d = shape.length;
    const left: (Float64Array | null)[] = new Array(d).fill(null);
    const spectra: (Float64Array | null)[] = new Array(d).fill(null);
    const thresholds = new Array<number>(d).fill(0);
    const ranks = shape.slice();
    // A small matrix layer's two unfoldings are Ĉ1 and Ĉ1ᵀ: one Jacobi SVD gives the left vectors of both (U, V).
    const matrixSvd = d === 2 && bases[0] && bases[1] && Math.min(shape[0], shape[1]) < GRAM_SVD_MIN_SIDE ? svdRaw(c1, shape[0], shape[1]) : null;
    for (let i = 0; i < d; i++) {
      if (!bases[i]) continue;
      const svd = matrixSvd ? { u: matrixSvd[i === 0 ? 'u' : 'v'] as Float64Array, s: matrixSvd.s, floor: JACOBI_FLOOR } : unfoldingSvd(c1, shape, i);
      left[i] = svd.u;
      spectra[i] = svd.s;
      const k = svd.s.length;
      if (layer.adaptModes.includes(i)) {
        // A floor at the SVD's noise level (1e-14‖Ĉ1‖ for Jacobi) drops only rounding noise, so that τ = 0 never grows numerically singular cores.
        const theta = this.theta ?? tauNow * norm;
        thresholds[i] = theta;
        const r = truncationRank(svd.s, Math.max(theta, svd.floor * norm));
        const cap = Math.min(k, this.maxRankOf(name, i, layer.fullShape[i]));
        ranks[i] = Math.min(cap, Math.max(this.minRank, r));
      } else {
        ranks[i] = Math.min(k, a.before[i]);
      }
    }
    // A matrix has one rank: r_i ≤ Π_{j≠i} r_j.
    for (let changed = true; changed; ) {
      changed = false;
      const total = ranks.reduce((p, r) => p * r, 1);
      for (let i = 0; i < d; i++) {
        const others = total / ranks[i];
        if (bases[i] && ranks[i] > others) {
          ranks[i] = others;
          changed = true;
          break;
        }
      }
    }

    let core: Float64Array = c1;
    let coreShape = shape.slice();
    let tail2 = 0;
    const newFactors: (Float64Array | null)[] = [];
    const projections: (Float64Array | null)[] = new Array(d).fill(null);
    for (let i = 0; i < d; i++) {
      const u = left[i];
      const basis = bases[i];
      if (!u || !basis || !spectra[i]) {
        newFactors.push(null);
        continue;
      }
      const rows = shape[i];
      const k = (spectra[i] as Float64Array).length;
      for (let j = ranks[i]; j < k; j++) tail2 += (spectra[i] as Float64Array)[j] ** 2;
      const p = sliceCols(u, rows, k, 0, ranks[i]);
      projections[i] = p;
      const pt = transpose(p, rows, ranks[i]);
      core = modeProductRaw(core, coreShape, pt, ranks[i], i).data;
      if (velocity) velocity = modeProductRaw(velocity, coreShape, pt, ranks[i], i).data;
      coreShape = coreShape.slice();
      coreShape[i] = ranks[i];
      newFactors.push(matmul(basis, layer.fullShape[i], rows, p, ranks[i]));
    }
    // ε = ‖Ĉ1 − C_new ×_i P_i‖ in the augmented coordinates (the bases Û are orthonormal), formed
    // directly: ‖Ĉ1‖² − ‖C_new‖² would cancel catastrophically when ε is tiny.
    let lifted: Float64Array = core;
    let liftedShape = coreShape;
    for (let i = 0; i < d; i++) {
      if (!projections[i]) continue;
      const back = modeProductRaw(lifted, liftedShape, projections[i] as Float64Array, shape[i], i);
      lifted = back.data;
      liftedShape = back.shape;
    }
    let err2 = 0;
    for (let k = 0; k < c1.length; k++) err2 += (c1[k] - lifted[k]) ** 2;
    const truncationError = Math.sqrt(err2);
    layer.setTucker(
      this.asParamTensor(core, coreShape, layer),
      newFactors.map((f, i) => (f ? this.asParamTensor(f, [layer.fullShape[i], coreShape[i]], layer) : null)),
    );
    if (velocity) this.velocity.set(layer, velocity);
    else this.velocity.delete(layer);
    return {
      name, ranks: coreShape, augmentedRanks: shape, truncationError, tailBound: Math.sqrt(tail2), thresholds,
      galerkinGradNorm: frob(g), liftedCore: a.core, updatedCore: c1, augmentedBases: bases,
    };
  }

  /**
   * What a checkpoint needs to resume bit for bit: the step count, λ, the core velocity of each
   * layer (by name, in the layer's current core shape) and the SGD state of the other parameters.
   */
  getState(): IntegratorState {
    const velocity: Record<string, Float64Array> = {};
    for (const [name, layer] of this.layers) {
      const v = this.velocity.get(layer);
      if (v) velocity[name] = v.slice();
    }
    return { stepCount: this.stepCount, lr: this.lr, velocity, others: this.others ? this.others.stateDict() : null };
  }

  /** Restores getState() output; the model must already hold the saved ranks. Checks everything before changing anything. */
  setState(state: IntegratorState): void {
    const fn = 'RankAdaptiveIntegrator.setState';
    if (!Number.isInteger(state.stepCount) || state.stepCount < 0) throw new Error(`${fn}: stepCount must be a non-negative integer, got ${state.stepCount}`);
    if (!(state.lr > 0)) throw new Error(`${fn}: lr must be > 0, got ${state.lr}`);
    const byName = new Map(this.layers);
    for (const [name, v] of Object.entries(state.velocity)) {
      const layer = byName.get(name);
      if (!layer) throw new Error(`${fn}: velocity names layer '${name}', which is not a low-rank layer of the model (${[...byName.keys()].join(', ')})`);
      if (!(v instanceof Float64Array) || v.length !== layer.core.size) throw new Error(`${fn}: velocity of '${name}' must be a Float64Array of ${layer.core.size} values (core ${shapeStr(layer.core.shape)}), got ${v?.length}`);
    }
    if ((state.others === null) !== (this.others === null)) throw new Error(`${fn}: the state ${state.others ? 'has' : 'lacks'} an optimizer for the other parameters, this integrator ${this.others ? 'has one' : 'has none'}`);
    if (this.others && state.others) this.others.loadStateDict(state.others);
    this.stepCount = state.stepCount;
    this.lr = state.lr;
    this.velocity.clear();
    for (const [name, v] of Object.entries(state.velocity)) this.velocity.set(byName.get(name) as TuckerLayer, v.slice());
  }

  private maxRankOf(name: string, mode: number, size: number): number {
    const m = this.maxRank;
    if (m === undefined) return size;
    const v = typeof m === 'number' ? m : m(name, mode, size);
    if (!Number.isInteger(v) || v < 1) throw new Error(`RankAdaptiveIntegrator: maxRank for ${name} mode ${mode} must be a positive integer, got ${v}`);
    return Math.min(v, size);
  }

  private asParamTensor(data: Float64Array, shape: number[], layer: TuckerLayer): Tensor {
    const out = allocate(layer.dtype, data.length);
    out.set(data);
    return new Tensor(out, shape);
  }
}
