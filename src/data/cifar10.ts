/**
 * CIFAR-10 "binary version" batches (cifar-10-binary.tar.gz, extracted): each record is 1 label byte
 * followed by 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each 32×32 row-major), i.e. CHW.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pixelsToFloat, type Dataset } from './dataset.js';
import { checkSplitArgs, type Split } from './idx.js';
import { readBytes, type ByteSource } from './source.js';

export const CIFAR10_RECORD_BYTES = 3073;
export const CIFAR10_IMAGE_BYTES = 3072;
/**
 * The most records one gzipped batch may inflate to: the whole dataset (60,000 images) in one file.
 * A batch has no header to declare its size, so this cap is what bounds a .gz that inflates without end.
 */
export const CIFAR10_MAX_RECORDS = 60_000;

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Per-channel mean/std of the 50,000 training images scaled to [0, 1]. */
export const CIFAR10_STATS = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] } as const;

export interface Cifar10Batch {
  count: number;
  /** count labels in 0..9. */
  labels: Uint8Array;
  /** count·3·32·32 uint8 pixels, CHW per image. */
  pixels: Uint8Array;
}

/** Reads one CIFAR-10 binary batch (data_batch_k.bin / test_batch.bin), gzipped or not. */
export function readCifar10Batch(source: ByteSource): Cifar10Batch {
  const fn = 'readCifar10Batch';
  const { bytes, label } = readBytes(source, fn, { head: 0, limit: () => CIFAR10_MAX_RECORDS * CIFAR10_RECORD_BYTES });
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new Error(
      `${fn}: file size must be a positive multiple of ${CIFAR10_RECORD_BYTES} bytes (1 label + 3072 pixels per record), ` +
        `got ${bytes.length} bytes (${whole} whole records + ${bytes.length - whole * CIFAR10_RECORD_BYTES} bytes) in ${label}; ` +
        `the file is truncated or not a CIFAR-10 binary batch`,
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * CIFAR10_IMAGE_BYTES);
  for (let i = 0; i < count; i++) {
    const off = i * CIFAR10_RECORD_BYTES;
    const y = bytes[off];
    if (y > 9) {
      throw new Error(
        `${fn}: label of record ${i} (byte offset ${off}) must be in 0..9, got ${y} in ${label}; not a CIFAR-10 batch (CIFAR-100 has 2 label bytes)`,
      );
    }
    labels[i] = y;
    pixels.set(bytes.subarray(off + 1, off + CIFAR10_RECORD_BYTES), i * CIFAR10_IMAGE_BYTES);
  }
  return { count, labels, pixels };
}

export interface Cifar10Options {
  split?: Split;
  /** Default true: per-channel standardisation with CIFAR10_STATS (or mean/std given here). */
  normalize?: boolean;
  mean?: number | readonly number[];
  std?: number | readonly number[];
  /** Keep only the first `limit` samples. */
  limit?: number;
}

/** The batch files of a split, in order. */
export function cifar10FileNames(split: Split): string[] {
  return split === 'train' ? [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`) : ['test_batch.bin'];
}

/**
 * Loads a CIFAR-10 split from `dir` (the extracted cifar-10-batches-bin folder, or its parent).
 * Train concatenates data_batch_1..5.bin in order; test reads test_batch.bin.
 */
export function loadCifar10(dir: string, options: Cifar10Options = {}): Dataset {
  const fn = 'loadCifar10';
  const { split = 'train', normalize = true, mean = CIFAR10_STATS.mean, std = CIFAR10_STATS.std, limit } = options;
  checkSplitArgs(fn, dir, split, limit);
  const names = cifar10FileNames(split);
  let base = dir;
  if (!existsSync(join(base, names[0])) && existsSync(join(dir, 'cifar-10-batches-bin', names[0]))) base = join(dir, 'cifar-10-batches-bin');
  const missing = names.filter((n) => !existsSync(join(base, n)));
  if (missing.length > 0) {
    throw new Error(`${fn}: ${split} split needs ${names.join(', ')} in ${base}; missing ${missing.join(', ')}`);
  }
  const batches: Cifar10Batch[] = [];
  let total = 0;
  for (const n of names) {
    if (limit !== undefined && total >= limit) break;
    const b = readCifar10Batch(join(base, n));
    batches.push(b);
    total += b.count;
  }
  if (limit !== undefined && limit > total) throw new Error(`${fn}: limit must be at most the ${total} ${split} samples in ${base}, got ${limit}`);
  const count = limit ?? total;
  const pixels = new Uint8Array(count * CIFAR10_IMAGE_BYTES);
  const labels = new Int32Array(count);
  let k = 0;
  for (const b of batches) {
    const m = Math.min(b.count, count - k);
    pixels.set(b.pixels.subarray(0, m * CIFAR10_IMAGE_BYTES), k * CIFAR10_IMAGE_BYTES);
    for (let i = 0; i < m; i++) labels[k + i] = b.labels[i];
    k += m;
  }
  return {
    images: pixelsToFloat(pixels, 3, 1024, normalize ? { mean, std } : null, fn),
    labels,
    shape: [3, 32, 32],
    numClasses: 10,
    name: `cifar10:${split}`,
    classNames: CIFAR10_CLASSES.slice(),
  };
}
