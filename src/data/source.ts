import { constants as bufferConstants } from 'node:buffer';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { readRegularFile } from '../io/files.js';
import { describe } from './dataset.js';

/** A file path, or the file's bytes already in memory. */
export type ByteSource = string | Uint8Array | ArrayBuffer;

/**
 * How large a reader lets a gzipped source grow: the decompressed content may hold at most
 * `limit(head)` bytes, where `head` is its first `head` bytes (fewer when the content is shorter).
 * A format with a header passes a limit derived from the sizes the header declares, so that a small
 * .gz that inflates to gigabytes is refused after inflating a few kilobytes, not after all of it.
 */
export interface InflateLimit {
  head: number;
  limit(head: Uint8Array): number;
}

/** Without a format's limit: 1 GiB, far above any dataset file these readers take. */
const DEFAULT_LIMIT: InflateLimit = { head: 0, limit: () => 1 << 30 };

/**
 * The bytes of a source, gunzipped when they start with the gzip magic 1f 8b; `label` names it in
 * errors. Only regular files are read (a FIFO would block forever, a device never end).
 */
export function readBytes(source: ByteSource, fn: string, inflate: InflateLimit = DEFAULT_LIMIT): { bytes: Uint8Array; label: string } {
  let bytes: Uint8Array;
  let label: string;
  if (typeof source === 'string') {
    label = source;
    try {
      const buf = readRegularFile(source, undefined, 'file');
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'it is a directory'
            : code === 'ENOTREG'
              ? `it is not a regular file (${(err as { kind?: string }).kind})`
              : (err as Error).message;
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
    const corrupt = (err: unknown) =>
      new Error(
        `${fn}: ${label} starts with the gzip magic 1f 8b but does not decompress (${(err as Error).message}); the file is probably truncated or corrupt`,
      );
    let head: Uint8Array;
    try {
      head = gunzipHead(bytes, inflate.head);
    } catch (err) {
      throw corrupt(err);
    }
    // The format's own header check runs here, on the head: its errors (a wrong magic) pass through as they are.
    const limit = inflate.limit(head);
    const cap = Math.max(1, Math.min(limit, bufferConstants.MAX_LENGTH));
    let out: Buffer;
    try {
      out = gunzipSync(bytes, { maxOutputLength: cap });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new Error(`${fn}: ${label} decompresses to more than the ${limit} bytes its content may hold; refused before inflating the rest`);
      }
      throw corrupt(err);
    }
    bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    label += ' (gunzipped)';
  }
  return { bytes, label };
}

/**
 * The first `want` decompressed bytes of a gzip file, inflating growing prefixes of it: doubling up
 * to 64 KiB, then 64 KiB at a time, so that one attempt inflates at most about 1,032 × 64 KiB
 * (deflate's largest ratio) beyond `want`, even when megabytes that inflate to nothing (a long
 * file name, empty blocks) come first.
 */
function gunzipHead(bytes: Uint8Array, want: number): Uint8Array {
  if (want <= 0) return new Uint8Array(0);
  const STEP = 1 << 16;
  for (let n = 64; ; n = n < STEP ? n * 2 : n + STEP) {
    const part = bytes.subarray(0, Math.min(n, bytes.length));
    const out = gunzipSync(part, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    if (out.length >= want || part.length === bytes.length) return out.subarray(0, want);
  }
}

/** How errors name a source before it is read: its path, or its size for bytes in memory. */
export function labelOf(source: ByteSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array) return `<${source.length} bytes>`;
  if (source instanceof ArrayBuffer) return `<${source.byteLength} bytes>`;
  return '<source>';
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
