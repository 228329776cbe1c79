import type { Module } from '../../nn/module.js';
import { factorize } from '../factorize.js';
import { planRanks, type RankPlan } from './budget.js';
import { FullMethod } from './full.js';
import type { SgdSettings } from './sgd-split.js';

export interface PostHocOptions extends SgdSettings {
  /** Fraction of the compressed layers' parameters kept after compression. */
  budget?: number;
  /** Explicit ranks per compressed layer (factorize's format); overrides budget. */
  ranks?: Record<string, readonly number[]>;
  /** Form of the compressed convolutions: truncated HOSVD on the channel modes (default) or SVD of the lowered kernel. */
  conv?: 'tucker' | 'matrix';
}

/**
 * Compresses a trained model once, in place: each compressed layer becomes its truncated
 * HOSVD (Tucker-2, convs) or SVD (lowered convs, Linear layers) at the budget's ranks. Returns
 * the model and the ranks used.
 */
export function compressOnce(model: Module, options: Omit<PostHocOptions, keyof SgdSettings>): { model: Module; plan: RankPlan } {
  const conv = options.conv ?? 'tucker';
  if (conv !== 'tucker' && conv !== 'matrix') throw new Error(`compressOnce: conv must be 'tucker' or 'matrix', got ${String(conv)}`);
  const plan = planRanks(model, { budget: options.budget, ranks: options.ranks, convForm: conv }, 'compressOnce');
  return { model: factorize(model, { conv, linear: 'matrix', ranks: plan.ranks, skip: plan.skip, init: 'weights' }), plan };
}

/**
 * Post-hoc compression, the negative control (docs/design.md §5.3): train the full network exactly as
 * 'full' does, then compress it once at the budget's ranks, with no fine-tuning.
 */
export class PostHocMethod extends FullMethod {
  override readonly name: string = 'post-hoc';
  plan: RankPlan | null = null;
  private compressed = false;
  constructor(readonly postHoc: PostHocOptions) {
    super({ lr: postHoc.lr, momentum: postHoc.momentum, weightDecay: postHoc.weightDecay });
    if (postHoc.budget === undefined && postHoc.ranks === undefined)
      throw new Error("post-hoc: give budget (fraction of the compressed layers' parameters kept) or ranks");
  }

  override finalize(): Module {
    const model = this.requireModel();
    if (!this.compressed) {
      this.plan = compressOnce(model, { budget: this.postHoc.budget, ranks: this.postHoc.ranks, conv: this.postHoc.conv }).plan;
      this.compressed = true;
    }
    return model;
  }
}
