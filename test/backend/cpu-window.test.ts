import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WindowGeometry } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { CTORS, type Ctor, firstMismatch, randomArray, randomInts } from './cpu-helpers.js';

const backend = new CpuBackend();

function outSize(inSize: number, k: number, stride: number, pad: number, dil: number, ceil: boolean): number {
  const span = inSize + 2 * pad - dil * (k - 1) - 1;
  if (span < 0) return 0;
  let out = Math.floor(span / stride) + 1;
  // Ceil mode adds a last window only if it starts inside the image or its left padding (PyTorch's rule).
  if (ceil && span % stride !== 0 && out * stride < inSize + pad) out++;
  return out;
}

/** Convolution-like geometry with stride, padding, dilation and a channel slice (grouped conv). */
const convGeometry = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    totalChannels: fc.integer({ min: 1, max: 4 }),
    inH: fc.integer({ min: 1, max: 9 }),
    inW: fc.integer({ min: 1, max: 9 }),
    kH: fc.integer({ min: 1, max: 4 }),
    kW: fc.integer({ min: 1, max: 4 }),
    strideH: fc.integer({ min: 1, max: 3 }),
    strideW: fc.integer({ min: 1, max: 3 }),
    padH: fc.integer({ min: 0, max: 3 }),
    padW: fc.integer({ min: 0, max: 3 }),
    dilH: fc.integer({ min: 1, max: 3 }),
    dilW: fc.integer({ min: 1, max: 3 }),
    slice: fc.tuple(fc.nat(), fc.nat()),
  })
  .map(({ slice, ...g }): WindowGeometry => {
    const channelOffset = slice[0] % g.totalChannels;
    const channels = 1 + (slice[1] % (g.totalChannels - channelOffset));
    const outH = outSize(g.inH, g.kH, g.strideH, g.padH, g.dilH, false);
    const outW = outSize(g.inW, g.kW, g.strideW, g.padW, g.dilW, false);
    return { ...g, channelOffset, channels, outH, outW };
  })
  .filter((g) => g.outH > 0 && g.outW > 0);

function xAt(x: ArrayLike<number>, g: WindowGeometry, n: number, c: number, h: number, w: number): number {
  if (h < 0 || h >= g.inH || w < 0 || w >= g.inW) return 0;
  return x[((n * g.totalChannels + g.channelOffset + c) * g.inH + h) * g.inW + w];
}

function im2colReference(x: ArrayLike<number>, g: WindowGeometry, cols: Float32Array | Float64Array): void {
  const nCols = g.batch * g.outH * g.outW;
  for (let c = 0; c < g.channels; c++)
    for (let i = 0; i < g.kH; i++)
      for (let j = 0; j < g.kW; j++)
        for (let n = 0; n < g.batch; n++)
          for (let oh = 0; oh < g.outH; oh++)
            for (let ow = 0; ow < g.outW; ow++) {
              const row = (c * g.kH + i) * g.kW + j;
              const col = (n * g.outH + oh) * g.outW + ow;
              cols[row * nCols + col] = xAt(x, g, n, c, oh * g.strideH - g.padH + i * g.dilH, ow * g.strideW - g.padW + j * g.dilW);
            }
}

function col2imReference(cols: ArrayLike<number>, g: WindowGeometry, dx: Float64Array): void {
  const nCols = g.batch * g.outH * g.outW;
  for (let c = 0; c < g.channels; c++)
    for (let i = 0; i < g.kH; i++)
      for (let j = 0; j < g.kW; j++)
        for (let n = 0; n < g.batch; n++)
          for (let oh = 0; oh < g.outH; oh++)
            for (let ow = 0; ow < g.outW; ow++) {
              const h = oh * g.strideH - g.padH + i * g.dilH;
              const w = ow * g.strideW - g.padW + j * g.dilW;
              if (h < 0 || h >= g.inH || w < 0 || w >= g.inW) continue;
              const row = (c * g.kH + i) * g.kW + j;
              const col = (n * g.outH + oh) * g.outW + ow;
              dx[((n * g.totalChannels + g.channelOffset + c) * g.inH + h) * g.inW + w] += cols[row * nCols + col];
            }
}

const xSize = (g: WindowGeometry): number => g.batch * g.totalChannels * g.inH * g.inW;
const colsSize = (g: WindowGeometry): number => g.channels * g.kH * g.kW * g.batch * g.outH * g.outW;

