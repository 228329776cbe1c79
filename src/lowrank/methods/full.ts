import type { Module } from '../../nn/module.js';
import { sgdStep } from '../../optim/model-step.js';
import { SGD } from '../../optim/sgd.js';
import type { OptimizerState } from '../../optim/optimizer.js';
import type { Tensor } from '../../tensor/tensor.js';
import { optimizerBytes, paramBytes, sgdStepFlops } from './accounting.js';
import { reportOf } from './report.js';
import { sgdSettings, type SgdSettings } from './sgd-split.js';
import type { MethodContext, MethodReport, TrainingMethod } from './types.js';

export type { SgdSettings } from './sgd-split.js';

/** The uncompressed network trained by SGD with momentum: the reference every method is measured against. */
export class FullMethod implements TrainingMethod {
  readonly name: string = 'full';
  protected model: Module | null = null;
  protected optimizer: SGD | null = null;
  readonly settings: Required<SgdSettings>;
  constructor(readonly options: SgdSettings) {
    this.settings = sgdSettings(options, 'full');
  }

  setup(model: Module, _ctx: MethodContext): Module {
    this.model = model;
    this.optimizer = new SGD(model.parameters(), this.settings);
    return model;
  }

  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    return sgdStep(this.requireModel(), this.optimizer as SGD, x, y);
  }

  finalize(): Module {
    return this.requireModel();
  }

  report(): MethodReport {
    return reportOf(this.requireModel());
  }

  stepFlops(batchSize: number, inputShape: readonly number[]): number {
    return sgdStepFlops(this.requireModel(), batchSize, inputShape);
  }

  memory(): { paramBytes: number; optimizerBytes: number } {
    return { paramBytes: paramBytes(this.requireModel()), optimizerBytes: this.optimizer ? optimizerBytes([this.optimizer]) : 0 };
  }

  /** The optimizer's state (checkpoints). */
  getState(): unknown {
    return { optimizer: this.optimizer ? this.optimizer.stateDict() : null };
  }

  setState(state: unknown): void {
    const s = state as { optimizer?: OptimizerState | null };
    if (!s || typeof s !== 'object' || !('optimizer' in s))
      throw new Error(`${this.name}.setState: expected { optimizer }, got ${JSON.stringify(state)?.slice(0, 80)}`);
    if (s.optimizer && this.optimizer) this.optimizer.loadStateDict(s.optimizer);
  }

  protected requireModel(): Module {
    if (!this.model) throw new Error(`${this.name}: call setup(model) before training`);
    return this.model;
  }
}
