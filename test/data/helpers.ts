import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** An IDX file of unsigned bytes: magic 00 00 08 ndim, big-endian sizes, data. */
export function encodeIdx(dims: number[], data: Uint8Array, magic = 0x0800 | dims.length): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}

/** CIFAR-10 binary records: label byte + 3072 pixel bytes each. */
export function encodeCifar(labels: ArrayLike<number>, pixels: Uint8Array): Uint8Array {
  const n = labels.length;
  const out = new Uint8Array(n * 3073);
  for (let i = 0; i < n; i++) {
    out[i * 3073] = labels[i];
    out.set(pixels.subarray(i * 3072, (i + 1) * 3072), i * 3073 + 1);
  }
  return out;
}

/** Deterministic pseudo-random bytes (an LCG; tests need no Generator for file contents). */
export function bytes(n: number, seed: number, mod = 256): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 24) % mod;
  }
  return out;
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tuckergrad-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function write(dir: string, name: string, data: Uint8Array, gzip = false): string {
  const p = join(dir, name);
  writeFileSync(p, gzip ? gzipSync(data) : data);
  return p;
}
