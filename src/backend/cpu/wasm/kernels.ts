/**
 * The WebAssembly SIMD kernels of the float32 GEMM, emitted from TypeScript (see emit.ts).
 *
 * Every address and stride is in bytes, into the module's own memory, which the caller fills with
 * raw copies of the operands (TypedArray.set, i.e. memcpy) and reads the result back from the same way.
 *
 * sgemm(ap, bp, c, mPanels, nPanels, kc, ldc, accumulate)
 *   for each B micro-panel jp < nPanels (kc × NR floats at bp + jp·kc·NR·4)
 *     for each A micro-panel ip < mPanels (kc × MR floats at ap + ip·kc·MR·4)
 *       C[ip·MR …, jp·NR …] (row stride ldc) = (accumulate ? C : 0) + Ap·Bp
 *   The MR×NR tile lives in MR·NR/4 v128 locals, which V8 keeps in xmm registers; per k step the
 *   kernel loads NR/4 vectors of B, splats MR scalars of A (v128.load32_splat) and issues
 *   MR·NR/4 f32x4.mul + f32x4.add. Lanes past the edge of the matrix compute on whatever the
 *   padding holds; each lane is independent, so they never touch the kept ones.
 *
 * packRows{W}(src, ld, rows, panels, dst): src is row-major with row stride ld; panel q of the output
 *   (rows × W floats, contiguous) holds columns q·W … q·W+W−1 of each row. For op(B) stored k×n (W =
 *   NR) and op(A) stored transposed, k×m (W = MR).
 * packCols{W}(src, ld, rows, panels, dst): the transposed case, src row j holds k values: panel q holds,
 *   for each k step r < rows, the values r of src rows q·W … q·W+W−1. For op(B) stored n×k (W = NR)
 *   and op(A) stored m×k (W = MR).
 * axpby(x, y, count, alpha, beta): x[i] = alpha·x[i] + beta·y[i] over count floats (count a multiple of 4);
 *   beta = 0 never reads y.
 */
import { FuncBuilder, T, assemble } from './emit.js';
import { SIMD_MR_F64, SIMD_NR_F64, axpbyD, dgemm, dgemvN, dgemvT, drotSeq, packColsD, packRowsD } from './kernels-f64.js';
import { col2imKernel, im2colKernel, maxPool2x2Kernel } from './window.js';

/** Register tile of the float32 kernel. */
export const SIMD_MR = 4;
export const SIMD_NR = 8;
/** Tile of the dot-product kernel (A rows × B rows). */
export const DOT_MR = 2;
export const DOT_NR = 4;

/**
 * Measured on V8 11.3 (Node 20), x64 (Zen 5), kc = 256, panels in L2, GFLOP/s of the macro-kernel
 * alone: 4×8 ≈ 55, 3×8 54, 2×16 53, 5×8 43, 8×8 35, 6×8 30, 4×12 31. Larger tiles spill (V8 gives
 * wasm 15 allocatable xmm registers); unrolling the k loop ×2 dropped 4×8 to 34.
 */
