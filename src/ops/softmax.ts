import type { Tensor } from '../tensor/tensor.js';
import { exp, log, sub } from './elementwise.js';
import { max, sum } from './reduce.js';
import { checkTensor } from './util.js';
import { normAxis } from '../tensor/shape.js';

/**
 * Softmax and log-softmax as compositions of recorded ops, shifted by the (detached) max for
 * stability: the shift cancels in the value and in the gradient.
 */
function shifted(x: Tensor, axis: number, op: string): Tensor {
  checkTensor(x, op, 'x');
  const a = normAxis(axis, x.ndim, op);
  const m = max(x, a, true);
  return sub(x, m.detach());
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const z = shifted(x, axis, 'logSoftmax');
  return sub(z, log(sum(exp(z), axis, true)));
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const e = exp(shifted(x, axis, 'softmax'));
  return e.div(sum(e, axis, true));
}
