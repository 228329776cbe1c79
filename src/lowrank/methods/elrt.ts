import type { Module } from '../../nn/module.js';
import { add } from '../../ops/elementwise.js';
import { crossEntropy } from '../../ops/loss.js';
import type { Tensor } from '../../tensor/tensor.js';
import { FixedRankMethod } from './fixed-rank.js';
import { ORTHO_KINDS, OrthoRegularizer, type OrthoKind } from './ortho.js';
import { factorParameters, type SgdSettings } from './sgd-split.js';
import type { MethodContext } from './types.js';
import { versionedState } from './versioned-state.js';

export interface ElrtOptions extends SgdSettings {
  /** Fraction of the compressed layers' parameters kept; every compressed layer keeps this fraction. */
  budget?: number;
  /** Explicit ranks per compressed layer (factorize's format); overrides budget. */
  ranks?: Record<string, readonly number[]>;
  /** Orthogonality regulariser on the factors (default 'so'; 'dso' is SO with twice the weight, see ortho.ts). */
  regularizer?: OrthoKind;
  /** Its weight λ (default 1e-3). */
  lambda?: number;
  /** SRIP: power-iteration steps per training step, warm-started (default 3). */
  powerIterations?: number;
}

/**
 * ELRT-style training (the paper's exact choices could not be confirmed; docs/design.md §5.3): fixed-rank
 * Tucker-2 on the channel modes of the convolutions (U S Vᵀ for Linear layers) from scratch, with
 * an orthogonality regulariser λ·Σ reg(U) on every stored factor (both channel factors of a conv,
 * both factors of a linear) added to the loss. Everything else is tucker-fixed.
 */
export class ElrtMethod extends FixedRankMethod {
  regularizer: OrthoRegularizer | null = null;
  /** λ·Σ reg(U) of the last step, for the progress line. */
  lastPenalty = 0;
  constructor(readonly elrt: ElrtOptions) {
    super({ lr: elrt.lr, momentum: elrt.momentum, weightDecay: elrt.weightDecay, conv: 'tucker', budget: elrt.budget, ranks: elrt.ranks }, 'elrt');
    const kind = elrt.regularizer ?? 'so';
    if (!ORTHO_KINDS.includes(kind)) throw new Error(`elrt: regularizer must be one of ${ORTHO_KINDS.join(', ')}, got ${String(kind)}`);
    const lambda = elrt.lambda ?? 1e-3;
    if (!(lambda >= 0 && Number.isFinite(lambda))) throw new Error(`elrt: lambda must be a finite number ≥ 0, got ${lambda}`);
  }

  override setup(model: Module, ctx: MethodContext): Module {
    const m = super.setup(model, ctx);
    this.regularizer = new OrthoRegularizer(this.elrt.regularizer ?? 'so', this.elrt.lambda ?? 1e-3, ctx.generator, this.elrt.powerIterations ?? 3);
    return m;
  }

  protected override objective(logits: Tensor, y: Int32Array): { total: Tensor; data: Tensor } {
    const data = crossEntropy(logits, y);
    const penalty = this.regularizer?.penalty(factorParameters(this.requireModel())) ?? null;
    this.lastPenalty = penalty ? penalty.item() : 0;
    return { total: penalty ? add(data, penalty) : data, data };
  }

  progress(): Record<string, unknown> {
    return { ortho: this.lastPenalty };
  }

  /**
   * Checkpoint state, version 2: tucker-fixed's optimizers and the regulariser's SRIP warm-start
   * vectors, one per factor in factorParameters order (null where there is none). Version 1
   * (tucker-fixed's state, which ELRT saved before) restores with cold SRIP starts, as it did then.
   */
  override getState(): unknown {
    const fixed = super.getState() as { optimizers: unknown };
    const vectors = this.regularizer && this.model ? this.regularizer.vectorsOf(factorParameters(this.model)) : [];
    return { version: 2, optimizers: fixed.optimizers, powerVectors: vectors };
  }

  override setState(state: unknown): void {
    if ((state as { version?: unknown } | null)?.version === 1) return super.setState(state);
    const s = versionedState(this.name, state, 2, ['optimizers', 'powerVectors']);
    if (!Array.isArray(s.powerVectors))
      throw new Error(`${this.name}.setState: powerVectors must be an array, got ${JSON.stringify(s.powerVectors)?.slice(0, 80)}`);
    if (!this.regularizer) throw new Error(`${this.name}: call setup(model) before setState`);
    this.regularizer.setVectors(factorParameters(this.requireModel()), s.powerVectors);
    super.setState({ version: 1, optimizers: s.optimizers });
  }

  /** tucker-fixed's step plus the regulariser: UᵀU (2nr²) per factor, forward and backward. */
  override stepFlops(batchSize: number, inputShape: readonly number[]): number {
    let extra = 0;
    for (const f of factorParameters(this.requireModel())) extra += 3 * 2 * f.shape[0] * f.shape[1] * f.shape[1];
    return super.stepFlops(batchSize, inputShape) + extra;
  }
}
