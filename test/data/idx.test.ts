import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readIdxImages, readIdxLabels, loadIdxDataset, loadMnistIdx, idxFileNames, MNIST_STATS } from '../../src/data/index.js';
import { bytes, encodeIdx, tempDir, write } from './helpers.js';

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir('idx');
});
afterAll(() => tmp.cleanup());

/** Writes a complete IDX dataset (both splits) into a fresh folder; gz picks the compressed names. */
function writeDataset(
  name: string,
  opts: { n: number; rows?: number; cols?: number; gz?: boolean; labelCount?: number; seed?: number },
): {
  dir: string;
  pixels: Uint8Array;
  labels: Uint8Array;
} {
  const { n, rows = 4, cols = 3, gz = false, labelCount = n, seed = 1 } = opts;
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const pixels = bytes(n * rows * cols, seed);
  const labels = bytes(labelCount, seed + 7, 10);
  const suffix = gz ? '.gz' : '';
  for (const p of ['train', 't10k']) {
    write(dir, `${p}-images-idx3-ubyte${suffix}`, encodeIdx([n, rows, cols], pixels), gz);
    write(dir, `${p}-labels-idx1-ubyte${suffix}`, encodeIdx([labelCount], labels), gz);
  }
  return { dir, pixels, labels };
}

