import type { Module } from '../../nn/module.js';
import { crossEntropy } from '../../ops/loss.js';
import { SGD } from '../../optim/sgd.js';
import type { Tensor } from '../../tensor/tensor.js';
import { reportOf } from './report.js';
import type { MethodContext, MethodReport, TrainingMethod } from './types.js';

export interface SgdSettings {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

/** The uncompressed network trained by SGD with momentum: the reference every method is measured against. */
export class FullMethod implements TrainingMethod {
  readonly name: string = 'full';
  protected model: Module | null = null;
  protected optimizer: SGD | null = null;
  constructor(readonly options: SgdSettings) {}

  setup(model: Module, _ctx: MethodContext): Module {
    this.model = model;
    this.optimizer = new SGD(model.parameters(), { lr: this.options.lr, momentum: this.options.momentum ?? 0.9, weightDecay: this.options.weightDecay ?? 5e-4 });
    return model;
  }

  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    const model = this.requireModel();
    const opt = this.optimizer as SGD;
    opt.zeroGrad();
    const logits = model.forward(x);
    const loss = crossEntropy(logits, y);
    loss.backward();
    opt.step();
    return { loss: loss.item(), logits };
  }

  finalize(): Module {
    return this.requireModel();
  }

  report(): MethodReport {
    return reportOf(this.requireModel());
  }

  protected requireModel(): Module {
    if (!this.model) throw new Error(`${this.name}: call setup(model) before training`);
    return this.model;
  }
}
