import { noGrad } from '../autograd/grad-mode.js';
import { frob } from '../linalg/matrix.js';
import type { Module } from '../nn/module.js';
import type { Parameter } from '../nn/parameter.js';
import { SGD } from '../optim/sgd.js';
import type { OptimizerState } from '../optim/optimizer.js';
import { allocate } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import { outsideArena } from '../tensor/storage.js';
import { Tensor } from '../tensor/tensor.js';
import { modeProductRaw } from '../tucker/product.js';
import { augmentPoint } from './augment.js';
import { directionsFromFactorGrad, directionsFromKernelGrad, type ModeDirections } from './kstep.js';
import { cholesky, gramCondition, K_STEP_COND_LIMIT, readPoint, unfoldingGram, type LayerPoint } from './layer-point.js';
import { type LayerThreads, lanesFor, updateLayers } from './layer-lanes.js';
import { type LayerUpdate, type ParallelLayerJob, type StepSettings, updateAndTruncate } from './layer-update.js';
import { truncateCore, truncationErrorOf } from './truncate-core.js';
import { rankCap, settledRank, type MaxRank } from './settle-rule.js';
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
  maxRank?: MaxRank;
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
  /**
   * When the tolerance first applies after a warm-up (warmupSteps > 0), truncate every layer at
   * once to the ranks that repeating the truncation rule on the current point reaches
   * (settleRanks), instead of shedding the warm-up's spectrum a tail of τ‖Ĉ‖ per step. Default false.
   */
  settleAfterWarmup?: boolean;
  /**
   * Threads the parallel step's per-layer updates may run on side by side, the calling thread one
   * of them (layer-lanes.ts; docs/integrator.md §8): 1 (the default) keeps them on the calling
   * thread; 'auto' takes the kernels' thread count where the layers are wide enough for it to pay
   * (5–19% of the step at 128–256 channels on two threads), at the price of a worker thread
   * (≈ 42 MB resident, more than TDLRT saves over the full model at those widths); a number fixes
   * the count. The result is the same on any lane: each runs its kernels on its own thread alone.
   */
  layerThreads?: LayerThreads;
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
  /** ‖Ĉ1 ×Û − C_new ×U_new‖F, the error of the truncation (computed when first read). */
  readonly truncationError: number;
  /** (Σ_i tail_i(r_i)²)^½ over the truncated modes: the HOSVD bound on truncationError. */
  tailBound: number;
  /** ϑ_i per mode (0 where the mode does not adapt). */
  thresholds: number[];
  /** ‖∇_Ĉ L(Ĉ0 ×Û)‖F, the Galerkin gradient of the S-step (computed when first read). */
  readonly galerkinGradNorm: number;
  /** The lifted core Ĉ0, the updated core Ĉ1 (both of shape augmentedRanks) and the bases Û_i (n_i × r̂_i, null where a mode is kept full), for checks. */
  liftedCore: Float64Array;
  updatedCore: Float64Array;
  augmentedBases: (Float64Array | null)[];
}

/**
 * Where the last step's wall-clock time went, in milliseconds (performance.now()): the parts add up
 * to `total`. What a researcher reads to see whether the network or the integrator's own float64
 * work dominates a step (docs/integrator.md §8, "Where a step's time goes").
 */
