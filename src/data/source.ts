import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe } from './dataset.js';

/** A file path, or the file's bytes already in memory. */
export type ByteSource = string | Uint8Array | ArrayBuffer;

/** The bytes of a source, gunzipped when they start with the gzip magic 1f 8b; `label` names it in errors. */
export function readBytes(source: ByteSource, fn: string): { bytes: Uint8Array; label: string } {
  let bytes: Uint8Array;
  let label: string;
  if (typeof source === 'string') {
    label = source;
    try {
      const buf = readFileSync(source);
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
      throw new Error(`${fn}: cannot read ${source}: ${why}`);
    }
  } else if (source instanceof Uint8Array) {
    bytes = source;
    label = `<${source.length} bytes>`;
  } else if (source instanceof ArrayBuffer) {
    bytes = new Uint8Array(source);
    label = `<${source.byteLength} bytes>`;
  } else {
    throw new Error(`${fn}: source must be a file path or a Uint8Array, got ${describe(source)}`);
  }
  if (isGzip(bytes)) {
    try {
      const out = gunzipSync(bytes);
      bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      throw new Error(`${fn}: ${label} starts with the gzip magic 1f 8b but does not decompress (${(err as Error).message}); the file is probably truncated or corrupt`);
    }
    label += ' (gunzipped)';
  }
  return { bytes, label };
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
