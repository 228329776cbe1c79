/**
 * The kernel module: every WebAssembly SIMD kernel of the CPU backend, emitted from TypeScript (see
 * emit.ts) and assembled into one module per thread. The GEMM kernels of both element types are in
 * gemm-kernels.ts, the float64 Level-2 kernels of the eigensolver in kernels-f64.ts, the window
 * kernels in window.ts; here are the float32 dot-product GEMM kernel and the elementwise maps.
 *
 * Every address and stride is in bytes, into the module's own memory, which the caller fills with
 * raw copies of the operands (TypedArray.set, i.e. memcpy) and reads the result back from the same way.
 */
import { FuncBuilder, T, assemble } from './emit.js';
import { F32, F64 } from './elem.js';
import { axpby, gemmKernel, packCols, packRows } from './gemm-kernels.js';
import { dgemvN, dgemvT, drotSeq } from './kernels-f64.js';
import { rowsBias, rowsSum4 } from './rows.js';
import { col2imKernel, im2colKernel, maxPool2x2Kernel } from './window.js';

/** Register tile of the float32 GEMM kernel (rows of A × columns of B). */
export const SIMD_MR = 4;
export const SIMD_NR = 8;
/** Register tile of the float64 GEMM kernel. */
export const SIMD_MR_F64 = 4;
export const SIMD_NR_F64 = 4;
/** Tile of the dot-product kernel (A rows × B rows). */
export const DOT_MR = 2;
export const DOT_NR = 4;

/**
 * sdot{mr}x{nr}(a, lda, b, ldb, c, ldc, mTiles, nTiles, kc4, accumulate): C = (accumulate ? C : 0) +
 * A·Bᵀ with both operands as rows along k (A: rows of op(A), B: rows of op(B)ᵀ, strides lda/ldb
 * bytes, kc4 floats each, a multiple of 4 whose tail the caller zeroes). The tile is mr A rows ×
 * nr B rows of f32x4 partial sums over k, reduced across lanes once at the end; for each group of
 * nr B rows (in L1) it sweeps every pair of A rows. No packing: the raw rows are read as copied.
 */
function sdot(mr: number, nr: number): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [A, LDA, B, LDB, C, LDC, MT, NT, KC4, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [it, jt, q, qEnd, cAt] = f.locals(T.i32, 5);
  const aRow: number[] = [];
  for (let r = 0; r < mr; r++) aRow.push(f.local(T.i32));
  const bRow: number[] = [];
  for (let j = 0; j < nr; j++) bRow.push(f.local(T.i32));
  const acc: number[][] = [];
  for (let r = 0; r < mr; r++) {
    acc.push([]);
    for (let j = 0; j < nr; j++) acc[r].push(f.local(T.v128));
  }
  const av: number[] = [];
  for (let r = 0; r < mr; r++) av.push(f.local(T.v128));
  const bv = f.local(T.v128);

  f.get(KC4).i32(2).i32Shl().set(qEnd);
  f.i32(0).set(jt);
  f.countUp(jt, NT, () => {
    for (let j = 0; j < nr; j++) f.get(B).get(jt).i32(nr).i32Mul().i32(j).i32Add().get(LDB).i32Mul().i32Add().set(bRow[j]);
    f.i32(0).set(it);
    f.countUp(it, MT, () => {
      for (let r = 0; r < mr; r++) f.get(A).get(it).i32(mr).i32Mul().i32(r).i32Add().get(LDA).i32Mul().i32Add().set(aRow[r]);
      for (let r = 0; r < mr; r++) for (let j = 0; j < nr; j++) f.v128Zero().set(acc[r][j]);
      f.i32(0).set(q);
      f.loop();
      for (let r = 0; r < mr; r++) f.get(aRow[r]).get(q).i32Add().v128Load(0).set(av[r]);
      for (let j = 0; j < nr; j++) {
        f.get(bRow[j]).get(q).i32Add().v128Load(0).set(bv);
        for (let r = 0; r < mr; r++) f.get(acc[r][j]).get(av[r]).get(bv).f32x4Mul().f32x4Add().set(acc[r][j]);
      }
      f.get(q).i32(16).i32Add().tee(q).get(qEnd).i32LtU().brIf(0);
      f.end();
      // Lane sums into C[it·mr + r, jt·nr + j].
      for (let r = 0; r < mr; r++) {
        for (let j = 0; j < nr; j++) {
          f.get(C)
            .get(it)
            .i32(mr)
            .i32Mul()
            .i32(r)
            .i32Add()
            .get(LDC)
            .i32Mul()
            .i32Add()
            .get(jt)
            .i32(nr * 4)
            .i32Mul()
            .i32Add()
            .i32(4 * j)
            .i32Add()
            .set(cAt);
          f.get(cAt);
          f.get(acc[r][j]).f32x4ExtractLane(0).get(acc[r][j]).f32x4ExtractLane(1).f32Add();
          f.get(acc[r][j]).f32x4ExtractLane(2).get(acc[r][j]).f32x4ExtractLane(3).f32Add().f32Add();
          // + (accumulate ? C : 0), branch-free (select never does arithmetic on the unused value).
          f.get(cAt).f32Load(0).f32Const(0).get(ACC).select().f32Add();
          f.f32Store(0);
        }
      }
    });
  });
  return f;
}

