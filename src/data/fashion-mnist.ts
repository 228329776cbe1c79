/**
 * Fashion-MNIST (Xiao et al. 2017) from the IDX files that Debian's dataset-fashion-mnist package
 * installs under /usr/share/datasets/fashion-mnist (60,000 train / 10,000 test, 28×28 grey, 10 classes).
 */
import { existsSync, statSync } from 'node:fs';
import type { Dataset } from './dataset.js';
import { loadIdxDataset, type Split } from './idx.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Mean and std of the training pixels scaled to [0, 1]. */
export const FASHION_MNIST_STATS = { mean: 0.286, std: 0.353 } as const;

export interface FashionMnistOptions {
  /** Directory with the IDX files (gzipped or not). Default: Debian's location. */
  dir?: string;
  normalize?: boolean;
  /** Keep the first trainSize / testSize samples (default: all 60,000 / 10,000). */
  trainSize?: number;
  testSize?: number;
}

function checkDir(dir: string, fn: string): void {
  if (typeof dir !== 'string') throw new Error(`${fn}: dir must be a directory path, got ${typeof dir}`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(
      `${fn}: Fashion-MNIST directory ${dir} not found. Install Debian's package ` +
        `(sudo apt-get install dataset-fashion-mnist, which puts the IDX files in ${FASHION_MNIST_DIR}) ` +
        `or pass { dir } pointing to a folder with train-images-idx3-ubyte[.gz] and the other three files.`,
    );
  }
}

/** One split of Fashion-MNIST, normalised with its own mean/std (0.2860, 0.3530). */
export function loadFashionMnistSplit(split: Split, options: Omit<FashionMnistOptions, 'trainSize' | 'testSize'> & { limit?: number } = {}): Dataset {
  const fn = 'loadFashionMnist';
  const dir = options.dir ?? FASHION_MNIST_DIR;
  checkDir(dir, fn);
  return loadIdxDataset(dir, {
    split,
    normalize: options.normalize ?? true,
    ...FASHION_MNIST_STATS,
    limit: options.limit,
    name: `fashion-mnist:${split}`,
    classNames: FASHION_MNIST_CLASSES,
    numClasses: 10,
  });
}

/** Both splits of Fashion-MNIST: `{ train, test }`. */
export function loadFashionMnist(options: FashionMnistOptions = {}): { train: Dataset; test: Dataset } {
  const { trainSize, testSize, ...rest } = options;
  checkDir(rest.dir ?? FASHION_MNIST_DIR, 'loadFashionMnist');
  for (const [k, v] of [
    ['trainSize', trainSize],
    ['testSize', testSize],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new Error(`loadFashionMnist: ${k} must be a non-negative integer, got ${v}`);
  }
  return {
    train: loadFashionMnistSplit('train', { ...rest, limit: trainSize }),
    test: loadFashionMnistSplit('test', { ...rest, limit: testSize }),
  };
}
