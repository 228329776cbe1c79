import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCifar10Batch, loadCifar10, CIFAR10_STATS, CIFAR10_CLASSES } from '../../src/data/index.js';
import { bytes, encodeCifar, tempDir, write } from './helpers.js';

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir('cifar');
});
afterAll(() => tmp.cleanup());

/** Five train batches of `per` images and one test batch; batch k's labels start at k. */
function writeCifarDir(dir: string, per: number): { pixels: Uint8Array[]; labels: number[][] } {
  mkdirSync(dir, { recursive: true });
  const pixels: Uint8Array[] = [];
  const labels: number[][] = [];
  const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  names.forEach((name, k) => {
    const px = bytes(per * 3072, 100 + k);
    const lb = Array.from({ length: per }, (_, i) => (k + i) % 10);
    write(dir, name, encodeCifar(lb, px));
    pixels.push(px);
    labels.push(lb);
  });
  return { pixels, labels };
}

describe('readCifar10Batch', () => {
  it('round-trips records from bytes, a file and a gzipped file', () => {
    const px = bytes(3 * 3072, 9);
    const file = encodeCifar([0, 9, 4], px);
    for (const src of [file, write(tmp.dir, 'b.bin', file), write(tmp.dir, 'b.bin.gz', file, true), gzipSync(file)]) {
      const b = readCifar10Batch(src);
      expect(b.count).toBe(3);
      expect(Array.from(b.labels)).toEqual([0, 9, 4]);
      expect(Array.from(b.pixels)).toEqual(Array.from(px));
    }
  });

  it('round-trips any record count (property, seeded)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
        const px = bytes(n * 3072, seed);
        const lb = Array.from(bytes(n, seed + 1, 10));
        const b = readCifar10Batch(encodeCifar(lb, px));
        expect(Array.from(b.labels)).toEqual(lb);
        expect(b.pixels).toEqual(px);
      }),
      { seed: 7, numRuns: 20 },
    );
  });

  it('rejects a size that is not a multiple of 3073, and an empty file', () => {
    const file = encodeCifar([1, 2], bytes(2 * 3072, 1));
    expect(() => readCifar10Batch(file.subarray(0, 5000))).toThrow(
      'readCifar10Batch: file size must be a positive multiple of 3073 bytes (1 label + 3072 pixels per record), got 5000 bytes (1 whole records + 1927 bytes) in <5000 bytes>; the file is truncated or not a CIFAR-10 binary batch',
    );
    expect(() => readCifar10Batch(new Uint8Array(0))).toThrow(/got 0 bytes/);
  });

  it('rejects a label above 9 naming the record', () => {
    const file = encodeCifar([1, 2, 10], bytes(3 * 3072, 1));
    expect(() => readCifar10Batch(file)).toThrow('readCifar10Batch: label of record 2 (byte offset 6146) must be in 0..9, got 10 in <9219 bytes>');
  });

  it('rejects a missing file', () => {
    const p = join(tmp.dir, 'data_batch_9.bin');
    expect(() => readCifar10Batch(p)).toThrow(`readCifar10Batch: cannot read ${p}: no such file`);
  });
});

describe('loadCifar10', () => {
  it('concatenates data_batch_1..5 in order and reads test_batch, normalised per channel', () => {
    const dir = join(tmp.dir, 'full');
    const { pixels, labels } = writeCifarDir(dir, 2);
    const train = loadCifar10(dir);
    expect(train.shape).toEqual([3, 32, 32]);
    expect(train.labels.length).toBe(10);
    expect(Array.from(train.labels)).toEqual(labels.slice(0, 5).flat());
    expect(train.classNames).toEqual(CIFAR10_CLASSES);
    expect(train.name).toBe('cifar10:train');
    // Image 3 is batch 2's second image; check one pixel per channel.
    for (let c = 0; c < 3; c++) {
      const p = pixels[1][3072 + c * 1024 + 77];
      expect(train.images[3 * 3072 + c * 1024 + 77]).toBeCloseTo((p / 255 - CIFAR10_STATS.mean[c]) / CIFAR10_STATS.std[c], 5);
    }
    const test = loadCifar10(dir, { split: 'test', normalize: false });
    expect(Array.from(test.labels)).toEqual(labels[5]);
    expect(test.images[100]).toBeCloseTo(pixels[5][100] / 255, 6);
    const few = loadCifar10(dir, { limit: 3, mean: 0.5, std: 0.5 });
    expect(few.labels.length).toBe(3);
    expect(few.images[3072 * 2 + 5]).toBeCloseTo((pixels[1][5] / 255 - 0.5) / 0.5, 5);
  });

  it('finds the batches inside an extracted cifar-10-batches-bin folder', () => {
    const parent = join(tmp.dir, 'parent');
    writeCifarDir(join(parent, 'cifar-10-batches-bin'), 1);
    expect(loadCifar10(parent, { split: 'test' }).labels.length).toBe(1);
  });

  it('rejects a missing batch, a missing dir, a bad split, bad stats and a limit beyond the data', () => {
    const dir = join(tmp.dir, 'partial');
    mkdirSync(dir);
    write(dir, 'data_batch_1.bin', encodeCifar([1], bytes(3072, 1)));
    expect(() => loadCifar10(dir)).toThrow(
      `loadCifar10: train split needs data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin in ${dir}; missing data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin`,
    );
    expect(() => loadCifar10(join(tmp.dir, 'none'))).toThrow(/loadCifar10: dir .*none is not a directory/);
    const full = join(tmp.dir, 'full2');
    writeCifarDir(full, 1);
    expect(() => loadCifar10(full, { split: 'valid' as 'test' })).toThrow(`loadCifar10: split must be 'train' or 'test', got "valid"`);
    expect(() => loadCifar10(full, { mean: [0.5, 0.5] })).toThrow('loadCifar10: mean must be a number or 3 per-channel values, got 2 values');
    expect(() => loadCifar10(full, { limit: 6 })).toThrow(/loadCifar10: limit must be at most the 5 train samples .*, got 6/);
  });
});