describe('CpuBackend.im2col / col2im', () => {
  it('im2col matches a six-loop reference (stride, padding, dilation, channel slices)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CTORS), convGeometry, fc.integer(), (ctor, g, seed) => {
        const x = randomArray(ctor, xSize(g), seed);
        const cols = new ctor(colsSize(g)).fill(NaN); // every slot must be written
        backend.im2col(x, g, cols);
        const expected = new ctor(cols.length);
        im2colReference(x, g, expected);
        expect(firstMismatch(cols, expected)).toBeNull();
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('col2im accumulates the adjoint scatter into dx and leaves other channels alone', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CTORS), convGeometry, fc.integer(), (ctor, g, seed) => {
        const cols = randomArray(ctor, colsSize(g), seed);
        const dx = randomArray(ctor, xSize(g), seed + 1);
        const expected = Float64Array.from(dx);
        col2imReference(cols, g, expected);
        backend.col2im(cols, g, dx);
        expect(firstMismatch(dx, new ctor(expected), ctor === Float32Array ? 1e-6 : 1e-14)).toBeNull();
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('rejects a channel slice past totalChannels and short buffers', () => {
    const g: WindowGeometry = {
      batch: 1,
      totalChannels: 2,
      channelOffset: 1,
      channels: 2,
      inH: 3,
      inW: 3,
      kH: 2,
      kW: 2,
      strideH: 1,
      strideW: 1,
      padH: 0,
      padW: 0,
      dilH: 1,
      dilW: 1,
      outH: 2,
      outW: 2,
    };
    expect(() => backend.im2col(new Float32Array(18), g, new Float32Array(32))).toThrow(
      /channelOffset \+ geometry.channels must be ≤ totalChannels \(2\), got 1 \+ 2/,
    );
    expect(() => backend.im2col(new Float32Array(18), { ...g, channelOffset: 0 }, new Float32Array(31))).toThrow(
      /im2col: cols must hold at least 32 elements, got 31/,
    );
    expect(() => backend.im2col(new Float32Array(18), { ...g, channelOffset: 0, strideH: 0 }, new Float32Array(32))).toThrow(
      /geometry.strideH must be a positive integer, got 0/,
    );
  });
});

/** Pooling geometry: every channel, no dilation (as PyTorch's avg pooling), optional ceil mode. */
const poolGeometry = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    channels: fc.integer({ min: 1, max: 3 }),
    inH: fc.integer({ min: 1, max: 9 }),
    inW: fc.integer({ min: 1, max: 9 }),
    kH: fc.integer({ min: 1, max: 4 }),
    kW: fc.integer({ min: 1, max: 4 }),
    strideH: fc.integer({ min: 1, max: 3 }),
    strideW: fc.integer({ min: 1, max: 3 }),
    padH: fc.integer({ min: 0, max: 2 }),
    padW: fc.integer({ min: 0, max: 2 }),
    ceil: fc.boolean(),
  })
  .filter((g) => 2 * g.padH <= g.kH && 2 * g.padW <= g.kW) // PyTorch's limit: pad ≤ kernel / 2
  .map(
    ({ ceil, ...g }): WindowGeometry => ({
      ...g,
      totalChannels: g.channels,
      channelOffset: 0,
      dilH: 1,
      dilW: 1,
      outH: outSize(g.inH, g.kH, g.strideH, g.padH, 1, ceil),
      outW: outSize(g.inW, g.kW, g.strideW, g.padW, 1, ceil),
    }),
  )
  .filter((g) => g.outH > 0 && g.outW > 0);

function maxPoolReference(x: ArrayLike<number>, g: WindowGeometry, out: Float32Array | Float64Array, arg: Int32Array): void {
  let o = 0;
  for (let p = 0; p < g.batch * g.channels; p++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++, o++) {
        let best = -Infinity;
        let bestIdx = -1;
        for (let i = 0; i < g.kH; i++)
          for (let j = 0; j < g.kW; j++) {
            const h = oh * g.strideH - g.padH + i * g.dilH;
            const w = ow * g.strideW - g.padW + j * g.dilW;
            if (h < 0 || h >= g.inH || w < 0 || w >= g.inW) continue;
            const idx = (p * g.inH + h) * g.inW + w;
            const v = x[idx];
            if (Number.isNaN(best)) continue;
            if (bestIdx < 0 || v > best || Number.isNaN(v)) {
              best = v;
              bestIdx = idx;
            }
          }
        out[o] = best;
        arg[o] = bestIdx;
      }
}

