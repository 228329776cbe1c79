import type { Module } from '../../nn/module.js';
import { crossEntropy } from '../../ops/loss.js';
import type { Tensor } from '../../tensor/tensor.js';
import { factorize, type FactorizeOptions } from '../factorize.js';
import { RankAdaptiveIntegrator, type IntegratorOptions } from '../integrator.js';
import { reportOf } from './report.js';
import type { MethodContext, MethodReport, TrainingMethod } from './types.js';

export interface TdlrtOptions extends Omit<IntegratorOptions, 'warmupSteps'> {
  /** Epochs with tau held at 0 (default 1, DESIGN §3.2.6); warmupSteps overrides it. */
  warmupEpochs?: number;
  warmupSteps?: number;
  /** How the model is factorised at the start (default: Tucker convs, matrix linears, random init, ratio 0.2). */
  factorize?: FactorizeOptions;
}

/**
 * TDLRT: Tucker convolutions (and low-rank linears) trained from scratch by the rank-adaptive
 * integrator, two passes per batch, ranks chosen by the relative tolerance tau.
 */
export class TdlrtMethod implements TrainingMethod {
  readonly name = 'tdlrt';
  private model: Module | null = null;
  private integrator: RankAdaptiveIntegrator | null = null;
  constructor(readonly options: TdlrtOptions) {}

  setup(model: Module, ctx: MethodContext): Module {
    const f = { rankRatio: 0.2, init: 'random' as const, generator: ctx.generator, ...this.options.factorize };
    this.model = factorize(model, f);
    const warmupSteps = this.options.warmupSteps ?? (this.options.warmupEpochs ?? 1) * ctx.stepsPerEpoch;
    this.integrator = new RankAdaptiveIntegrator(this.model, { momentum: 0.9, weightDecay: 5e-4, ...this.options, warmupSteps });
    return this.model;
  }

  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    const model = this.model;
    const integ = this.integrator;
    if (!model || !integ) throw new Error('tdlrt: call setup(model) before training');
    let logits: Tensor | null = null;
    const loss = integ.step(() => {
      const out = model.forward(x);
      logits ??= out;
      return crossEntropy(out, y);
    });
    return { loss, logits: logits as unknown as Tensor };
  }

  /** The integrator (for its step info and ranks). */
  get state(): RankAdaptiveIntegrator {
    if (!this.integrator) throw new Error('tdlrt: call setup(model) before training');
    return this.integrator;
  }

  finalize(): Module {
    if (!this.model) throw new Error('tdlrt: call setup(model) before training');
    return this.model;
  }

  report(): MethodReport {
    return reportOf(this.finalize());
  }

  progress(): Record<string, unknown> {
    if (!this.integrator) return {};
    return { ranks: Object.values(this.integrator.ranks()).map((r) => r.slice(0, 2).join('×')).join(' '), tau: this.integrator.currentTau };
  }
}
