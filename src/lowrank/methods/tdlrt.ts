import type { Module } from '../../nn/module.js';
import { crossEntropy } from '../../ops/loss.js';
import type { Tensor } from '../../tensor/tensor.js';
import { factorize, feasibleRanks, type FactorizeOptions } from '../factorize.js';
import { settleRankRule } from '../settle-rule.js';
import { TuckerLayer } from '../tucker-layer.js';
import { FullMethod } from './full.js';
import { RankAdaptiveIntegrator, type IntegratorOptions, type IntegratorState } from '../integrator.js';
import { integratorBytes, integratorStepFlops, paramBytes } from './accounting.js';
import { compressedLayers } from './budget.js';
import { reportOf } from './report.js';
import type { MethodContext, MethodReport, TrainingMethod } from './types.js';
import { assumeVersion, versionedState } from './versioned-state.js';

export interface TdlrtOptions extends Omit<IntegratorOptions, 'warmupSteps'> {
  /** Epochs with tau held at 0 (default 1, docs/design.md §5.1.2; fractions allowed); warmupSteps overrides it. */
  warmupEpochs?: number;
  warmupSteps?: number;
  /**
   * How the warm-up runs. 'full' (the default): at tau = 0 and full ranks a step of the
   * integrator is exactly a gradient step on the full kernel (guarantee (b)), so the warm-up trains
   * the full layers, which is the same trajectory at a fraction of the cost, and then converts them
   * to Tucker form: straight to the settled ranks (see settle), or at full rank (exact HOSVD)
   * without settling, before the first pruning step. The momentum buffers
   * restart at the switch. With a maxRank below n_i the switch also truncates to it once (the
   * settling clamps to it; without settling the first step does), where the 'integrator' warm-up
   * holds the rank cap from the start: the integrator with tau = 0 from the factorised start, a
   * different trajectory at up to three times the cost of a full step (docs/integrator.md §7).
   */
  warmup?: 'integrator' | 'full';
  /**
   * After the warm-up, truncate at once to the ranks that repeating the truncation rule reaches
   * (RankAdaptiveIntegrator.settleRanks) instead of pruning a tail of τ‖C‖ per step for tens of
   * steps at near-full rank (default true). After the full warm-up the conversion itself lands
   * there: one truncated HOSVD of each kernel at the ranks settleRanks would reach from the exact
   * conversion (settle-rule.ts).
   */
  settle?: boolean;
  /** How the model is factorised at the start (default: Tucker convs, matrix linears, random init, ratio 0.2). */
  factorize?: FactorizeOptions;
}

/** The ranks the exact conversion gives each low-rank layer: its stored modes at full size, made feasible. */
function exactRanks(model: Module): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, m] of model.namedModules())
    if (m instanceof TuckerLayer)
      out[name] = feasibleRanks(
        [...m.fullShape],
        m.factors.map((f) => f !== null),
      );
  return out;
}

/**
 * TDLRT: Tucker convolutions (and low-rank linears) trained from scratch by the rank-adaptive
 * integrator (one pass per batch with the default 'parallel' step, two with 'bug'), ranks chosen
 * by the relative tolerance tau.
 */
export class TdlrtMethod implements TrainingMethod {
  readonly name: string = 'tdlrt';
  private model: Module | null = null;
  private integrator: RankAdaptiveIntegrator | null = null;
  /** The full-model warm-up (warmup 'full'), until it hands over to the integrator. */
  private warm: { full: FullMethod; stepsLeft: number; factorize: FactorizeOptions } | null = null;
  constructor(readonly options: TdlrtOptions) {
    if (options === null || typeof options !== 'object') throw new Error(`tdlrt: options must be an object with lr, got ${String(options)}`);
    if (options.warmupEpochs !== undefined && !(options.warmupEpochs >= 0)) throw new Error(`tdlrt: warmupEpochs must be ≥ 0, got ${options.warmupEpochs}`);
    // The integrator's bounds, checked here as well: after the default full warm-up the integrator
    // is built only once the first epoch has trained, which is too late to learn of a bad value.
    for (const key of ['tau', 'momentum'] as const) {
      const v = options[key];
      if (v !== undefined && !(v >= 0 && v < 1)) throw new Error(`tdlrt: ${key} must be ≥ 0 and < 1, got ${v}`);
    }
  }

  setup(model: Module, ctx: MethodContext): Module {
    const f: FactorizeOptions = { rankRatio: 0.2, init: 'random', generator: ctx.generator, ...this.options.factorize };
    const warmupSteps = this.options.warmupSteps ?? Math.round((this.options.warmupEpochs ?? 1) * ctx.stepsPerEpoch);
    const mode = this.options.warmup ?? 'full';
    if (mode !== 'full' && mode !== 'integrator') throw new Error(`tdlrt: warmup must be 'full' or 'integrator', got ${String(mode)}`);
    this.model = model;
    if (mode === 'full' && warmupSteps > 0) {
      const full = new FullMethod({ lr: this.options.lr, momentum: this.options.momentum ?? 0.9, weightDecay: this.options.weightDecay ?? 5e-4 });
      full.setup(model, ctx);
      this.warm = { full, stepsLeft: warmupSteps, factorize: { ...f, rankRatio: 1, ranks: undefined, init: 'weights' } };
      return model;
    }
    // Start no wider than maxRank: the first step would truncate there anyway, after paying for the width.
    if (!f.ranks && this.options.maxRank !== undefined) f.ranks = this.initialRanks(model, f);
    this.startIntegrator(factorize(model, f), warmupSteps);
    return model;
  }

