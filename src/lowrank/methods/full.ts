import type { Module } from '../../nn/module.js';
import { sgdStep } from '../../optim/model-step.js';
import { SGD } from '../../optim/sgd.js';
import type { Tensor } from '../../tensor/tensor.js';
import { sgdSettings, type SgdSettings } from './sgd-split.js';
import { SgdTrainedMethod } from './sgd-trained.js';
import type { MethodContext } from './types.js';
import { assumeVersion, optimizerStateOf, versionedState } from './versioned-state.js';

export type { SgdSettings } from './sgd-split.js';

/** The uncompressed network trained by SGD with momentum: the reference every method is measured against. */
export class FullMethod extends SgdTrainedMethod {
  readonly name: string = 'full';
  protected optimizer: SGD | null = null;
  readonly settings: Required<SgdSettings>;
  constructor(readonly options: SgdSettings) {
    super();
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

  protected heldOptimizers(): readonly SGD[] {
    return this.optimizer ? [this.optimizer] : [];
  }

  /**
   * Checkpoint state, version 1: the optimizer's buffers (null before setup). The same object
   * without `version`, as checkpoints written before states carried one hold it, reads as version 1.
   */
  getState(): unknown {
    return { version: 1, optimizer: this.optimizer ? this.optimizer.stateDict() : null };
  }

  setState(state: unknown): void {
    const s = versionedState(this.name, assumeVersion(state, 1), 1, ['optimizer']);
    if (s.optimizer === null) return;
    const saved = optimizerStateOf(this.name, s.optimizer);
    if (this.optimizer) this.optimizer.loadStateDict(saved);
  }
}
