/**
 * The kernels split across worker threads (im2col, col2im, max pooling, unary and binary ops) give
 * exactly the result of the single-thread kernel, at sizes that are not multiples of the split, on
 * shared and plain buffers; with the thresholds lowered so that small inputs are split too.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BinaryOp, UnaryOp, WindowGeometry } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { createKernelState } from '../../src/backend/cpu/state.js';
import * as threads from '../../src/backend/cpu/threads.js';
import { kernelBytes } from '../../src/backend/cpu/wasm/kernels.js';
import { col2imPart, col2imPartW, im2colRows, im2colRowsW, maxPoolPlanes, maxPoolPlanesW } from '../../src/backend/cpu/window-kernels.js';
import { SHARED_MIN_ELEMENTS, allocate } from '../../src/tensor/dtype.js';
import { CTORS, type Ctor, firstMismatch, randomArray, randomInts } from './cpu-helpers.js';

const backend = new CpuBackend();
const saved = { ...threads.tuning, threads: threads.getNumThreads() };

afterAll(() => {
  // Every property above split work onto workers many times.
  expect(threads.stats.workerJobs).toBeGreaterThan(300);
  Object.assign(threads.tuning, { windowMin: saved.windowMin, poolMin: saved.poolMin, elementwiseMin: saved.elementwiseMin });
  threads.setNumThreads(saved.threads);
});

/**
 * Runs f with the split thresholds out of reach (one thread), then with every threshold at 1 on
 * the pool's threads, and returns both results.
 */
function bothWays<T>(f: () => T): [T, T] {
  Object.assign(threads.tuning, { windowMin: Infinity, poolMin: Infinity, elementwiseMin: Infinity });
  const before = threads.stats.workerJobs;
  const one = f();
  expect(threads.stats.workerJobs).toBe(before);
  Object.assign(threads.tuning, { windowMin: 1, poolMin: 1, elementwiseMin: 2 });
  try {
    return [one, f()];
  } finally {
    Object.assign(threads.tuning, { windowMin: saved.windowMin, poolMin: saved.poolMin, elementwiseMin: saved.elementwiseMin });
  }
}

function shared(ctor: Ctor, x: ArrayLike<number>, onShared: boolean): Float32Array | Float64Array {
  const out = onShared ? new (ctor as Float64ArrayConstructor)(new SharedArrayBuffer(x.length * ctor.BYTES_PER_ELEMENT)) : new ctor(x.length);
  (out as Float64Array).set(x);
  return out;
}

const geometry = fc
  .record({
    batch: fc.integer({ min: 1, max: 5 }),
    totalChannels: fc.integer({ min: 1, max: 5 }),
    inH: fc.integer({ min: 1, max: 9 }),
    inW: fc.integer({ min: 1, max: 9 }),
    kH: fc.integer({ min: 1, max: 4 }),
    kW: fc.integer({ min: 1, max: 4 }),
    strideH: fc.integer({ min: 1, max: 3 }),
    strideW: fc.integer({ min: 1, max: 3 }),
    padH: fc.integer({ min: 0, max: 2 }),
    padW: fc.integer({ min: 0, max: 2 }),
    dilH: fc.integer({ min: 1, max: 2 }),
    dilW: fc.integer({ min: 1, max: 2 }),
    slice: fc.tuple(fc.nat(), fc.nat()),
  })
  .map(({ slice, ...g }): WindowGeometry => {
    const channelOffset = slice[0] % g.totalChannels;
    const channels = 1 + (slice[1] % (g.totalChannels - channelOffset));
    const outH = Math.floor((g.inH + 2 * g.padH - g.dilH * (g.kH - 1) - 1) / g.strideH) + 1;
    const outW = Math.floor((g.inW + 2 * g.padW - g.dilW * (g.kW - 1) - 1) / g.strideW) + 1;
    return { ...g, channelOffset, channels, outH, outW };
  })
  .filter((g) => g.outH > 0 && g.outW > 0);

