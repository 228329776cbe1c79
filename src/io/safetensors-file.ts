/**
 * Safetensors checkpoints on disk: written atomically, with a SHA-256 of the data buffer kept in
 * the metadata under "tuckergrad.sha256" and checked on load.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir, writeFileAtomic } from './files.js';
import { assembleSafetensors, dataStartOf, decodeSafetensors, packTensors, type DecodedSafetensors, type SafetensorsMetadata, type SafetensorsTensors } from './safetensors-codec.js';

/** Metadata key holding the hex SHA-256 of the data buffer (the bytes after the header). */
export const CHECKSUM_KEY = 'tuckergrad.sha256';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Saves tensors to `path` (creating its directory), atomically: on failure no partial file is
 * left and an existing file keeps its content. Any CHECKSUM_KEY in `metadata` is replaced.
 */
export function saveSafetensors(path: string, tensors: SafetensorsTensors, metadata: SafetensorsMetadata = {}): void {
  let bytes: Uint8Array;
  try {
    const packed = packTensors(tensors);
    bytes = assembleSafetensors(packed, { ...metadata, [CHECKSUM_KEY]: sha256Hex(packed.buffer) });
  } catch (err) {
    throw new Error(`saveSafetensors: cannot save ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  ensureDir(dirname(path));
  writeFileAtomic(path, bytes);
}

/** Loads a safetensors file, verifying the checksum when the file carries one. */
export function loadSafetensors(path: string): DecodedSafetensors {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`loadSafetensors: cannot read checkpoint ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  let decoded: DecodedSafetensors;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (err) {
    throw new Error(`checkpoint ${path} is corrupt: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const expected = decoded.metadata[CHECKSUM_KEY];
  if (expected !== undefined) {
    const actual = sha256Hex(bytes.subarray(dataStartOf(bytes)));
    if (actual !== expected.toLowerCase()) {
      throw new Error(`checkpoint ${path} is corrupt: checksum mismatch (stored ${expected}, data hashes to ${actual})`);
    }
  }
  return decoded;
}
