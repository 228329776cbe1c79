/**
 * The safetensors byte format, in memory: an 8-byte little-endian u64 header length N, N bytes
 * of UTF-8 JSON header (padded with spaces to a multiple of 8), then the data buffer. Each header
 * entry is {"dtype", "shape", "data_offsets": [begin, end]} with offsets relative to the buffer;
 * the optional "__metadata__" entry maps strings to strings. Tensors tile the buffer exactly.
 */
import {
  DTYPES,
  UNSUPPORTED_DTYPES,
  isSafetensorsDType,
  readLittleEndian,
  writeLittleEndian,
  type SafetensorsData,
  type SafetensorsDType,
} from './safetensors-dtypes.js';

export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  data: SafetensorsData;
}

export type SafetensorsTensors = Record<string, SafetensorsEntry>;
export type SafetensorsMetadata = Record<string, string>;

export interface DecodedSafetensors {
  tensors: SafetensorsTensors;
  metadata: SafetensorsMetadata;
}

/** Tensors laid out in one buffer, with the header entries that describe them (layout order). */
export interface PackedTensors {
  entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[];
  buffer: Uint8Array;
}

const METADATA_KEY = '__metadata__';
const encoder = new TextEncoder();

/**
 * Lays the tensors out contiguously: by element size, largest first (stable, so equal sizes keep
 * the caller's order), which keeps every tensor aligned to its element size in the file.
 */
export function packTensors(tensors: SafetensorsTensors): PackedTensors {
  const named = Object.keys(tensors).map((name, index) => ({ name, index, entry: checkEntry(name, tensors[name]) }));
  named.sort((a, b) => DTYPES[b.entry.dtype].size - DTYPES[a.entry.dtype].size || a.index - b.index);
  let total = 0;
  const entries = named.map(({ name, entry }) => {
    const begin = total;
    total += entry.data.length * DTYPES[entry.dtype].size;
    return { name, dtype: entry.dtype, shape: [...entry.shape], begin, end: total };
  });
  const buffer = new Uint8Array(total);
  named.forEach(({ entry }, i) => writeLittleEndian(entry.dtype, entry.data, buffer, entries[i].begin));
  return { entries, buffer };
}

/** Builds the file bytes from packed tensors and metadata. */
export function assembleSafetensors(packed: PackedTensors, metadata?: SafetensorsMetadata): Uint8Array {
  const parts: string[] = [];
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`encodeSafetensors: metadata values must be strings, got ${typeof v} for key ${JSON.stringify(k)}`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  // Written by hand so that the header keeps layout order (an object would move integer-like names first).
  for (const e of packed.entries) {
    parts.push(`${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: [e.begin, e.end] })}`);
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + packed.buffer.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  out.set(packed.buffer, 8 + headerLength);
  return out;
}

/** Encodes tensors (and optional string metadata) as safetensors bytes. */
export function encodeSafetensors(tensors: SafetensorsTensors, metadata?: SafetensorsMetadata): Uint8Array {
  return assembleSafetensors(packTensors(tensors), metadata);
}

/** Decodes safetensors bytes, validating the whole layout. The returned arrays are copies. */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const { header, dataStart } = readHeader(bytes);
  const bufferLength = bytes.length - dataStart;
  const metadata = readMetadata(header[METADATA_KEY]);
  const infos = Object.keys(header)
    .filter((name) => name !== METADATA_KEY)
    .map((name) => readInfo(name, header[name], bufferLength));
  checkTiling(infos, bufferLength);
  const tensors: SafetensorsTensors = {};
  for (const info of infos) {
    const data = readLittleEndian(info.dtype, bytes.subarray(dataStart + info.begin, dataStart + info.end));
    Object.defineProperty(tensors, info.name, { value: { dtype: info.dtype, shape: info.shape, data }, enumerable: true, writable: true, configurable: true });
  }
  return { tensors, metadata };
}

