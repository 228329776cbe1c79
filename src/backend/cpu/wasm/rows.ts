/**
 * Row kernels of the convolution's layout pass (conv-layout.ts, swapRowsW), float32: the rows are
 * already in their new order in the module's memory, `rows` rows of `P` floats back to back, and
 * these add each row's bias in place or take each row's sum, four floats at a time. JavaScript did
 * the same one float at a time at a tenth of the speed (docs/design.md §3.5.3).
 */
import { FuncBuilder, T } from './emit.js';

/**
 * rowsBias(ptr, rows, P, biasPtr, A, a0): row t (from 0) gets bias[(a0 + t) mod A] added to each of
 * its P floats. One float32 addition per value, as JavaScript's x + bias rounded to float32 (the sum
 * of two float32 values rounds alike in float32 and in doubles): the same bits.
 */
export function rowsBias(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], []);
  const [PTR, ROWS, P, BIAS, A, A0] = [0, 1, 2, 3, 4, 5];
  const [r, a, q, vend, rowEnd] = f.locals(T.i32, 5);
  const b = f.local(T.v128);
  f.get(A0).set(a);
  f.get(PTR).set(q);
  f.i32(0).set(r);
  f.countUp(r, ROWS, () => {
    // rows
    f.get(BIAS).get(a).i32(2).i32Shl().i32Add().v128Load32Splat(0).set(b);
    f.get(q).get(P).i32(2).i32ShrU().i32(4).i32Shl().i32Add().set(vend);
    f.get(q).get(P).i32(2).i32Shl().i32Add().set(rowEnd);
    f.block().loop(); // four floats at a time
    f.get(q).get(vend).i32GeU().brIf(1);
    f.get(q).get(q).v128Load(0).get(b).f32x4Add().v128Store(0);
    f.get(q).i32(16).i32Add().set(q);
    f.br(0);
    f.end().end();
    f.block().loop(); // the row's last P mod 4 floats
    f.get(q).get(rowEnd).i32GeU().brIf(1);
    f.get(q).get(q).f32Load(0).get(BIAS).get(a).i32(2).i32Shl().i32Add().f32Load(0).f32Add().f32Store(0);
    f.get(q).i32(4).i32Add().set(q);
    f.br(0);
    f.end().end();
    // a = a + 1 == A ? 0 : a + 1
    f.i32(0).get(a).i32(1).i32Add().get(a).i32(1).i32Add().get(A).i32Eq().select().set(a);
  });
  return f;
}

/**
 * rowsSum4(ptr, rows, P, outPtr): for row t, four float32 partial sums at outPtr + 16t, lane j the
 * sum of the row's floats 4i + j over its first 4·⌊P/4⌋ floats. The caller adds the four lanes and
 * the row's last P mod 4 floats in doubles.
 */
export function rowsSum4(): FuncBuilder {
  const f = new FuncBuilder([T.i32, T.i32, T.i32, T.i32], []);
  const [PTR, ROWS, P, OUT] = [0, 1, 2, 3];
  const [r, q, vend] = f.locals(T.i32, 3);
  const acc = f.local(T.v128);
  f.get(PTR).set(q);
  f.i32(0).set(r);
  f.countUp(r, ROWS, () => {
    // rows
    f.v128Zero().set(acc);
    f.get(q).get(P).i32(2).i32ShrU().i32(4).i32Shl().i32Add().set(vend);
    f.block().loop();
    f.get(q).get(vend).i32GeU().brIf(1);
    f.get(acc).get(q).v128Load(0).f32x4Add().set(acc);
    f.get(q).i32(16).i32Add().set(q);
    f.br(0);
    f.end().end();
    f.get(OUT).get(r).i32(4).i32Shl().i32Add().get(acc).v128Store(0);
    // The next row starts P floats after this one's start: skip the P mod 4 left.
    f.get(q).get(P).i32(3).i32And().i32(2).i32Shl().i32Add().set(q);
  });
  return f;
}