export interface StepTimes {
  /** Reading each layer's point in float64 (drift check and repair, the K-step's conditioning), and the one-off settleRanks after the warm-up. */
  prepare: number;
  /** The forward/backward passes: one for 'parallel', two for 'bug'. */
  passes: number;
  /** Reading the gradients into the K-step directions. */
  gradients: number;
  /** Augmentation, Galerkin step, truncation and install of every layer (the passes excluded). */
  update: number;
  /** The SGD step of the parameters outside the low-rank layers. */
  others: number;
  total: number;
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

/** What the step needs of one layer from its gradient evaluation at the current point. */
interface LayerGradients {
  point: LayerPoint;
  /** ∇_C L at the point. */
  coreGrad: Float64Array;
  /** K-step directions per stored mode (null where kept full or at full rank). */
  modes: (ModeDirections | null)[];
  /** Whether the full-kernel probe gave them (an ill-conditioned core unfolding). */
  probed: boolean;
}

/** Per layer, what is known before the forward pass: the point and how its directions are read. */
interface Prepared {
  point: LayerPoint;
  /** Per stored mode with room to grow: the unfolding and the Cholesky factor of its Gram matrix. */
  solves: ({ unfolded: Float64Array; chol: Float64Array } | null)[];
  probe: Tensor | null;
  conditions: number[];
}

/**
 * The rank-adaptive integrator on the Tucker manifold (TDLRT), in two forms (docs/integrator.md):
 *
 * 'parallel' (one forward/backward per step): from the gradient at the current point, every
 * stored mode gets its K-step directions Ũ_i = orth((I − U_iU_iᵀ)K_i'), the augmented core is
 * assembled block by block (old block: the Galerkin step in the old bases; blocks new in one mode:
 * that mode's K-step; blocks new in two or more: zero), so that before truncation the step is
 * Y0 − λ·P_T∇L(Y0), the Riemannian gradient step; then HOSVD truncation at ϑ_i.
 *
 * 'bug' (the paper's augmented basis-update & Galerkin step, two passes): the same bases Û_i, then
 * a second forward/backward gives the Galerkin gradient ∇_Ĉ L(Ĉ0 ×Û) with the bases frozen, and
 * Ĉ1 = Ĉ0 − λ∇_Ĉ L; then the same truncation.
 *
 * All other parameters take an ordinary SGD step with the same λ and momentum.
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
  readonly settleAfterWarmup: boolean;
  /** Threads the per-layer updates of the parallel step may run on side by side (IntegratorOptions.layerThreads). */
  layerThreads: LayerThreads;
  /** What settleRanks did, if it ran: the step and the ranks before and after, per layer. */
  settled: { step: number; before: Record<string, number[]>; after: Record<string, number[]> } | null = null;
  stepCount = 0;
  /** Per layer, what the last step did. */
  lastInfo: LayerStepInfo[] = [];
  /** Where the last step's time went (null before the first step). */
  lastTimes: StepTimes | null = null;
  /** For checks and benches: called with each parallel step's per-layer jobs before they run (layer-update.ts). */
  onLayerJobs: ((jobs: readonly ParallelLayerJob[]) => void) | null = null;
  /** Steps whose K-step directions came from the full-kernel probe (ill-conditioned cores), per layer name. */
  readonly probeCounts = new Map<string, number>();
  private readonly maxRank: IntegratorOptions['maxRank'];
  private readonly others: SGD | null;
  private readonly velocity = new Map<TuckerLayer, Float64Array>();
  /** Milliseconds spent in pass() since the step began (StepTimes.passes). */
  private passTime = 0;

