import { Conv2d, Linear } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { SGD } from '../../optim/sgd.js';
import { Tensor } from '../../tensor/tensor.js';
import { sgdStep } from '../../optim/model-step.js';
import { hosvd } from '../../tucker/hosvd.js';
import { reconstruct } from '../../tucker/product.js';
import { factorize } from '../factorize.js';
import { optimizerBytes, paramBytes, sgdStepFlops, svdFlops } from './accounting.js';
import { planRanks, type CompressedLayer, type RankPlan } from './budget.js';
import { requireModuleAt } from '../../nn/model-structure.js';
import { lowerWeight, truncatedSvd } from './lowered.js';
import { reportOf } from './report.js';
import { sgdSettings, type SgdSettings } from './sgd-split.js';
import type { MethodContext, MethodReport, TrainingMethod } from './types.js';
import { optimizerStateOf, stepCountOf, versionedState } from './versioned-state.js';

export interface LraOptions extends SgdSettings {
  /** Fraction of the compressed layers' parameters kept by the deployed low-rank form. */
  budget?: number;
  /** Explicit ranks per compressed layer (factorize's format); overrides budget. */
  ranks?: Record<string, readonly number[]>;
  /** S_D: project every S_D steps (default 200, the paper's CIFAR setting). */
  interval?: number;
  /** Low-rank form of the convolutions: Tucker-2 on the channel modes (default) or the lowered kernel's SVD. */
  conv?: 'tucker' | 'matrix';
}

/**
 * The low-rank projection of one weight at fixed ranks (ranks in factorize's format): a truncated
 * HOSVD on the channel modes of a conv kernel (Tucker form), a truncated SVD of the lowered kernel
 * (matrix form) or of a Linear weight. Returns the projected weight in its own layout, float64.
 */
export function projectWeight(w: Tensor, layer: CompressedLayer, form: 'tucker' | 'matrix', ranks: readonly number[]): Float64Array {
  if (!(w instanceof Tensor)) throw new Error(`projectWeight: w must be a Tensor, got ${typeof w}`);
  if (w.shape.join() !== layer.shape.join())
    throw new Error(`projectWeight: w must have the layer's shape [${layer.shape.join(', ')}], got [${w.shape.join(', ')}]`);
  if (layer.kind === 'linear' || form === 'matrix') {
    // One truncated SVD of the (lowered) matrix: HOSVD of a matrix would take two.
    const lowered = lowerWeight(w.data, layer.shape, 'channel');
    return truncatedSvd(lowered, ranks[0]).approx;
  }
  const h = hosvd(new Tensor(Float64Array.from(w.data), layer.shape), { ranks: [ranks[0], ranks[1], null, null] }, { modes: [0, 1] });
  return Float64Array.from(reconstruct(h.core, h.factors).data);
}

/**
 * LRA, low-rank approximation as a weight distortion (DeepTwist, arXiv 1905.10145): the full
 * weights train normally, and every S_D steps each compressed weight is replaced by its low-rank
 * approximation at the budget's ranks; momentum buffers are left as they are. finalize() applies
 * the last projection by factorising the model at those ranks (HOSVD/SVD of the final weights),
 * which is the deployed model, evaluated without fine-tuning.
 */
export class LraMethod implements TrainingMethod {
  readonly name = 'lra';
  readonly settings: Required<SgdSettings>;
  readonly interval: number;
  readonly conv: 'tucker' | 'matrix';
  stepCount = 0;
  plan: RankPlan | null = null;
  private model: Module | null = null;
  private optimizer: SGD | null = null;
  private deployed: Module | null = null;

  constructor(readonly options: LraOptions) {
    this.settings = sgdSettings(options, 'lra');
    this.interval = options.interval ?? 200;
    this.conv = options.conv ?? 'tucker';
    if (!Number.isInteger(this.interval) || this.interval < 1) throw new Error(`lra: interval (S_D) must be a positive integer, got ${options.interval}`);
    if (this.conv !== 'tucker' && this.conv !== 'matrix') throw new Error(`lra: conv must be 'tucker' or 'matrix', got ${String(options.conv)}`);
    if (options.budget === undefined && options.ranks === undefined)
      throw new Error("lra: give budget (fraction of the compressed layers' parameters kept) or ranks");
  }

  setup(model: Module, _ctx: MethodContext): Module {
    this.plan = planRanks(model, { budget: this.options.budget, ranks: this.options.ranks, convForm: this.conv }, 'lra');
    this.model = model;
    this.optimizer = new SGD(model.parameters(), this.settings);
    return model;
  }

  /** Replaces every compressed weight by its low-rank approximation, in place. */
  project(): void {
    const model = this.requireModel();
    const plan = this.plan as RankPlan;
    for (const l of plan.layers) {
      const layer = requireModuleAt(model, l.name, 'lra');
      if (!(layer instanceof Conv2d || layer instanceof Linear))
        throw new Error(`lra: layer '${l.name}' is no longer a full Conv2d/Linear (finalize was called)`);
      layer.weight.data.set(projectWeight(layer.weight, l, this.conv, plan.ranks[l.name]));
    }
  }

  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    if (this.deployed) throw new Error('lra: the model was factorised by finalize(); it cannot be trained further');
    const r = sgdStep(this.requireModel(), this.optimizer as SGD, x, y);
    this.stepCount++;
    if (this.stepCount % this.interval === 0) this.project();
    return r;
  }

  finalize(): Module {
    const model = this.requireModel();
    if (this.deployed) return this.deployed;
    const plan = this.plan as RankPlan;
    this.deployed = factorize(model, { conv: this.conv, linear: 'matrix', ranks: plan.ranks, skip: plan.skip, init: 'weights' });
    return this.deployed;
  }

  /** The deployed model's accounting (before finalize, the full model's). */
  report(): MethodReport {
    return reportOf(this.requireModel());
  }

  progress(): Record<string, unknown> {
    return { nextProjection: this.interval - (this.stepCount % this.interval) };
  }

  /** Checkpoint state, version 1: the step count (which decides the next projection) and the optimizer. */
  getState(): unknown {
    if (this.deployed) throw new Error('lra.getState: the model was factorised by finalize(); save it as a model, not a training state');
    return { version: 1, stepCount: this.stepCount, optimizer: (this.optimizer as SGD).stateDict() };
  }

  setState(state: unknown): void {
    const s = versionedState('lra', state, 1, ['stepCount', 'optimizer']);
    const stepCount = stepCountOf('lra', s.stepCount);
    (this.optimizer as SGD).loadStateDict(optimizerStateOf('lra', s.optimizer));
    this.stepCount = stepCount;
  }

  /** A full SGD step plus, every S_D steps, the SVDs of each weight's unfoldings (amortised). */
  stepFlops(batchSize: number, inputShape: readonly number[]): number {
    let extra = 0;
    for (const l of (this.plan as RankPlan).layers) {
      const size = l.shape.reduce((a, b) => a * b, 1);
      const modes = l.kind === 'linear' || this.conv === 'matrix' ? [l.shape[0], size / l.shape[0]] : [l.shape[0], l.shape[1]];
      for (const n of modes) extra += svdFlops(n, size / n) + 4 * size * n;
    }
    return sgdStepFlops(this.requireModel(), batchSize, inputShape) + extra / this.interval;
  }

  memory(): { paramBytes: number; optimizerBytes: number } {
    return { paramBytes: paramBytes(this.requireModel()), optimizerBytes: this.optimizer ? optimizerBytes([this.optimizer]) : 0 };
  }

  private requireModel(): Module {
    if (!this.model) throw new Error('lra: call setup(model) before training');
    return this.model;
  }
}
