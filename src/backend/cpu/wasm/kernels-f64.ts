/**
 * The WebAssembly SIMD kernels of the float64 GEMM (f64x2 lanes), emitted from TypeScript (see
 * emit.ts); the float64 counterparts of sgemm / packRows / packCols / axpby in kernels.ts, with the
 * same conventions: every address and stride in bytes, into the module's own memory.
 *
 * dgemm(ap, bp, c, mPanels, nPanels, kc, ldc, accumulate)
 *   for each B micro-panel jp < nPanels (kc × NR doubles at bp + jp·kc·NR·8)
 *     for each A micro-panel ip < mPanels (kc × MR doubles at ap + ip·kc·MR·8)
 *       C[ip·MR …, jp·NR …] (row stride ldc) = (accumulate ? C : 0) + Ap·Bp
 *   The MR×NR tile lives in MR·NR/2 v128 locals; per k step the kernel loads NR/2 vectors of B,
 *   splats MR scalars of A (v128.load64_splat) and issues MR·NR/2 f64x2.mul + f64x2.add (two
 *   roundings, as the JavaScript kernel: wasm SIMD has no fused multiply-add outside the relaxed
 *   proposal). Lanes past the edge of the matrix compute on padding and are never copied out.
 *
 * packRowsD{W}(src, ld, rows, panels, dst), packColsD{W}(…): as packRows/packCols of kernels.ts
 *   with 8-byte elements.
 * axpbyD(x, y, count, alpha, beta): x = alpha·x + beta·y over count doubles (count even); beta = 0
 *   never reads y.
 */
import { FuncBuilder, T } from './emit.js';

/** Register tile of the float64 kernel (rows of A × columns of B). */
export const SIMD_MR_F64 = 4;
export const SIMD_NR_F64 = 4;

/** The float64 outer-product macro-kernel at a register tile of mr × nr (nr even). */
export function dgemm(mr: number, nr: number): FuncBuilder {
  if (nr % 2 !== 0) throw new Error(`dgemm: nr must be even, got ${nr}`);
  const nv = nr / 2;
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
    .i32(mr * 8)
    .i32Mul()
    .set(aStride);
  f.get(KC)
    .i32(nr * 8)
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
  // Tile address: c + ip·MR·ldc + jp·NR·8.
  f.get(C)
    .get(ip)
    .i32(mr)
    .i32Mul()
    .get(LDC)
    .i32Mul()
    .i32Add()
    .get(jp)
    .i32(nr * 8)
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
      .v128Load64Splat(8 * r)
      .set(av);
    for (let v = 0; v < nv; v++) f.get(acc[r][v]).get(av).get(bv[v]).f64x2Mul().f64x2Add().set(acc[r][v]);
  }
  f.get(a)
    .i32(mr * 8)
    .i32Add()
    .set(a);
  f.get(b)
    .i32(nr * 8)
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

/** packRowsD{w}(src, ld, rows, panels, dst): w even; w/2 v128 copies per row and panel. */
export function packRowsD(w: number): FuncBuilder {
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
  for (let v = 0; v < w / 2; v++)
    f.get(d)
      .get(s)
      .v128Load(16 * v)
      .v128Store(16 * v);
  f.get(d)
    .i32(w * 8)
    .i32Add()
    .set(d);
  f.get(s).get(LD).i32Add().set(s);
  f.get(r).i32(1).i32Add().set(r);
  f.br(0);
  f.end().end();
  f.get(colBase)
    .i32(w * 8)
    .i32Add()
    .set(colBase);
  f.get(q).i32(1).i32Add().set(q);
  f.br(0);
  f.end().end();
  return f;
}