  /** rankRatio·n per factorised mode, capped by maxRank (factorize's format). */
  private initialRanks(model: Module, f: FactorizeOptions): Record<string, number[]> {
    const ratio = f.rankRatio ?? 1;
    const cap = (name: string, mode: number, n: number): number => {
      const m = this.options.maxRank;
      const c = m === undefined ? n : typeof m === 'number' ? m : m(name, mode, n);
      return Math.max(1, Math.min(n, c, Math.round(ratio * n)));
    };
    const out: Record<string, number[]> = {};
    for (const l of compressedLayers(model, f.skip)) {
      if (l.kind === 'conv' && f.conv !== 'matrix') {
        out[l.name] = [cap(l.name, 0, l.shape[0]), cap(l.name, 1, l.shape[1]), l.shape[2], l.shape[3]];
        continue;
      }
      // A matrix U S Vᵀ has one rank: a square core.
      const cols = l.shape.slice(1).reduce((a, b) => a * b, 1);
      const r = Math.min(cap(l.name, 0, l.shape[0]), cap(l.name, 1, cols));
      out[l.name] = [r, r];
    }
    return out;
  }

  private startIntegrator(model: Module, warmupSteps: number): void {
    // Defaults after the spread: an option present but undefined (createMethod passes them so) must not erase them.
    const { momentum = 0.9, weightDecay = 5e-4, settle = true } = this.options;
    this.integrator = new RankAdaptiveIntegrator(model, { ...this.options, momentum, weightDecay, warmupSteps, settleAfterWarmup: settle });
  }

  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    if (this.warm) {
      const r = this.warm.full.step(x, y);
      if (--this.warm.stepsLeft === 0) {
        const tau = this.options.tau ?? 0.1;
        const settle = this.options.settle !== false && tau > 0;
        // Settling: one truncated HOSVD per kernel at the ranks settleRanks would reach from the
        // exact conversion (the same spectra), in place of that full-rank conversion and a second
        // decomposition of every full-size core (docs/integrator.md §7). Else the exact conversion.
        const rankRule = settle ? settleRankRule({ tau, minRank: this.options.minRank, maxRank: this.options.maxRank }) : undefined;
        factorize(this.warm.full.finalize(), { ...this.warm.factorize, rankRule });
        this.warm = null;
        this.startIntegrator(this.model as Module, 0);
        if (settle) this.integrator?.recordSettled(exactRanks(this.model as Module));
      }
      return r;
    }
    const model = this.model;
    const integ = this.integrator;
    if (!model || !integ) throw new Error(`${this.name}: call setup(model) before training`);
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

  /**
   * Checkpoint state, version 1: the full warm-up with its steps left, or the integrator's state.
   * The same object without `version`, as checkpoints written before states carried one hold it,
   * reads as version 1.
   */
  getState(): unknown {
    if (this.warm) return { version: 1, phase: 'warmup', stepsLeft: this.warm.stepsLeft, full: this.warm.full.getState() };
    if (!this.integrator) throw new Error(`${this.name}: call setup(model) before training`);
    return { version: 1, phase: 'integrator', integrator: this.integrator.getState() };
  }

  /**
   * Restores getState() output. After a full warm-up the model already holds the Tucker layers
   * (the checkpoint put them in place), so the integrator is started on them as step() would have.
   */
  setState(state: unknown): void {
    const s = versionedState(this.name, assumeVersion(state, 1), 1, ['phase']) as {
      phase?: string;
      stepsLeft?: number;
      full?: unknown;
      integrator?: IntegratorState;
    };
    if (s?.phase === 'warmup') {
      if (!this.warm)
        throw new Error(`${this.name}.setState: the state is of a full warm-up, but this run has none (warmup and warmupEpochs must match the saved run)`);
      if (!Number.isInteger(s.stepsLeft) || (s.stepsLeft as number) < 1)
        throw new Error(`${this.name}.setState: stepsLeft must be a positive integer, got ${s.stepsLeft}`);
      this.warm.full.setState(s.full);
      this.warm.stepsLeft = s.stepsLeft as number;
      return;
    }
    if (s?.phase !== 'integrator' || !s.integrator)
      throw new Error(`${this.name}.setState: expected { phase: 'warmup' | 'integrator', … }, got phase ${JSON.stringify(s?.phase)}`);
    if (this.warm) {
      this.warm = null;
      this.startIntegrator(this.model as Module, 0);
    }
    (this.integrator as RankAdaptiveIntegrator).setState(s.integrator);
  }

  finalize(): Module {
    if (!this.model) throw new Error(`${this.name}: call setup(model) before training`);
    return this.model;
  }

  report(): MethodReport {
    return reportOf(this.finalize());
  }

  progress(): Record<string, unknown> {
    if (this.warm) return { warmup: `full, ${this.warm.stepsLeft} steps left` };
    if (!this.integrator) return {};
    const out: Record<string, unknown> = {
      ranks: Object.values(this.integrator.ranks())
        .map((r) => r.slice(0, 2).join('×'))
        .join(' '),
      tau: this.integrator.currentTau,
    };
    // The share of the last step spent outside its forward/backward passes: the integrator's own work.
    const t = this.integrator.lastTimes;
    if (t && t.total > 0) out.integrator = `${Math.round((100 * (t.total - t.passes)) / t.total)}%`;
    return out;
  }

  /** During a full warm-up: a full SGD step; then an integrator step at the current ranks. */
  stepFlops(batchSize: number, inputShape: readonly number[]): number {
    if (this.warm) return this.warm.full.stepFlops(batchSize, inputShape);
    return integratorStepFlops(this.finalize(), batchSize, inputShape, this.integrator?.kind ?? 'parallel');
  }

  memory(): { paramBytes: number; optimizerBytes: number } {
    if (this.warm) return this.warm.full.memory();
    return { paramBytes: paramBytes(this.finalize()), optimizerBytes: this.integrator ? integratorBytes(this.integrator) : 0 };
  }
}
