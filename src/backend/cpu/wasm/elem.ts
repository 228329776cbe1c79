/**
 * The element types the GEMM kernels are emitted for (gemm-kernels.ts). The float32 and float64
 * kernels share their loop nests; what differs is only the element size, the lanes of a v128 and
 * which opcodes load, store, splat, multiply and add an element. Each emitter below appends one
 * instruction, as FuncBuilder's methods do.
 */
import { type FuncBuilder, T, type ValType } from './emit.js';

export interface WasmElem {
  /** The prefix of the kernels' export names where the two differ (sgemm / dgemm). */
  readonly name: 'f32' | 'f64';
  /** Bytes per element, and its log2 (addresses are scaled by a shift). */
  readonly bytes: 4 | 8;
  readonly log2Bytes: 2 | 3;
  /** Elements per v128. */
  readonly lanes: 4 | 2;
  /** The scalar value type (the alpha and beta parameters of axpby). */
  readonly type: ValType;
  /** Scalar load and store at a constant byte offset from the address on the stack. */
  load(f: FuncBuilder, offset: number): void;
  store(f: FuncBuilder, offset: number): void;
  /** Loads one element and splats it over the lanes. */
  loadSplat(f: FuncBuilder, offset: number): void;
  /** Splats the scalar on the stack over the lanes. */
  splat(f: FuncBuilder): void;
  /** Lane-wise multiply and add of the two vectors on the stack. */
  mul(f: FuncBuilder): void;
  add(f: FuncBuilder): void;
  /** A scalar constant, and scalar equality. */
  constant(f: FuncBuilder, v: number): void;
  eq(f: FuncBuilder): void;
}

export const F32: WasmElem = {
  name: 'f32',
  bytes: 4,
  log2Bytes: 2,
  lanes: 4,
  type: T.f32,
  load: (f, offset) => f.f32Load(offset),
  store: (f, offset) => f.f32Store(offset),
  loadSplat: (f, offset) => f.v128Load32Splat(offset),
  splat: (f) => f.f32x4Splat(),
  mul: (f) => f.f32x4Mul(),
  add: (f) => f.f32x4Add(),
  constant: (f, v) => f.f32Const(v),
  eq: (f) => f.f32Eq(),
};

export const F64: WasmElem = {
  name: 'f64',
  bytes: 8,
  log2Bytes: 3,
  lanes: 2,
  type: T.f64,
  load: (f, offset) => f.f64Load(offset),
  store: (f, offset) => f.f64Store(offset),
  loadSplat: (f, offset) => f.v128Load64Splat(offset),
  splat: (f) => f.f64x2Splat(),
  mul: (f) => f.f64x2Mul(),
  add: (f) => f.f64x2Add(),
  constant: (f, v) => f.f64Const(v),
  eq: (f) => f.f64Eq(),
};