for (const [n, mainShare] of [
  [2, false],
  [3, true],
] as const)
  describe(`parallel kernels on ${n} threads${mainShare ? '' : ', every chunk on a worker,'} equal the single-thread kernels exactly`, () => {
    beforeAll(() => threads.setNumThreads(n));
    beforeEach(() => {
      threads.tuning.mainShare = mainShare;
    });
    afterEach(() => {
      threads.tuning.mainShare = true;
    });

    it('im2col and col2im (split by rows, by channels, by images)', () => {
      fc.assert(
        fc.property(geometry, fc.constantFrom(...CTORS), fc.boolean(), (g, ctor, onShared) => {
          const xs = g.batch * g.totalChannels * g.inH * g.inW;
          const cs = g.channels * g.kH * g.kW * g.batch * g.outH * g.outW;
          const x = randomArray(ctor, xs, 3);
          const cols = randomArray(ctor, cs, 4);
          const [a, b] = bothWays(() => {
            const c = shared(ctor, new Float64Array(cs).fill(NaN), onShared);
            backend.im2col(shared(ctor, x, onShared), g, c);
            const dx = shared(ctor, randomArray(ctor, xs, 5), onShared);
            backend.col2im(shared(ctor, cols, onShared), g, dx);
            return [c, dx];
          });
          expect(firstMismatch(b[0], a[0])).toBeNull();
          expect(firstMismatch(b[1], a[1])).toBeNull();
        }),
        { seed: 42, numRuns: 150 },
      );
    });

    it('max pooling, forward (split by planes, argmax on a plain buffer) and backward', () => {
      const poolGeometry = geometry.map((g) => ({ ...g, channelOffset: 0, channels: g.totalChannels })).filter((g) => 2 * g.padH <= g.kH && 2 * g.padW <= g.kW);
      // LeNet's 2×2/2 windows take the fast path; mix them in with ties and NaN.
      const lenet = fc
        .record({
          batch: fc.integer({ min: 1, max: 4 }),
          c: fc.integer({ min: 1, max: 4 }),
          h: fc.integer({ min: 1, max: 6 }),
          w: fc.integer({ min: 1, max: 6 }),
        })
        .map(
          ({ batch, c, h, w }): WindowGeometry => ({
            batch,
            totalChannels: c,
            channelOffset: 0,
            channels: c,
            inH: 2 * h + (h % 2),
            inW: 2 * w,
            kH: 2,
            kW: 2,
            strideH: 2,
            strideW: 2,
            padH: 0,
            padW: 0,
            dilH: 1,
            dilW: 1,
            outH: h,
            outW: w,
          }),
        );
      fc.assert(
        fc.property(fc.oneof(poolGeometry, lenet), fc.constantFrom(...CTORS), fc.boolean(), fc.boolean(), (g, ctor, onShared, nan) => {
          const xs = g.batch * g.channels * g.inH * g.inW;
          const os = g.batch * g.channels * g.outH * g.outW;
          const x = randomInts(ctor, xs, 6);
          if (nan) for (let i = 0; i < xs; i += 7) x[i] = NaN;
          const gy = randomArray(ctor, os, 7);
          const [a, b] = bothWays(() => {
            const out = shared(ctor, new Float64Array(os), onShared);
            const argmax = new Int32Array(os);
            backend.maxPool2d(shared(ctor, x, onShared), g, out, argmax);
            const dx = shared(ctor, new Float64Array(xs), onShared);
            backend.maxPool2dBackward(shared(ctor, gy, onShared), argmax, dx);
            return [out, Array.from(argmax), dx] as const;
          });
          expect(firstMismatch(b[0], a[0])).toBeNull();
          expect(b[1]).toEqual(a[1]);
          expect(firstMismatch(b[2], a[2])).toBeNull();
        }),
        { seed: 42, numRuns: 150 },
      );
    });

    it('the 2×2/2 fast path of max pooling matches a plain window scan (first extreme, NaN first)', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (c, h, w, nan) => {
          const g: WindowGeometry = {
            batch: 2,
            totalChannels: c,
            channelOffset: 0,
            channels: c,
            inH: 2 * h + 1,
            inW: 2 * w + 1,
            kH: 2,
            kW: 2,
            strideH: 2,
            strideW: 2,
            padH: 0,
            padW: 0,
            dilH: 1,
            dilW: 1,
            outH: h,
            outW: w,
          };
          const x = randomInts(Float64Array, 2 * c * g.inH * g.inW, h * 31 + w);
          if (nan) for (let i = 1; i < x.length; i += 5) x[i] = NaN;
          const out = new Float64Array(2 * c * h * w);
          const arg = new Int32Array(out.length);
          backend.maxPool2d(x, g, out, arg);
          let o = 0;
          for (let p = 0; p < 2 * c; p++) {
            for (let oh = 0; oh < h; oh++) {
              for (let ow = 0; ow < w; ow++, o++) {
                const base = p * g.inH * g.inW + 2 * oh * g.inW + 2 * ow;
                const taps = [base, base + 1, base + g.inW, base + g.inW + 1];
                const firstNaN = taps.find((t) => Number.isNaN(x[t]));
                const best = firstNaN ?? taps.reduce((bi, t) => (x[t] > x[bi] ? t : bi), taps[0]);
                expect(arg[o]).toBe(best);
                expect(Object.is(out[o], x[best])).toBe(true);
              }
            }
          }
        }),
        { seed: 42, numRuns: 60 },
      );
    });

    it('unary ops (every op with a range kernel) and binary ops (equal shapes, scalar operands)', () => {
      const unaryOps: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'relu', 'sigmoid', 'tanh', 'square', 'sign', 'reciprocal', 'step'];
      const binaryOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'gt', 'ge', 'lt', 'le', 'eq'];
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 200 }),
          fc.constantFrom(...CTORS),
          fc.boolean(),
          fc.constantFrom(...unaryOps),
          fc.constantFrom(...binaryOps),
          fc.constantFrom('same', 'aScalar', 'bScalar'),
          (size, ctor, onShared, uop, bop, kind) => {
            const x = randomInts(ctor, size, size);
            x[0] = NaN;
            const y = randomInts(ctor, kind === 'aScalar' ? 1 : size, size + 1);
            const z = randomInts(ctor, kind === 'bScalar' ? 1 : size, size + 2);
            const [a, b] = bothWays(() => {
              const u = shared(ctor, new Float64Array(size), onShared);
              backend.unary(uop, shared(ctor, x, onShared), u);
              const v = shared(ctor, new Float64Array(size), onShared);
              backend.binary(bop, shared(ctor, y, onShared), [y.length], shared(ctor, z, onShared), [z.length], v, [size]);
              return [u, v];
            });
            expect(firstMismatch(b[0], a[0])).toBeNull();
            expect(firstMismatch(b[1], a[1])).toBeNull();
          },
        ),
        { seed: 42, numRuns: 200 },
      );
    });
  });

