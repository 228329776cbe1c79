/**
 * The WebAssembly SIMD kernels of the GEMM, emitted from TypeScript (see emit.ts) once for each
 * element type (elem.ts): sgemm / packRows{W} / packCols{W} / axpby for float32 (f32x4 lanes) and
 * dgemm / packRowsD{W} / packColsD{W} / axpbyD for float64 (f64x2 lanes). Same loop nests; only the
 * element size, the lanes per v128 and the load / splat / multiply / add opcodes differ.
 *
 * Every address and stride is in bytes, into the module's own memory, which the caller fills with
 * raw copies of the operands (TypedArray.set, i.e. memcpy) and reads the result back from the same
 * way. L = the lanes of a v128 (4 for float32, 2 for float64), E = the bytes of an element.
 *
 * gemm(ap, bp, c, mPanels, nPanels, kc, ldc, accumulate)
 *   for each B micro-panel jp < nPanels (kc × NR elements at bp + jp·kc·NR·E)
 *     for each A micro-panel ip < mPanels (kc × MR elements at ap + ip·kc·MR·E)
 *       C[ip·MR …, jp·NR …] (row stride ldc) = (accumulate ? C : 0) + Ap·Bp
 *   The MR×NR tile lives in MR·NR/L v128 locals, which V8 keeps in xmm registers; per k step the
 *   kernel loads NR/L vectors of B, splats MR scalars of A (v128.load32_splat / load64_splat) and
 *   issues MR·NR/L mul + add (two roundings, as the JavaScript kernel: wasm SIMD has no fused
 *   multiply-add outside the relaxed proposal). Lanes past the edge of the matrix compute on
 *   whatever the padding holds; each lane is independent, so they never touch the kept ones.
 *
 * packRows{W}(src, ld, rows, panels, dst): src is row-major with row stride ld; panel q of the output
 *   (rows × W elements, contiguous) holds columns q·W … q·W+W−1 of each row. For op(B) stored k×n
 *   (W = NR) and op(A) stored transposed, k×m (W = MR).
 * packCols{W}(src, ld, rows, panels, dst): the transposed case, src row j holds k values: panel q
 *   holds, for each k step r < rows, the values r of src rows q·W … q·W+W−1. For op(B) stored n×k
 *   (W = NR) and op(A) stored m×k (W = MR).
 * axpby(x, y, count, alpha, beta): x[i] = alpha·x[i] + beta·y[i] over count elements (a multiple
 *   of L); beta = 0 never reads y.
 */
import { FuncBuilder, T } from './emit.js';
import type { WasmElem } from './elem.js';

/**
 * The outer-product macro-kernel at a register tile of mr × nr (nr a multiple of the lanes).
 * Measured for float32 on V8 11.3 (Node 20), x64 (Zen 5), kc = 256, panels in L2, GFLOP/s of the
 * macro-kernel alone: 4×8 ≈ 55, 3×8 54, 2×16 53, 5×8 43, 8×8 35, 6×8 30, 4×12 31. Larger tiles
 * spill (V8 gives wasm 15 allocatable xmm registers); unrolling the k loop ×2 dropped 4×8 to 34.
 */
export function gemmKernel(e: WasmElem, mr: number, nr: number): FuncBuilder {
  if (!Number.isInteger(mr) || mr < 1) throw new Error(`gemmKernel: mr must be a positive integer, got ${mr}`);
  if (!Number.isInteger(nr) || nr < 1 || nr % e.lanes !== 0) {
    throw new Error(`gemmKernel: nr must be a positive multiple of ${e.lanes} for ${e.name}, got ${nr}`);
  }
  const nv = nr / e.lanes;
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [AP, BP, C, MP, NP, KC, LDC, ACC] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [jp, ip, aPanel, bPanel, a, b, aEnd, cTile, cRow, aStride, bStride] = f.locals(T.i32, 11);
  const acc: number[][] = [];
  for (let r = 0; r < mr; r++) {
    acc.push([]);
    for (let v = 0; v < nv; v++) acc[r].push(f.local(T.v128));
  }
  const bv: number[] = [];
  for (let v = 0; v < nv; v++) bv.push(f.local(T.v128));
  const av = f.local(T.v128);

  f.get(KC)
    .i32(mr * e.bytes)
    .i32Mul()
    .set(aStride);
  f.get(KC)
    .i32(nr * e.bytes)
    .i32Mul()
    .set(bStride);
  f.get(BP).set(bPanel);
  f.i32(0).set(jp);
  f.countUp(jp, NP, () => {
    // B panels
    f.get(AP).set(aPanel);
    f.i32(0).set(ip);
    f.countUp(ip, MP, () => {
      // A panels
      // Tile address: c + ip·MR·ldc + jp·NR·E.
      f.get(C)
        .get(ip)
        .i32(mr)
        .i32Mul()
        .get(LDC)
        .i32Mul()
        .i32Add()
        .get(jp)
        .i32(nr * e.bytes)
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
        f.get(a);
        e.loadSplat(f, e.bytes * r);
        f.set(av);
        for (let v = 0; v < nv; v++) {
          f.get(acc[r][v]).get(av).get(bv[v]);
          e.mul(f);
          e.add(f);
          f.set(acc[r][v]);
        }
      }
      f.get(a)
        .i32(mr * e.bytes)
        .i32Add()
        .set(a);
      f.get(b)
        .i32(nr * e.bytes)
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
    });
    f.get(bPanel).get(bStride).i32Add().set(bPanel);
  });
  return f;
}