/** packColsD{w}(src, ld, rows, panels, dst): a gather of w source rows per k step (scalar f64 loads and stores). */
export function packColsD(w: number): FuncBuilder {
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
  f.get(panelBase).get(ROWS).i32(3).i32Shl().i32Add().set(sEnd);
  f.loop();
  // Source element (row c, step r) is at s + c·ld; s walks the steps.
  for (let c = 0; c < w; c++) {
    f.get(d).get(s);
    if (c > 0) f.get(LD).i32(c).i32Mul().i32Add();
    f.f64Load(0).f64Store(8 * c);
  }
  f.get(d)
    .i32(w * 8)
    .i32Add()
    .set(d);
  f.get(s).i32(8).i32Add().tee(s).get(sEnd).i32Ne().brIf(0);
  f.end();
  f.get(panelBase).get(LD).i32(w).i32Mul().i32Add().set(panelBase);
  f.get(q).i32(1).i32Add().set(q);
  f.br(0);
  f.end().end();
  return f;
}

/** axpbyD(x, y, count, alpha, beta): x = alpha·x + beta·y, two lanes at a time; beta = 0 skips y. */
export function axpbyD(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.f64, T.f64], []);
  const [X, Y, COUNT, ALPHA, BETA] = [0, 1, 2, 3, 4];
  const end = f.local(T.i32);
  const x = f.local(T.i32);
  const y = f.local(T.i32);
  const va = f.local(T.v128);
  const vb = f.local(T.v128);
  f.get(ALPHA).f64x2Splat().set(va);
  f.get(BETA).f64x2Splat().set(vb);
  f.get(X).set(x);
  f.get(Y).set(y);
  f.get(X).get(COUNT).i32(3).i32Shl().i32Add().set(end);
  f.block();
  f.get(x).get(end).i32GeU().brIf(0);
  f.get(BETA).f64Const(0).f64Eq().if();
  f.loop();
  f.get(x).get(x).v128Load(0).get(va).f64x2Mul().v128Store(0);
  f.get(x).i32(16).i32Add().tee(x).get(end).i32LtU().brIf(0);
  f.end();
  f.else();
  f.loop();
  f.get(x).get(x).v128Load(0).get(va).f64x2Mul().get(y).v128Load(0).get(vb).f64x2Mul().f64x2Add().v128Store(0);
  f.get(y).i32(16).i32Add().set(y);
  f.get(x).i32(16).i32Add().tee(x).get(end).i32LtU().brIf(0);
  f.end();
  f.end();
  f.end();
  return f;
}

/**
 * dgemvN(a, lda, rows, cols, x, y, accumulate): y[i] = (accumulate ? y[i] : 0) + Σ_{c<cols} a[i, c]·x[c]
 * for i < rows (a row-major with row stride lda bytes; cols even: the caller pads x with a zero and
 * keeps a finite value in the padding column). Four rows at a time, each with its own f64x2
 * partial sums (independent adds hide their latency), x read once per group; then the rest singly.
 */
