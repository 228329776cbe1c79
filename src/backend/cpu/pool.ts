/**
 * 2-D max and average pooling over every channel of an NCHW batch, with their backward passes.
 * Per output row and column the in-bounds window range is solved up front, so padding costs no
 * test in the inner loops.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { WindowGeometry } from '../backend.js';
import { checkArray, checkGeometry, checkLength, checkSameType, fail } from './checks.js';
import * as threads from './threads.js';
import * as windowKernels from './window-kernels.js';

const maxPoolPlanes = windowKernels.maxPoolPlanes;
const maxPoolPlanesW = windowKernels.maxPoolPlanesW;
const maxPoolBackwardRange = windowKernels.maxPoolBackwardRange;

/** Taps t in [lo, hi) of a window starting at `start` (step dil, k taps) that land in [lower, upper). */
function tapRange(start: number, dil: number, k: number, lower: number, upper: number): [number, number] {
  const lo = Math.min(k, Math.max(0, Math.ceil((lower - start) / dil)));
  const hi = Math.min(k, Math.max(lo, Math.ceil((upper - start) / dil)));
  return [lo, hi];
}

/**
 * Per output position along one axis: the window start, its in-bounds taps [lo, hi), and its share
 * of the average-pool divisor. Built once per call so the per-window work is table lookups.
 * As in PyTorch, countIncludePad counts the taps inside the padded bounds [-pad, in + pad) (a
 * window hanging past the padding, as in ceil mode, is clipped); otherwise only in-bounds taps.
 */
interface AxisTable {
  start: Int32Array;
  lo: Int32Array;
  hi: Int32Array;
  count: Int32Array;
}

function axisTable(out: number, stride: number, pad: number, dil: number, k: number, inSize: number, countIncludePad: boolean): AxisTable {
  const t: AxisTable = { start: new Int32Array(out), lo: new Int32Array(out), hi: new Int32Array(out), count: new Int32Array(out) };
  for (let o = 0; o < out; o++) {
    const start = o * stride - pad;
    const [lo, hi] = tapRange(start, dil, k, 0, inSize);
    const [plo, phi] = countIncludePad ? tapRange(start, dil, k, -pad, inSize + pad) : [lo, hi];
    t.start[o] = start;
    t.lo[o] = lo;
    t.hi[o] = hi;
    t.count[o] = phi - plo;
  }
  return t;
}

function checkPoolGeometry(kernel: string, g: WindowGeometry): void {
  checkGeometry(kernel, g);
  if (g.channelOffset !== 0 || g.channels !== g.totalChannels) {
    fail(
      kernel,
      `pooling covers every channel: geometry.channelOffset must be 0 and channels must equal totalChannels (${g.totalChannels}), got ${g.channelOffset} and ${g.channels}`,
    );
  }
}

function checkPoolBuffers(kernel: string, x: TypedArray, xName: string, g: WindowGeometry, y: TypedArray, yName: string): void {
  checkArray(kernel, xName, x);
  checkArray(kernel, yName, y);
  checkSameType(kernel, yName, y, x, xName);
  checkPoolGeometry(kernel, g);
  checkLength(kernel, xName, x, g.batch * g.channels * g.inH * g.inW);
  checkLength(kernel, yName, y, g.batch * g.channels * g.outH * g.outW);
}

export function maxPool2d(x: TypedArray, g: WindowGeometry, out: TypedArray, argmax: Int32Array): void {
  checkPoolBuffers('maxPool2d', x, 'x', g, out, 'out');
  if (!(argmax instanceof Int32Array)) fail('maxPool2d', `argmax must be an Int32Array, got ${String(argmax)}`);
  const planes = g.batch * g.channels;
  const size = planes * g.outH * g.outW;
  checkLength('maxPool2d', 'argmax', argmax, size);
  const simd = size >= 256 && x instanceof Float32Array && threads.simdEnabled();
  const whole = (am: Int32Array): void => (simd ? maxPoolPlanesW(threads.mainState(), x, g, out, am, 0, planes) : maxPoolPlanes(x, g, out, am, 0, planes));
  if (size < threads.tuning.poolMin || threads.getNumThreads() < 2 || !threads.isShared(x) || !threads.isShared(out)) return whole(argmax);
  // argmax comes from the caller, usually on a plain ArrayBuffer: the workers write shared scratch.
  const shared = threads.isSharedInt(argmax) ? argmax : threads.sharedIntScratch(size);
  threads.parallelFor(
    planes,
    1,
    [x, out, shared],
    (p0, p1) => ({ kind: 'maxPool', simd, x, g, out, argmax: shared, p0, p1 }),
    () => whole(shared),
  );
  if (shared !== argmax) argmax.set(shared.subarray(0, size));
}

