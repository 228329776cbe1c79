import type { Module } from '../../nn/module.js';
import { crossEntropy } from '../../ops/loss.js';
import type { Tensor } from '../../tensor/tensor.js';
import { factorize, type FactorizeOptions } from '../factorize.js';
import { FullMethod } from './full.js';
import { RankAdaptiveIntegrator, type IntegratorOptions } from '../integrator.js';
import { reportOf } from './report.js';
import type { MethodContext, MethodReport, TrainingMethod } from './types.js';

export interface TdlrtOptions extends Omit<IntegratorOptions, 'warmupSteps'> {
  /** Epochs with tau held at 0 (default 1, DESIGN §3.2.6); warmupSteps overrides it. */
  warmupEpochs?: number;
  warmupSteps?: number;
  /**
   * How the warm-up runs. 'integrator': the integrator with tau = 0 from the factorised start.
   * 'full' (the default when maxRank is left at n_i): at tau = 0 and full ranks a step of the
   * integrator is exactly a gradient step on the full kernel (guarantee (b)), so the warm-up trains
   * the full layers, which is the same trajectory at a fraction of the cost, and then converts them
   * to Tucker form at full rank (exact HOSVD) before the first pruning step. The momentum buffers
   * restart at the switch.
   */
  warmup?: 'integrator' | 'full';
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
  /** The full-model warm-up (warmup 'full'), until it hands over to the integrator. */
  private warm: { full: FullMethod; stepsLeft: number; factorize: FactorizeOptions } | null = null;
  constructor(readonly options: TdlrtOptions) {}

  setup(model: Module, ctx: MethodContext): Module {
    const f: FactorizeOptions = { rankRatio: 0.2, init: 'random', generator: ctx.generator, ...this.options.factorize };
    const warmupSteps = this.options.warmupSteps ?? (this.options.warmupEpochs ?? 1) * ctx.stepsPerEpoch;
    const mode = this.options.warmup ?? (this.options.maxRank === undefined ? 'full' : 'integrator');
    if (mode !== 'full' && mode !== 'integrator') throw new Error(`tdlrt: warmup must be 'full' or 'integrator', got ${String(mode)}`);
    this.model = model;
    if (mode === 'full' && warmupSteps > 0) {
      const full = new FullMethod({ lr: this.options.lr, momentum: this.options.momentum ?? 0.9, weightDecay: this.options.weightDecay ?? 5e-4 });
      full.setup(model, ctx);
      this.warm = { full, stepsLeft: warmupSteps, factorize: { ...f, rankRatio: 1, ranks: undefined, init: 'weights' } };
      return model;
    }
    this.startIntegrator(factorize(model, f), warmupSteps);
    return model;
  }

  private startIntegrator(model: Module, warmupSteps: number): void {
    this.integrator = new RankAdaptiveIntegrator(model, { momentum: 0.9, weightDecay: 5e-4, ...this.options, warmupSteps });
  }

  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    if (this.warm) {
      const r = this.warm.full.step(x, y);
      if (--this.warm.stepsLeft === 0) {
        // Full rank and exact: the layers now hold the same kernels in Tucker form.
        factorize(this.warm.full.finalize(), this.warm.factorize);
        this.warm = null;
        this.startIntegrator(this.model as Module, 0);
      }
      return r;
    }
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

  /** The integrator (for its step info and ranks); null before setup and during a full warm-up. */
  get state(): RankAdaptiveIntegrator | null {
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
    if (this.warm) return { warmup: `full, ${this.warm.stepsLeft} steps left` };
    if (!this.integrator) return {};
    return { ranks: Object.values(this.integrator.ranks()).map((r) => r.slice(0, 2).join('×')).join(' '), tau: this.integrator.currentTau };
  }
}