/**
 * Elementwise float32 maps over count4 vectors (the caller rounds the count up to a multiple of 4;
 * the extra lanes compute on padding and are not copied out). Each is exactly the JavaScript
 * kernel's arithmetic: +, −, ×, ÷ of two float32 values round the same whether done in float32 or
 * in doubles then rounded; f32x4.max/min propagate NaN and order −0 < +0 as Math.max/min do; relu
 * is max(x, 0) (NaN stays NaN, −0 becomes 0); comparisons give 1 or 0 (a mask ANDed with 1.0).
 */
export const WASM_UNARY = ['relu', 'step', 'neg', 'abs', 'square'] as const;
export const WASM_BINARY = ['add', 'sub', 'mul', 'div', 'max', 'min', 'gt', 'ge', 'lt', 'le', 'eq'] as const;

function unaryMap(op: (typeof WASM_UNARY)[number]): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32], []);
  const [SRC, DST, N4] = [0, 1, 2];
  const [i, end] = f.locals(T.i32, 2);
  const [v, zero, one] = f.locals(T.v128, 3);
  f.v128Zero().set(zero);
  f.f32Const(1).f32x4Splat().set(one);
  f.get(N4).i32(4).i32Shl().set(end);
  f.i32(0).set(i);
  f.stepUp(i, end, 16, () => {
    f.get(DST).get(i).i32Add();
    f.get(SRC).get(i).i32Add().v128Load(0).set(v);
    switch (op) {
      case 'relu':
        f.get(v).get(zero).f32x4Max();
        break;
      case 'step':
        f.get(v).get(zero).f32x4Gt().get(one).v128And();
        break;
      case 'neg':
        f.get(v).f32x4Neg();
        break;
      case 'abs':
        f.get(v).f32x4Abs();
        break;
      case 'square':
        f.get(v).get(v).f32x4Mul();
        break;
    }
    f.v128Store(0);
  });
  return f;
}

/**
 * binary(a, b, dst, count4): dst = a op b over count4 vectors. `scalar` names the operand that is
 * one value, splatted once before the loop ('a': a scalar left operand, 'b': a scalar right one),
 * or 'none' when both are vectors.
 */
function binaryMap(op: (typeof WASM_BINARY)[number], scalar: 'a' | 'b' | 'none'): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32], []);
  const [A, B, DST, N4] = [0, 1, 2, 3];
  const [i, end] = f.locals(T.i32, 2);
  const s = scalar === 'none' ? -1 : f.local(T.v128);
  const one = f.local(T.v128);
  f.f32Const(1).f32x4Splat().set(one);
  if (scalar !== 'none')
    f.get(scalar === 'a' ? A : B)
      .v128Load32Splat(0)
      .set(s);
  f.get(N4).i32(4).i32Shl().set(end);
  f.i32(0).set(i);
  f.stepUp(i, end, 16, () => {
    f.get(DST).get(i).i32Add();
    if (scalar === 'a') f.get(s);
    else f.get(A).get(i).i32Add().v128Load(0);
    if (scalar === 'b') f.get(s);
    else f.get(B).get(i).i32Add().v128Load(0);
    binaryOp(f, op, one);
    f.v128Store(0);
  });
  return f;
}

/** Each binary op's f32x4 instruction on the two vectors on the stack. */
const LANE_OP: Record<(typeof WASM_BINARY)[number], (f: FuncBuilder) => FuncBuilder> = {
  add: (f) => f.f32x4Add(),
  sub: (f) => f.f32x4Sub(),
  mul: (f) => f.f32x4Mul(),
  div: (f) => f.f32x4Div(),
  max: (f) => f.f32x4Max(),
  min: (f) => f.f32x4Min(),
  gt: (f) => f.f32x4Gt(),
  ge: (f) => f.f32x4Ge(),
  lt: (f) => f.f32x4Lt(),
  le: (f) => f.f32x4Le(),
  eq: (f) => f.f32x4Eq(),
};

