import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry, type SafetensorsTensors } from '../../src/io/safetensors.js';
import { readLittleEndian, writeLittleEndian, type SafetensorsDType, type SafetensorsData } from '../../src/io/safetensors-dtypes.js';

// ---------------------------------------------------------------------------------------------
// An independent minimal reader, written from the spec alone (it shares no code with the codec):
// u64 LE header length N; N bytes of JSON; then the buffer, offsets relative to its start.
// ---------------------------------------------------------------------------------------------
const SIZES: Record<string, number> = { F64: 8, F32: 4, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 };

interface SpecTensor {
  dtype: string;
  shape: number[];
  offsets: [number, number];
  values: (number | bigint)[];
}

function specRead(file: Uint8Array): { headerLength: number; order: string[]; tensors: Record<string, SpecTensor>; metadata: unknown; headerText: string } {
  let n = 0;
  for (let i = 7; i >= 0; i--) n = n * 256 + file[i]; // u64 little-endian, byte by byte
  const headerBytes = file.slice(8, 8 + n);
  const headerText = Buffer.from(headerBytes).toString('utf8');
  const header = JSON.parse(headerText) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const start = 8 + n;
  const tensors: Record<string, SpecTensor> = {};
  const order: string[] = [];
  for (const name of orderedKeys(headerText)) {
    if (name === '__metadata__') continue;
    order.push(name);
    const { dtype, shape, data_offsets } = header[name];
    const size = SIZES[dtype];
    const values: (number | bigint)[] = [];
    for (let at = start + data_offsets[0]; at < start + data_offsets[1]; at += size) values.push(readValue(file, at, dtype));
    tensors[name] = { dtype, shape, offsets: data_offsets, values };
  }
  return { headerLength: n, order, tensors, metadata: header.__metadata__, headerText };
}

/** Top-level keys in the order they appear in the JSON text (objects reorder integer-like keys). */
function orderedKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && json[j + 1] === ':') keys.push(JSON.parse(json.slice(i, j + 1)) as string);
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

function readValue(b: Uint8Array, at: number, dtype: string): number | bigint {
  let u = 0n;
  const size = SIZES[dtype];
  for (let k = size - 1; k >= 0; k--) u = (u << 8n) | BigInt(b[at + k]);
  const bits = size * 8;
  const signed = (x: bigint) => (x >= 1n << BigInt(bits - 1) ? x - (1n << BigInt(bits)) : x);
  switch (dtype) {
    case 'F32': {
      const s = Number(u >> 31n) ? -1 : 1;
      const e = Number((u >> 23n) & 0xffn);
      const m = Number(u & 0x7fffffn);
      if (e === 255) return m ? NaN : s * Infinity;
      return e === 0 ? s * m * 2 ** -149 : s * (1 + m / 2 ** 23) * 2 ** (e - 127);
    }
    case 'F64': {
      const s = Number(u >> 63n) ? -1 : 1;
      const e = Number((u >> 52n) & 0x7ffn);
      const m = Number(u & ((1n << 52n) - 1n));
      if (e === 2047) return m ? NaN : s * Infinity;
      return e === 0 ? s * m * 2 ** -1074 : s * (1 + m / 2 ** 52) * 2 ** (e - 1023);
    }
    case 'I64':
      return signed(u);
    case 'U64':
      return u;
    case 'I32':
    case 'I16':
    case 'I8':
      return Number(signed(u));
    default:
      return Number(u);
  }
}

// ---------------------------------------------------------------------------------------------

const ARRAYS: Record<SafetensorsDType, (n: number) => fc.Arbitrary<SafetensorsData>> = {
  F64: (n) => fc.float64Array({ minLength: n, maxLength: n }),
  F32: (n) => fc.float32Array({ minLength: n, maxLength: n }),
  I64: (n) => fc.bigInt64Array({ minLength: n, maxLength: n }),
  I32: (n) => fc.int32Array({ minLength: n, maxLength: n }),
  I16: (n) => fc.int16Array({ minLength: n, maxLength: n }),
  I8: (n) => fc.int8Array({ minLength: n, maxLength: n }),
  U64: (n) => fc.bigUint64Array({ minLength: n, maxLength: n }),
  U32: (n) => fc.uint32Array({ minLength: n, maxLength: n }),
  U16: (n) => fc.uint16Array({ minLength: n, maxLength: n }),
  U8: (n) => fc.uint8Array({ minLength: n, maxLength: n }),
  BOOL: (n) => fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((b) => Uint8Array.from(b, Number)),
};
const ALL_DTYPES = Object.keys(ARRAYS) as SafetensorsDType[];

