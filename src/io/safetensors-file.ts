/**
 * Safetensors checkpoints on disk: written atomically, with a SHA-256 of the whole file kept in the
 * metadata under "tuckergrad.sha256" and checked on load.
 *
 * The hash covers every byte of the file (length prefix, header JSON with all metadata, padding and
 * data) with the 64 hex digits of the hash itself replaced by zeros. Covering only the data let an
 * edited metric or learning rate in the metadata load silently. The field is located as the one
 * occurrence of `"tuckergrad.sha256":"` in the header: inside a JSON string those quotes would be
 * escaped, so only the metadata key itself can match, and a file that holds it twice is refused.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { ensureDir, readRegularFile, writeFileAtomic } from './files.js';
import {
  assembleSafetensors,
  decodeMetadata,
  decodeSafetensors,
  packTensors,
  type DecodedSafetensors,
  type SafetensorsMetadata,
  type SafetensorsTensors,
} from './safetensors-codec.js';

/** Metadata key holding the hex SHA-256 of the file (with this field's digits zeroed). */
export const CHECKSUM_KEY = 'tuckergrad.sha256';
/** Metadata key that marks a tuckergrad checkpoint: a file carrying it must carry CHECKSUM_KEY too. */
export const FORMAT_KEY = 'tuckergrad.format';

const PLACEHOLDER = '0'.repeat(64);
const FIELD = Buffer.from(`${JSON.stringify(CHECKSUM_KEY)}:"`, 'utf8');

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where the 64 hex digits of the checksum field start in the file, or a reason it cannot be found. */
function checksumOffset(bytes: Uint8Array, dataStart: number): number | string {
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, dataStart);
  const first = header.indexOf(FIELD, 8);
  if (first < 0) return `the header holds no ${JSON.stringify(CHECKSUM_KEY)} field written as tuckergrad writes it`;
  if (header.indexOf(FIELD, first + 1) >= 0) return `the header holds ${JSON.stringify(CHECKSUM_KEY)} more than once`;
  const at = first + FIELD.length;
  if (at + 65 > dataStart || header[at + 64] !== 0x22) return `the ${JSON.stringify(CHECKSUM_KEY)} field is not 64 hex digits`;
  return at;
}

/** SHA-256 of the file with the checksum digits at `at` read as zeros. */
function fileHash(bytes: Uint8Array, at: number): string {
  return createHash('sha256')
    .update(bytes.subarray(0, at))
    .update(PLACEHOLDER)
    .update(bytes.subarray(at + 64))
    .digest('hex');
}

/** The file bytes of tensors and metadata, with the whole-file checksum filled in. */
export function encodeWithChecksum(tensors: SafetensorsTensors, metadata: SafetensorsMetadata = {}): Uint8Array {
  const bytes = assembleSafetensors(packTensors(tensors), { ...metadata, [CHECKSUM_KEY]: PLACEHOLDER });
  const { dataStart } = decodeMetadata(bytes);
  const at = checksumOffset(bytes, dataStart);
  if (typeof at === 'string') throw new Error(`encodeWithChecksum: ${at}`); // only a tensor named like the field could cause this
  Buffer.from(bytes.buffer, bytes.byteOffset).write(fileHash(bytes, at), at, 'latin1');
  return bytes;
}

/**
 * Saves tensors to `path` (creating its directory), atomically: on failure no partial file is
 * left and an existing file keeps its content. Any CHECKSUM_KEY in `metadata` is replaced.
 */
export function saveSafetensors(path: string, tensors: SafetensorsTensors, metadata: SafetensorsMetadata = {}): void {
  let bytes: Uint8Array;
  try {
    bytes = encodeWithChecksum(tensors, metadata);
  } catch (err) {
    throw new Error(`saveSafetensors: cannot save ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  ensureDir(dirname(path));
  writeFileAtomic(path, bytes);
}

export interface LoadedSafetensors extends DecodedSafetensors {
  /** Whether a checksum was present and matched (false: a plain safetensors file from another tool). */
  verified: boolean;
}

/**
 * Loads a safetensors file. A file with a checksum is verified before any tensor is decoded; a file
 * marked as a tuckergrad checkpoint must have one. A plain file without either loads, unverified.
 * Only regular files are read (a FIFO or device would block or never end).
 */
export function loadSafetensors(path: string): LoadedSafetensors {
  let bytes: Uint8Array;
  try {
    bytes = readRegularFile(path, undefined, 'checkpoint');
  } catch (err) {
    throw new Error(`loadSafetensors: cannot read checkpoint ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const corrupt = (message: string, cause?: unknown) => new Error(`checkpoint ${path} is corrupt: ${message}`, { cause });
  let metadata: SafetensorsMetadata;
  let dataStart: number;
  try {
    ({ metadata, dataStart } = decodeMetadata(bytes));
  } catch (err) {
    throw corrupt(err instanceof Error ? err.message : String(err), err);
  }
  const expected = metadata[CHECKSUM_KEY];
  if (expected === undefined && metadata[FORMAT_KEY] !== undefined) {
    throw corrupt(`its metadata has ${FORMAT_KEY} but no ${CHECKSUM_KEY}: a tuckergrad checkpoint must carry its checksum, so this one cannot be verified`);
  }
  if (expected !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(expected)) throw corrupt(`${CHECKSUM_KEY} must be 64 lowercase hex digits, got ${JSON.stringify(expected.slice(0, 80))}`);
    const at = checksumOffset(bytes, dataStart);
    if (typeof at === 'string') throw corrupt(at);
    const actual = fileHash(bytes, at);
    if (actual !== expected) {
      // A layout error (a truncation, a bad offset) says more than the mismatch it also causes.
      try {
        decodeSafetensors(bytes);
      } catch (err) {
        throw corrupt(err instanceof Error ? err.message : String(err), err);
      }
      throw corrupt(`checksum mismatch (stored ${expected}, the file hashes to ${actual})`);
    }
  }
  let decoded: DecodedSafetensors;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (err) {
    throw corrupt(err instanceof Error ? err.message : String(err), err);
  }
  return { ...decoded, verified: expected !== undefined };
}
