import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKSUM_KEY, encodeSafetensors, fromTensor, loadSafetensors, saveSafetensors, toTensor, type SafetensorsTensors } from '../../src/io/safetensors.js';
import { Tensor } from '../../src/tensor/tensor.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tuckergrad-ckpt-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const tensors: SafetensorsTensors = {
  'conv2.core': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  'conv2.U1': { dtype: 'F64', shape: [3], data: Float64Array.from([0.5, -0.25, 1e-300]) },
  ranks: { dtype: 'I32', shape: [4], data: Int32Array.from([6, 6, 3, 3]) },
  step: { dtype: 'I64', shape: [], data: BigInt64Array.from([123456789012n]) },
  mask: { dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) },
};

/** The data buffer of a safetensors file (after the 8-byte length and the header). */
function dataRegion(bytes: Uint8Array): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return bytes.subarray(8 + n);
}

describe('saveSafetensors / loadSafetensors', () => {
  it('round-trips tensors and metadata, creating the directory, and stores a SHA-256 of the data', () => {
    const path = join(dir, 'run', 'ckpt.safetensors');
    saveSafetensors(path, tensors, { epoch: '3', method: 'tdlrt' });
    const { tensors: back, metadata, verified } = loadSafetensors(path);
    expect(back).toEqual(tensors);
    expect(verified).toBe(true);
    expect(metadata.epoch).toBe('3');
    expect(metadata.method).toBe('tdlrt');
    // The hash covers the whole file, header included, with its own 64 digits read as zeros.
    const bytes = readFileSync(path);
    const zeroed = Buffer.from(bytes.toString('latin1').replace(metadata[CHECKSUM_KEY], '0'.repeat(64)), 'latin1');
    expect(metadata[CHECKSUM_KEY]).toBe(createHash('sha256').update(zeroed).digest('hex'));
    expect(metadata[CHECKSUM_KEY]).not.toBe(createHash('sha256').update(dataRegion(bytes)).digest('hex'));
    expect(readdirSync(join(dir, 'run'))).toEqual(['ckpt.safetensors']);
  });

  it('replaces a stale checksum given in the metadata', () => {
    const path = join(dir, 'c.safetensors');
    saveSafetensors(path, tensors, { [CHECKSUM_KEY]: 'f'.repeat(64) });
    expect(() => loadSafetensors(path)).not.toThrow();
  });

  it('detects a flipped data byte: checksum mismatch', () => {
    const path = join(dir, 'flip.safetensors');
    saveSafetensors(path, tensors);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0x01; // still a well-formed file, only the checksum can tell
    writeFileSync(path, bytes);
    expect(() => loadSafetensors(path)).toThrow(`checkpoint ${path} is corrupt: checksum mismatch`);
  });

  it('reports a truncated or garbled checkpoint as corrupt, naming it', () => {
    const path = join(dir, 'cut.safetensors');
    saveSafetensors(path, tensors);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    expect(() => loadSafetensors(path)).toThrow(
      `checkpoint ${path} is corrupt: safetensors: tensor "ranks": data_offsets [56, 72] exceed the data buffer of 71 bytes`,
    );
    writeFileSync(path, bytes.subarray(0, 100));
    expect(() => loadSafetensors(path)).toThrow(/is corrupt: safetensors: header length \d+ exceeds/);
    writeFileSync(path, bytes.subarray(0, 4));
    expect(() => loadSafetensors(path)).toThrow(/is corrupt: safetensors: file is 4 bytes/);
  });

  it('loads files without a checksum (written by other tools), marked unverified', () => {
    const path = join(dir, 'plain.safetensors');
    writeFileSync(path, encodeSafetensors(tensors, { format: 'pt' }));
    expect(loadSafetensors(path).metadata).toEqual({ format: 'pt' });
    expect(loadSafetensors(path).verified).toBe(false);
  });

  // Issue #19, defect 1: the checksum covered only the data, so metadata edits loaded silently.
  it('detects one changed digit in the metadata (a stored metric): checksum mismatch', () => {
    const path = join(dir, 'meta.safetensors');
    saveSafetensors(path, tensors, { 'tuckergrad.metrics': '{"testAccuracy":0.3281}' });
    const text = readFileSync(path).toString('latin1');
    expect(text).toContain('0.3281');
    writeFileSync(path, Buffer.from(text.replace('0.3281', '0.2281'), 'latin1'));
    expect(() => loadSafetensors(path)).toThrow(`checkpoint ${path} is corrupt: checksum mismatch`);
  });

  // Issue #19, defect 1: with the checksum key removed, a flipped data bit loaded.
  it('refuses a tuckergrad file whose checksum key was removed, naming the key', () => {
    const path = join(dir, 'nosum.safetensors');
    const bytes = encodeSafetensors(tensors, { 'tuckergrad.format': 'tuckergrad-checkpoint/1' });
    bytes[bytes.length - 1] ^= 0x01;
    writeFileSync(path, bytes);
    expect(() => loadSafetensors(path)).toThrow(`checkpoint ${path} is corrupt: its metadata has tuckergrad.format but no tuckergrad.sha256`);
  });

  it('refuses a header that holds the checksum key twice (JSON keeps the last, the hash the first)', () => {
    const path = join(dir, 'twice.safetensors');
    const sum = '0'.repeat(64);
    const json = Buffer.from(`{"__metadata__":{"tuckergrad.sha256":"${sum}","tuckergrad.sha256":"${sum}"}}`.padEnd(96, ' '));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(path, Buffer.concat([prefix, json]));
    expect(() => loadSafetensors(path)).toThrow(`checkpoint ${path} is corrupt: the header holds "tuckergrad.sha256" more than once`);
  });

  // Issue #19, defect 5: a FIFO given as a checkpoint blocked forever.
  it('refuses a FIFO or a directory instead of blocking on it', () => {
    const fifo = join(dir, 'fifo.safetensors');
    execFileSync('mkfifo', [fifo]);
    expect(() => loadSafetensors(fifo)).toThrow(/cannot read checkpoint .*fifo\.safetensors: checkpoint .* is not a regular file \(it is a FIFO\)/);
    expect(() => loadSafetensors(dir)).toThrow(/is not a regular file \(it is a directory\)/);
  });

  it('names a missing checkpoint', () => {
    expect(() => loadSafetensors(join(dir, 'nope.safetensors'))).toThrow(/loadSafetensors: cannot read checkpoint .*nope\.safetensors: ENOENT/);
  });

  it('a failed save leaves no file, and an existing checkpoint untouched', () => {
    const path = join(dir, 'sub', 'bad.safetensors');
    const bad = { w: { dtype: 'F32' as const, shape: [3], data: new Float32Array(2) } };
    expect(() => saveSafetensors(path, bad)).toThrow(
      /saveSafetensors: cannot save .*bad\.safetensors: encodeSafetensors: tensor "w": shape \[3\] needs 3 elements/,
    );
    expect(existsSync(join(dir, 'sub'))).toBe(false);

    const good = join(dir, 'good.safetensors');
    saveSafetensors(good, tensors);
    const before = readFileSync(good);
    expect(() => saveSafetensors(good, bad)).toThrow(/cannot save/);
    expect(readFileSync(good).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['good.safetensors']);
  });

  it('a save that fails while writing leaves no temp file behind', () => {
    const path = join(dir, 'taken.safetensors');
    mkdirSync(join(path, 'inside'), { recursive: true }); // a directory stands where the file should go
    expect(() => saveSafetensors(path, tensors)).toThrow(/writeFileAtomic: could not write .*taken\.safetensors/);
    expect(readdirSync(dir)).toEqual(['taken.safetensors']);
    expect(readdirSync(path)).toEqual(['inside']);
  });
});

describe('fromTensor / toTensor', () => {
  it('maps float32/float64 tensors to F32/F64 entries and back through a file', () => {
    const a = Tensor.fromData(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = Tensor.fromData(Float64Array.from([Math.PI]), []);
    expect(fromTensor(a)).toEqual({ dtype: 'F32', shape: [2, 3], data: a.data });
    expect(fromTensor(b).dtype).toBe('F64');
    const path = join(dir, 't.safetensors');
    saveSafetensors(path, { a: fromTensor(a), b: fromTensor(b) });
    const loaded = loadSafetensors(path).tensors;
    const a2 = toTensor(loaded.a);
    const b2 = toTensor(loaded.b);
    expect(a2.shape).toEqual([2, 3]);
    expect(a2.dtype).toBe('float32');
    expect(Array.from(a2.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b2.dtype).toBe('float64');
    expect(b2.shape).toEqual([]);
    expect(b2.data[0]).toBe(Math.PI);
  });

  it('refuses entries that are not F32/F64', () => {
    expect(() => toTensor({ dtype: 'I32', shape: [1], data: new Int32Array(1) })).toThrow(
      'toTensor: only F32 and F64 entries become Tensors, got dtype I32 with Int32Array',
    );
  });
});
