/**
 * Fuzz (issue #19): 1,000 random corruptions of an IDX image file and 200 of a CIFAR-10 batch,
 * raw and gzipped: byte flips, truncations, appended bytes, header sizes replaced (up to 2³² − 1),
 * gzip members that inflate to megabytes. Each must give a clear error (an Error that names the
 * reader, not a TypeError or RangeError from inside) or a result whose sizes agree, never a crash
 * or a hang, and the peak memory of the run must stay under the stated bound.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readCifar10Batch } from '../../src/data/cifar10.js';
import { readIdxImages } from '../../src/data/idx.js';
import { bytes, encodeCifar, encodeIdx } from './helpers.js';
import { peakRss } from './memory.js';

/** Stated bound on the growth of peak memory over each fuzz run. */
const MEMORY_BOUND = 96 << 20;

/** 4 MiB of zeros in one gzip member (about 4 KB): appended to a gzipped file it inflates far past any header. */
const BOMB = gzipSync(Buffer.alloc(4 << 20), { level: 9 });

type Corruption = (b: Uint8Array) => Uint8Array;

function corruption(headerBytes: number): fc.Arbitrary<{ edit: Corruption; gzip: boolean; bomb: boolean }> {
  const edit: fc.Arbitrary<Corruption> = fc.oneof(
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => (b: Uint8Array) => {
      const c = Uint8Array.from(b);
      for (const [at, x] of flips) c[at % c.length] ^= x;
      return c;
    }),
    // Flips in the header only, where they change the magic or the sizes.
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }).map((flips) => (b: Uint8Array) => {
      const c = Uint8Array.from(b);
      for (const [at, x] of flips) c[at % Math.min(headerBytes, c.length)] ^= x;
      return c;
    }),
    fc.nat().map((n) => (b: Uint8Array) => b.subarray(0, n % (b.length + 1))),
    fc.uint8Array({ minLength: 1, maxLength: 4000 }).map((extra) => (b: Uint8Array) => Uint8Array.from([...b, ...extra])),
    // One 32-bit size replaced (any value, the largest included).
    fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 }))).map(([k, v]) => (b: Uint8Array) => {
      const c = Uint8Array.from(b);
      const slots = Math.max(1, Math.floor(headerBytes / 4));
      const at = 4 * (k % slots);
      if (at + 4 <= c.length) new DataView(c.buffer).setUint32(at, v, false);
      return c;
    }),
  );
  return fc.record({ edit, gzip: fc.boolean(), bomb: fc.boolean() });
}

function prepare(original: Uint8Array, c: { edit: Corruption; gzip: boolean; bomb: boolean }): Uint8Array {
  const raw = c.edit(original);
  if (!c.gzip) return raw;
  const gz = gzipSync(raw);
  return c.bomb ? Buffer.concat([gz, BOMB]) : gz;
}

function expectClearError(err: unknown, reader: string): void {
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(TypeError);
  expect(err).not.toBeInstanceOf(RangeError);
  expect((err as Error).message.startsWith(`${reader}: `), (err as Error).message).toBe(true);
}

describe('data reader fuzz', () => {
  it('1,000 corruptions of an IDX image file: a clear error or consistent images, within the memory bound', () => {
    const original = encodeIdx([12, 28, 28], bytes(12 * 784, 5));
    const before = peakRss();
    let read = 0;
    fc.assert(
      fc.property(corruption(16), (c) => {
        const input = prepare(original, c);
        try {
          const img = readIdxImages(input);
          read++;
          expect(img.pixels.length).toBe(img.count * img.rows * img.cols);
          expect(img.rows * img.cols).toBeGreaterThan(0);
        } catch (err) {
          expectClearError(err, 'readIdxImages');
        }
      }),
      { seed: 1919, numRuns: 1000 },
    );
    expect(peakRss() - before).toBeLessThan(MEMORY_BOUND);
    expect(read).toBeGreaterThan(0);
  });

  it('200 corruptions of a CIFAR-10 batch: a clear error or consistent records, within the memory bound', () => {
    const n = 4;
    const original = encodeCifar(
      Array.from({ length: n }, (_, i) => i % 10),
      bytes(n * 3072, 11),
    );
    const before = peakRss();
    let read = 0;
    fc.assert(
      fc.property(corruption(1), (c) => {
        const input = prepare(original, c);
        try {
          const b = readCifar10Batch(input);
          read++;
          expect(b.labels.length).toBe(b.count);
          expect(b.pixels.length).toBe(b.count * 3072);
          expect(b.labels.every((y) => y <= 9)).toBe(true);
        } catch (err) {
          expectClearError(err, 'readCifar10Batch');
        }
      }),
      { seed: 1920, numRuns: 200 },
    );
    expect(peakRss() - before).toBeLessThan(MEMORY_BOUND);
    expect(read).toBeGreaterThan(0);
  });
});