function entryOf(dtype: SafetensorsDType): fc.Arbitrary<SafetensorsEntry> {
  return fc
    .array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 })
    .chain((shape) => ARRAYS[dtype](shape.reduce((a, b) => a * b, 1)).map((data) => ({ dtype, shape, data })));
}

const anyEntry = fc.constantFrom(...ALL_DTYPES).chain(entryOf);

const tensorsArb: fc.Arbitrary<SafetensorsTensors> = fc
  .uniqueArray(
    fc.string({ maxLength: 8 }).filter((s) => s !== '__metadata__'),
    { maxLength: 6 },
  )
  .chain((names) =>
    fc.tuple(...names.map(() => anyEntry)).map((entries) => {
      const out: SafetensorsTensors = {};
      names.forEach((name, i) => Object.defineProperty(out, name, { value: entries[i], enumerable: true, writable: true, configurable: true }));
      return out;
    }),
  );

function bytesOf(data: SafetensorsData): number[] {
  return [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
}

function sameValues(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** A file put together by hand: header object (or raw text), then `buffer`. */
function rawFile(header: unknown, buffer: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(buffer, 8 + json.length);
  return out;
}

const f32 = (...xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

describe('safetensors round-trip', () => {
  for (const dtype of ALL_DTYPES) {
    it(`round-trips random ${dtype} tensors bit for bit`, () => {
      fc.assert(
        fc.property(entryOf(dtype), (entry) => {
          const { tensors } = decodeSafetensors(encodeSafetensors({ t: entry }));
          expect(tensors.t.dtype).toBe(dtype);
          expect(tensors.t.shape).toEqual(entry.shape);
          expect(tensors.t.data.constructor).toBe(entry.data.constructor);
          expect(bytesOf(tensors.t.data)).toEqual(bytesOf(entry.data));
        }),
        { seed: 1234, numRuns: 60 },
      );
    });
  }

  it('round-trips many tensors and metadata; the independent reader agrees with the input', () => {
    fc.assert(
      fc.property(tensorsArb, fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }), (tensors, metadata) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const decoded = decodeSafetensors(bytes);
        expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
        expect(decoded.metadata).toEqual(metadata);

        const spec = specRead(bytes);
        // Header: padded with spaces to a multiple of 8, so the buffer starts 8-aligned.
        expect(spec.headerLength % 8).toBe(0);
        expect(spec.headerText.trimEnd().length).toBeGreaterThan(spec.headerLength - 8);
        expect(spec.headerText.slice(spec.headerText.trimEnd().length)).toMatch(/^ *$/);
        // Tensors tile the buffer contiguously, in header order, with no gaps.
        let at = 0;
        for (const name of spec.order) {
          const t = spec.tensors[name];
          expect(t.offsets[0]).toBe(at);
          expect(t.offsets[0] % SIZES[t.dtype]).toBe(0); // each tensor aligned to its element size
          at = t.offsets[1];
        }
        expect(8 + spec.headerLength + at).toBe(bytes.length);
        // Values, read from raw bytes by the spec reader, match the input.
        expect(spec.order.sort()).toEqual(Object.keys(tensors).sort());
        for (const name of Object.keys(tensors)) {
          const want = tensors[name];
          const got = spec.tensors[name];
          expect(got.dtype).toBe(want.dtype);
          expect(got.shape).toEqual(want.shape);
          expect(sameValues(got.values, Array.from(want.data as ArrayLike<number | bigint>))).toBe(true);
          expect(bytesOf(decoded.tensors[name].data)).toEqual(bytesOf(want.data));
        }
        if (Object.keys(metadata).length) expect(spec.metadata).toEqual(metadata);
      }),
      { seed: 99, numRuns: 150 },
    );
  });

  it('matches a hand-built file byte for byte', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.from([1, -2]) } });
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes → padded to 56
    const expected = [56, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from(header + '  '), 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0];
    expect([...bytes]).toEqual(expected);
  });

  it('reads files from other writers: keys in any order, integer-like names, a scalar, an empty tensor', () => {
    const buffer = new Uint8Array([...f32(7), ...f32(1, 2, 3), 5, 6]);
    const file = rawFile(
      {
        __metadata__: { format: 'pt' },
        '10': { dtype: 'U8', shape: [2], data_offsets: [16, 18] },
        empty: { dtype: 'F64', shape: [0, 3], data_offsets: [4, 4] },
        w: { dtype: 'F32', shape: [1, 3], data_offsets: [4, 16] },
        s: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      },
      buffer,
    );
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Array.from(tensors.s.data as Float32Array)).toEqual([7]);
    expect(tensors.s.shape).toEqual([]);
    expect(Array.from(tensors.w.data as Float32Array)).toEqual([1, 2, 3]);
    expect(tensors.empty.data).toEqual(new Float64Array(0));
    expect(Array.from(tensors['10'].data as Uint8Array)).toEqual([5, 6]);
  });

  it('reads from a Uint8Array view at an odd offset (unaligned data)', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'F64', shape: [3], data: Float64Array.from([1.5, -2.25, Math.PI]) } });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(Array.from(decodeSafetensors(big.subarray(3)).tensors.x.data as Float64Array)).toEqual([1.5, -2.25, Math.PI]);
  });

  it('decoded arrays are copies, not views of the file', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'U8', shape: [2], data: Uint8Array.from([1, 2]) } });
    const { tensors } = decodeSafetensors(bytes);
    bytes.fill(0);
    expect(Array.from(tensors.x.data as Uint8Array)).toEqual([1, 2]);
  });
});

