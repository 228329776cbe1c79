/**
 * im2col and col2im as WebAssembly (float32), emitted from TypeScript: the same loop nest as the
 * JavaScript kernels in window-kernels.ts (per column row the in-image ranges of output rows and
 * columns are solved once), with contiguous runs copied or accumulated four floats at a time.
 * Addresses are byte offsets into the module's memory; the caller copies x (or dx) and cols in
 * and out. Results equal the JavaScript kernels' exactly: copies are copies, and col2im adds the
 * same float32 values in the same order (a float32 sum rounds alike in float32 and in doubles).
 */
import { FuncBuilder, T } from './emit.js';

type F = FuncBuilder;

/** t = clamp(ceil(a / b), lo, hi) for b ≥ 1, from locals (lo and hi are locals too). */
function ceilDivClamp(f: F, a: number, b: number, lo: number, hi: number, t: number): void {
  // a > 0 ? (a + b − 1) / b : a / b   (i32.div_s truncates toward zero, which is ceil for a ≤ 0)
  f.get(a).get(b).i32Add().i32(1).i32Sub().get(b).i32DivS();
  f.get(a).get(b).i32DivS();
  f.get(a).i32(0).i32GtS();
  f.select().set(t);
  // max(lo, t), then min(hi, t)
  f.get(t).get(lo).get(t).get(lo).i32GtS().select().set(t);
  f.get(t).get(hi).get(t).get(hi).i32LtS().select().set(t);
}

/** Stores count zeros from ptr on, advancing ptr. */
function zeroRun(f: F, ptr: number, count: number, end: number): void {
  f.get(ptr).get(count).i32(2).i32Shl().i32Add().set(end);
  f.stepUp(ptr, end, 4, () => {
    f.get(ptr).f32Const(0).f32Store(0);
  });
}

/**
 * dst[0 … count) = src[…] (accumulate: +=), advancing both pointers: four floats at a time, then
 * one at a time.
 */
function run(f: F, src: number, dst: number, count: number, end: number, accumulate: boolean): void {
  f.get(dst).get(count).i32(2).i32Shl().i32Add().set(end);
  // Vector part: while dst + 16 ≤ end.
  f.block();
  f.loop();
  f.get(dst).i32(16).i32Add().get(end).i32GtU().brIf(1);
  f.get(dst);
  if (accumulate) f.get(dst).v128Load(0).get(src).v128Load(0).f32x4Add();
  else f.get(src).v128Load(0);
  f.v128Store(0);
  f.get(src).i32(16).i32Add().set(src);
  f.get(dst).i32(16).i32Add().set(dst);
  f.br(0);
  f.end();
  f.end();
  // Scalar tail.
  f.block();
  f.loop();
  f.get(dst).get(end).i32GeU().brIf(1);
  f.get(dst);
  if (accumulate) f.get(dst).f32Load(0).get(src).f32Load(0).f32Add();
  else f.get(src).f32Load(0);
  f.f32Store(0);
  f.get(src).i32(4).i32Add().set(src);
  f.get(dst).i32(4).i32Add().set(dst);
  f.br(0);
  f.end();
  f.end();
}

/** Geometry parameters shared by both kernels, in this order after the kernel's own. */
const GEOM = ['IH', 'IW', 'KH', 'KW', 'SH', 'SW', 'PH', 'PW', 'DH', 'DW', 'OH', 'OW'] as const;

/** The locals tapRanges reads and writes (and the tap loop's c, i, j), in the order both kernels declare them. */
const TAP_LOCALS = ['c', 'i', 'j', 'hOff', 'wOff', 'ohLo', 'ohHi', 'owLo', 'owHi', 'zero', 't'];

/** The geometry parameters' indices: they follow the kernel's own `first` parameters. */
function geometryParams(first: number): Record<(typeof GEOM)[number], number> {
  return Object.fromEntries(GEOM.map((k, idx) => [k, first + idx])) as Record<(typeof GEOM)[number], number>;
}