function sgemm(mr: number, nr: number): FuncBuilder {
  const nv = nr / 4;
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [AP, BP, C, MP, NP, KC, LDC, ACC] = [0, 1, 2, 3, 4, 5, 6, 7];
  const jp = f.local(T.i32);
  const ip = f.local(T.i32);
  const aPanel = f.local(T.i32);
  const bPanel = f.local(T.i32);
  const a = f.local(T.i32);
  const b = f.local(T.i32);
  const aEnd = f.local(T.i32);
  const cTile = f.local(T.i32);
  const cRow = f.local(T.i32);
  const aStride = f.local(T.i32);
  const bStride = f.local(T.i32);
  const acc: number[][] = [];
  for (let r = 0; r < mr; r++) {
    acc.push([]);
    for (let v = 0; v < nv; v++) acc[r].push(f.local(T.v128));
  }
  const bv: number[] = [];
  for (let v = 0; v < nv; v++) bv.push(f.local(T.v128));
  const av = f.local(T.v128);

  f.get(KC)
    .i32(mr * 4)
    .i32Mul()
    .set(aStride);
  f.get(KC)
    .i32(nr * 4)
    .i32Mul()
    .set(bStride);
  f.get(BP).set(bPanel);
  f.i32(0).set(jp);
  f.block().loop(); // B panels
  f.get(jp).get(NP).i32GeU().brIf(1);
  f.get(AP).set(aPanel);
  f.i32(0).set(ip);
  f.block().loop(); // A panels
  f.get(ip).get(MP).i32GeU().brIf(1);
  // Tile address: c + ip·MR·ldc + jp·NR·4.
  f.get(C)
    .get(ip)
    .i32(mr)
    .i32Mul()
    .get(LDC)
    .i32Mul()
    .i32Add()
    .get(jp)
    .i32(nr * 4)
    .i32Mul()
    .i32Add()
    .set(cTile);
  f.get(ACC).if();
  f.get(cTile).set(cRow);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++)
      f.get(cRow)
        .v128Load(16 * v)
        .set(acc[r][v]);
    if (r < mr - 1) f.get(cRow).get(LDC).i32Add().set(cRow);
  }
  f.else();
  for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) f.v128Zero().set(acc[r][v]);
  f.end();
  // k loop, kc ≥ 1: do { … } while (a !== aEnd).
  f.get(aPanel).set(a);
  f.get(bPanel).set(b);
  f.get(aPanel).get(aStride).i32Add().set(aEnd);
  f.loop();
  for (let v = 0; v < nv; v++)
    f.get(b)
      .v128Load(16 * v)
      .set(bv[v]);
  for (let r = 0; r < mr; r++) {
    f.get(a)
      .v128Load32Splat(4 * r)
      .set(av);
    for (let v = 0; v < nv; v++) f.get(acc[r][v]).get(av).get(bv[v]).f32x4Mul().f32x4Add().set(acc[r][v]);
  }
  f.get(a)
    .i32(mr * 4)
    .i32Add()
    .set(a);
  f.get(b)
    .i32(nr * 4)
    .i32Add()
    .set(b);
  f.get(a).get(aEnd).i32Ne().brIf(0);
  f.end();
  f.get(cTile).set(cRow);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++)
      f.get(cRow)
        .get(acc[r][v])
        .v128Store(16 * v);
    if (r < mr - 1) f.get(cRow).get(LDC).i32Add().set(cRow);
  }
  f.get(aPanel).get(aStride).i32Add().set(aPanel);
  f.get(ip).i32(1).i32Add().set(ip);
  f.br(0);
  f.end().end();
  f.get(bPanel).get(bStride).i32Add().set(bPanel);
  f.get(jp).i32(1).i32Add().set(jp);
  f.br(0);
  f.end().end();
  return f;
}

/** packRows{w}(src, ld, rows, panels, dst): w a multiple of 4; one or two v128 copies per row and panel. */
function packRows(w: number): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [SRC, LD, ROWS, PANELS, DST] = [0, 1, 2, 3, 4];
  const q = f.local(T.i32);
  const r = f.local(T.i32);
  const s = f.local(T.i32);
  const d = f.local(T.i32);
  const colBase = f.local(T.i32);
  f.get(DST).set(d);
  f.get(SRC).set(colBase);
  f.i32(0).set(q);
  f.block().loop();
  f.get(q).get(PANELS).i32GeU().brIf(1);
  f.get(colBase).set(s);
  f.i32(0).set(r);
  f.block().loop();
  f.get(r).get(ROWS).i32GeU().brIf(1);
  for (let v = 0; v < w / 4; v++)
    f.get(d)
      .get(s)
      .v128Load(16 * v)
      .v128Store(16 * v);
  f.get(d)
    .i32(w * 4)
    .i32Add()
    .set(d);
  f.get(s).get(LD).i32Add().set(s);
  f.get(r).i32(1).i32Add().set(r);
  f.br(0);
  f.end().end();
  f.get(colBase)
    .i32(w * 4)
    .i32Add()
    .set(colBase);
  f.get(q).i32(1).i32Add().set(q);
  f.br(0);
  f.end().end();
  return f;
}

/** packCols{w}(src, ld, rows, panels, dst): a gather of w source rows per k step (scalar loads and stores). */
function packCols(w: number): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [SRC, LD, ROWS, PANELS, DST] = [0, 1, 2, 3, 4];
  const q = f.local(T.i32);
  const s = f.local(T.i32);
  const sEnd = f.local(T.i32);
  const d = f.local(T.i32);
  const panelBase = f.local(T.i32);
  f.get(DST).set(d);
  f.get(SRC).set(panelBase);
  f.i32(0).set(q);
  f.block().loop();
  f.get(q).get(PANELS).i32GeU().brIf(1);
  f.get(panelBase).set(s);
  f.get(panelBase).get(ROWS).i32(2).i32Shl().i32Add().set(sEnd);
  f.loop();
  // Source element (row c, step r) is at s + c·ld; s walks the steps.
  for (let c = 0; c < w; c++) {
    f.get(d).get(s);
    if (c > 0) f.get(LD).i32(c).i32Mul().i32Add();
    f.f32Load(0).f32Store(4 * c);
  }
  f.get(d)
    .i32(w * 4)
    .i32Add()
    .set(d);
  f.get(s).i32(4).i32Add().tee(s).get(sEnd).i32Ne().brIf(0);
  f.end();
  f.get(panelBase).get(LD).i32(w).i32Mul().i32Add().set(panelBase);
  f.get(q).i32(1).i32Add().set(q);
  f.br(0);
  f.end().end();
  return f;
}

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
  const it = f.local(T.i32);
  const jt = f.local(T.i32);
  const q = f.local(T.i32);
  const qEnd = f.local(T.i32);
  const cAt = f.local(T.i32);
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
  f.block().loop();
  f.get(jt).get(NT).i32GeU().brIf(1);
  for (let j = 0; j < nr; j++) f.get(B).get(jt).i32(nr).i32Mul().i32(j).i32Add().get(LDB).i32Mul().i32Add().set(bRow[j]);
  f.i32(0).set(it);
  f.block().loop();
  f.get(it).get(MT).i32GeU().brIf(1);
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
  f.get(it).i32(1).i32Add().set(it);
  f.br(0);
  f.end().end();
  f.get(jt).i32(1).i32Add().set(jt);
  f.br(0);
  f.end().end();
  return f;
}

