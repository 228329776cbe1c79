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

/** The suffix of DataView's getX / setX for each typed array. */
type Accessor = 'Float64' | 'Float32' | 'BigInt64' | 'Int32' | 'Int16' | 'Int8' | 'BigUint64' | 'Uint32' | 'Uint16' | 'Uint8';

interface ArrayCtor {
  new (n: number): SafetensorsData;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

/**
 * One dtype's entry, from its typed array and DataView accessor: every entry differs only in
 * those two. DataView's one-byte accessors take no endianness and ignore the extra argument.
 */
function dtypeInfo(ctor: ArrayCtor, accessor: Accessor): DTypeInfo {
  const getter = DataView.prototype[`get${accessor}`] as (this: DataView, at: number, littleEndian: boolean) => number | bigint;
  const setter = DataView.prototype[`set${accessor}`] as (this: DataView, at: number, value: number | bigint, littleEndian: boolean) => void;
  return {
    size: ctor.BYTES_PER_ELEMENT,
    arrayName: ctor.name,
    make: (n) => new ctor(n),
    is: (d) => d instanceof ctor,
    get: (v, i) => getter.call(v, i, true),
    set: (v, i, x) => setter.call(v, i, x, true),
  };
}

export const DTYPES: Readonly<Record<SafetensorsDType, DTypeInfo>> = {
  F64: dtypeInfo(Float64Array, 'Float64'),
  F32: dtypeInfo(Float32Array, 'Float32'),
  I64: dtypeInfo(BigInt64Array, 'BigInt64'),
  I32: dtypeInfo(Int32Array, 'Int32'),
  I16: dtypeInfo(Int16Array, 'Int16'),
  I8: dtypeInfo(Int8Array, 'Int8'),
  U64: dtypeInfo(BigUint64Array, 'BigUint64'),
  U32: dtypeInfo(Uint32Array, 'Uint32'),
  U16: dtypeInfo(Uint16Array, 'Uint16'),
  U8: dtypeInfo(Uint8Array, 'Uint8'),
  // BOOL is one byte per value, 0 or 1, held in a Uint8Array.
  BOOL: dtypeInfo(Uint8Array, 'Uint8'),
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
