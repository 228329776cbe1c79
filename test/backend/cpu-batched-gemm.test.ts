/**
 * Batched products whose items are each too small to split (a 1×1 conv's per-image products):
 * whole items run on the pool's threads (threads.gemmBatchParallel) and give exactly the result of
 * running them one by one on one thread, for every transpose combination, a shared (batch stride 0)
 * or batched A, float32 and float64; and bad strides are refused as gemm() refuses them.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuKernels } from '../../src/backend/cpu/kernels.js';
import * as threads from '../../src/backend/cpu/threads.js';
import { fcOptions } from '../helpers.js';

const saved = { ...threads.tuning, threads: threads.getNumThreads() };

afterAll(() => {
  Object.assign(threads.tuning, { parMinMacsWasm: saved.parMinMacsWasm, parMinMacsWasmF64: saved.parMinMacsWasmF64, parMinMacsJs: saved.parMinMacsJs });
  threads.setNumThreads(saved.threads);
});

function filled(ctor: Float32ArrayConstructor | Float64ArrayConstructor, n: number, seed: number): Float32Array | Float64Array {
  const x: Float32Array | Float64Array = new (ctor as Float64ArrayConstructor)(new SharedArrayBuffer(n * ctor.BYTES_PER_ELEMENT));
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = s / 2147483648 - 0.5;
  }
  return x;
}

describe('batched GEMM across threads', () => {
  it('equals the item-by-item product on one thread, bit for bit', () => {
    fc.assert(
      fc.property(
        fc.record({
          // With items just below the threshold, floor(batch·macs / threshold) ≥ 2 threads from 4 items on.
          batch: fc.integer({ min: 4, max: 8 }),
          // At least SMALL_GEMM (16³) multiply-adds per item: smaller ones stay in gemm()'s plain loops.
          m: fc.integer({ min: 16, max: 21 }),
          n: fc.integer({ min: 16, max: 21 }),
          k: fc.integer({ min: 16, max: 21 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          sharedA: fc.boolean(),
          f64: fc.boolean(),
          // Items below the split threshold, or between one and two thresholds (one thread each).
          between: fc.boolean(),
          seed: fc.integer({ min: 1, max: 10_000 }),
        }),
        ({ batch, m, n, k, transA, transB, sharedA, f64, between, seed }) => {
          const ctor = f64 ? Float64Array : Float32Array;
          const a = filled(ctor, (sharedA ? 1 : batch) * m * k, seed);
          const b = filled(ctor, batch * k * n, seed + 1);
          const args = {
            transA,
            transB,
            m,
            n,
            k,
            batch,
            lda: transA ? m : k,
            ldb: transB ? k : n,
            aOffset: 0,
            bOffset: 0,
            aBatchStride: sharedA ? 0 : m * k,
            bBatchStride: k * n,
          };
          threads.setNumThreads(1);
          const one = Array.from(cpuKernels.gemm(a, b, args));
          // Every item too small to split across both threads, the batch large enough: whole items go to the pool.
          const macs = m * n * k;
          const limit = between ? Math.floor(0.75 * macs) : macs + 1;
          Object.assign(threads.tuning, { parMinMacsWasm: limit, parMinMacsWasmF64: limit, parMinMacsJs: limit });
          threads.setNumThreads(2);
          const before = threads.stats.batches;
          try {
            const two = Array.from(cpuKernels.gemm(a, b, args));
            expect(threads.stats.batches).toBe(before + (threads.poolDisabled() ? 0 : 1));
            expect(two).toEqual(one);
          } finally {
            Object.assign(threads.tuning, {
              parMinMacsWasm: saved.parMinMacsWasm,
              parMinMacsWasmF64: saved.parMinMacsWasmF64,
              parMinMacsJs: saved.parMinMacsJs,
            });
          }
        },
      ),
      fcOptions(40),
    );
  });

  it('refuses a batch whose last item lies outside B, naming the operand', () => {
    const a = filled(Float32Array, 16 * 16, 1);
    const b = filled(Float32Array, 3 * 16 * 16 - 1, 2);
    threads.setNumThreads(2);
    const args = { transA: false, transB: false, m: 16, n: 16, k: 16, batch: 3, lda: 16, ldb: 16, aOffset: 0, bOffset: 0, aBatchStride: 0, bBatchStride: 256 };
    expect(() => cpuKernels.gemm(a, b, args)).toThrow(/gemm: b must hold at least/);
  });
});
