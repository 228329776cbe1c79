/**
 * Readers for the IDX files of MNIST and Fashion-MNIST (gzipped or not): big-endian header
 * `00 00 <type> <ndim>`, then ndim uint32 sizes, then the data. Only unsigned bytes (type 0x08) occur
 * in these datasets and only they are read.
 */
import { MNIST_MEAN, MNIST_STD } from './mnist-split.js';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pixelsToFloat, type Dataset } from './dataset.js';
import { labelOf, readBytes, type ByteSource } from './source.js';

export const IDX_IMAGES_MAGIC = 2051; // 0x00000803: ubyte, 3 dims
export const IDX_LABELS_MAGIC = 2049; // 0x00000801: ubyte, 1 dim

/** The standard MNIST normalisation (pixels scaled to [0, 1]). */
export const MNIST_STATS = { mean: MNIST_MEAN, std: MNIST_STD } as const;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count·rows·cols uint8 pixels, row-major. A view into the file's bytes. */
  pixels: Uint8Array;
}

const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/** Checks the magic number and reads the declared sizes; `bytes` may be just the header (the head of a .gz). */
function idxHeader(bytes: Uint8Array, fn: string, magic: number, kind: string, label: string): { dims: number[]; header: number; expected: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) {
    throw new Error(`${fn}: ${label} is truncated: an IDX file needs at least a 4-byte magic number, got ${bytes.length} bytes`);
  }
  const got = view.getUint32(0, false);
  if (got !== magic) {
    let hint = '';
    if (got === IDX_LABELS_MAGIC) hint = ' (that is an IDX label file)';
    else if (got === IDX_IMAGES_MAGIC) hint = ' (that is an IDX image file)';
    else if (got >>> 8 === 0x08) hint = ` (an IDX ubyte file with ${got & 0xff} dimensions; ${kind} have ${magic & 0xff})`;
    else if (got >>> 16 === 0) hint = ` (an IDX file of element type 0x${((got >>> 8) & 0xff).toString(16)}; only unsigned bytes, 0x08, are supported)`;
    else if (got >>> 16 !== 0) hint = ' (not an IDX file)';
    throw new Error(`${fn}: magic number must be ${magic} (${hex(magic)}) for ${kind}, got ${got} (${hex(got)})${hint} in ${label}`);
  }
  const ndim = got & 0xff;
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    throw new Error(`${fn}: ${label} is truncated: the header needs ${header} bytes (magic + ${ndim} sizes), got ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  let expected = 1;
  for (const d of dims) expected *= d;
  return { dims, header, expected };
}

function parseIdx(source: ByteSource, fn: string, magic: number, kind: string): { dims: number[]; data: Uint8Array; label: string } {
  // A gzipped file may inflate to no more than its header declares: checked on the first bytes, before the rest is inflated.
  const inflate = {
    head: 4 + 4 * (magic & 0xff),
    limit: (head: Uint8Array) => {
      const h = idxHeader(head, fn, magic, kind, `${labelOf(source)} (gunzipped)`);
      return h.header + h.expected;
    },
  };
  const { bytes, label } = readBytes(source, fn, inflate);
  const { dims, header, expected } = idxHeader(bytes, fn, magic, kind, label);
  const have = bytes.length - header;
  if (have < expected) {
    throw new Error(
      `${fn}: ${label} is truncated: the header declares ${kind} of size [${dims.join(', ')}] = ${expected} bytes of data, ` +
        `but only ${have} bytes follow the ${header}-byte header`,
    );
  }
  if (have > expected) {
    throw new Error(
      `${fn}: ${label} does not match its header: [${dims.join(', ')}] declares ${expected} bytes of data, ` +
        `but ${have} bytes follow the ${header}-byte header (${have - expected} extra)`,
    );
  }
  return { dims, data: bytes.subarray(header, header + expected), label };
}

/** Reads an IDX image file (magic 2051): `{ count, rows, cols, pixels }`. Gzipped files are unpacked. */
export function readIdxImages(source: ByteSource): IdxImages {
  const fn = 'readIdxImages';
  const { dims, data, label } = parseIdx(source, fn, IDX_IMAGES_MAGIC, 'images');
  const [count, rows, cols] = dims;
  if (rows === 0 || cols === 0) throw new Error(`${fn}: image size must be positive, got ${rows}×${cols} in ${label}`);
  return { count, rows, cols, pixels: data };
}

/** Reads an IDX label file (magic 2049): one uint8 per sample (a view into the file's bytes). */
export function readIdxLabels(source: ByteSource): Uint8Array {
  return parseIdx(source, 'readIdxLabels', IDX_LABELS_MAGIC, 'labels').data;
}

export type Split = 'train' | 'test';

export interface IdxDatasetOptions {
  split?: Split;
  /** Scale to [0, 1] and standardise with mean/std (default true). False: pixels/255 only. */
  normalize?: boolean;
  /** Default: MNIST's 0.1307. */
  mean?: number;
  /** Default: MNIST's 0.3081. */
  std?: number;
  /** Keep only the first `limit` samples (the files are already shuffled); more than the file holds is an error. */
  limit?: number;
  name?: string;
  classNames?: string[];
  /** Default: classNames.length, else max label + 1. */
  numClasses?: number;
}

/** The file names tried for a split, in order: raw before gzipped, `-idx3-` before the `.idx3-` variant. */
export function idxFileNames(split: Split): { images: string[]; labels: string[] } {
  const p = split === 'train' ? 'train' : 't10k';
  const names = (what: string, n: number): string[] => {
    const base = [`${p}-${what}-idx${n}-ubyte`, `${p}-${what}.idx${n}-ubyte`];
    return [...base, ...base.map((b) => `${b}.gz`)];
  };
  return { images: names('images', 3), labels: names('labels', 1) };
}

function findFile(dir: string, names: string[], fn: string, what: string): string {
  for (const n of names) {
    const p = join(dir, n);
    if (existsSync(p)) return p;
  }
  throw new Error(`${fn}: no ${what} file in ${dir}; looked for ${names.join(', ')}`);
}

/** The arguments every loader of a split from a folder checks (loadIdxDataset, loadCifar10), named for `fn`. */
export function checkSplitArgs(fn: string, dir: unknown, split: unknown, limit: unknown): void {
  if (typeof dir !== 'string') throw new Error(`${fn}: dir must be a directory path, got ${typeof dir}`);
  if (split !== 'train' && split !== 'test') throw new Error(`${fn}: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${fn}: dir ${dir} is not a directory`);
  if (limit !== undefined && (!Number.isInteger(limit) || (limit as number) < 0)) throw new Error(`${fn}: limit must be a non-negative integer, got ${limit}`);
}

/**
 * Loads one split of an MNIST-style IDX dataset from a directory holding the standard file names
 * (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-…).
 */
export function loadIdxDataset(dir: string, options: IdxDatasetOptions = {}): Dataset {
  const fn = 'loadIdxDataset';
  const { split = 'train', normalize = true, mean = MNIST_STATS.mean, std = MNIST_STATS.std, limit } = options;
  checkSplitArgs(fn, dir, split, limit);
  const names = idxFileNames(split);
  const imgPath = findFile(dir, names.images, fn, `${split} images`);
  const lblPath = findFile(dir, names.labels, fn, `${split} labels`);
  const img = readIdxImages(imgPath);
  const lbl = readIdxLabels(lblPath);
  if (img.count !== lbl.length) {
    throw new Error(`${fn}: image and label counts must match, but ${imgPath} holds ${img.count} images and ${lblPath} holds ${lbl.length} labels`);
  }
  if (limit !== undefined && limit > img.count) {
    throw new Error(`${fn}: limit must be at most the ${img.count} ${split} samples in ${imgPath}, got ${limit}`);
  }
  const n = limit ?? img.count;
  const per = img.rows * img.cols;
  const labels = new Int32Array(n);
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    labels[i] = lbl[i];
    if (lbl[i] > maxLabel) maxLabel = lbl[i];
  }
  const numClasses = options.numClasses ?? options.classNames?.length ?? maxLabel + 1;
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${fn}: numClasses must be a positive integer, got ${numClasses}`);
  if (maxLabel >= numClasses) {
    const at = labels.findIndex((y) => y >= numClasses);
    throw new Error(`${fn}: labels must be in [0, ${numClasses}), got ${labels[at]} at index ${at} of ${lblPath}`);
  }
  const images = pixelsToFloat(img.pixels.subarray(0, n * per), 1, per, normalize ? { mean, std } : null, fn);
  return {
    images,
    labels,
    shape: [1, img.rows, img.cols],
    numClasses,
    name: options.name ?? `idx:${split}`,
    ...(options.classNames ? { classNames: options.classNames.slice() } : {}),
  };
}

/** MNIST from the original IDX files in `dir` (MNIST normalisation, digit class names). */
export function loadMnistIdx(dir: string, options: Omit<IdxDatasetOptions, 'mean' | 'std' | 'name'> = {}): Dataset {
  return loadIdxDataset(dir, {
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    ...options,
    ...MNIST_STATS,
    name: `mnist:${options.split ?? 'train'}`,
  });
}
