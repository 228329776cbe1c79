/**
 * Issue #19, defect 5: the data readers do bounded work whatever the bytes. A gzipped IDX file may
 * inflate to no more than its header declares, a gzipped CIFAR batch to at most 60,000 records,
 * and a FIFO is refused instead of blocking.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_MAX_RECORDS, readCifar10Batch } from '../../src/data/cifar10.js';
import { readIdxImages, readIdxLabels } from '../../src/data/idx.js';
import { bytes, encodeIdx, tempDir } from './helpers.js';
import { peakRss } from './memory.js';

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir('bounded');
});
afterAll(() => tmp.cleanup());

/** `copies` gzip members of 1 MiB of zeros each: a file of about copies KiB that inflates to copies MiB. */
function zeroMembers(copies: number): Buffer {
  const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  return Buffer.concat(Array.from({ length: copies }, () => member));
}

/** A gzip member with the FNAME field set: `name` bytes that inflate to nothing precede the data. */
function gzipWithName(data: Uint8Array, nameLength: number): Buffer {
  const head = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3]);
  const name = Buffer.concat([Buffer.alloc(nameLength, 0x61), Buffer.from([0])]);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(crc32(data), 0);
  tail.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([head, name, deflateRawSync(data), tail]);
}

describe('gzip inflation is bounded by what the file may hold', () => {
  it('an IDX .gz that inflates far past its header is refused after inflating a few kilobytes', () => {
    const header = gzipSync(encodeIdx([10, 28, 28], bytes(7840, 1)));
    const path = join(tmp.dir, 'bomb-images-idx3-ubyte.gz');
    writeFileSync(path, Buffer.concat([header, zeroMembers(512)])); // ≈ 0.5 MB on disk, 512 MiB inflated
    const before = peakRss();
    expect(() => readIdxImages(path)).toThrow(
      `readIdxImages: ${path} decompresses to more than the 7856 bytes its content may hold; refused before inflating the rest`,
    );
    // Stated bound: the refusal costs less than 64 MiB of peak memory (inflating the file costs 512 MiB).
    expect(peakRss() - before).toBeLessThan(64 << 20);
  });

  it('a header that declares a huge size still only inflates what is there', () => {
    const data = encodeIdx([4_000_000_000], bytes(100, 2)); // declares 4 GB of labels, holds 100 bytes
    expect(() => readIdxLabels(gzipSync(data))).toThrow(
      /is truncated: the header declares labels of size \[4000000000\] = 4000000000 bytes of data, but only 100 bytes follow/,
    );
  });

  it('a wrong magic in a .gz is named from its first bytes', () => {
    const data = encodeIdx([3], bytes(3, 1), 0x0803);
    expect(() => readIdxLabels(Buffer.concat([gzipSync(data), zeroMembers(64)]))).toThrow(
      /readIdxLabels: magic number must be 2049 \(0x00000801\) for labels, got 2051 .* \(that is an IDX image file\) in <\d+ bytes> \(gunzipped\)/,
    );
  });

  it('megabytes that inflate to nothing before the data (a long file name) are skipped, and the file reads', () => {
    const pixels = bytes(2 * 5 * 4, 9);
    const img = readIdxImages(gzipWithName(encodeIdx([2, 5, 4], pixels), 3 << 20));
    expect([img.count, img.rows, img.cols]).toEqual([2, 5, 4]);
    expect(Array.from(img.pixels)).toEqual(Array.from(pixels));
  });

  it('a CIFAR .gz batch may inflate to at most 60,000 records', () => {
    const records = Math.ceil((CIFAR10_MAX_RECORDS * 3073) / (1 << 20)) + 1; // MiB of zeros: label 0, black pixels
    expect(() => readCifar10Batch(zeroMembers(records))).toThrow(`decompresses to more than the ${CIFAR10_MAX_RECORDS * 3073} bytes its content may hold`);
  });
});

describe('only regular files are read', () => {
  it('a FIFO in place of an IDX or CIFAR file is refused at once instead of blocking', { timeout: 10_000 }, () => {
    const fifo = join(tmp.dir, 'train-images-idx3-ubyte');
    execFileSync('mkfifo', [fifo]);
    expect(() => readIdxImages(fifo)).toThrow(`readIdxImages: cannot read ${fifo}: it is not a regular file (a FIFO)`);
    expect(() => readCifar10Batch(fifo)).toThrow(`readCifar10Batch: cannot read ${fifo}: it is not a regular file (a FIFO)`);
  });
});