/** The byte offset at which the data buffer of a (valid) safetensors file starts. */
export function dataStartOf(bytes: Uint8Array): number {
  return readHeader(bytes).dataStart;
}

/** The metadata of a safetensors file and where its data starts, without decoding any tensor. */
export function decodeMetadata(bytes: Uint8Array): { metadata: SafetensorsMetadata; dataStart: number } {
  const { header, dataStart } = readHeader(bytes);
  return { metadata: readMetadata(header[METADATA_KEY]), dataStart };
}

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array, got ${typeof bytes}`);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) fail(`header length ${n} exceeds the ${bytes.length - 8} bytes after the length prefix (file is ${bytes.length} bytes)`);
  const headerLength = Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail(`header must be a JSON object, got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}`);
  return { header: header as Record<string, unknown>, dataStart: 8 + headerLength };
}

function readMetadata(raw: unknown): SafetensorsMetadata {
  const metadata: SafetensorsMetadata = {};
  if (raw === undefined) return metadata;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`__metadata__ must be an object of strings`);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') fail(`__metadata__[${JSON.stringify(k)}] must be a string, got ${JSON.stringify(v)}`);
    Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return metadata;
}

interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

function readInfo(name: string, raw: unknown, bufferLength: number): TensorInfo {
  const where = `tensor ${JSON.stringify(name)}`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`${where}: entry must be an object with dtype, shape and data_offsets`);
  const entry = raw as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') fail(`${where}: unexpected field ${JSON.stringify(key)}`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (!isSafetensorsDType(dtype)) {
    if (typeof dtype === 'string' && UNSUPPORTED_DTYPES.includes(dtype))
      fail(`${where}: dtype ${dtype} is not supported (supported: ${Object.keys(DTYPES).join(', ')})`);
    fail(`${where}: unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
  const [begin, end] = offsets as number[];
  if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > bufferLength) fail(`${where}: data_offsets [${begin}, ${end}] exceed the data buffer of ${bufferLength} bytes`);
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const needed = elements * DTYPES[dtype].size;
  if (needed !== end - begin)
    fail(`${where}: shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${needed} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** The tensors must cover [0, bufferLength) exactly: no overlap, no gap, nothing after the last one. */
function checkTiling(infos: TensorInfo[], bufferLength: number): void {
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: TensorInfo | undefined;
  for (const info of sorted) {
    if (info.begin < at)
      fail(
        `tensors ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end}] and ${JSON.stringify(info.name)} [${info.begin}, ${info.end}] overlap`,
      );
    if (info.begin > at) fail(`gap in the data buffer: bytes [${at}, ${info.begin}) belong to no tensor (before ${JSON.stringify(info.name)})`);
    at = info.end;
    if (info.end > info.begin) previous = info;
  }
  if (at < bufferLength) fail(`${bufferLength - at} trailing bytes after the last tensor (data buffer is ${bufferLength} bytes, tensors cover ${at})`);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function checkEntry(name: string, entry: SafetensorsEntry): SafetensorsEntry {
  const where = `encodeSafetensors: tensor ${JSON.stringify(name)}`;
  if (name === METADATA_KEY) throw new Error(`encodeSafetensors: ${METADATA_KEY} is reserved and cannot name a tensor`);
  if (entry === null || typeof entry !== 'object') throw new Error(`${where}: expected { dtype, shape, data }, got ${entry === null ? 'null' : typeof entry}`);
  const { dtype, shape, data } = entry;
  if (!isSafetensorsDType(dtype)) throw new Error(`${where}: unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
  if (!DTYPES[dtype].is(data))
    throw new Error(`${where}: dtype ${dtype} needs data as ${DTYPES[dtype].arrayName}, got ${data?.constructor?.name ?? typeof data}`);
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  const elements = shape.reduce((a, b) => a * b, 1);
  if (elements !== data.length) throw new Error(`${where}: shape [${shape.join(', ')}] needs ${elements} elements, data holds ${data.length}`);
  return entry;
}