/** Solves hOff, wOff and the in-image ranges for tap (i, j). */
function tapRanges(f: F, g: Record<(typeof GEOM)[number], number>, i: number, j: number, l: Record<string, number>): void {
  const { zero, t } = l;
  f.get(i).get(g.DH).i32Mul().get(g.PH).i32Sub().set(l.hOff);
  f.get(j).get(g.DW).i32Mul().get(g.PW).i32Sub().set(l.wOff);
  f.i32(0).set(zero);
  f.i32(0).get(l.hOff).i32Sub().set(t);
  ceilDivClamp(f, t, g.SH, zero, g.OH, l.ohLo);
  f.get(g.IH).get(l.hOff).i32Sub().set(t);
  ceilDivClamp(f, t, g.SH, l.ohLo, g.OH, l.ohHi);
  f.i32(0).get(l.wOff).i32Sub().set(t);
  ceilDivClamp(f, t, g.SW, zero, g.OW, l.owLo);
  f.get(g.IW).get(l.wOff).i32Sub().set(t);
  ceilDivClamp(f, t, g.SW, l.owLo, g.OW, l.owHi);
}

/** Pushes the byte address in x of output row `oh`'s first in-image column: xPlane + ((oh·SH + hOff)·IW + wOff + owLo·SW)·4. */
function imageAddress(f: F, g: Record<(typeof GEOM)[number], number>, l: Record<string, number>, oh: number): void {
  f.get(l.xPlane)
    .get(oh)
    .get(g.SH)
    .i32Mul()
    .get(l.hOff)
    .i32Add()
    .get(g.IW)
    .i32Mul()
    .get(l.wOff)
    .i32Add()
    .get(l.owLo)
    .get(g.SW)
    .i32Mul()
    .i32Add()
    .i32(2)
    .i32Shl()
    .i32Add();
}

/**
 * The t bytes at dst = those at src (accumulate: +=), by a byte offset cnt from 0: v128 while 16
 * bytes remain, then floats. dst and src stay where they are (l.end is scratch).
 */
function offsetRun(f: F, l: Record<string, number>, accumulate: boolean): void {
  f.i32(0).set(l.cnt);
  f.block().loop();
  f.get(l.cnt).i32(16).i32Add().get(l.t).i32GtU().brIf(1);
  f.get(l.dst).get(l.cnt).i32Add();
  if (accumulate) f.tee(l.end).get(l.end).v128Load(0);
  f.get(l.src).get(l.cnt).i32Add().v128Load(0);
  if (accumulate) f.f32x4Add();
  f.v128Store(0);
  f.get(l.cnt).i32(16).i32Add().set(l.cnt);
  f.br(0);
  f.end().end();
  f.block().loop();
  f.get(l.cnt).get(l.t).i32GeU().brIf(1);
  f.get(l.dst).get(l.cnt).i32Add();
  if (accumulate) f.tee(l.end).get(l.end).f32Load(0);
  f.get(l.src).get(l.cnt).i32Add().f32Load(0);
  if (accumulate) f.f32Add();
  f.f32Store(0);
  f.get(l.cnt).i32(4).i32Add().set(l.cnt);
  f.br(0);
  f.end().end();
}

function locals(f: F, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = f.local(T.i32);
  return out;
}

/**
 * im2col(x, cols, r0, r1, nImg, ch, c0, IH … OW): rows [r0, r1) of cols (row r = (c·KH + i)·KW + j)
 * into cols (row r0 first), from x laid out [n][c − c0][IH][IW] with ch channels.
 */