/** PyTorch's avg_pool2d divisor rule, written as in its CPU kernel. */
function avgPoolWindows(g: WindowGeometry, countIncludePad: boolean, visit: (o: number, idx: number, divisor: number) => void): void {
  let o = 0;
  for (let p = 0; p < g.batch * g.channels; p++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++, o++) {
        let hStart = oh * g.strideH - g.padH;
        let wStart = ow * g.strideW - g.padW;
        let hEnd = Math.min(hStart + g.kH, g.inH + g.padH);
        let wEnd = Math.min(wStart + g.kW, g.inW + g.padW);
        const poolSize = (hEnd - hStart) * (wEnd - wStart);
        hStart = Math.max(hStart, 0);
        wStart = Math.max(wStart, 0);
        hEnd = Math.min(hEnd, g.inH);
        wEnd = Math.min(wEnd, g.inW);
        const divisor = countIncludePad ? poolSize : (hEnd - hStart) * (wEnd - wStart);
        for (let h = hStart; h < hEnd; h++) for (let w = wStart; w < wEnd; w++) visit(o, (p * g.inH + h) * g.inW + w, divisor);
      }
}

const poolIn = (g: WindowGeometry): number => g.batch * g.channels * g.inH * g.inW;
const poolOut = (g: WindowGeometry): number => g.batch * g.channels * g.outH * g.outW;

describe('CpuBackend.maxPool2d', () => {
  it('matches a reference with -Infinity padding, first-index ties and NaN propagation', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CTORS), poolGeometry, fc.integer(), fc.boolean(), (ctor, g, seed, withNaN) => {
        const x = randomInts(ctor, poolIn(g), seed);
        if (withNaN) for (let i = seed & 7; i < x.length; i += 11) x[i] = NaN;
        const out = new ctor(poolOut(g));
        const arg = new Int32Array(out.length);
        backend.maxPool2d(x, g, out, arg);
        const expOut = new ctor(out.length);
        const expArg = new Int32Array(out.length);
        maxPoolReference(x, g, expOut, expArg);
        expect(firstMismatch(out, expOut)).toBeNull();
        expect(firstMismatch(arg, expArg)).toBeNull();
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('backward scatter-adds gy at argmax, including repeated indices', () => {
    const dx = new Float64Array([1, 1, 1]);
    backend.maxPool2dBackward(new Float64Array([2, 3, 5]), new Int32Array([1, 1, 2]), dx);
    expect(Array.from(dx)).toEqual([1, 6, 6]);
    expect(() => backend.maxPool2dBackward(new Float64Array(1), new Int32Array([3]), dx)).toThrow(/argmax\[0\] = 3 is out of range for dx of length 3/);
  });

  it('rejects a channel slice (pooling covers every channel)', () => {
    const g: WindowGeometry = {
      batch: 1,
      totalChannels: 2,
      channelOffset: 1,
      channels: 1,
      inH: 2,
      inW: 2,
      kH: 2,
      kW: 2,
      strideH: 2,
      strideW: 2,
      padH: 0,
      padW: 0,
      dilH: 1,
      dilW: 1,
      outH: 1,
      outW: 1,
    };
    expect(() => backend.maxPool2d(new Float32Array(8), g, new Float32Array(2), new Int32Array(2))).toThrow(/channelOffset must be 0/);
  });
});

describe('CpuBackend.avgPool2d', () => {
  for (const countIncludePad of [true, false]) {
    it(`forward and backward match PyTorch's divisor rule (countIncludePad = ${countIncludePad}, ceil mode included)`, () => {
      fc.assert(
        fc.property(fc.constantFrom<Ctor>(...CTORS), poolGeometry, fc.integer(), (ctor, g, seed) => {
          const tol = ctor === Float32Array ? 1e-6 : 1e-14;
          const x = randomArray(ctor, poolIn(g), seed);
          const out = new ctor(poolOut(g));
          backend.avgPool2d(x, g, countIncludePad, out);
          const expOut = new Float64Array(out.length);
          avgPoolWindows(g, countIncludePad, (o, idx, d) => (expOut[o] += x[idx] / d));
          expect(firstMismatch(out, new ctor(expOut), tol)).toBeNull();

          const gy = randomArray(ctor, out.length, seed + 1);
          const dx = randomArray(ctor, x.length, seed + 2);
          const expDx = Float64Array.from(dx);
          avgPoolWindows(g, countIncludePad, (o, idx, d) => (expDx[idx] += gy[o] / d));
          backend.avgPool2dBackward(gy, g, countIncludePad, dx);
          expect(firstMismatch(dx, new ctor(expDx), tol)).toBeNull();
        }),
        { seed: 42, numRuns: 200 },
      );
    });
  }
});
