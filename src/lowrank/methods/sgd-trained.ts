import type { Module } from '../../nn/module.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { Tensor } from '../../tensor/tensor.js';
import { optimizerBytes, paramBytes, sgdStepFlops } from './accounting.js';
import { reportOf } from './report.js';
import type { MethodContext, MethodReport, TrainingMethod } from './types.js';

/**
 * What the methods that train their model's parameters by plain optimizer steps share (full,
 * post-hoc, tucker-fixed, matrix-fixed, ELRT): the model is the one they deploy, reported as it
 * is, costed as forward + backward + update, and its memory is the parameters and the optimizers'
 * buffers. A subclass sets the model up, steps it and says which optimizers it holds.
 */
export abstract class SgdTrainedMethod implements TrainingMethod {
  abstract readonly name: string;
  protected model: Module | null = null;

  abstract setup(model: Module, ctx: MethodContext): Module;
  abstract step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor };
  /** The optimizers that hold training state now (none before setup). */
  protected abstract heldOptimizers(): readonly Optimizer[];

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
    return { paramBytes: paramBytes(this.requireModel()), optimizerBytes: optimizerBytes(this.heldOptimizers()) };
  }

  protected requireModel(): Module {
    if (!this.model) throw new Error(`${this.name}: call setup(model) before training`);
    return this.model;
  }
}