export function dgemvN(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [A, LDA, ROWS, COLS, X, Y, ACC] = [0, 1, 2, 3, 4, 5, 6];
  const i = f.local(T.i32);
  const c = f.local(T.i32);
  const cEnd = f.local(T.i32);
  const row = f.local(T.i32);
  const yAt = f.local(T.i32);
  const xv = f.local(T.v128);
  const acc = [f.local(T.v128), f.local(T.v128), f.local(T.v128), f.local(T.v128)];
  const sum = (v: number) => {
    // Lane 0 + lane 1 of acc v, as an f64 on the stack.
    f.get(v).f64x2ExtractLane(0).get(v).f64x2ExtractLane(1).f64Add();
  };
  const store = (r: number, v: number) => {
    // y[i + r] = (accumulate ? y[i + r] : 0) + Σ lanes.
    f.get(yAt);
    sum(v);
    f.get(yAt)
      .f64Load(8 * r)
      .f64Const(0)
      .get(ACC)
      .select()
      .f64Add();
    f.f64Store(8 * r);
  };
  f.get(COLS).i32(3).i32Shl().set(cEnd);
  f.i32(0).set(i);
  f.get(A).set(row);
  f.get(Y).set(yAt);
  // Groups of four rows.
  f.block().loop();
  f.get(i).i32(4).i32Add().get(ROWS).i32GtU().brIf(1);
  for (const v of acc) f.v128Zero().set(v);
  f.i32(0).set(c);
  f.block();
  f.get(c).get(cEnd).i32GeU().brIf(0);
  f.loop();
  f.get(X).get(c).i32Add().v128Load(0).set(xv);
  for (let r = 0; r < 4; r++) {
    f.get(acc[r]).get(row);
    if (r > 0) f.get(LDA).i32(r).i32Mul().i32Add();
    f.get(c).i32Add().v128Load(0).get(xv).f64x2Mul().f64x2Add().set(acc[r]);
  }
  f.get(c).i32(16).i32Add().tee(c).get(cEnd).i32LtU().brIf(0);
  f.end();
  f.end();
  for (let r = 0; r < 4; r++) store(r, acc[r]);
  f.get(row).get(LDA).i32(2).i32Shl().i32Add().set(row);
  f.get(yAt).i32(32).i32Add().set(yAt);
  f.get(i).i32(4).i32Add().set(i);
  f.br(0);
  f.end().end();
  // The remaining rows, one at a time.
  f.block().loop();
  f.get(i).get(ROWS).i32GeU().brIf(1);
  f.v128Zero().set(acc[0]);
  f.i32(0).set(c);
  f.block();
  f.get(c).get(cEnd).i32GeU().brIf(0);
  f.loop();
  f.get(acc[0]).get(row).get(c).i32Add().v128Load(0).get(X).get(c).i32Add().v128Load(0).f64x2Mul().f64x2Add().set(acc[0]);
  f.get(c).i32(16).i32Add().tee(c).get(cEnd).i32LtU().brIf(0);
  f.end();
  f.end();
  store(0, acc[0]);
  f.get(row).get(LDA).i32Add().set(row);
  f.get(yAt).i32(8).i32Add().set(yAt);
  f.get(i).i32(1).i32Add().set(i);
  f.br(0);
  f.end().end();
  return f;
}

/**
 * dgemvT(a, lda, rows, cols, x, y): y[c] += Σ_{i<rows} a[i, c]·x[i] for c < cols (cols even; the
 * caller sets y first). Two rows per pass over y, so y is loaded and stored half as often.
 */
export function dgemvT(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [A, LDA, ROWS, COLS, X, Y] = [0, 1, 2, 3, 4, 5];
  const i = f.local(T.i32);
  const c = f.local(T.i32);
  const cEnd = f.local(T.i32);
  const row = f.local(T.i32);
  const x0 = f.local(T.v128);
  const x1 = f.local(T.v128);
  f.get(COLS).i32(3).i32Shl().set(cEnd);
  f.i32(0).set(i);
  f.get(A).set(row);
  f.block().loop();
  f.get(i).i32(2).i32Add().get(ROWS).i32GtU().brIf(1);
  f.get(X).get(i).i32(3).i32Shl().i32Add().v128Load64Splat(0).set(x0);
  f.get(X).get(i).i32(3).i32Shl().i32Add().v128Load64Splat(8).set(x1);
  f.i32(0).set(c);
  f.block();
  f.get(c).get(cEnd).i32GeU().brIf(0);
  f.loop();
  f.get(Y).get(c).i32Add();
  f.get(Y).get(c).i32Add().v128Load(0);
  f.get(row).get(c).i32Add().v128Load(0).get(x0).f64x2Mul().f64x2Add();
  f.get(row).get(LDA).i32Add().get(c).i32Add().v128Load(0).get(x1).f64x2Mul().f64x2Add();
  f.v128Store(0);
  f.get(c).i32(16).i32Add().tee(c).get(cEnd).i32LtU().brIf(0);
  f.end();
  f.end();
  f.get(row).get(LDA).i32(1).i32Shl().i32Add().set(row);
  f.get(i).i32(2).i32Add().set(i);
  f.br(0);
  f.end().end();
  // A last odd row.
  f.get(i).get(ROWS).i32LtU().if();
  f.get(X).get(i).i32(3).i32Shl().i32Add().v128Load64Splat(0).set(x0);
  f.i32(0).set(c);
  f.block();
  f.get(c).get(cEnd).i32GeU().brIf(0);
  f.loop();
  f.get(Y).get(c).i32Add();
  f.get(Y).get(c).i32Add().v128Load(0);
  f.get(row).get(c).i32Add().v128Load(0).get(x0).f64x2Mul().f64x2Add();
  f.v128Store(0);
  f.get(c).i32(16).i32Add().tee(c).get(cEnd).i32LtU().brIf(0);
  f.end();
  f.end();
  f.end();
  return f;
}

