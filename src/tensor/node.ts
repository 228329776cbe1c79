import type { Tensor } from './tensor.js';

/**
 * One recorded op on the tape: its inputs and the vector-Jacobian product that maps the gradient
 * of its output to gradients of its inputs (null where an input needs none). Declared here, beside
 * Tensor (which holds one), so the tensor layer needs nothing from autograd.
 */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly vjp: (gradOutput: Tensor) => readonly (Tensor | null)[];
}
