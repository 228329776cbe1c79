import type { Module } from '../../nn/module.js';
import { factorize } from '../factorize.js';
import { planRanks, type RankPlan } from './budget.js';
import { FullMethod } from './full.js';
import type { SgdSettings } from './sgd-split.js';
import { assumeVersion, versionedState } from './versioned-state.js';

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

  /**
   * Checkpoint state, version 2: full's optimizer, whether finalize() has compressed the model, and
   * the plan it compressed by. Version 1, and the unversioned form (full's state, which post-hoc
   * saved before it had its own), restore as not yet compressed: training checkpoints are written
   * before finalize().
   */
  override getState(): unknown {
    const full = super.getState() as { optimizer: unknown };
    return { version: 2, optimizer: full.optimizer, compressed: this.compressed, plan: this.plan ? planTree(this.plan) : null };
  }

  override setState(state: unknown): void {
    const old = assumeVersion(state, 1) as { version?: unknown };
    if (old?.version === 1) {
      super.setState(old);
      this.compressed = false;
      this.plan = null;
      return;
    }
    const s = versionedState(this.name, state, 2, ['optimizer', 'compressed', 'plan']);
    if (typeof s.compressed !== 'boolean') throw new Error(`${this.name}.setState: compressed must be true or false, got ${JSON.stringify(s.compressed)}`);
    const plan = s.plan === null ? null : planOf(this.name, s.plan);
    if (s.compressed && !plan) throw new Error(`${this.name}.setState: a compressed state must hold the plan it was compressed by, got plan null`);
    super.setState({ version: 1, optimizer: s.optimizer });
    this.compressed = s.compressed;
    this.plan = plan;
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

/** A RankPlan as plain data (fresh arrays: the state must not alias the live plan). */
function planTree(plan: RankPlan): RankPlan {
  return {
    layers: plan.layers.map((l) => ({ ...l, shape: [...l.shape] })),
    ranks: Object.fromEntries(Object.entries(plan.ranks).map(([k, r]) => [k, [...r]])),
    skip: [...plan.skip],
  };
}

/** Checks a saved RankPlan's shape (names, kinds, integer shapes and ranks) and returns a copy. */
function planOf(who: string, v: unknown): RankPlan {
  const bad = (what: string): never => {
    throw new Error(`${who}.setState: plan ${what}, got ${JSON.stringify(v)?.slice(0, 120)}`);
  };
  const ints = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => Number.isInteger(x) && x >= 0);
  if (v === null || typeof v !== 'object') return bad('must be an object { layers, ranks, skip }');
  const p = v as Record<string, unknown>;
  if (!Array.isArray(p.layers)) return bad('layers must be an array');
  for (const l of p.layers as Record<string, unknown>[]) {
    if (l === null || typeof l !== 'object' || typeof l.name !== 'string' || (l.kind !== 'conv' && l.kind !== 'linear') || !ints(l.shape))
      return bad('layers must be { name, kind: conv | linear, shape, hasBias, fullParams }');
    if (typeof l.hasBias !== 'boolean' || !Number.isInteger(l.fullParams))
      return bad('layers must be { name, kind: conv | linear, shape, hasBias, fullParams }');
  }
  if (p.ranks === null || typeof p.ranks !== 'object' || Array.isArray(p.ranks) || !Object.values(p.ranks).every(ints))
    return bad('ranks must be an object of layer name → integer array');
  if (!Array.isArray(p.skip) || !p.skip.every((x) => typeof x === 'string')) return bad('skip must be an array of layer names');
  return planTree(p as unknown as RankPlan);
}
