import { noGrad } from '../autograd/grad-mode.js';
import { zeros } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

/**
 * Runs one zero sample of `inputShape` through the model in eval mode without the tape, and calls
 * `visit` with each leaf layer (a module without children), its name and its input and output as
 * that leaf runs, in the order the forward pass reaches them. The leaves' forwards are wrapped for
 * the pass and the model's training mode is put back, also when a forward throws.
 */
export function traceLeaves(model: Module, inputShape: readonly number[], visit: (name: string, m: Module, x: Tensor, y: Tensor) => void): void {
  const leaves = model.namedModules().filter(([, m]) => m.children().length === 0);
  for (const [name, m] of leaves) {
    const original = m.forward;
    m.forward = (x: Tensor): Tensor => {
      const y = original.call(m, x);
      visit(name, m, x, y);
      return y;
    };
  }
  const wasTraining = model.training;
  try {
    model.eval();
    const dtype = model.parameters()[0]?.dtype ?? 'float32';
    noGrad(() => model.forward(zeros([1, ...inputShape], { dtype })));
  } finally {
    // The wrapper is an own property shadowing the prototype's forward: deleting it restores the layer.
    for (const [, m] of leaves) delete (m as unknown as { forward?: unknown }).forward;
    model.train(wasTraining);
  }
}
