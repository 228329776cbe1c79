/**
 * The step kernels that now split across the pool (the SGD update, the convolution's layout swap
 * with its bias and bias gradient, max-pool backward) give the single-thread result: bit for bit
 * where each element's arithmetic is the same, within float32 rounding for the fused bias-gradient
 * sums (summed in another order than sumAxis).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuKernels } from '../../src/backend/cpu/kernels.js';
import { maxPool2dBackward } from '../../src/backend/cpu/pool.js';
import * as threads from '../../src/backend/cpu/threads.js';
import type { WindowGeometry } from '../../src/backend/backend.js';
import { randomArray } from './cpu-helpers.js';

const saved = { ...threads.tuning, threads: threads.getNumThreads() };
beforeAll(() => {
  threads.setNumThreads(3);
  threads.startWorkers();
});
afterAll(() => {
  Object.assign(threads.tuning, { poolMin: saved.poolMin, elementwiseMin: saved.elementwiseMin });
  threads.setNumThreads(saved.threads);
});

/** f on one thread (thresholds out of reach), then split (thresholds at their floor): both results. */
function bothWays<T>(f: () => T): [T, T] {
  Object.assign(threads.tuning, { poolMin: Infinity, elementwiseMin: Infinity });
  const before = threads.stats.workerJobs;
  const one = f();
  expect(threads.stats.workerJobs).toBe(before);
  Object.assign(threads.tuning, { poolMin: 1, elementwiseMin: 2 });
  try {
    return [one, f()];
  } finally {
    Object.assign(threads.tuning, { poolMin: saved.poolMin, elementwiseMin: saved.elementwiseMin });
  }
}

/** The geometry of a 2 × 2 max-pool at the given stride over square planes, no padding. */
function pool2x2(batch: number, channels: number, size: number, stride: number): WindowGeometry {
  const out = Math.floor((size - 2) / stride) + 1;
  return {
    batch,
    channels,
    totalChannels: channels,
    channelOffset: 0,
    inH: size,
    inW: size,
    kH: 2,
    kW: 2,
    strideH: stride,
    strideW: stride,
    padH: 0,
    padW: 0,
    dilH: 1,
    dilW: 1,
    outH: out,
    outW: out,
  };
}

/** A Float32Array on a SharedArrayBuffer (what allocate gives large tensors), filled from seed. */
function sharedF32(n: number, seed: number): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(n * 4));
  out.set(randomArray(Float32Array, n, seed));
  return out;
}

describe('the pool’s batch counters', () => {
  it('are recycled: hundreds of batches allocate at most a few counters, with correct results', () => {
    Object.assign(threads.tuning, { elementwiseMin: 2 });
    try {
      const x = sharedF32(6 * 7 * 100, 9);
      const ref = Array.from(cpuKernels.convSwap(x, 6, 7, 100, null, false).out);
      const allocated0 = threads.stats.countersAllocated;
      const batches0 = threads.stats.batches;
      for (let i = 0; i < 300; i++) expect(Array.from(cpuKernels.convSwap(x, 6, 7, 100, null, false).out)).toEqual(ref);
      expect(threads.stats.batches - batches0).toBe(300);
      expect(threads.stats.countersAllocated - allocated0).toBeLessThan(30);
    } finally {
      Object.assign(threads.tuning, { elementwiseMin: saved.elementwiseMin });
    }
  });
});