  constructor(
    readonly model: Module,
    options: IntegratorOptions,
  ) {
    const name = 'RankAdaptiveIntegrator';
    if (options === null || typeof options !== 'object') throw new Error(`${name}: options must be an object with lr, got ${String(options)}`);
    if (!(options.lr > 0) || !Number.isFinite(options.lr)) throw new Error(`${name}: lr must be > 0, got ${options.lr} (a finite number)`);
    this.lr = options.lr;
    this.tau = options.tau ?? 0.1;
    if (!(this.tau >= 0 && this.tau < 1)) throw new Error(`${name}: tau must be ≥ 0 and < 1, got ${options.tau}`);
    this.theta = options.theta ?? null;
    if (this.theta !== null && !(this.theta >= 0 && Number.isFinite(this.theta)))
      throw new Error(`${name}: theta must be a finite number ≥ 0, got ${options.theta}`);
    this.minRank = options.minRank ?? 2;
    if (!Number.isInteger(this.minRank) || this.minRank < 1) throw new Error(`${name}: minRank must be a positive integer, got ${options.minRank}`);
    this.maxRank = options.maxRank;
    this.momentum = options.momentum ?? 0;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new Error(`${name}: momentum must be ≥ 0 and < 1, got ${options.momentum}`);
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.weightDecay >= 0 && Number.isFinite(this.weightDecay)))
      throw new Error(`${name}: weightDecay must be a finite number ≥ 0, got ${options.weightDecay}`);
    this.warmupSteps = options.warmupSteps ?? 0;
    if (!Number.isInteger(this.warmupSteps) || this.warmupSteps < 0) throw new Error(`${name}: warmupSteps must be an integer ≥ 0, got ${options.warmupSteps}`);
    this.kind = options.integrator ?? 'parallel';
    if (!INTEGRATOR_KINDS.includes(this.kind))
      throw new Error(`${name}: integrator must be one of ${INTEGRATOR_KINDS.join(', ')}, got ${String(options.integrator)}`);
    this.settleAfterWarmup = options.settleAfterWarmup ?? false;
    this.layerThreads = options.layerThreads ?? 1;
    if (this.layerThreads !== 'auto' && (!Number.isInteger(this.layerThreads) || this.layerThreads < 1))
      throw new Error(`${name}: layerThreads must be 'auto' or a positive integer, got ${String(options.layerThreads)}`);
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
   * scalar loss: once for 'parallel', twice for 'bug' (same batch). Returns the loss at the point
   * before the step.
   */
  step(closure: () => Tensor): number {
    if (typeof closure !== 'function') throw new Error('RankAdaptiveIntegrator.step: closure must be a function returning the loss');
    if (this.others) this.others.lr = this.lr;
    const t0 = performance.now();
    this.passTime = 0;
    // Inside arena() (docs/design.md §3.5.1), only the forward/backward passes are step-local: the
    // linear algebra's arrays become the next step's velocity and parameters, so it runs outside.
    if (this.settleAfterWarmup && this.warmupSteps > 0 && this.stepCount === this.warmupSteps && this.tau > 0) outsideArena(() => this.settleRanks());
    const prepared = outsideArena(() => this.layers.map(([, layer]) => this.prepare(layer)));
    const t1 = performance.now();
    let lossBefore: number;
    let grads: LayerGradients[];
    try {
      lossBefore = this.pass(closure, 'first');
      grads = outsideArena(() => this.layers.map(([, layer], k) => this.gradientsOf(layer, prepared[k])));
    } finally {
      for (const [, layer] of this.layers) layer.gradientProbe = null;
    }
    const t2 = performance.now();
    const firstPass = this.passTime;
    this.update(closure, grads);
    const t3 = performance.now();
    this.others?.step();
    const t4 = performance.now();
    this.stepCount++;
    this.lastTimes = {
      prepare: t1 - t0,
      passes: this.passTime,
      gradients: t2 - t1 - firstPass,
      update: t3 - t2 - (this.passTime - firstPass),
      others: t4 - t3,
      total: t4 - t0,
    };
    return lossBefore;
  }

  /** The step after the first pass: augmentation, the core update and the truncation of each layer. */
  private update(closure: () => Tensor, grads: LayerGradients[]): void {
    const tauNow = this.currentTau;
    if (this.kind === 'parallel') {
      this.lastInfo = outsideArena(() => {
        const jobs: ParallelLayerJob[] = this.layers.map(([name, layer], k) => {
          const g = grads[k];
          return {
            point: { core: g.point.core, shape: g.point.shape, factors: g.point.factors },
            fullShape: [...layer.fullShape],
            coreGrad: g.coreGrad,
            modes: g.modes.map((m) => m?.source ?? null),
            velocity: this.velocity.get(layer) ?? null,
            settings: this.settingsOf(name, layer, tauNow),
          };
        });
        this.onLayerJobs?.(jobs);
        const updates = updateLayers(jobs, lanesFor(jobs, this.layerThreads));
        return updates.map((u, k) => this.finish(this.layers[k][0], this.layers[k][1], u));
      });
      return;
    }
    const augmented = outsideArena(() =>
      this.layers.map(([, layer], k) => {
        const g = grads[k];
        const aug = augmentPoint(g.point, layer.fullShape, g.modes, this.velocity.get(layer) ?? null);
        this.install(layer, aug.core, aug.shape, aug.bases);
        // Bases are frozen in the S-step: only the core needs a gradient.
        // Stryker disable next-line BooleanLiteral,ConditionalExpression: the bases are frozen by not being updated; a gradient computed for them is never read, and install() sets requiresGrad again
        for (const f of layer.factors) if (f) f.requiresGrad = false;
        return aug;
      }),
    );
    this.pass(closure, 'second');
    this.lastInfo = outsideArena(() =>
      this.layers.map(([name, layer], k) => {
        const g = layer.core.grad ? new Float64Array(layer.core.grad.data) : new Float64Array(augmented[k].core.length);
        // Stryker disable next-line BooleanLiteral: a declared corner is checked, not trusted (a core not zero there takes the dense route), and either route gives the same truncation
        return this.finish(name, layer, updateAndTruncate(augmented[k], g, layer.fullShape, this.settingsOf(name, layer, tauNow), false));
      }),
    );
  }

  private pass(closure: () => Tensor, which: string): number {
    const t0 = performance.now();
    try {
      return this.forwardBackward(closure, which);
    } finally {
      this.passTime += performance.now() - t0;
    }
  }

  private forwardBackward(closure: () => Tensor, which: string): number {
    this.model.zeroGrad();
    const loss = closure();
    if (!(loss instanceof Tensor) || loss.size !== 1) {
      throw new Error(
        `RankAdaptiveIntegrator.step: closure must return a scalar loss Tensor (${which} pass), got ${loss instanceof Tensor ? shapeStr(loss.shape) : typeof loss}`,
      );
    }
    loss.backward();
    const value = loss.item();
    if (!Number.isFinite(value)) throw new Error(`RankAdaptiveIntegrator.step: the loss is ${value} (${which} pass); lower lr or check the inputs for NaN/Inf`);
    return value;
  }

  /**
   * Before the forward pass: the point in float64 (factors re-orthonormalised if they drifted),
   * and per stored mode with room to grow, whether Mat_i(C) is well-conditioned enough for its
   * K-step directions to come from the factor gradient. If any mode is not, the layer runs this
   * step's forward through its full kernel (the gradient probe), whose gradient gives them exactly.
   */
  private prepare(layer: TuckerLayer): Prepared {
    const point = readPoint(layer);
    if (point.repaired) this.install(layer, point.core, point.shape, point.factors);
    const solves: Prepared['solves'] = [];
    // Stryker disable next-line ArrayDeclaration: conditions[i] is assigned by index before it is read
    const conditions: number[] = [];
    let probe = false;
    point.factors.forEach((u, i) => {
      // Stryker disable next-line CallExpression: conditions[i] is assigned by index before it is read
      conditions.push(1);
      // Stryker disable next-line BlockStatement,LogicalOperator: an unstored mode gets no directions (no factor) and a full-rank one no room; at most its conditioning sends the layer through the probe, which gives the same K-step data (integrator-parallel.test.ts)
      if (!u || point.shape[i] >= layer.fullShape[i]) {
        solves.push(null);
        return;
      }
      const { unfolded, gram } = unfoldingGram(point.core, point.shape, i);
      const chol = cholesky(gram, point.shape[i]);
      conditions[i] = gramCondition(gram, chol, point.shape[i]);
      if (!chol || !(conditions[i] <= K_STEP_COND_LIMIT)) probe = true;
      solves.push(chol ? { unfolded, chol } : null);
    });
    let probeTensor: Tensor | null = null;
    if (probe) {
      let w = point.core;
      let shape = point.shape;
      point.factors.forEach((u, i) => {
        if (!u) return;
        const next = modeProductRaw(w, shape, u, layer.fullShape[i], i);
        w = next.data;
        shape = next.shape;
      });
      const data = allocate(layer.dtype, w.length);
      data.set(w);
      probeTensor = new Tensor(data, [...layer.fullShape], true);
      layer.gradientProbe = probeTensor;
    }
    return { point, solves, probe: probeTensor, conditions };
  }

  /** ∇_C L and the K-step directions of each mode, from the probe or from the factor gradients. */
  private gradientsOf(layer: TuckerLayer, prep: Prepared): LayerGradients {
    const { point } = prep;
    if (prep.probe) {
      // Stryker disable next-line OptionalChaining,StringLiteral: the layer is always among this.layers, so find() never returns undefined
      const name = this.layers.find(([, l]) => l === layer)?.[0] ?? '';
      this.probeCounts.set(name, (this.probeCounts.get(name) ?? 0) + 1);
      const g = prep.probe.grad ? new Float64Array(prep.probe.grad.data) : new Float64Array(prep.probe.size);
      const { coreGrad, modes } = directionsFromKernelGrad(g, layer.fullShape, point);
      // Modes at full rank have no new directions to give.
      // Stryker disable next-line BooleanLiteral: `probed` is read by nothing
      return { point, coreGrad, modes: modes.map((m, i) => (point.shape[i] < layer.fullShape[i] ? m : null)), probed: true };
    }
    const coreGrad = layer.core.grad ? new Float64Array(layer.core.grad.data) : new Float64Array(point.core.length);
    const modes = layer.factors.map((f, i) => {
      const solve = prep.solves[i];
      if (!f || !solve) return null;
      const fg = f.grad ? new Float64Array(f.grad.data) : new Float64Array(f.size);
      return directionsFromFactorGrad(fg, solve.unfolded, solve.chol, point.shape[i]);
    });
    // Stryker disable next-line BooleanLiteral: `probed` is read by nothing
    return { point, coreGrad, modes, probed: false };
  }

  /**
   * Truncates every layer at once to the ranks that the truncation rule reaches when repeated on
   * the current point (docs/integrator.md, "No pruning cliff"). After a warm-up at τ = 0 the
   * spectra hold a flat bulk that one truncation sheds only a tail of τ‖C‖ of, so the steps that
   * follow run for tens of steps at near-full rank, each repeating the same cut on a point the
   * gradient barely moves (new directions of size λ‖P_T G‖ ≪ τ‖C‖ never survive it). Per adapted
   * mode: r ← rank of the tail rule on σ_1..σ_r at τ·(Σ_{k≤r} σ_k²)^½, clamped to [minRank,
   * maxRank], until it stops falling; then one HOSVD truncation to those ranks (velocity projected
   * alike).
   */
  settleRanks(tau: number = this.tau): Record<string, number[]> {
    const before = this.ranks();
    this.settleEachLayer(tau);
    this.settled = { step: this.stepCount, before, after: this.ranks() };
    return this.settled.after;
  }

  /**
   * Records a settling made outside settleRanks: TDLRT's switch from the full warm-up converts the
   * weights straight to the settled ranks (settle-rule.ts). `before` holds the ranks of the exact
   * full-rank conversion that it stands for.
   */
  recordSettled(before: Record<string, number[]>): void {
    this.settled = { step: this.stepCount, before: structuredClone(before), after: this.ranks() };
  }

  private settleEachLayer(tau: number): void {
    if (!(tau >= 0 && tau < 1)) throw new Error(`RankAdaptiveIntegrator.settleRanks: tau must be ≥ 0 and < 1, got ${tau}`);
    for (const [name, layer] of this.layers) {
      const point = readPoint(layer);
      const adapts = point.factors.map((u, i) => u !== null && layer.adaptModes.includes(i));
      const bounds = point.shape.map((n, i): [number, number] => [this.minRank, adapts[i] ? this.maxRankOf(name, i, layer.fullShape[i]) : n]);
      // The fixed point of the tail rule on σ_1..σ_r, with the norm of what is kept.
      const rankRule = (i: number, s: Float64Array): number => settledRank(s, tau, bounds[i][0], bounds[i][1]);
      const t = truncateCore({
        shape: point.shape,
        c1: point.core,
        bases: point.factors,
        fullShape: layer.fullShape,
        thresholds: adapts.map((a) => (a ? tau : null)),
        keep: point.shape,
        bounds,
        velocity: this.velocity.get(layer) ?? null,
        rankRule,
      });
      this.install(layer, t.core, t.coreShape, t.factors);
      if (t.velocity) this.velocity.set(layer, t.velocity);
    }
  }

  /** The step's constants for one layer (layer-update.ts). */
  private settingsOf(name: string, layer: TuckerLayer, tauNow: number): StepSettings {
    // A stored mode listed in adaptModes adapts; the cap is asked of those only (maxRank may be a user's function).
    const adapts = layer.fullShape.map((_, i) => layer.factors[i] !== null && layer.adaptModes.includes(i));
    return {
      lr: this.lr,
      weightDecay: this.weightDecay,
      momentum: this.momentum,
      theta: this.theta,
      tauNow,
      minRank: this.minRank,
      adapts,
      maxRanks: adapts.map((a, i) => (a ? this.maxRankOf(name, i, layer.fullShape[i]) : layer.fullShape[i])),
    };
  }

  /** Installs a layer's update (the new point and velocity) and says what the step did. */
  private finish(name: string, layer: TuckerLayer, u: LayerUpdate): LayerStepInfo {
    this.install(layer, u.core, u.coreShape, u.factors);
    if (u.velocity) this.velocity.set(layer, u.velocity);
    else this.velocity.delete(layer);
    let error: number | undefined;
    let gradNorm: number | undefined;
    return {
      name,
      ranks: u.coreShape,
      augmentedRanks: u.augmentedShape,
      tailBound: u.tailBound,
      thresholds: u.thresholds,
      // On first read: only the checks read them, and each is a pass over the core (the error, as much as the projections).
      get truncationError() {
        error ??= truncationErrorOf(u.updatedCore, u.augmentedShape, u.core, u.coreShape, u.projections);
        return error;
      },
      get galerkinGradNorm() {
        gradNorm ??= frob(u.gradient);
        return gradNorm;
      },
      liftedCore: u.liftedCore,
      updatedCore: u.updatedCore,
      augmentedBases: u.augmentedBases,
    };
  }

  /** Puts core and factors (float64) into the layer as parameters of its dtype. */
  private install(layer: TuckerLayer, core: Float64Array, shape: readonly number[], factors: readonly (Float64Array | null)[]): void {
    // Same ranks as now (most steps once the ranks have settled): write in place, so that the
    // parameters keep their buffers (and the backends their packed copies) instead of new ones.
    const same = layer.core.shape.every((n, i) => n === shape[i]);
    if (same) {
      noGrad(() => {
        layer.core.data.set(core);
        layer.factors.forEach((f, i) => {
          if (!f) return;
          f.data.set(factors[i] as Float64Array);
          f.requiresGrad = true;
        });
      });
      layer.core.zeroGrad();
      for (const f of layer.factors) f?.zeroGrad();
      return;
    }
    layer.setTucker(
      this.asParamTensor(core, [...shape], layer),
      factors.map((f, i) => (f ? this.asParamTensor(f, [layer.fullShape[i], shape[i]], layer) : null)),
    );
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
      if (!(v instanceof Float64Array) || v.length !== layer.core.size)
        throw new Error(
          `${fn}: velocity of '${name}' must be a Float64Array of ${layer.core.size} values (core ${shapeStr(layer.core.shape)}), got ${v?.length}`,
        );
    }
    if ((state.others === null) !== (this.others === null))
      throw new Error(
        `${fn}: the state ${state.others ? 'has' : 'lacks'} an optimizer for the other parameters, this integrator ${this.others ? 'has one' : 'has none'}`,
      );
    // Stryker disable next-line LogicalOperator: the check before makes both null or both set
    if (this.others && state.others) this.others.loadStateDict(state.others);
    this.stepCount = state.stepCount;
    this.lr = state.lr;
    this.velocity.clear();
    for (const [name, v] of Object.entries(state.velocity)) this.velocity.set(byName.get(name) as TuckerLayer, v.slice());
  }

  private maxRankOf(name: string, mode: number, size: number): number {
    return rankCap(this.maxRank, name, mode, size);
  }

  private asParamTensor(data: Float64Array, shape: number[], layer: TuckerLayer): Tensor {
    const out = allocate(layer.dtype, data.length);
    out.set(data);
    return new Tensor(out, shape);
  }
}
