import { Conv2d, Flatten, Linear, ReLU, Sequential } from '../../../src/nn/layers.js';
import { Generator } from '../../../src/tensor/random.js';
import { Tensor } from '../../../src/tensor/tensor.js';

/**
 * A small float64 CNN with the LeNet layout (conv, conv, linear, linear on 1×8×8 inputs): the
 * methods compress its second conv ('2') and first linear ('5').
 */
export function smallNet(seed: number, geometry: { stride?: number; padding?: number } = {}): Sequential {
  const g = new Generator(seed);
  const o = { generator: g, dtype: 'float64' as const };
  const side = geometry.padding === 1 ? (geometry.stride === 2 ? 3 : 6) : geometry.stride === 2 ? 2 : 4;
  return new Sequential(
    new Conv2d(1, 4, 3, o),
    new ReLU(),
    new Conv2d(4, 8, 3, { ...o, ...geometry }),
    new ReLU(),
    new Flatten(),
    new Linear(8 * side * side, 16, o),
    new ReLU(),
    new Linear(16, 10, o),
  );
}

export const ctx = (seed = 1, stepsPerEpoch = 4) => ({ stepsPerEpoch, epochs: 1, generator: new Generator(seed) });

/** A float64 batch of n 1×8×8 images with labels 0..9. */
export function batch(seed: number, n = 8): { x: Tensor; y: Int32Array } {
  const g = new Generator(seed);
  const data = new Float64Array(n * 64);
  for (let i = 0; i < data.length; i++) data[i] = g.normal();
  return { x: new Tensor(data, [n, 1, 8, 8]), y: Int32Array.from({ length: n }, (_, i) => i % 10) };
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