/** axpby(x, y, count, alpha, beta): x = alpha·x + beta·y, four lanes at a time; beta = 0 skips y. */
function axpby(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.f32, T.f32], []);
  const [X, Y, COUNT, ALPHA, BETA] = [0, 1, 2, 3, 4];
  const end = f.local(T.i32);
  const x = f.local(T.i32);
  const y = f.local(T.i32);
  const va = f.local(T.v128);
  const vb = f.local(T.v128);
  f.get(ALPHA).f32x4Splat().set(va);
  f.get(BETA).f32x4Splat().set(vb);
  f.get(X).set(x);
  f.get(Y).set(y);
  f.get(X).get(COUNT).i32(2).i32Shl().i32Add().set(end);
  f.block();
  f.get(x).get(end).i32GeU().brIf(0);
  f.get(BETA).f32Const(0).f32Eq().if();
  f.loop();
  f.get(x).get(x).v128Load(0).get(va).f32x4Mul().v128Store(0);
  f.get(x).i32(16).i32Add().tee(x).get(end).i32LtU().brIf(0);
  f.end();
  f.else();
  f.loop();
  f.get(x).get(x).v128Load(0).get(va).f32x4Mul().get(y).v128Load(0).get(vb).f32x4Mul().f32x4Add().v128Store(0);
  f.get(y).i32(16).i32Add().set(y);
  f.get(x).i32(16).i32Add().tee(x).get(end).i32LtU().brIf(0);
  f.end();
  f.end();
  f.end();
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
  const i = f.local(T.i32);
  const end = f.local(T.i32);
  const v = f.local(T.v128);
  const zero = f.local(T.v128);
  const one = f.local(T.v128);
  f.v128Zero().set(zero);
  f.f32Const(1).f32x4Splat().set(one);
  f.get(N4).i32(4).i32Shl().set(end);
  f.i32(0).set(i);
  f.block();
  f.get(i).get(end).i32GeU().brIf(0);
  f.loop();
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
  f.get(i).i32(16).i32Add().tee(i).get(end).i32LtU().brIf(0);
  f.end();
  f.end();
  return f;
}

/** binary(a, b, dst, count4, bScalar): bScalar ≠ 0 splats b[0] (a scalar right operand). */
function binaryMap(op: (typeof WASM_BINARY)[number], scalarA: boolean): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32], []);
  const [A, B, DST, N4] = [0, 1, 2, 3];
  const i = f.local(T.i32);
  const end = f.local(T.i32);
  const s = f.local(T.v128);
  const one = f.local(T.v128);
  f.f32Const(1).f32x4Splat().set(one);
  // The scalar side (a when scalarA, else b when the caller passes count of b = 1 … see below) is splatted once.
  f.get(scalarA ? A : B)
    .v128Load32Splat(0)
    .set(s);
  f.get(N4).i32(4).i32Shl().set(end);
  f.i32(0).set(i);
  f.block();
  f.get(i).get(end).i32GeU().brIf(0);
  f.loop();
  f.get(DST).get(i).i32Add();
  if (scalarA) {
    f.get(s);
    f.get(B).get(i).i32Add().v128Load(0);
  } else {
    f.get(A).get(i).i32Add().v128Load(0);
    f.get(s);
  }
  switch (op) {
    case 'add':
      f.f32x4Add();
      break;
    case 'sub':
      f.f32x4Sub();
      break;
    case 'mul':
      f.f32x4Mul();
      break;
    case 'div':
      f.f32x4Div();
      break;
    case 'max':
      f.f32x4Max();
      break;
    case 'min':
      f.f32x4Min();
      break;
    case 'gt':
      f.f32x4Gt().get(one).v128And();
      break;
    case 'ge':
      f.f32x4Ge().get(one).v128And();
      break;
    case 'lt':
      f.f32x4Lt().get(one).v128And();
      break;
    case 'le':
      f.f32x4Le().get(one).v128And();
      break;
    case 'eq':
      f.f32x4Eq().get(one).v128And();
      break;
  }
  f.v128Store(0);
  f.get(i).i32(16).i32Add().tee(i).get(end).i32LtU().brIf(0);
  f.end();
  f.end();
  return f;
}

