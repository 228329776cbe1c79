/**
 * A small WebAssembly bytecode emitter: just enough of the binary format (MVP + the fixed-width SIMD
 * proposal) to write the project's kernels from TypeScript, with no toolchain and no binary blob.
 * A module here has one memory (defined and exported as "mem"), some functions, and exports.
 * Reference: the WebAssembly core spec §5 (binary format) and the SIMD proposal's opcode table.
 */

/** Value type codes. */
export const T = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof T)[keyof typeof T];

/** Unsigned LEB128. */
export function uleb(value: number, out: number[] = []): number[] {
  let v = value >>> 0;
  if (v !== value) throw new Error(`uleb: ${value} is not a u32`);
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(value: number, out: number[] = []): number[] {
  let v = value | 0;
  if (v !== value) throw new Error(`sleb: ${value} is not an i32`);
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(s: string): number[] {
  return Array.from(new TextEncoder().encode(s));
}

/** A vector: its length then its items. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/**
 * Instruction writer for one function body. Locals are declared up front (params first, then
 * `local()`s); every method appends one instruction and returns `this` so code reads top to bottom.
 */
export class FuncBuilder {
  private readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  private depth = 0;

  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {}

  /** Declares a local and returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  /** Declares `count` locals of one type, in order, and returns their indices. */
  locals(type: ValType, count: number): number[] {
    return Array.from({ length: count }, () => this.local(type));
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  private simd(opcode: number, ...imm: number[]): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    for (const b of imm) this.code.push(b);
    return this;
  }

  /** memarg: alignment as log2 bytes, then a constant byte offset. */
  private memarg(alignLog2: number, offset: number): number[] {
    return [...uleb(alignLog2), ...uleb(offset)];
  }

  // Control. Blocks take no params and return nothing (block type 0x40).
  block(): this {
    this.depth++;
    return this.op(0x02, 0x40);
  }
  loop(): this {
    this.depth++;
    return this.op(0x03, 0x40);
  }
  if(): this {
    this.depth++;
    return this.op(0x04, 0x40);
  }
  else(): this {
    return this.op(0x05);
  }
  end(): this {
    this.depth--;
    return this.op(0x0b);
  }
  /**
   * A counted loop, for (; i < end; i++) body(), with i and end locals compared unsigned; the caller
   * sets i first. Inside body, br(0) continues with the next i and brIf(1) leaves the loop.
   */
  countUp(i: number, end: number, body: () => void): this {
    this.block().loop();
    this.get(i).get(end).i32GeU().brIf(1);
    body();
    this.get(i).i32(1).i32Add().set(i);
    this.br(0);
    return this.end().end();
  }
  /**
   * A guarded do-while over byte addresses, for (; i < end; i += step) body(), with i and end locals
   * compared unsigned: the test runs once before the loop and then at its bottom, where the add and
   * the compare share one tee. The caller sets i and end first.
   */
  stepUp(i: number, end: number, step: number, body: () => void): this {
    this.block();
    this.get(i).get(end).i32GeU().brIf(0);
    this.loop();
    body();
    this.get(i).i32(step).i32Add().tee(i).get(end).i32LtU().brIf(0);
    return this.end().end();
  }
  br(label: number): this {
    return this.op(0x0c, ...uleb(label));
  }
  brIf(label: number): this {
    return this.op(0x0d, ...uleb(label));
  }
  return(): this {
    return this.op(0x0f);
  }
  drop(): this {
    return this.op(0x1a);
  }
  /** Pops c, b, a; pushes c ? a : b. */
  select(): this {
    return this.op(0x1b);
  }

  // Locals.
  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(0x22, ...uleb(i));
  }

  // i32.
  i32(v: number): this {
    return this.op(0x41, ...sleb(v));
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Ne(): this {
    return this.op(0x47);
  }
  i32LtS(): this {
    return this.op(0x48);
  }
  i32LtU(): this {
    return this.op(0x49);
  }
  i32GtS(): this {
    return this.op(0x4a);
  }
  i32GeS(): this {
    return this.op(0x4e);
  }
  i32GtU(): this {
    return this.op(0x4b);
  }
  i32GeU(): this {
    return this.op(0x4f);
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32DivS(): this {
    return this.op(0x6d);
  }
  i32RemS(): this {
    return this.op(0x6f);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32Or(): this {
    return this.op(0x72);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32ShrU(): this {
    return this.op(0x76);
  }

  // Scalar memory and arithmetic.
  f32Load(offset = 0): this {
    return this.op(0x2a, ...this.memarg(2, offset));
  }
  f64Load(offset = 0): this {
    return this.op(0x2b, ...this.memarg(3, offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, ...this.memarg(2, offset));
  }
  f64Store(offset = 0): this {
    return this.op(0x39, ...this.memarg(3, offset));
  }
  f32Eq(): this {
    return this.op(0x5b);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Const(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.op(0x43, ...b);
  }
  f64Eq(): this {
    return this.op(0x61);
  }
  f64Add(): this {
    return this.op(0xa0);
  }
  f64Mul(): this {
    return this.op(0xa2);
  }
  f64Const(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return this.op(0x44, ...b);
  }

  // SIMD (prefix 0xfd). Offsets are constant byte offsets added to the address on the stack.
  v128Load(offset = 0): this {
    return this.simd(0x00, ...this.memarg(4, offset));
  }
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09, ...this.memarg(2, offset));
  }
  v128Load64Splat(offset = 0): this {
    return this.simd(0x0a, ...this.memarg(3, offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, ...this.memarg(4, offset));
  }
  v128Zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  f64x2Splat(): this {
    return this.simd(0x14);
  }
  f64x2ExtractLane(lane: number): this {
    return this.simd(0x21, lane);
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  f32x4Min(): this {
    return this.simd(0xe8);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  f32x4Neg(): this {
    return this.simd(0xe1);
  }
  f32x4Abs(): this {
    return this.simd(0xe0);
  }
  f32x4Eq(): this {
    return this.simd(0x41);
  }
  f32x4Lt(): this {
    return this.simd(0x43);
  }
  f32x4Gt(): this {
    return this.simd(0x44);
  }
  f32x4Le(): this {
    return this.simd(0x45);
  }
  f32x4Ge(): this {
    return this.simd(0x46);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  v128Not(): this {
    return this.simd(0x4d);
  }
  /** Pops c, b, a; pushes (a & c) | (b & ~c). */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  /** Lane indices 0–31 into the concatenation of the two operands' bytes. */
  i8x16Shuffle(lanes: number[]): this {
    return this.simd(0x0d, ...lanes);
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  v128Const(bytes: number[]): this {
    return this.simd(0x0c, ...bytes);
  }
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f64x2Sub(): this {
    return this.simd(0xf1);
  }
  f64x2Mul(): this {
    return this.simd(0xf2);
  }

  /** The encoded body: local declarations (run-length by type) then the code. */
  encode(): number[] {
    if (this.depth !== 0) throw new Error(`FuncBuilder: ${this.depth} unclosed block(s)`);
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...vec(groups.map(([n, t]) => [...uleb(n), t])), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

export interface ModuleSpec {
  /** Initial size of the exported memory "mem", in 64 KiB pages. */
  memoryPages: number;
  functions: { name: string; func: FuncBuilder }[];
}

/** Assembles a module: one type per function, one memory exported as "mem", each function exported by name. */
export function assemble(spec: ModuleSpec): Uint8Array {
  const types = spec.functions.map(({ func }) => [0x60, ...vec(func.params.map((t) => [t])), ...vec(func.results.map((t) => [t]))]);
  const funcIndices = spec.functions.map((_, i) => uleb(i));
  const memory = vec([[0x00, ...uleb(spec.memoryPages)]]);
  const exports = vec([
    [...uleb(3), ...utf8('mem'), 0x02, 0x00],
    ...spec.functions.map(({ name }, i) => [...uleb(utf8(name).length), ...utf8(name), 0x00, ...uleb(i)]),
  ]);
  const code = vec(spec.functions.map(({ func }) => func.encode()));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(3, vec(funcIndices)),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
