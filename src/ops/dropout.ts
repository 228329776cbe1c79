import { allocate } from '../tensor/dtype.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { mul } from './elementwise.js';
import { checkTensor } from './util.js';

/** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1 − p). */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  checkTensor(x, 'dropout', 'x');
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const mask = allocate(x.dtype, x.size);
  const scale = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = generator.uniform() < p ? 0 : scale;
  return mul(x, new Tensor(mask, x.shape));
}