/** Same as binaryMap with both operands as vectors. */
function binaryMapVV(op: (typeof WASM_BINARY)[number]): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32], []);
  const [A, B, DST, N4] = [0, 1, 2, 3];
  const i = f.local(T.i32);
  const end = f.local(T.i32);
  const one = f.local(T.v128);
  f.f32Const(1).f32x4Splat().set(one);
  f.get(N4).i32(4).i32Shl().set(end);
  f.i32(0).set(i);
  f.block();
  f.get(i).get(end).i32GeU().brIf(0);
  f.loop();
  f.get(DST).get(i).i32Add();
  f.get(A).get(i).i32Add().v128Load(0);
  f.get(B).get(i).i32Add().v128Load(0);
  switch (op) {
    case 'add':
      f.f32x4Add();
      break;
    case 'sub':
      f.f32x4Sub();
      break;
    case 'mul':
      f.f32x4Mul();
      break;
    case 'div':
      f.f32x4Div();
      break;
    case 'max':
      f.f32x4Max();
      break;
    case 'min':
      f.f32x4Min();
      break;
    case 'gt':
      f.f32x4Gt().get(one).v128And();
      break;
    case 'ge':
      f.f32x4Ge().get(one).v128And();
      break;
    case 'lt':
      f.f32x4Lt().get(one).v128And();
      break;
    case 'le':
      f.f32x4Le().get(one).v128And();
      break;
    case 'eq':
      f.f32x4Eq().get(one).v128And();
      break;
  }
  f.v128Store(0);
  f.get(i).i32(16).i32Add().tee(i).get(end).i32LtU().brIf(0);
  f.end();
  f.end();
  return f;
}

/** The kernel module's bytes; every instance gets its own memory ("mem", 16 pages to start). */
export function kernelModuleBytes(): Uint8Array {
  return assemble({
    memoryPages: 16,
    functions: [
      { name: 'sgemm', func: sgemm(SIMD_MR, SIMD_NR) },
      { name: 'packRows4', func: packRows(4) },
      { name: 'packRows8', func: packRows(8) },
      { name: 'packCols4', func: packCols(4) },
      { name: 'packCols8', func: packCols(8) },
      { name: 'axpby', func: axpby() },
      { name: 'sdot', func: sdot(DOT_MR, DOT_NR) },
      { name: 'dgemm', func: dgemm(SIMD_MR_F64, SIMD_NR_F64) },
      { name: 'packRowsD4', func: packRowsD(SIMD_NR_F64) },
      { name: 'packColsD4', func: packColsD(SIMD_NR_F64) },
      { name: 'axpbyD', func: axpbyD() },
      { name: 'dgemvN', func: dgemvN() },
      { name: 'dgemvT', func: dgemvT() },
      { name: 'drotSeq', func: drotSeq() },
      { name: 'im2col', func: im2colKernel() },
      { name: 'col2im', func: col2imKernel() },
      { name: 'maxPool2x2', func: maxPool2x2Kernel() },
      ...WASM_UNARY.map((op) => ({ name: `u_${op}`, func: unaryMap(op) })),
      ...WASM_BINARY.map((op) => ({ name: `vv_${op}`, func: binaryMapVV(op) })),
      ...WASM_BINARY.map((op) => ({ name: `vs_${op}`, func: binaryMap(op, false) })),
      ...WASM_BINARY.map((op) => ({ name: `sv_${op}`, func: binaryMap(op, true) })),
    ],
  });
}

/** sgemm alone at a given register tile, for measuring tile shapes (bench and tests). */
export function sgemmModuleBytes(mr: number, nr: number): Uint8Array {
  if (nr % 4 !== 0) throw new Error(`sgemmModuleBytes: nr must be a multiple of 4, got ${nr}`);
  return assemble({ memoryPages: 16, functions: [{ name: 'sgemm', func: sgemm(mr, nr) }] });
}

/** dgemm alone at a given register tile, for measuring tile shapes (bench and tests). */
export function dgemmModuleBytes(mr: number, nr: number): Uint8Array {
  if (nr % 2 !== 0) throw new Error(`dgemmModuleBytes: nr must be even, got ${nr}`);
  return assemble({ memoryPages: 16, functions: [{ name: 'dgemm', func: dgemm(mr, nr) }] });
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
