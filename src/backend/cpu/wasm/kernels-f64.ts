/**
 * The float64 Level-2 WebAssembly SIMD kernels (f64x2 lanes) of the eigensolver and the
 * matrix-vector products of linalg, emitted from TypeScript (see emit.ts): dgemvN, dgemvT and
 * drotSeq. Every address and stride is in bytes, into the module's own memory. (The float64 GEMM
 * kernels are emitted with the float32 ones, in gemm-kernels.ts.)
 */
import { FuncBuilder, T } from './emit.js';

/**
 * dgemvN(a, lda, rows, cols, x, y, accumulate): y[i] = (accumulate ? y[i] : 0) + Σ_{c<cols} a[i, c]·x[c]
 * for i < rows (a row-major with row stride lda bytes; cols even: the caller pads x with a zero and
 * keeps a finite value in the padding column). Four rows at a time, each with its own f64x2
 * partial sums (independent adds hide their latency), x read once per group; then the rest singly.
 */
export function dgemvN(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [A, LDA, ROWS, COLS, X, Y, ACC] = [0, 1, 2, 3, 4, 5, 6];
  const [i, c, cEnd, row, yAt] = f.locals(T.i32, 5);
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
  f.stepUp(c, cEnd, 16, () => {
    f.get(X).get(c).i32Add().v128Load(0).set(xv);
    for (let r = 0; r < 4; r++) {
      f.get(acc[r]).get(row);
      if (r > 0) f.get(LDA).i32(r).i32Mul().i32Add();
      f.get(c).i32Add().v128Load(0).get(xv).f64x2Mul().f64x2Add().set(acc[r]);
    }
  });
  for (let r = 0; r < 4; r++) store(r, acc[r]);
  f.get(row).get(LDA).i32(2).i32Shl().i32Add().set(row);
  f.get(yAt).i32(32).i32Add().set(yAt);
  f.get(i).i32(4).i32Add().set(i);
  f.br(0);
  f.end().end();
  // The remaining rows, one at a time.
  f.countUp(i, ROWS, () => {
    f.v128Zero().set(acc[0]);
    f.i32(0).set(c);
    f.stepUp(c, cEnd, 16, () => {
      f.get(acc[0]).get(row).get(c).i32Add().v128Load(0).get(X).get(c).i32Add().v128Load(0).f64x2Mul().f64x2Add().set(acc[0]);
    });
    store(0, acc[0]);
    f.get(row).get(LDA).i32Add().set(row);
    f.get(yAt).i32(8).i32Add().set(yAt);
  });
  return f;
}

/**
 * dgemvT(a, lda, rows, cols, x, y): y[c] += Σ_{i<rows} a[i, c]·x[i] for c < cols (cols even; the
 * caller sets y first). Two rows per pass over y, so y is loaded and stored half as often.
 */
export function dgemvT(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [A, LDA, ROWS, COLS, X, Y] = [0, 1, 2, 3, 4, 5];
  const [i, c, cEnd, row] = f.locals(T.i32, 4);
  const [x0, x1] = f.locals(T.v128, 2);
  // y[c..c+2) += row·x0 (+ next row·x1) over every column pair.
  const addRows = (rows: 1 | 2) => {
    f.i32(0).set(c);
    f.stepUp(c, cEnd, 16, () => {
      f.get(Y).get(c).i32Add();
      f.get(Y).get(c).i32Add().v128Load(0);
      f.get(row).get(c).i32Add().v128Load(0).get(x0).f64x2Mul().f64x2Add();
      if (rows === 2) f.get(row).get(LDA).i32Add().get(c).i32Add().v128Load(0).get(x1).f64x2Mul().f64x2Add();
      f.v128Store(0);
    });
  };
  f.get(COLS).i32(3).i32Shl().set(cEnd);
  f.i32(0).set(i);
  f.get(A).set(row);
  f.block().loop();
  f.get(i).i32(2).i32Add().get(ROWS).i32GtU().brIf(1);
  f.get(X).get(i).i32(3).i32Shl().i32Add().v128Load64Splat(0).set(x0);
  f.get(X).get(i).i32(3).i32Shl().i32Add().v128Load64Splat(8).set(x1);
  addRows(2);
  f.get(row).get(LDA).i32(1).i32Shl().i32Add().set(row);
  f.get(i).i32(2).i32Add().set(i);
  f.br(0);
  f.end().end();
  // A last odd row.
  f.get(i).get(ROWS).i32LtU().if();
  f.get(X).get(i).i32(3).i32Shl().i32Add().v128Load64Splat(0).set(x0);
  addRows(1);
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
  const [col, colEnd, t, row, csAt] = f.locals(T.i32, 5);
  const [cv, sv] = f.locals(T.v128, 2);
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
