/**
 * The safetensors element types this library reads and writes, and the little-endian copies
 * between typed arrays and bytes. A little-endian host copies bytes directly; any other host
 * goes through DataView with explicit little-endian access.
 */

export type SafetensorsDType = 'F64' | 'F32' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export type SafetensorsData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | BigUint64Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

interface DTypeInfo {
  readonly size: number;
  readonly arrayName: string;
  readonly make: (n: number) => SafetensorsData;
  readonly is: (data: unknown) => boolean;
  readonly get: (view: DataView, at: number) => number | bigint;
  readonly set: (view: DataView, at: number, value: number | bigint) => void;
}

const le = true;

export const DTYPES: Readonly<Record<SafetensorsDType, DTypeInfo>> = {
  F64: {
    size: 8,
    arrayName: 'Float64Array',
    make: (n) => new Float64Array(n),
    is: (d) => d instanceof Float64Array,
    get: (v, i) => v.getFloat64(i, le),
    set: (v, i, x) => v.setFloat64(i, x as number, le),
  },
  F32: {
    size: 4,
    arrayName: 'Float32Array',
    make: (n) => new Float32Array(n),
    is: (d) => d instanceof Float32Array,
    get: (v, i) => v.getFloat32(i, le),
    set: (v, i, x) => v.setFloat32(i, x as number, le),
  },
  I64: {
    size: 8,
    arrayName: 'BigInt64Array',
    make: (n) => new BigInt64Array(n),
    is: (d) => d instanceof BigInt64Array,
    get: (v, i) => v.getBigInt64(i, le),
    set: (v, i, x) => v.setBigInt64(i, x as bigint, le),
  },
  I32: {
    size: 4,
    arrayName: 'Int32Array',
    make: (n) => new Int32Array(n),
    is: (d) => d instanceof Int32Array,
    get: (v, i) => v.getInt32(i, le),
    set: (v, i, x) => v.setInt32(i, x as number, le),
  },
  I16: {
    size: 2,
    arrayName: 'Int16Array',
    make: (n) => new Int16Array(n),
    is: (d) => d instanceof Int16Array,
    get: (v, i) => v.getInt16(i, le),
    set: (v, i, x) => v.setInt16(i, x as number, le),
  },
  I8: {
    size: 1,
    arrayName: 'Int8Array',
    make: (n) => new Int8Array(n),
    is: (d) => d instanceof Int8Array,
    get: (v, i) => v.getInt8(i),
    set: (v, i, x) => v.setInt8(i, x as number),
  },
  U64: {
    size: 8,
    arrayName: 'BigUint64Array',
    make: (n) => new BigUint64Array(n),
    is: (d) => d instanceof BigUint64Array,
    get: (v, i) => v.getBigUint64(i, le),
    set: (v, i, x) => v.setBigUint64(i, x as bigint, le),
  },
  U32: {
    size: 4,
    arrayName: 'Uint32Array',
    make: (n) => new Uint32Array(n),
    is: (d) => d instanceof Uint32Array,
    get: (v, i) => v.getUint32(i, le),
    set: (v, i, x) => v.setUint32(i, x as number, le),
  },
  U16: {
    size: 2,
    arrayName: 'Uint16Array',
    make: (n) => new Uint16Array(n),
    is: (d) => d instanceof Uint16Array,
    get: (v, i) => v.getUint16(i, le),
    set: (v, i, x) => v.setUint16(i, x as number, le),
  },
  U8: {
    size: 1,
    arrayName: 'Uint8Array',
    make: (n) => new Uint8Array(n),
    is: (d) => d instanceof Uint8Array,
    get: (v, i) => v.getUint8(i),
    set: (v, i, x) => v.setUint8(i, x as number),
  },
  BOOL: {
    size: 1,
    arrayName: 'Uint8Array',
    make: (n) => new Uint8Array(n),
    is: (d) => d instanceof Uint8Array,
    get: (v, i) => v.getUint8(i),
    set: (v, i, x) => v.setUint8(i, x as number),
  },
};

/** Dtypes of the format that exist but that this library does not convert (no typed array). */
export const UNSUPPORTED_DTYPES: readonly string[] = ['F16', 'BF16', 'F8_E4M3', 'F8_E5M2', 'C64'];

export function isSafetensorsDType(x: unknown): x is SafetensorsDType {
  return typeof x === 'string' && Object.hasOwn(DTYPES, x);
}

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes `data` as little-endian bytes into `out` at `offset`. `portable` forces the DataView
 * path (the one a big-endian host takes), so tests can check both paths on any machine.
 */
export function writeLittleEndian(dtype: SafetensorsDType, data: SafetensorsData, out: Uint8Array, offset: number, portable = !HOST_LITTLE_ENDIAN): void {
  const info = DTYPES[dtype];
  if (!portable || info.size === 1) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + offset, data.length * info.size);
  for (let i = 0; i < data.length; i++) info.set(view, i * info.size, data[i]);
}

/** Reads `bytes` (little-endian, any alignment) into a fresh typed array of `dtype`. */
export function readLittleEndian(dtype: SafetensorsDType, bytes: Uint8Array, portable = !HOST_LITTLE_ENDIAN): SafetensorsData {
  const info = DTYPES[dtype];
  const n = bytes.length / info.size;
  const out = info.make(n);
  if (!portable || info.size === 1) {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const arr = out as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) arr[i] = info.get(view, i * info.size);
  return out;
}
