import type { Dataset } from './dataset.js';
import { Generator } from '../tensor/random.js';

/** MNIST's mean and standard deviation (kept here, free of file I/O, so browser bundles can use it). */
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

const PIXELS = 28 * 28;

/**
 * The seeded split of the embedded digits: `new Generator(seed).permutation(N)`, the first
 * trainSize to train, the next testSize to test, standardised with (MNIST_MEAN, MNIST_STD) when
 * normalize is true. Pure: shared by loadMnistEmbedded (Node) and the browser page.
 */
export function splitEmbeddedDigits(
  all: { images: ArrayLike<number>; labels: ArrayLike<number> },
  seed: number,
  trainSize: number,
  testSize: number,
  normalize: boolean,
): { train: Dataset; test: Dataset } {
  const total = all.labels.length;
  if (trainSize + testSize > total) throw new Error(`splitEmbeddedDigits: trainSize + testSize must be at most ${total}, got ${trainSize} + ${testSize}`);
  const perm = new Generator(seed).permutation(total);
  const scale = normalize ? 1 / MNIST_STD : 1;
  const shift = normalize ? MNIST_MEAN : 0;
  const make = (start: number, n: number, split: string): Dataset => {
    const images = new Float32Array(n * PIXELS);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = perm[start + k];
      labels[k] = all.labels[i];
      const src = i * PIXELS;
      const dst = k * PIXELS;
      for (let j = 0; j < PIXELS; j++) images[dst + j] = (all.images[src + j] - shift) * scale;
    }
    return {
      images,
      labels,
      shape: [1, 28, 28],
      numClasses: 10,
      name: `mnist-embedded:${split}`,
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    };
  };
  return { train: make(0, trainSize, 'train'), test: make(trainSize, testSize, 'test') };
}