export function im2colKernel(): F {
  const f = new FuncBuilder(new Array(7 + GEOM.length).fill(T.i32), []);
  const [X, COLS, R0, R1, NIMG, CH, C0] = [0, 1, 2, 3, 4, 5, 6];
  const g = geometryParams(7);
  const l = locals(f, ['row', ...TAP_LOCALS, 'dst', 'n', 'oh', 'xPlane', 'src', 'cnt', 'end', 'kk', 'plane']);
  f.get(g.KH).get(g.KW).i32Mul().set(l.kk);
  f.get(g.IH).get(g.IW).i32Mul().set(l.plane);
  f.get(COLS).set(l.dst);
  f.get(R0).set(l.row);
  f.countUp(l.row, R1, () => {
    // rows
    f.get(l.row).get(l.kk).i32DivS().set(l.c);
    f.get(l.row).get(g.KW).i32DivS().get(g.KH).i32RemS().set(l.i);
    f.get(l.row).get(g.KW).i32RemS().set(l.j);
    tapRanges(f, g, l.i, l.j, l);
    f.i32(0).set(l.n);
    f.countUp(l.n, NIMG, () => {
      // images
      // xPlane = X + ((n·ch + c − c0)·plane)·4
      f.get(X).get(l.n).get(CH).i32Mul().get(l.c).i32Add().get(C0).i32Sub().get(l.plane).i32Mul().i32(2).i32Shl().i32Add().set(l.xPlane);
      // Fast path: stride 1 and no padding on this tap's columns: rows [ohLo, ohHi) are whole runs of
      // OW floats, contiguous in cols, IW·SH apart in x.
      f.get(g.SW).i32(1).i32Eq().get(l.owLo).i32Eqz().i32And().get(l.owHi).get(g.OW).i32Eq().i32And().if();
      f.get(l.ohLo).get(g.OW).i32Mul().set(l.cnt);
      zeroRun(f, l.dst, l.cnt, l.end);
      f.get(l.xPlane).get(l.ohLo).get(g.SH).i32Mul().get(l.hOff).i32Add().get(g.IW).i32Mul().get(l.wOff).i32Add().i32(2).i32Shl().i32Add().set(l.src);
      f.get(g.OW).i32(2).i32Shl().set(l.t); // bytes per row
      f.get(l.ohLo).set(l.oh);
      f.countUp(l.oh, l.ohHi, () => {
        // One row: v128 copies at byte offsets k < t − 15, then floats.
        offsetRun(f, l, false);
        f.get(l.dst).get(l.t).i32Add().set(l.dst);
        f.get(l.src).get(g.SH).get(g.IW).i32Mul().i32(2).i32Shl().i32Add().set(l.src);
      });
      f.get(g.OH).get(l.ohHi).i32Sub().get(g.OW).i32Mul().set(l.cnt);
      zeroRun(f, l.dst, l.cnt, l.end);
      f.else();
      f.i32(0).set(l.oh);
      f.countUp(l.oh, g.OH, () => {
        // output rows
        f.get(l.oh).get(l.ohLo).i32LtS().get(l.oh).get(l.ohHi).i32GeS().i32Or().if();
        zeroRun(f, l.dst, g.OW, l.end);
        f.else();
        zeroRun(f, l.dst, l.owLo, l.end);
        // src = xPlane + ((oh·SH + hOff)·IW + wOff + owLo·SW)·4
        imageAddress(f, g, l, l.oh);
        f.set(l.src);
        f.get(l.owHi).get(l.owLo).i32Sub().set(l.cnt);
        f.get(g.SW).i32(1).i32Eq().if();
        run(f, l.src, l.dst, l.cnt, l.end, false);
        f.else();
        // Strided: one float per step of SW.
        f.get(l.dst).get(l.cnt).i32(2).i32Shl().i32Add().set(l.end);
        f.block().loop();
        f.get(l.dst).get(l.end).i32GeU().brIf(1);
        f.get(l.dst).get(l.src).f32Load(0).f32Store(0);
        f.get(l.src).get(g.SW).i32(2).i32Shl().i32Add().set(l.src);
        f.get(l.dst).i32(4).i32Add().set(l.dst);
        f.br(0);
        f.end().end();
        f.end();
        f.get(g.OW).get(l.owHi).i32Sub().set(l.cnt);
        zeroRun(f, l.dst, l.cnt, l.end);
        f.end();
      });
      f.end(); // fast path / general
    });
  });
  return f;
}

/**
 * col2im(dx, cols, c0, c1, n0, n1, nImg, ch, IH … OW): accumulates the rows of channels [c0, c1)
 * (cols laid out from channel c0's first row, each row nImg·OH·OW floats) into dx laid out
 * [n − n0][c − c0][IH][IW] with ch channels, for images [n0, n1).
 */