describe('little-endian copies', () => {
  it('the portable DataView path (big-endian hosts) gives the same bytes and values as the fast path', () => {
    fc.assert(
      fc.property(anyEntry, fc.integer({ min: 0, max: 7 }), ({ dtype, data }, shift) => {
        const fast = new Uint8Array(data.byteLength + shift);
        const portable = new Uint8Array(data.byteLength + shift);
        writeLittleEndian(dtype, data, fast, shift, false);
        writeLittleEndian(dtype, data, portable, shift, true);
        // DataView may canonicalise NaN payloads: compare values, and bytes where no NaN is involved.
        const back = readLittleEndian(dtype, portable.subarray(shift), true) as ArrayLike<number | bigint>;
        expect(sameValues(back, data as ArrayLike<number | bigint>)).toBe(true);
        const hasNaN = Array.from(data as ArrayLike<number | bigint>).some((v) => typeof v === 'number' && Number.isNaN(v));
        if (!hasNaN) expect([...portable]).toEqual([...fast]);
        const fastBack = readLittleEndian(dtype, fast.subarray(shift), false) as ArrayLike<number | bigint>;
        expect(bytesOf(fastBack as SafetensorsData)).toEqual(bytesOf(data));
      }),
      { seed: 5, numRuns: 200 },
    );
  });
});