describe('WebAssembly im2col / col2im (float32) equal the JavaScript loops exactly', () => {
  const st = createKernelState(new WebAssembly.Module(kernelBytes() as BufferSource));
  it('on every geometry (stride, padding, dilation, channel slices), any row range / channel and image range', () => {
    fc.assert(
      fc.property(geometry, fc.nat(), fc.nat(), fc.nat(), fc.nat(), (g, ra, rb, ca, na) => {
        const xs = g.batch * g.totalChannels * g.inH * g.inW;
        const rows = g.channels * g.kH * g.kW;
        const cs = rows * g.batch * g.outH * g.outW;
        const x = randomArray(Float32Array, xs, 8);
        const r0 = ra % rows,
          r1 = r0 + 1 + (rb % (rows - r0));
        const js = new Float32Array(cs).fill(NaN);
        const w = new Float32Array(cs).fill(NaN);
        im2colRows(x, g, js, r0, r1);
        im2colRowsW(st, x, g, w, r0, r1);
        expect(firstMismatch(w, js)).toBeNull();
        const cols = randomArray(Float32Array, cs, 9);
        const c0 = ca % g.channels,
          c1 = c0 + 1 + (rb % (g.channels - c0));
        const n0 = na % g.batch,
          n1 = n0 + 1 + (ra % (g.batch - n0));
        const dj = randomArray(Float32Array, xs, 10);
        const dw = Float32Array.from(dj);
        col2imPart(cols, g, dj, c0, c1, n0, n1);
        col2imPartW(st, cols, g, dw, c0, c1, n0, n1);
        expect(firstMismatch(dw, dj)).toBeNull();
      }),
      { seed: 42, numRuns: 400 },
    );
  });
});

