import { describe, expect, it } from 'vitest';
import { loadMnistEmbedded, classCounts, MNIST_EMBEDDED_CLASS_COUNTS, MNIST_STATS } from '../../src/data/index.js';

/** Element-wise equality without vitest's slow deep diff of large typed arrays. */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('loadMnistEmbedded', () => {
  it('splits the 10,000 digits 8,000 / 2,000 in under 2 s', () => {
    const t0 = performance.now();
    const { train, test } = loadMnistEmbedded();
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(2000);
    expect(train.labels.length).toBe(8000);
    expect(test.labels.length).toBe(2000);
    expect(train.shape).toEqual([1, 28, 28]);
    expect(train.images.length).toBe(8000 * 784);
    expect(test.images.length).toBe(2000 * 784);
    expect(train.numClasses).toBe(10);
    expect(train.name).toBe('mnist-embedded:train');
  });

  it('is a partition: train + test class counts are the package counts', () => {
    const { train, test } = loadMnistEmbedded({ seed: 3 });
    const a = classCounts(train);
    const b = classCounts(test);
    expect(Array.from(a, (v, i) => v + b[i])).toEqual([...MNIST_EMBEDDED_CLASS_COUNTS]);
    expect(MNIST_EMBEDDED_CLASS_COUNTS.reduce((s, v) => s + v, 0)).toBe(10000);
  });

  it('has every class in each split in a balanced share (the shuffle mixes the class-ordered files)', () => {
    const { train, test } = loadMnistEmbedded();
    for (const [ds, n] of [
      [train, 8000],
      [test, 2000],
    ] as const) {
      for (const c of classCounts(ds)) {
        expect(c / n).toBeGreaterThan(0.07);
        expect(c / n).toBeLessThan(0.14);
      }
      // No long single-class runs as in the package's class-ordered files.
      let changes = 0;
      for (let i = 1; i < 200; i++) if (ds.labels[i] !== ds.labels[i - 1]) changes++;
      expect(changes).toBeGreaterThan(150);
    }
  });

  it('is deterministic in the seed and differs across seeds', () => {
    const a = loadMnistEmbedded({ seed: 5, trainSize: 300, testSize: 100 });
    const b = loadMnistEmbedded({ seed: 5, trainSize: 300, testSize: 100 });
    const c = loadMnistEmbedded({ seed: 6, trainSize: 300, testSize: 100 });
    expect(same(a.train.labels, b.train.labels)).toBe(true);
    expect(same(a.train.images, b.train.images)).toBe(true);
    expect(same(a.test.images, b.test.images)).toBe(true);
    expect(same(a.train.labels, c.train.labels)).toBe(false);
    // The same seed with other sizes gives prefixes of the same permutation.
    const d = loadMnistEmbedded({ seed: 5, trainSize: 100, testSize: 0 });
    expect(same(d.train.labels, a.train.labels.subarray(0, 100))).toBe(true);
  });

  it('normalises with the MNIST mean/std, or leaves [0, 1]', () => {
    const raw = loadMnistEmbedded({ normalize: false, trainSize: 10000, testSize: 0 }).train.images;
    let mn = Infinity;
    let mx = -Infinity;
    let sum = 0;
    for (const v of raw) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
      sum += v;
    }
    expect(mn).toBe(0);
    expect(mx).toBeCloseTo(1, 6);
    expect(sum / raw.length).toBeCloseTo(MNIST_STATS.mean, 2);
    const norm = loadMnistEmbedded({ trainSize: 10000, testSize: 0 }).train.images;
    expect(norm[0]).toBeCloseTo((raw[0] - 0.1307) / 0.3081, 5);
    let s = 0;
    let s2 = 0;
    for (const v of norm) {
      s += v;
      s2 += v * v;
    }
    expect(s / norm.length).toBeCloseTo(0, 2);
    expect(Math.sqrt(s2 / norm.length)).toBeCloseTo(1, 1);
  });

  it('returns copies: writing into one split does not change a later load', () => {
    const a = loadMnistEmbedded({ trainSize: 1, testSize: 0 });
    const before = a.train.images[400];
    a.train.images.fill(123);
    expect(loadMnistEmbedded({ trainSize: 1, testSize: 0 }).train.images[400]).toBe(before);
  });

  it('rejects sizes beyond 10,000 and bad options', () => {
    expect(() => loadMnistEmbedded({ trainSize: 9000, testSize: 2000 })).toThrow(
      'loadMnistEmbedded: trainSize + testSize must be at most 10000 (the digits in the package), got 9000 + 2000 = 11000',
    );
    expect(() => loadMnistEmbedded({ trainSize: -1 })).toThrow('loadMnistEmbedded: trainSize must be a non-negative integer, got -1');
    expect(() => loadMnistEmbedded({ seed: NaN })).toThrow('loadMnistEmbedded: seed must be a finite number, got NaN');
  });
});