describe('safetensors: corrupt files are rejected with a clear error', () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const buf = f32(1, 2);

  it('file shorter than 8 bytes', () => {
    expect(() => decodeSafetensors(new Uint8Array(5))).toThrow('safetensors: file is 5 bytes, shorter than the 8-byte header length');
    expect(() => decodeSafetensors(new Uint8Array(0))).toThrow(/file is 0 bytes/);
  });

  it('header length beyond the file (truncated file, or a garbage length)', () => {
    const whole = rawFile(good, buf);
    expect(() => decodeSafetensors(whole.subarray(0, 20))).toThrow(/header length \d+ exceeds the 12 bytes after the length prefix \(file is 20 bytes\)/);
    expect(() => decodeSafetensors(rawFile(good, buf, 2n ** 64n - 1n))).toThrow(/header length 18446744073709551615 exceeds/);
  });

  it('a truncated data buffer', () => {
    const whole = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } });
    expect(() => decodeSafetensors(whole.subarray(0, whole.length - 1))).toThrow(/tensor "a": data_offsets \[0, 8\] exceed the data buffer of 7 bytes/);
  });

  it('invalid JSON, invalid UTF-8, a header that is not an object', () => {
    expect(() => decodeSafetensors(rawFile('{"a": nope}'))).toThrow(/safetensors: header is not valid JSON/);
    expect(() => decodeSafetensors(rawFile(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')))).toThrow(/not valid JSON|not valid UTF-8/);
    const badUtf8 = new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xff, 0x7d]);
    expect(() => decodeSafetensors(badUtf8)).toThrow('safetensors: header is not valid UTF-8');
    expect(() => decodeSafetensors(rawFile('[1, 2]'))).toThrow('safetensors: header must be a JSON object, got an array');
    expect(() => decodeSafetensors(rawFile('null'))).toThrow(/got null/);
  });

  it('unknown and unsupported dtypes', () => {
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, buf))).toThrow(
      /tensor "a": unknown dtype "Q7" \(supported: F64, F32/,
    );
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, buf))).toThrow(/tensor "a": dtype F16 is not supported/);
  });

  it('malformed entries', () => {
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, buf))).toThrow(
      /shape must be an array of non-negative integers, got \[-2\]/,
    );
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, buf))).toThrow(/data_offsets must be \[begin, end\]/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, buf))).toThrow(/end before they begin/);
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8], extra: 1 } }, buf))).toThrow(/unexpected field "extra"/);
    expect(() => decodeSafetensors(rawFile({ a: 3 }, buf))).toThrow(/tensor "a": entry must be an object/);
    expect(() => decodeSafetensors(rawFile({ __metadata__: { n: 1 }, ...good }, buf))).toThrow(/__metadata__\["n"\] must be a string, got 1/);
  });

  it('shape × itemsize ≠ byte length', () => {
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, buf))).toThrow(
      'safetensors: tensor "a": shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8',
    );
  });

  it('overlapping offsets', () => {
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    expect(() => decodeSafetensors(rawFile(header, buf))).toThrow('safetensors: tensors "a" [0, 8] and "b" [4, 8] overlap');
  });

  it('a gap between tensors', () => {
    const header = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    expect(() => decodeSafetensors(rawFile(header, f32(1, 2, 3)))).toThrow(
      'safetensors: gap in the data buffer: bytes [4, 8) belong to no tensor (before "b")',
    );
  });

  it('offsets past the buffer, and trailing bytes', () => {
    expect(() => decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, buf))).toThrow(/exceed the data buffer of 8 bytes/);
    expect(() => decodeSafetensors(rawFile(good, f32(1, 2, 3)))).toThrow(
      'safetensors: 4 trailing bytes after the last tensor (data buffer is 12 bytes, tensors cover 8)',
    );
  });
});

describe('encodeSafetensors rejects bad input', () => {
  it('names the tensor and the problem', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      'encodeSafetensors: tensor "w": shape [2, 2] needs 4 elements, data holds 3',
    );
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(
      'encodeSafetensors: tensor "w": dtype F32 needs data as Float32Array, got Float64Array',
    );
    expect(() => encodeSafetensors({ w: { dtype: 'F16' as SafetensorsDType, shape: [2], data: new Uint16Array(2) } })).toThrow(/unknown dtype "F16"/);
    expect(() => encodeSafetensors({ w: { dtype: 'U8', shape: [1.5], data: new Uint8Array(1) } })).toThrow(/shape must be an array of non-negative integers/);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } })).toThrow(/__metadata__ is reserved/);
    expect(() => encodeSafetensors({}, { n: 1 as unknown as string })).toThrow(/metadata values must be strings/);
  });

  it('encodes an empty set of tensors', () => {
    const bytes = encodeSafetensors({});
    expect(bytes.length).toBe(16);
    expect(decodeSafetensors(bytes)).toEqual({ tensors: {}, metadata: {} });
  });
});
