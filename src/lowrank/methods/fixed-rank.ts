import type { Module } from '../../nn/module.js';
import { crossEntropy } from '../../ops/loss.js';
import type { SGD } from '../../optim/sgd.js';
import type { Tensor } from '../../tensor/tensor.js';
import { factorize } from '../factorize.js';
import { planRanks, type RankPlan } from './budget.js';
import { sgdSettings, splitSgd, type SgdSettings } from './sgd-split.js';
import { SgdTrainedMethod } from './sgd-trained.js';
import type { MethodContext } from './types.js';
import { optimizerStateOf, versionedState } from './versioned-state.js';

export interface FixedRankOptions extends SgdSettings {
  /** How convolutions are held: Tucker-2 on the channel modes ('tucker-fixed') or U S Vᵀ of the lowered kernel ('matrix-fixed'). Linear layers are U S Vᵀ in both. */
  conv: 'tucker' | 'matrix';
  /** Fraction of the compressed layers' parameters kept (0.07 = 93% fewer); every compressed layer keeps this fraction. */
  budget?: number;
  /** Explicit ranks per compressed layer (factorize's format); overrides budget. */
  ranks?: Record<string, readonly number[]>;
}

/**
 * Fixed-rank low-rank training (the "Tucker" and "matrix" baselines of the paper): the compressed
 * layers are factorised from scratch at ranks derived from the parameter budget (orthonormal
 * factors, a core scaled to the full layer's init variance; the context's generator seeds it),
 * and core and factors are trained as free parameters by SGD. Weight decay acts on cores and on
 * the uncompressed layers, not on factors (see sgd-split.ts).
 */
export class FixedRankMethod extends SgdTrainedMethod {
  readonly name: string;
  protected optimizers: SGD[] = [];
  /** The ranks chosen at setup. */
  plan: RankPlan | null = null;
  readonly settings: Required<SgdSettings>;

  constructor(
    readonly options: FixedRankOptions,
    name?: string,
  ) {
    super();
    this.name = name ?? (options?.conv === 'matrix' ? 'matrix-fixed' : 'tucker-fixed');
    this.settings = sgdSettings(options, this.name);
    if (options.conv !== 'tucker' && options.conv !== 'matrix') throw new Error(`${this.name}: conv must be 'tucker' or 'matrix', got ${String(options.conv)}`);
    if (options.budget === undefined && options.ranks === undefined)
      throw new Error(`${this.name}: give budget (fraction of the compressed layers' parameters kept) or ranks`);
  }

  setup(model: Module, ctx: MethodContext): Module {
    this.plan = planRanks(model, { budget: this.options.budget, ranks: this.options.ranks, convForm: this.options.conv }, this.name);
    this.model = factorize(model, {
      conv: this.options.conv,
      linear: 'matrix',
      ranks: this.plan.ranks,
      skip: this.plan.skip,
      init: 'random',
      generator: ctx.generator,
    });
    this.optimizers = splitSgd(this.model, this.settings);
    return this.model;
  }

  /** The loss that is differentiated: the data loss, plus what a subclass adds (ELRT's regulariser). */
  protected objective(logits: Tensor, y: Int32Array): { total: Tensor; data: Tensor } {
    const data = crossEntropy(logits, y);
    return { total: data, data };
  }

  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    const model = this.requireModel();
    for (const o of this.optimizers) o.zeroGrad();
    const logits = model.forward(x);
    const { total, data } = this.objective(logits, y);
    total.backward();
    for (const o of this.optimizers) o.step();
    return { loss: data.item(), logits };
  }

  protected heldOptimizers(): readonly SGD[] {
    return this.optimizers;
  }

  /** Checkpoint state, version 1: the optimizers' buffers (the ranks are the model's own). */
  getState(): unknown {
    return { version: 1, optimizers: this.optimizers.map((o) => o.stateDict()) };
  }

  setState(state: unknown): void {
    const s = versionedState(this.name, state, 1, ['optimizers']);
    const saved = s.optimizers;
    if (!Array.isArray(saved) || saved.length !== this.optimizers.length)
      throw new Error(
        `${this.name}.setState: optimizers must be an array of ${this.optimizers.length} optimizer states, got ${JSON.stringify(saved)?.slice(0, 80)}`,
      );
    this.optimizers.forEach((o, i) => o.loadStateDict(optimizerStateOf(this.name, saved[i])));
  }
}
