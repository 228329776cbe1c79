/**
 * im2col and its adjoint col2im, in the layout documented on Backend.im2col. For each column row
 * (c, i, j) the range of output columns ow whose input column iw falls inside the image is solved
 * once, so the inner loops are plain strided copies with no bounds tests, division or modulo.
 *
 * Large calls are split across the thread pool: im2col by rows of cols (disjoint writes), col2im by
 * channels (each channel's rows of cols land in its own planes of dx) or, with fewer channels than
 * threads, by images (see window-kernels.ts).
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { WindowGeometry } from '../backend.js';
import { checkArray, checkGeometry, checkLength, checkSameType } from './checks.js';
import * as threads from './threads.js';
import * as windowKernels from './window-kernels.js';

const im2colRows = windowKernels.im2colRows;
const col2imPart = windowKernels.col2imPart;
const im2colRowsW = windowKernels.im2colRowsW;
const col2imPartW = windowKernels.col2imPartW;

/** Elements of cols from which float32 goes through the wasm kernels (copies in and out included). */
const WASM_MIN = 4096;

function checkIm2colArgs(kernel: string, x: TypedArray, xName: string, g: WindowGeometry, cols: TypedArray): void {
  checkArray(kernel, xName, x);
  checkArray(kernel, 'cols', cols);
  checkSameType(kernel, 'cols', cols, x, xName);
  checkGeometry(kernel, g);
  checkLength(kernel, xName, x, g.batch * g.totalChannels * g.inH * g.inW);
  checkLength(kernel, 'cols', cols, g.channels * g.kH * g.kW * g.batch * g.outH * g.outW);
}

export function im2col(x: TypedArray, g: WindowGeometry, cols: TypedArray): void {
  checkIm2colArgs('im2col', x, 'x', g, cols);
  const rows = g.channels * g.kH * g.kW;
  const size = rows * g.batch * g.outH * g.outW;
  const simd = size >= WASM_MIN && x instanceof Float32Array && threads.simdEnabled();
  threads.parallelFor(
    size >= threads.tuning.windowMin ? rows : 1,
    1,
    [x, cols],
    (r0, r1) => ({ kind: 'im2col', simd, x, g, cols, r0, r1 }),
    () => (simd ? im2colRowsW(threads.mainState(), x, g, cols, 0, rows) : im2colRows(x, g, cols, 0, rows)),
  );
}

export function col2im(cols: TypedArray, g: WindowGeometry, dx: TypedArray): void {
  checkIm2colArgs('col2im', dx, 'dx', g, cols);
  const size = g.channels * g.kH * g.kW * g.batch * g.outH * g.outW;
  const simd = size >= WASM_MIN && cols instanceof Float32Array && threads.simdEnabled();
  const whole = (): void =>
    simd ? col2imPartW(threads.mainState(), cols, g, dx, 0, g.channels, 0, g.batch) : col2imPart(cols, g, dx, 0, g.channels, 0, g.batch);
  if (size < threads.tuning.windowMin) return whole();
  // Split channels when there are enough of them, else images (each image's planes are its own too).
  const byChannel = g.channels >= threads.getNumThreads();
  threads.parallelFor(
    byChannel ? g.channels : g.batch,
    1,
    [cols, dx],
    (lo, hi) =>
      byChannel
        ? { kind: 'col2im', simd, cols, g, dx, c0: lo, c1: hi, n0: 0, n1: g.batch }
        : { kind: 'col2im', simd, cols, g, dx, c0: 0, c1: g.channels, n0: lo, n1: hi },
    whole,
  );
}