/** The lane-wise op on the two vectors on the stack; comparisons AND their mask with `one` (1.0 splatted). */
function binaryOp(f: FuncBuilder, op: (typeof WASM_BINARY)[number], one: number): void {
  LANE_OP[op](f);
  // A comparison leaves all ones in a true lane: ANDed with 1.0 it is the float 1, a false lane 0.
  if (op === 'gt' || op === 'ge' || op === 'lt' || op === 'le' || op === 'eq') f.get(one).v128And();
}

/** The kernel module's functions, in the order of their indices in the module (it imports nothing). */
function kernelFunctions(): { name: string; func: FuncBuilder }[] {
  return [
    { name: 'sgemm', func: gemmKernel(F32, SIMD_MR, SIMD_NR) },
    { name: 'packRows4', func: packRows(F32, 4) },
    { name: 'packRows8', func: packRows(F32, 8) },
    { name: 'packCols4', func: packCols(F32, 4) },
    { name: 'packCols8', func: packCols(F32, 8) },
    { name: 'axpby', func: axpby(F32) },
    { name: 'sdot', func: sdot(DOT_MR, DOT_NR) },
    { name: 'dgemm', func: gemmKernel(F64, SIMD_MR_F64, SIMD_NR_F64) },
    { name: 'packRowsD4', func: packRows(F64, SIMD_NR_F64) },
    { name: 'packColsD4', func: packCols(F64, SIMD_NR_F64) },
    { name: 'axpbyD', func: axpby(F64) },
    { name: 'dgemvN', func: dgemvN() },
    { name: 'dgemvT', func: dgemvT() },
    { name: 'drotSeq', func: drotSeq() },
    { name: 'im2col', func: im2colKernel() },
    { name: 'col2im', func: col2imKernel() },
    { name: 'maxPool2x2', func: maxPool2x2Kernel() },
    ...WASM_UNARY.map((op) => ({ name: `u_${op}`, func: unaryMap(op) })),
    ...WASM_BINARY.map((op) => ({ name: `vv_${op}`, func: binaryMap(op, 'none') })),
    ...WASM_BINARY.map((op) => ({ name: `vs_${op}`, func: binaryMap(op, 'b') })),
    ...WASM_BINARY.map((op) => ({ name: `sv_${op}`, func: binaryMap(op, 'a') })),
    { name: 'rowsBias', func: rowsBias() },
    { name: 'rowsSum4', func: rowsSum4() },
  ];
}

/** The kernel module's bytes; every instance gets its own memory ("mem", 16 pages to start). */
export function kernelModuleBytes(): Uint8Array {
  return assemble({ memoryPages: 16, functions: kernelFunctions() });
}

/** The kernel module's function names by index (a profile names wasm code 'wasm-function[i]'). */
export function kernelFunctionNames(): string[] {
  return kernelFunctions().map((k) => k.name);
}

/** sgemm alone at a given register tile, for measuring tile shapes (bench and tests). */
export function sgemmModuleBytes(mr: number, nr: number): Uint8Array {
  return assemble({ memoryPages: 16, functions: [{ name: 'sgemm', func: gemmKernel(F32, mr, nr) }] });
}

/** dgemm alone at a given register tile, for measuring tile shapes (bench and tests). */
export function dgemmModuleBytes(mr: number, nr: number): Uint8Array {
  return assemble({ memoryPages: 16, functions: [{ name: 'dgemm', func: gemmKernel(F64, mr, nr) }] });
}

/** sdot alone at a given tile, for measuring tile shapes. */
export function sdotModuleBytes(mr: number, nr: number): Uint8Array {
  return assemble({ memoryPages: 16, functions: [{ name: 'sdot', func: sdot(mr, nr) }] });
}

let cachedBytes: Uint8Array | null = null;
let cachedSupport: boolean | null = null;

/** The kernel module's bytes, built once per thread. */
export function kernelBytes(): Uint8Array {
  if (!cachedBytes) cachedBytes = kernelModuleBytes();
  return cachedBytes;
}

/** True where the runtime accepts fixed-width SIMD modules (Node ≥ 16.4, current browsers). */
export function simdSupported(): boolean {
  if (cachedSupport === null) {
    try {
      cachedSupport = typeof WebAssembly === 'object' && WebAssembly.validate(kernelBytes() as BufferSource);
    } catch {
      cachedSupport = false;
    }
  }
  return cachedSupport;
}