/** packRows{w}(src, ld, rows, panels, dst): w a multiple of the lanes; w/L v128 copies per row and panel. */
export function packRows(e: WasmElem, w: number): FuncBuilder {
  if (!Number.isInteger(w) || w < 1 || w % e.lanes !== 0) throw new Error(`packRows: w must be a positive multiple of ${e.lanes} for ${e.name}, got ${w}`);
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [SRC, LD, ROWS, PANELS, DST] = [0, 1, 2, 3, 4];
  const [q, r, s, d, colBase] = f.locals(T.i32, 5);
  f.get(DST).set(d);
  f.get(SRC).set(colBase);
  f.i32(0).set(q);
  f.countUp(q, PANELS, () => {
    f.get(colBase).set(s);
    f.i32(0).set(r);
    f.countUp(r, ROWS, () => {
      for (let v = 0; v < w / e.lanes; v++)
        f.get(d)
          .get(s)
          .v128Load(16 * v)
          .v128Store(16 * v);
      f.get(d)
        .i32(w * e.bytes)
        .i32Add()
        .set(d);
      f.get(s).get(LD).i32Add().set(s);
    });
    f.get(colBase)
      .i32(w * e.bytes)
      .i32Add()
      .set(colBase);
  });
  return f;
}

/** packCols{w}(src, ld, rows, panels, dst): a gather of w source rows per k step (scalar loads and stores). */
export function packCols(e: WasmElem, w: number): FuncBuilder {
  if (!Number.isInteger(w) || w < 1) throw new Error(`packCols: w must be a positive integer, got ${w}`);
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [SRC, LD, ROWS, PANELS, DST] = [0, 1, 2, 3, 4];
  const [q, s, sEnd, d, panelBase] = f.locals(T.i32, 5);
  f.get(DST).set(d);
  f.get(SRC).set(panelBase);
  f.i32(0).set(q);
  f.countUp(q, PANELS, () => {
    f.get(panelBase).set(s);
    f.get(panelBase).get(ROWS).i32(e.log2Bytes).i32Shl().i32Add().set(sEnd);
    f.loop();
    // Source element (row c, step r) is at s + c·ld; s walks the steps.
    for (let c = 0; c < w; c++) {
      f.get(d).get(s);
      if (c > 0) f.get(LD).i32(c).i32Mul().i32Add();
      e.load(f, 0);
      e.store(f, e.bytes * c);
    }
    f.get(d)
      .i32(w * e.bytes)
      .i32Add()
      .set(d);
    f.get(s).i32(e.bytes).i32Add().tee(s).get(sEnd).i32Ne().brIf(0);
    f.end();
    f.get(panelBase).get(LD).i32(w).i32Mul().i32Add().set(panelBase);
  });
  return f;
}

/** axpby(x, y, count, alpha, beta): x = alpha·x + beta·y, L lanes at a time; beta = 0 skips y. */
export function axpby(e: WasmElem): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, e.type, e.type], []);
  const [X, Y, COUNT, ALPHA, BETA] = [0, 1, 2, 3, 4];
  const [end, x, y] = f.locals(T.i32, 3);
  const [va, vb] = f.locals(T.v128, 2);
  f.get(ALPHA);
  e.splat(f);
  f.set(va);
  f.get(BETA);
  e.splat(f);
  f.set(vb);
  f.get(X).set(x);
  f.get(Y).set(y);
  f.get(X).get(COUNT).i32(e.log2Bytes).i32Shl().i32Add().set(end);
  f.block();
  f.get(x).get(end).i32GeU().brIf(0);
  f.get(BETA);
  e.constant(f, 0);
  e.eq(f);
  f.if();
  f.loop();
  f.get(x).get(x).v128Load(0).get(va);
  e.mul(f);
  f.v128Store(0);
  f.get(x).i32(16).i32Add().tee(x).get(end).i32LtU().brIf(0);
  f.end();
  f.else();
  f.loop();
  f.get(x).get(x).v128Load(0).get(va);
  e.mul(f);
  f.get(y).v128Load(0).get(vb);
  e.mul(f);
  e.add(f);
  f.v128Store(0);
  f.get(y).i32(16).i32Add().set(y);
  f.get(x).i32(16).i32Add().tee(x).get(end).i32LtU().brIf(0);
  f.end();
  f.end();
  f.end();
  return f;
}