describe('parallel step kernels agree with one thread', () => {
  it('sgdStep: bit for bit, with and without momentum, first and later steps', () => {
    const jobs0 = threads.stats.workerJobs;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom(0, 0.9),
        fc.boolean(),
        fc.boolean(),
        (n, seed, momentum, nesterov, first) => {
          const s = { lr: 0.05, momentum, dampening: nesterov ? 0 : 0.1, nesterov: nesterov && momentum > 0, weightDecay: 0.01 };
          const [one, split] = bothWays(() => {
            const w = sharedF32(n, seed);
            const g = sharedF32(n, seed + 1);
            const v = first ? null : sharedF32(n, seed + 2);
            const r = cpuKernels.sgdStep(w, g, v, s);
            return [Array.from(r.w), r.v === null ? null : Array.from(r.v)];
          });
          expect(split).toEqual(one);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
    expect(threads.stats.workerJobs).toBeGreaterThan(jobs0);
  });

  it('convSwap: the swap and bias bit for bit; the fused sums match sumAxis of the swapped rows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (A, B, P, withBias, seed) => {
          const x = sharedF32(A * B * P, seed);
          const bias = withBias ? randomArray(Float32Array, A, seed + 1) : null;
          const [one, split] = bothWays(() => {
            const r = cpuKernels.convSwap(x, A, B, P, bias, true);
            return { out: Array.from(r.out), sums: Array.from(r.sums!) };
          });
          expect(split.out).toEqual(one.out);
          // out[b, a, p] = x[a, b, p] + bias[a].
          for (let a = 0; a < A; a++)
            for (let b = 0; b < B; b++)
              for (let p = 0; p < P; p++) expect(one.out[(b * A + a) * P + p]).toBe(Math.fround(x[(a * B + b) * P + p] + (bias ? bias[a] : 0)));
          // The sums are of x (never the bias), over a and p, per b: as sumAxis over the swapped rows.
          const swapped = cpuKernels.convSwap(x, A, B, P, null, false).out;
          const ref = cpuKernels.sumAxis(swapped, [B, A * P], 1);
          for (let b = 0; b < B; b++) {
            expect(split.sums[b]).toBe(one.sums[b]);
            expect(Math.abs(one.sums[b] - ref[b])).toBeLessThanOrEqual(1e-5 * (1 + A * P));
          }
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  it('maxPool2dBackward: bit for bit across planes (stride 2 and overlapping windows)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 1000 }),
        (batch, channels, size, stride, seed) => {
          const g = pool2x2(batch, channels, size, stride);
          const x = sharedF32(batch * channels * size * size, seed);
          const { index } = cpuKernels.maxPool2d(x, g);
          const gy = sharedF32(index.length, seed + 1);
          const [one, split] = bothWays(() => Array.from(cpuKernels.maxPool2dBackward(gy, index, g)));
          expect(split).toEqual(one);
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  it('maxPool2dBackward with zeroFirst ignores what dx held: each range zeroes its own planes, on one thread and split', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 0, max: 1e6 }),
        (batch, channels, size, seed) => {
          const g = pool2x2(batch, channels, size, 2);
          const out = g.outH;
          fc.pre(out >= 1);
          const x = sharedF32(batch * channels * size * size, seed);
          // The indices on shared memory too (small ones come back unshared), so that the split really splits.
          const index = new Float64Array(new SharedArrayBuffer(batch * channels * out * out * 8));
          index.set(cpuKernels.maxPool2d(x, g).index);
          const gy = sharedF32(index.length, seed + 1);
          // The scatter written out: zeros, then dx[argmax[o]] += gy[o].
          const expected = new Float32Array(x.length);
          for (let o = 0; o < gy.length; o++) expected[index[o]] += gy[o];
          let batches = 0;
          const [one, split] = bothWays(() => {
            const stale = sharedF32(x.length, seed + 2);
            const before = threads.stats.batches;
            maxPool2dBackward(gy, index, stale, g, true);
            batches = threads.stats.batches - before;
            return Array.from(stale);
          });
          expect(one).toEqual(Array.from(expected));
          expect(split).toEqual(one);
          // The second (split) call handed its ranges to the pool wherever there were planes to split
          // (which thread ran each range is the dynamic schedule's choice) and a pool could start.
          if (batch * channels >= 2 && !threads.poolDisabled()) expect(batches).toBeGreaterThan(0);
        },
      ),
      { seed: 43, numRuns: 60 },
    );
    const gy = new Float32Array(1);
    expect(() => maxPool2dBackward(gy, new Int32Array(1), new Float32Array(1), undefined, true)).toThrow(/zeroFirst needs the geometry g/);
  });
});
