import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  loadFashionMnist,
  loadFashionMnistSplit,
  readIdxImages,
  readIdxLabels,
  classCounts,
  FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
} from '../../src/data/index.js';
import { hasSystemPackage } from '../setup/system.js';

const dir = FASHION_MNIST_DIR;
// Required under CI; elsewhere the run's notice says the real-file checks did not run.
const present = hasSystemPackage('fashionMnist');

describe('Fashion-MNIST (Debian dataset-fashion-mnist)', () => {
  it('explains how to get the files when the directory is missing', () => {
    const missing = join(tmpdir(), 'no-such-fashion-mnist-dir');
    expect(() => loadFashionMnist({ dir: missing })).toThrow(
      `loadFashionMnist: Fashion-MNIST directory ${missing} not found. Install Debian's package (sudo apt-get install dataset-fashion-mnist`,
    );
    expect(() => loadFashionMnist({ dir: missing })).toThrow(/or pass \{ dir \}/);
  });

  it.runIf(present)('reads the real IDX files: 60,000 / 10,000 images of 28×28, labels 0–9', () => {
    const name = (base: string): string => (existsSync(join(dir, base)) ? join(dir, base) : join(dir, `${base}.gz`));
    const img = readIdxImages(name('t10k-images-idx3-ubyte'));
    expect([img.count, img.rows, img.cols]).toEqual([10000, 28, 28]);
    const lbl = readIdxLabels(name('t10k-labels-idx1-ubyte'));
    expect(lbl.length).toBe(10000);
    expect(Math.max(...lbl)).toBe(9);

    const t0 = performance.now();
    const { train, test } = loadFashionMnist();
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(8000);
    expect(train.labels.length).toBe(60000);
    expect(test.labels.length).toBe(10000);
    expect(train.shape).toEqual([1, 28, 28]);
    expect(train.images.length).toBe(60000 * 784);
    expect(train.classNames).toEqual(FASHION_MNIST_CLASSES);
    // Fashion-MNIST is exactly balanced; its first samples are well known.
    expect(Array.from(classCounts(train))).toEqual(new Array(10).fill(6000));
    expect(Array.from(classCounts(test))).toEqual(new Array(10).fill(1000));
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    // Normalised with its own statistics: mean ≈ 0, std ≈ 1 on the training set.
    let s = 0;
    let s2 = 0;
    for (const v of train.images) {
      s += v;
      s2 += v * v;
    }
    const mean = s / train.images.length;
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(Math.sqrt(s2 / train.images.length - mean * mean)).toBeCloseTo(1, 2);
  });

  it.runIf(present)('takes the first trainSize / testSize samples', () => {
    const { train, test } = loadFashionMnist({ trainSize: 1000, testSize: 10, normalize: false });
    expect(train.labels.length).toBe(1000);
    expect(test.labels.length).toBe(10);
    expect(train.images.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(1);
    const one = loadFashionMnistSplit('test', { limit: 10 });
    expect(one.labels).toEqual(test.labels);
    expect(() => loadFashionMnist({ trainSize: 70000 })).toThrow(/limit must be at most the 60000 train samples/);
  });
});
