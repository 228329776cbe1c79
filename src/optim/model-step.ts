import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/loss.js';
import type { Optimizer } from './optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/storage.js';
import { explainNonFiniteLoss } from './non-finite.js';

// In optim/ (not train/) so that the training methods of lowrank/ can take this step without importing the loop above them.
/**
 * The ordinary step: forward, loss, backward, optimizer update. On the GPU the step's intermediates
 * are freed before it returns; the logits it returns live until the caller's tidy() scope ends.
 * A loss that is not finite throws before any weight changes, naming its cause (see finite.ts).
 */
export function sgdStep(
  model: Module,
  optimizer: Optimizer,
  x: Tensor,
  y: Int32Array,
  lossFn: (logits: Tensor, y: Int32Array) => Tensor = crossEntropy,
): { loss: number; logits: Tensor } {
  return tidy(() => {
    optimizer.zeroGrad();
    const logits = model.forward(x);
    const loss = lossFn(logits, y);
    const value = loss.item();
    // Stop before backward and the update: a non-finite loss would write NaN into every weight.
    if (!Number.isFinite(value)) throw new Error(explainNonFiniteLoss('sgdStep', value, x, model));
    loss.backward();
    optimizer.step();
    return { loss: value, logits };
  });
}
