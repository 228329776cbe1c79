import { defaultGenerator, type Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Seeded weight initialisers, written into a tensor's buffer in place (PyTorch's nn.init).
 * fan_in of a weight [out, in, ...k] is in·Πk; fan_out is out·Πk.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`init: fan in/out need a weight with at least 2 dims, got [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export function uniform_(t: Tensor, low: number, high: number, gen: Generator = defaultGenerator): Tensor {
  for (let i = 0; i < t.size; i++) t.data[i] = low + (high - low) * gen.uniform();
  return t;
}

export function normal_(t: Tensor, mean = 0, std = 1, gen: Generator = defaultGenerator): Tensor {
  for (let i = 0; i < t.size; i++) t.data[i] = mean + std * gen.normal();
  return t;
}

/** He uniform: U(−b, b), b = gain·√(3/fan); gain √2 for ReLU. PyTorch's layer default is a = √5, i.e. b = 1/√fan_in. */
export function kaimingUniform_(t: Tensor, options: { a?: number; mode?: 'fanIn' | 'fanOut'; gen?: Generator } = {}): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const fan = options.mode === 'fanOut' ? fanOut : fanIn;
  const a = options.a ?? 0;
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / fan);
  return uniform_(t, -bound, bound, options.gen);
}

export function kaimingNormal_(t: Tensor, options: { a?: number; mode?: 'fanIn' | 'fanOut'; gen?: Generator } = {}): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const fan = options.mode === 'fanOut' ? fanOut : fanIn;
  const a = options.a ?? 0;
  return normal_(t, 0, Math.sqrt(2 / (1 + a * a)) / Math.sqrt(fan), options.gen);
}

export function xavierUniform_(t: Tensor, options: { gain?: number; gen?: Generator } = {}): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const bound = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, options.gen);
}

export function xavierNormal_(t: Tensor, options: { gain?: number; gen?: Generator } = {}): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  return normal_(t, 0, (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), options.gen);
}