export function col2imKernel(): F {
  const f = new FuncBuilder(new Array(8 + GEOM.length).fill(T.i32), []);
  const [DX, COLS, C0, C1, N0, N1, NIMG, CH] = [0, 1, 2, 3, 4, 5, 6, 7];
  const g = geometryParams(8);
  const l = locals(f, [...TAP_LOCALS, 'rowBase', 'n', 'oh', 'xPlane', 'src', 'dst', 'cnt', 'end', 'plane', 'rowLen', 'rowSrc', 'rowDst']);
  f.get(g.IH).get(g.IW).i32Mul().set(l.plane);
  f.get(NIMG).get(g.OH).i32Mul().get(g.OW).i32Mul().set(l.rowLen);
  f.get(COLS).set(l.rowBase);
  f.get(C0).set(l.c);
  f.countUp(l.c, C1, () => {
    // channels
    f.i32(0).set(l.i);
    f.countUp(l.i, g.KH, () => {
      // taps i
      f.i32(0).set(l.j);
      f.countUp(l.j, g.KW, () => {
        // taps j
        tapRanges(f, g, l.i, l.j, l);
        f.get(N0).set(l.n);
        f.countUp(l.n, N1, () => {
          // images
          f.get(DX).get(l.n).get(N0).i32Sub().get(CH).i32Mul().get(l.c).i32Add().get(C0).i32Sub().get(l.plane).i32Mul().i32(2).i32Shl().i32Add().set(l.xPlane);
          // Row starts at oh = ohLo, then stepped per row: src by OW floats, dst by SH·IW floats.
          // src = rowBase + ((n·OH + oh)·OW + owLo)·4 ; dst = xPlane + ((oh·SH + hOff)·IW + wOff + owLo·SW)·4
          f.get(l.rowBase).get(l.n).get(g.OH).i32Mul().get(l.ohLo).i32Add().get(g.OW).i32Mul().get(l.owLo).i32Add().i32(2).i32Shl().i32Add().set(l.rowSrc);
          imageAddress(f, g, l, l.ohLo);
          f.set(l.rowDst);
          f.get(l.ohLo).set(l.oh);
          f.countUp(l.oh, l.ohHi, () => {
            // output rows in the image
            f.get(l.rowSrc).set(l.src);
            f.get(l.rowDst).set(l.dst);
            f.get(l.rowSrc).get(g.OW).i32(2).i32Shl().i32Add().set(l.rowSrc);
            f.get(l.rowDst).get(g.SH).get(g.IW).i32Mul().i32(2).i32Shl().i32Add().set(l.rowDst);
            f.get(l.owHi).get(l.owLo).i32Sub().set(l.cnt);
            f.get(g.SW).i32(1).i32Eq().if();
            // Stride 1: one run, four floats at a time (pointers are locals of this row, so no need to keep them).
            f.get(l.cnt).i32(2).i32Shl().set(l.t);
            offsetRun(f, l, true);
            f.else();
            f.get(l.src).get(l.cnt).i32(2).i32Shl().i32Add().set(l.end);
            f.block().loop();
            f.get(l.src).get(l.end).i32GeU().brIf(1);
            f.get(l.dst).get(l.dst).f32Load(0).get(l.src).f32Load(0).f32Add().f32Store(0);
            f.get(l.dst).get(g.SW).i32(2).i32Shl().i32Add().set(l.dst);
            f.get(l.src).i32(4).i32Add().set(l.src);
            f.br(0);
            f.end().end();
            f.end();
          });
        });
        f.get(l.rowBase).get(l.rowLen).i32(2).i32Shl().i32Add().set(l.rowBase);
      });
    });
  });
  return f;
}

/** Bytes of the f32x4 lanes (even: floats 0, 2, 4, 6 of a‖b; odd: 1, 3, 5, 7) for i8x16.shuffle. */
const EVEN = [0, 2, 4, 6].flatMap((q) => [4 * q, 4 * q + 1, 4 * q + 2, 4 * q + 3]);
const ODD = [1, 3, 5, 7].flatMap((q) => [4 * q, 4 * q + 1, 4 * q + 2, 4 * q + 3]);

function i32x4Bytes(v: number[]): number[] {
  return Array.from(new Uint8Array(new Int32Array(v).buffer));
}

/**
 * maxPool2x2(x, out, argmax, planes, inH, inW, outH, outW, idxBase): 2×2 windows, stride 2, no
 * padding, over `planes` planes of x (laid out [plane][inH][inW]); out and argmax (int32, the flat
 * index into the caller's x, idxBase + index into this x) laid out [plane][outH][outW]. Four outputs
 * at a time: the two input rows are split into even and odd columns by shuffles, and the taps are
 * taken in the JavaScript kernel's order with its rule (replace when !(v ≤ best) and best is not
 * NaN), lane by lane. A row's last group may write up to 3 lanes past its end: they land on the
 * next row's first outputs, computed right after, or on the caller's slack past the last row.
 */
