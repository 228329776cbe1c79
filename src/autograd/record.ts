import type { Tensor } from '../tensor/tensor.js';
import { shapeStr } from '../tensor/shape.js';
import { isAnomalyEnabled, isGradEnabled } from './grad-mode.js';
import type { GradNode } from './node.js';
// Every op imports record(), so loading any op installs x.backward() too.
import './tensor-methods.js';

/**
 * Attaches the op's history to `out` when recording is on and some input needs a gradient.
 * Every differentiable op ends with this call, so the tape has one entry point.
 */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], vjp: GradNode['vjp']): Tensor {
  if (isAnomalyEnabled()) checkFinite(out, op, 'output');
  if (!isGradEnabled()) return out;
  let needs = false;
  for (const t of inputs) if (t.requiresGrad) needs = true;
  if (!needs) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, vjp };
  return out;
}

export function checkFinite(t: Tensor, op: string, what: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw new Error(`anomaly: ${op} produced a non-finite ${what} (${d[i]}) at flat index ${i} of shape ${shapeStr(t.shape)}`);
    }
  }
}