describe('readIdxImages / readIdxLabels', () => {
  it('round-trips raw and gzipped files, from a path or from bytes', () => {
    const pixels = bytes(5 * 6 * 7, 3);
    const labels = bytes(5, 4);
    const rawImg = encodeIdx([5, 6, 7], pixels);
    const rawLbl = encodeIdx([5], labels);
    for (const gz of [false, true]) {
      const ip = write(tmp.dir, `img${gz ? '.gz' : ''}`, rawImg, gz);
      const lp = write(tmp.dir, `lbl${gz ? '.gz' : ''}`, rawLbl, gz);
      const img = readIdxImages(ip);
      expect([img.count, img.rows, img.cols]).toEqual([5, 6, 7]);
      expect(Array.from(img.pixels)).toEqual(Array.from(pixels));
      expect(Array.from(readIdxLabels(lp))).toEqual(Array.from(labels));
    }
    expect(Array.from(readIdxImages(gzipSync(rawImg)).pixels)).toEqual(Array.from(pixels));
    expect(Array.from(readIdxLabels(rawLbl.buffer.slice(0) as ArrayBuffer))).toEqual(Array.from(labels));
  });

  it('round-trips any sizes and contents (property, seeded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (n, rows, cols, gz, seed) => {
          const px = bytes(n * rows * cols, seed);
          const file = encodeIdx([n, rows, cols], px);
          const img = readIdxImages(gz ? gzipSync(file) : file);
          expect([img.count, img.rows, img.cols]).toEqual([n, rows, cols]);
          expect(Array.from(img.pixels)).toEqual(Array.from(px));
          const lb = bytes(n, seed + 1);
          expect(Array.from(readIdxLabels(encodeIdx([n], lb)))).toEqual(Array.from(lb));
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it('keeps label values above 9 (plain uint8)', () => {
    expect(Array.from(readIdxLabels(encodeIdx([3], new Uint8Array([0, 37, 255]))))).toEqual([0, 37, 255]);
  });

  it('rejects a wrong magic number, naming both numbers', () => {
    const lbl = encodeIdx([2], new Uint8Array([1, 2]));
    expect(() => readIdxImages(lbl)).toThrow(
      'readIdxImages: magic number must be 2051 (0x00000803) for images, got 2049 (0x00000801) (that is an IDX label file)',
    );
    const img = encodeIdx([1, 1, 1], new Uint8Array([5]));
    expect(() => readIdxLabels(img)).toThrow('readIdxLabels: magic number must be 2049 (0x00000801) for labels, got 2051 (0x00000803)');
    expect(() => readIdxImages(new TextEncoder().encode('<html>404 Not Found</html>'))).toThrow(/magic number must be 2051.*not an IDX file/);
    // A float IDX file (type 0x0D) and a 2-D ubyte file.
    expect(() => readIdxImages(encodeIdx([1, 1, 1], new Uint8Array(4), 0x0d03))).toThrow(/element type 0xd; only unsigned bytes/);
    expect(() => readIdxImages(encodeIdx([2, 2], new Uint8Array(4)))).toThrow(/ubyte file with 2 dimensions; images have 3/);
  });

  it('rejects truncated files: data, header and magic', () => {
    const file = encodeIdx([3, 4, 4], bytes(48, 1));
    expect(() => readIdxImages(file.subarray(0, file.length - 5))).toThrow(
      'readIdxImages: <59 bytes> is truncated: the header declares images of size [3, 4, 4] = 48 bytes of data, but only 43 bytes follow the 16-byte header',
    );
    expect(() => readIdxImages(file.subarray(0, 10))).toThrow('readIdxImages: <10 bytes> is truncated: the header needs 16 bytes (magic + 3 sizes), got 10');
    expect(() => readIdxLabels(new Uint8Array([0, 0]))).toThrow(
      'readIdxLabels: <2 bytes> is truncated: an IDX file needs at least a 4-byte magic number, got 2 bytes',
    );
    const lbl = encodeIdx([10], bytes(10, 2));
    const p = write(tmp.dir, 'short-labels', lbl.subarray(0, 12));
    expect(() => readIdxLabels(p)).toThrow(
      `readIdxLabels: ${p} is truncated: the header declares labels of size [10] = 10 bytes of data, but only 4 bytes follow the 8-byte header`,
    );
  });

  it('rejects a truncated or corrupt gzip file', () => {
    const gz = gzipSync(encodeIdx([20, 5, 5], bytes(500, 3)));
    const p = write(tmp.dir, 'cut.gz', gz.subarray(0, gz.length >> 1));
    expect(() => readIdxImages(p)).toThrow(new RegExp(`readIdxImages: ${p} starts with the gzip magic 1f 8b but does not decompress .*truncated or corrupt`));
  });

  it('rejects data beyond what the header declares', () => {
    const file = encodeIdx([2], new Uint8Array([1, 2, 3]));
    expect(() => readIdxLabels(file)).toThrow(
      'readIdxLabels: <11 bytes> does not match its header: [2] declares 2 bytes of data, but 3 bytes follow the 8-byte header (1 extra)',
    );
  });

  it('rejects a missing file and a wrong source type', () => {
    const p = join(tmp.dir, 'nope-idx3-ubyte');
    expect(() => readIdxImages(p)).toThrow(`readIdxImages: cannot read ${p}: no such file`);
    expect(() => readIdxImages(tmp.dir)).toThrow(`readIdxImages: cannot read ${tmp.dir}: it is a directory`);
    expect(() => readIdxLabels(42 as unknown as string)).toThrow('readIdxLabels: source must be a file path or a Uint8Array, got number 42');
  });
});

describe('loadIdxDataset', () => {
  it('loads both splits of raw and gzipped folders, normalised with mean/std', () => {
    for (const gz of [false, true]) {
      const { dir, pixels, labels } = writeDataset(gz ? 'gz' : 'raw', { n: 6, gz });
      for (const split of ['train', 'test'] as const) {
        const ds = loadIdxDataset(dir, { split });
        expect(ds.shape).toEqual([1, 4, 3]);
        expect(ds.images.length).toBe(6 * 12);
        expect(Array.from(ds.labels)).toEqual(Array.from(labels));
        expect(ds.numClasses).toBe(Math.max(...labels) + 1);
        for (let i = 0; i < pixels.length; i++) {
          expect(ds.images[i]).toBeCloseTo((pixels[i] / 255 - MNIST_STATS.mean) / MNIST_STATS.std, 5);
        }
      }
      const plain = loadIdxDataset(dir, { normalize: false });
      expect(plain.images[5]).toBeCloseTo(pixels[5] / 255, 6);
      const custom = loadIdxDataset(dir, { mean: 0.5, std: 0.25, limit: 2, classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] });
      expect(custom.labels.length).toBe(2);
      expect(custom.images.length).toBe(24);
      expect(custom.images[0]).toBeCloseTo((pixels[0] / 255 - 0.5) / 0.25, 5);
      expect(custom.numClasses).toBe(10);
    }
  });

  it('accepts the .idx3-ubyte spelling and loadMnistIdx sets MNIST names', () => {
    const dir = join(tmp.dir, 'dotted');
    mkdirSync(dir);
    write(dir, 't10k-images.idx3-ubyte', encodeIdx([2, 2, 2], bytes(8, 5)));
    write(dir, 't10k-labels.idx1-ubyte', encodeIdx([2], new Uint8Array([3, 9])));
    const ds = loadMnistIdx(dir, { split: 'test' });
    expect(ds.name).toBe('mnist:test');
    expect(ds.numClasses).toBe(10);
    expect(Array.from(ds.labels)).toEqual([3, 9]);
    expect(idxFileNames('test').images).toContain('t10k-images.idx3-ubyte');
  });

  it('rejects an image/label count mismatch naming both files', () => {
    const { dir } = writeDataset('mismatch', { n: 5, labelCount: 4 });
    expect(() => loadIdxDataset(dir)).toThrow(
      `loadIdxDataset: image and label counts must match, but ${join(dir, 'train-images-idx3-ubyte')} holds 5 images and ${join(dir, 'train-labels-idx1-ubyte')} holds 4 labels`,
    );
  });

  it('rejects missing files, a missing dir, a bad split, labels ≥ numClasses and a limit beyond the data', () => {
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    expect(() => loadIdxDataset(empty)).toThrow(
      `loadIdxDataset: no train images file in ${empty}; looked for train-images-idx3-ubyte, train-images.idx3-ubyte, train-images-idx3-ubyte.gz, train-images.idx3-ubyte.gz`,
    );
    expect(() => loadIdxDataset(join(tmp.dir, 'missing'))).toThrow(/loadIdxDataset: dir .*missing is not a directory/);
    const { dir } = writeDataset('labels', { n: 4 });
    expect(() => loadIdxDataset(dir, { split: 'val' as 'train' })).toThrow(`loadIdxDataset: split must be 'train' or 'test', got "val"`);
    expect(() => loadIdxDataset(dir, { numClasses: 1 })).toThrow(/loadIdxDataset: labels must be in \[0, 1\), got \d at index \d/);
    expect(() => loadIdxDataset(dir, { limit: 5 })).toThrow(/limit must be at most the 4 train samples .*, got 5/);
    expect(() => loadIdxDataset(dir, { std: 0 })).toThrow('loadIdxDataset: std must be positive, got 0');
  });
});