export function maxPool2x2Kernel(): F {
  const f = new FuncBuilder(new Array(9).fill(T.i32), []);
  const [X, OUT, ARG, PLANES, IH, IW, OH, OW, IDX] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const l = locals(f, ['p', 'oh', 'g', 'groups', 'row0', 'row1', 'o', 'a', 'idx', 'plane', 'oPlane']);
  const v = {
    x0: f.local(T.v128),
    x1: f.local(T.v128),
    best: f.local(T.v128),
    bi: f.local(T.v128),
    vi: f.local(T.v128),
    c: f.local(T.v128),
    t: f.local(T.v128),
    u: f.local(T.v128),
    i00: f.local(T.v128),
  };
  f.get(OW).i32(3).i32Add().i32(2).i32ShrU().set(l.groups);
  f.get(IH).get(IW).i32Mul().set(l.plane);
  f.get(OH).get(OW).i32Mul().set(l.oPlane);
  f.i32(0).set(l.p);
  f.countUp(l.p, PLANES, () => {
    // planes
    f.i32(0).set(l.oh);
    f.countUp(l.oh, OH, () => {
      // output rows
      // idx = idxBase + p·plane + 2·oh·IW: the flat index of tap (0, 0) of this row's first window.
      f.get(IDX).get(l.p).get(l.plane).i32Mul().i32Add().get(l.oh).i32(1).i32Shl().get(IW).i32Mul().i32Add().set(l.idx);
      f.get(X).get(l.idx).get(IDX).i32Sub().i32(2).i32Shl().i32Add().set(l.row0);
      f.get(l.row0).get(IW).i32(2).i32Shl().i32Add().set(l.row1);
      // o = output index of this row's first window.
      f.get(l.p).get(l.oPlane).i32Mul().get(l.oh).get(OW).i32Mul().i32Add().set(l.o);
      f.i32(0).set(l.g);
      f.countUp(l.g, l.groups, () => {
        // groups of four windows
        // Indices of tap (0, 0) for the four windows: idx + 8g + [0, 2, 4, 6].
        f.get(l.idx)
          .get(l.g)
          .i32(3)
          .i32Shl()
          .i32Add()
          .i32x4Splat()
          .v128Const(i32x4Bytes([0, 2, 4, 6]))
          .i32x4Add()
          .set(v.i00);
        // Row 0: taps (0, 0) even, (0, 1) odd.
        f.get(l.row0).get(l.g).i32(5).i32Shl().i32Add().set(l.a);
        f.get(l.a).v128Load(0).set(v.x0);
        f.get(l.a).v128Load(16).set(v.x1);
        f.get(v.x0).get(v.x1).i8x16Shuffle(EVEN).set(v.best);
        f.get(v.i00).set(v.bi);
        // The lane index offsets (+1, +IW, +IW+1) are runtime for the last two: build them with splats.
        const takeTap = (value: () => void, offsetLocal: number | null, constOffset: number): void => {
          value();
          f.set(v.t);
          f.get(v.t).get(v.best).f32x4Le().v128Not().get(v.best).get(v.best).f32x4Eq().v128And().set(v.c);
          f.get(v.t).get(v.best).get(v.c).v128Bitselect().set(v.best);
          f.get(v.i00);
          if (offsetLocal === null) f.i32(constOffset);
          else f.get(offsetLocal).i32(constOffset).i32Add();
          f.i32x4Splat().i32x4Add().set(v.u);
          f.get(v.u).get(v.bi).get(v.c).v128Bitselect().set(v.bi);
        };
        takeTap(() => f.get(v.x0).get(v.x1).i8x16Shuffle(ODD), null, 1);
        // Row 1: taps (1, 0) even, (1, 1) odd.
        f.get(l.row1).get(l.g).i32(5).i32Shl().i32Add().set(l.a);
        f.get(l.a).v128Load(0).set(v.x0);
        f.get(l.a).v128Load(16).set(v.x1);
        takeTap(() => f.get(v.x0).get(v.x1).i8x16Shuffle(EVEN), IW, 0);
        takeTap(() => f.get(v.x0).get(v.x1).i8x16Shuffle(ODD), IW, 1);
        // Store four outputs and their indices.
        f.get(OUT).get(l.o).get(l.g).i32(2).i32Shl().i32Add().i32(2).i32Shl().i32Add().get(v.best).v128Store(0);
        f.get(ARG).get(l.o).get(l.g).i32(2).i32Shl().i32Add().i32(2).i32Shl().i32Add().get(v.bi).v128Store(0);
      });
    });
  });
  return f;
}