/**
 * dx[argmax[o]] += gy[o]. With the geometry (g) the work splits across the pool by planes: each
 * output plane's maxima lie in the same plane of dx, so the planes' scatters never overlap.
 * zeroFirst (needs g) sets dx to zero before the scatter, each range its own planes, so that a
 * buffer with stale values can be passed and the zeroing runs in parallel too.
 */
export function maxPool2dBackward(gy: TypedArray, argmax: Int32Array | Float64Array, dx: TypedArray, g?: WindowGeometry, zeroFirst = false): void {
  checkArray('maxPool2dBackward', 'gy', gy);
  checkArray('maxPool2dBackward', 'dx', dx);
  checkSameType('maxPool2dBackward', 'dx', dx, gy, 'gy');
  if (!(argmax instanceof Int32Array || argmax instanceof Float64Array))
    fail('maxPool2dBackward', `argmax must be an Int32Array or a Float64Array of indices, got ${String(argmax)}`);
  checkLength('maxPool2dBackward', 'argmax', argmax, gy.length);
  if (zeroFirst && g === undefined) fail('maxPool2dBackward', 'zeroFirst needs the geometry g (the planes to zero), got none');
  const whole = (): void => {
    if (zeroFirst) dx.fill(0);
    maxPoolBackwardRange(gy, argmax, dx, 0, gy.length);
  };
  if (g === undefined) return whole();
  const planes = g.batch * g.channels;
  const oPlane = g.outH * g.outW;
  const iPlane = g.inH * g.inW;
  if (planes * oPlane !== gy.length || dx.length !== planes * iPlane)
    fail('maxPool2dBackward', `gy (${gy.length}) and dx (${dx.length}) do not match the geometry`);
  if (gy.length < threads.tuning.poolMin || threads.getNumThreads() < 2) return whole();
  const zero = zeroFirst ? iPlane : 0;
  threads.parallelFor(
    planes,
    1,
    [gy, dx, argmax],
    (p0, p1) => ({ kind: 'maxPoolBack', gy, argmax, dx, o0: p0 * oPlane, o1: p1 * oPlane, z0: p0 * zero, z1: p1 * zero }),
    whole,
  );
}

export function avgPool2d(x: TypedArray, g: WindowGeometry, countIncludePad: boolean, out: TypedArray): void {
  checkPoolBuffers('avgPool2d', x, 'x', g, out, 'out');
  avgPoolWindows(x, g, countIncludePad, out, false);
}

/** Adjoint of avgPool2d: accumulates (+=) each gy / divisor into its window's in-bounds taps of dx. */
export function avgPool2dBackward(gy: TypedArray, g: WindowGeometry, countIncludePad: boolean, dx: TypedArray): void {
  checkPoolBuffers('avgPool2dBackward', dx, 'dx', g, gy, 'gy');
  avgPoolWindows(dx, g, countIncludePad, gy, true);
}

/**
 * The window walk of average pooling, both ways: forward, out[o] = the mean of x over window o's
 * in-bounds taps (count as countIncludePad says); backward, gy[o] / count added to each of those
 * taps of dx. `x` is the input-sized buffer and `y` the output-sized one in both directions.
 */
function avgPoolWindows(x: TypedArray, g: WindowGeometry, countIncludePad: boolean, y: TypedArray, backward: boolean): void {
  const { batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = g;
  const rows = axisTable(outH, strideH, padH, dilH, kH, inH, countIncludePad);
  const cols = axisTable(outW, strideW, padW, dilW, kW, inW, countIncludePad);
  const plane = inH * inW;
  let o = 0;
  for (let p = 0; p < batch * channels; p++) {
    const xPlane = p * plane;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = rows.start[oh],
        iLo = rows.lo[oh],
        iHi = rows.hi[oh],
        dh = rows.count[oh];
      for (let ow = 0; ow < outW; ow++, o++) {
        const w0 = cols.start[ow],
          jLo = cols.lo[ow],
          jHi = cols.hi[ow];
        const count = dh * cols.count[ow];
        if (backward) {
          if (count === 0) continue;
          const share = y[o] / count;
          for (let i = iLo; i < iHi; i++) {
            let xi = xPlane + (h0 + i * dilH) * inW + w0 + jLo * dilW;
            for (let j = jLo; j < jHi; j++, xi += dilW) x[xi] += share;
          }
        } else {
          let s = 0;
          for (let i = iLo; i < iHi; i++) {
            let xi = xPlane + (h0 + i * dilH) * inW + w0 + jLo * dilW;
            for (let j = jLo; j < jHi; j++, xi += dilW) s += x[xi];
          }
          // An empty window (possible only past the padding) averages to 0 rather than 0/0.
          y[o] = count > 0 ? s / count : 0;
        }
      }
    }
  }
}