describe('WebAssembly 2×2 max pooling (float32) equals the JavaScript loop exactly', () => {
  const st = createKernelState(new WebAssembly.Module(kernelBytes() as BufferSource));
  it('values and argmax, with ties and NaN, odd sizes, any plane range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 19 }),
        fc.integer({ min: 2, max: 19 }),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        (batch, c, inH, inW, pa, pb, nan) => {
          const g: WindowGeometry = {
            batch,
            totalChannels: c,
            channelOffset: 0,
            channels: c,
            inH,
            inW,
            kH: 2,
            kW: 2,
            strideH: 2,
            strideW: 2,
            padH: 0,
            padW: 0,
            dilH: 1,
            dilW: 1,
            outH: inH >> 1,
            outW: inW >> 1,
          };
          const planes = batch * c;
          const x = randomInts(Float32Array, planes * inH * inW, inH * 100 + inW);
          if (nan) for (let i = 2; i < x.length; i += 5) x[i] = NaN;
          const p0 = pa % planes,
            p1 = p0 + 1 + (pb % (planes - p0));
          const size = planes * g.outH * g.outW;
          const [o1, o2] = [new Float32Array(size).fill(7), new Float32Array(size).fill(7)];
          const [a1, a2] = [new Int32Array(size).fill(-5), new Int32Array(size).fill(-5)];
          maxPoolPlanes(x, g, o1, a1, p0, p1);
          maxPoolPlanesW(st, x, g, o2, a2, p0, p1);
          expect(firstMismatch(o2, o1)).toBeNull();
          expect(Array.from(a2)).toEqual(Array.from(a1));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('WebAssembly SIMD elementwise maps (float32) equal the JavaScript kernels exactly', () => {
  const specials = [NaN, 0, -0, Infinity, -Infinity, 1e-45, -3.4e38, 0.5, -2];
  const withSpecials = (n: number, seed: number): Float32Array => {
    const x = randomInts(Float32Array, n, seed) as Float32Array;
    for (let i = 0; i < n; i += 3) x[i] = specials[(i / 3 + seed) % specials.length];
    return x;
  };
  const unaryOps: UnaryOp[] = ['relu', 'step', 'neg', 'abs', 'square', 'exp'];
  const binaryOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'gt', 'ge', 'lt', 'le', 'eq', 'pow'];
  const saveThreads = threads.getNumThreads();
  afterAll(() => {
    threads.setSimd(true);
    threads.setNumThreads(saveThreads);
  });

  for (const size of [513, 1029, 65536 + 37]) {
    it(`size ${size}: every op, equal shapes and scalar operands, 1 and 2 threads`, () => {
      for (const nThreads of [1, 2]) {
        threads.setNumThreads(nThreads);
        const x = withSpecials(size, 1);
        const y = withSpecials(size, 2);
        const sc = Float32Array.of(-0.5);
        const run = (simd: boolean) => {
          threads.setSimd(simd);
          const outs: Float32Array[] = [];
          for (const op of unaryOps) {
            const o = new Float32Array(new SharedArrayBuffer(size * 4));
            backend.unary(op, x, o);
            outs.push(o);
          }
          for (const op of binaryOps) {
            for (const [a, b] of [
              [x, y],
              [x, sc],
              [sc, y],
            ] as const) {
              const o = new Float32Array(new SharedArrayBuffer(size * 4));
              backend.binary(op, a, [a.length], b, [b.length], o, [size]);
              outs.push(o);
            }
          }
          return outs;
        };
        const js = run(false);
        const simd = run(true);
        for (let t = 0; t < js.length; t++) {
          for (let i = 0; i < size; i++) {
            if (!(Object.is(js[t][i], simd[t][i]) || (Number.isNaN(js[t][i]) && Number.isNaN(simd[t][i])))) {
              throw new Error(`case ${t} index ${i}: JS ${js[t][i]}, SIMD ${simd[t][i]}`);
            }
          }
        }
      }
    });
  }
});

describe('every kind of chunk runs on a worker (its functions are all in the worker source)', () => {
  it('GEMM (JS, SIMD, dot), im2col, col2im (JS and wasm), max pooling, unary and binary (JS and wasm)', () => {
    threads.setNumThreads(2);
    expect(threads.workerSource()).toContain('function workerMain');
    const run = (simd: boolean) => {
      threads.setSimd(simd);
      const g: WindowGeometry = {
        batch: 8,
        totalChannels: 3,
        channelOffset: 0,
        channels: 3,
        inH: 12,
        inW: 12,
        kH: 5,
        kW: 5,
        strideH: 1,
        strideW: 1,
        padH: 1,
        padW: 1,
        dilH: 1,
        dilW: 1,
        outH: 10,
        outW: 10,
      };
      const xs = 8 * 3 * 144,
        cs = 75 * 800;
      const x = shared(Float32Array, randomArray(Float32Array, xs, 1), true);
      const cols = shared(Float32Array, new Float64Array(cs), true);
      backend.im2col(x, g, cols);
      const dx = shared(Float32Array, new Float64Array(xs), true);
      backend.col2im(cols, g, dx);
      const out = shared(Float32Array, new Float64Array(8 * 3 * 36), true);
      const pg: WindowGeometry = { ...g, kH: 2, kW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 6, outW: 6 };
      backend.maxPool2d(x, pg, out, new Int32Array(out.length));
      const u = shared(Float32Array, new Float64Array(cs), true);
      backend.unary('relu', cols, u);
      const v = shared(Float32Array, new Float64Array(cs), true);
      backend.binary('mul', cols, [cs], u, [cs], v, [cs]);
      const c = shared(Float32Array, new Float64Array(75 * 75), true);
      backend.gemm({
        transA: false,
        transB: true,
        m: 75,
        n: 75,
        k: 800,
        alpha: 1,
        a: cols,
        aOffset: 0,
        lda: 800,
        b: v,
        bOffset: 0,
        ldb: 800,
        beta: 0,
        c,
        cOffset: 0,
        ldc: 75,
      });
      const c2 = shared(Float32Array, new Float64Array(75 * 75), true);
      backend.gemm({
        transA: false,
        transB: false,
        m: 75,
        n: 75,
        k: 80,
        alpha: 1,
        a: cols,
        aOffset: 0,
        lda: 80,
        b: v,
        bOffset: 0,
        ldb: 75,
        beta: 0,
        c: c2,
        cOffset: 0,
        ldc: 75,
      });
      return [cols, dx, out, u, v, c, c2];
    };
    Object.assign(threads.tuning, { windowMin: 1, poolMin: 1, elementwiseMin: 2, parMinMacsWasm: 1, parMinMacsJs: 1, mainShare: false });
    const before = threads.stats.workerJobs;
    try {
      const js = run(false);
      const simd = run(true);
      expect(threads.stats.workerJobs - before).toBeGreaterThan(20);
      for (let t = 0; t < 5; t++) expect(firstMismatch(simd[t], js[t])).toBeNull();
      for (let t = 5; t < 7; t++) expect(firstMismatch(simd[t], js[t], 1e-4)).toBeNull();
    } finally {
      Object.assign(threads.tuning, {
        windowMin: saved.windowMin,
        poolMin: saved.poolMin,
        elementwiseMin: saved.elementwiseMin,
        parMinMacsWasm: saved.parMinMacsWasm,
        parMinMacsJs: saved.parMinMacsJs,
        mainShare: true,
      });
      threads.setSimd(true);
      threads.setNumThreads(saved.threads);
    }
  });
});

describe('allocate', () => {
  it('puts arrays of SHARED_MIN_ELEMENTS or more on a SharedArrayBuffer, zero-filled', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const small = allocate(dtype, SHARED_MIN_ELEMENTS - 1);
      const big = allocate(dtype, SHARED_MIN_ELEMENTS);
      expect(small.buffer instanceof SharedArrayBuffer).toBe(false);
      expect(big.buffer instanceof SharedArrayBuffer).toBe(true);
      expect(big.every((v) => v === 0)).toBe(true);
      expect(big instanceof (dtype === 'float32' ? Float32Array : Float64Array)).toBe(true);
    }
  });
});