/**
 * drotSeq(z, ld, count, cs, cols): the plane rotations of one implicit QL sweep (EISPACK tql2),
 * applied to the rows of Z = Vᵀ. Rotation t (t = count−1 down to 0) acts on rows t and t+1 from z
 * (row stride ld bytes) with (c, s) = the two doubles at cs + 16·t:
 *   row[t+1] ← s·row[t] + c·row[t+1],  row[t] ← c·row[t] − s·row[t+1]
 * over `cols` doubles (a multiple of 8; the caller pads). Row t's new value is the next rotation's
 * row t+1, so it stays in a register: one load and one store per row and column pair, eight
 * columns (four independent chains) at a time. Same operations in the same order as tql2's loop,
 * so the same result to the bit.
 */
export function drotSeq(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [Z, LD, COUNT, CS, COLS] = [0, 1, 2, 3, 4];
  const col = f.local(T.i32);
  const colEnd = f.local(T.i32);
  const t = f.local(T.i32);
  const row = f.local(T.i32);
  const csAt = f.local(T.i32);
  const cv = f.local(T.v128);
  const sv = f.local(T.v128);
  const h = [f.local(T.v128), f.local(T.v128), f.local(T.v128), f.local(T.v128)];
  const zi = [f.local(T.v128), f.local(T.v128), f.local(T.v128), f.local(T.v128)];
  f.get(COLS).i32(3).i32Shl().set(colEnd);
  f.i32(0).set(col);
  f.block();
  f.get(COUNT).i32Eqz().brIf(0);
  f.loop();
  // Row `count` (the last) into the carried registers.
  f.get(Z).get(COUNT).get(LD).i32Mul().i32Add().get(col).i32Add().set(row);
  for (let v = 0; v < 4; v++)
    f.get(row)
      .v128Load(16 * v)
      .set(h[v]);
  f.get(COUNT).set(t);
  f.loop();
  f.get(t).i32(1).i32Sub().set(t);
  f.get(CS).get(t).i32(4).i32Shl().i32Add().set(csAt);
  f.get(csAt).v128Load64Splat(0).set(cv);
  f.get(csAt).v128Load64Splat(8).set(sv);
  // row points at row t+1; row t is ld bytes before it.
  for (let v = 0; v < 4; v++)
    f.get(row)
      .get(LD)
      .i32Sub()
      .v128Load(16 * v)
      .set(zi[v]);
  for (let v = 0; v < 4; v++) {
    f.get(row);
    f.get(sv).get(zi[v]).f64x2Mul().get(cv).get(h[v]).f64x2Mul().f64x2Add();
    f.v128Store(16 * v);
    f.get(cv).get(zi[v]).f64x2Mul().get(sv).get(h[v]).f64x2Mul().f64x2Sub().set(h[v]);
  }
  f.get(row).get(LD).i32Sub().set(row);
  f.get(t).brIf(0);
  f.end();
  for (let v = 0; v < 4; v++)
    f.get(row)
      .get(h[v])
      .v128Store(16 * v);
  f.get(col).i32(64).i32Add().tee(col).get(colEnd).i32LtU().brIf(0);
  f.end();
  f.end();
  return f;
}
