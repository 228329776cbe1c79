/**
 * The float64 Level-2 kernels of wasm/kernels-f64.ts (dgemvN, dgemvT, drotSeq) against plain
 * loops, on shapes that leave every remainder path something to do (rows not a multiple of 4 or 2,
 * the accumulate flag both ways). dgemm is covered by the GEMM properties of cpu-gemm.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKernelState } from '../../src/backend/cpu/state.js';
import { kernelBytes } from '../../src/backend/cpu/wasm/kernels.js';
import { wasmReserve } from '../../src/backend/cpu/state.js';
import { Generator } from '../../src/tensor/random.js';

const w = createKernelState(new WebAssembly.Module(kernelBytes() as BufferSource)).wasm!;

function fill(f: Float64Array, at: number, count: number, g: Generator): void {
  for (let i = 0; i < count; i++) f[at + i] = g.normal();
}

describe('float64 wasm Level-2 kernels', () => {
  it('dgemvN: y = (acc ? y : 0) + A·x, any rows, even cols, row stride beyond cols', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.nat(1000),
        (rows, half, pad, acc, seed) => {
          const cols = 2 * half;
          const lda = cols + 2 * pad;
          const g = new Generator(seed + 1);
          wasmReserve(w, 1 << 16);
          const f = w.f64;
          const aAt = 0;
          const xAt = 1024;
          const yAt = 2048;
          fill(f, aAt, rows * lda, g);
          fill(f, xAt, cols, g);
          fill(f, yAt, rows + 2, g);
          const y0 = f.slice(yAt, yAt + rows + 2);
          w.dgemvN(aAt * 8, lda * 8, rows, cols, xAt * 8, yAt * 8, acc ? 1 : 0);
          for (let i = 0; i < rows; i++) {
            let s = 0;
            for (let c = 0; c < cols; c++) s += f[aAt + i * lda + c] * f[xAt + c];
            const want = (acc ? y0[i] : 0) + s;
            expect(Math.abs(f[yAt + i] - want)).toBeLessThanOrEqual(1e-14 * (Math.abs(want) + cols));
          }
          // Nothing past the last row is written.
          expect(f[yAt + rows]).toBe(y0[rows]);
          expect(f[yAt + rows + 1]).toBe(y0[rows + 1]);
        },
      ),
      { seed: 42, numRuns: 120 },
    );
  });

  it('dgemvT: y += Aᵀ·x, odd and even rows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 1, max: 8 }), fc.nat(1000), (rows, half, seed) => {
        const cols = 2 * half;
        const lda = cols + 2;
        const g = new Generator(seed + 7);
        wasmReserve(w, 1 << 16);
        const f = w.f64;
        fill(f, 0, rows * lda, g);
        fill(f, 1024, rows, g);
        fill(f, 2048, cols + 2, g);
        const y0 = f.slice(2048, 2048 + cols + 2);
        w.dgemvT(0, lda * 8, rows, cols, 1024 * 8, 2048 * 8);
        for (let c = 0; c < cols; c++) {
          let s = y0[c];
          for (let i = 0; i < rows; i++) s += f[i * lda + c] * f[1024 + i];
          expect(Math.abs(f[2048 + c] - s)).toBeLessThanOrEqual(1e-14 * (Math.abs(s) + rows + 1));
        }
        expect(f[2048 + cols]).toBe(y0[cols]);
      }),
      { seed: 42, numRuns: 120 },
    );
  });

  it('drotSeq: the rotations of one QL sweep, bit for bit as the scalar loop', () => {
    for (const [count, cols] of [
      [1, 8],
      [5, 16],
      [12, 24],
    ]) {
      const g = new Generator(count * 100 + cols);
      const ld = cols + 8;
      const rows = count + 1;
      wasmReserve(w, 1 << 16);
      const f = w.f64;
      fill(f, 0, rows * ld, g);
      const csAt = 4096;
      for (let t = 0; t < count; t++) {
        const th = g.uniform() * 6;
        f[csAt + 2 * t] = Math.cos(th);
        f[csAt + 2 * t + 1] = Math.sin(th);
      }
      const z = f.slice(0, rows * ld);
      for (let t = count - 1; t >= 0; t--) {
        const c = f[csAt + 2 * t];
        const s = f[csAt + 2 * t + 1];
        for (let k = 0; k < cols; k++) {
          const h = z[(t + 1) * ld + k];
          const zi = z[t * ld + k];
          z[(t + 1) * ld + k] = s * zi + c * h;
          z[t * ld + k] = c * zi - s * h;
        }
      }
      w.drotSeq(0, ld * 8, count, csAt * 8, cols);
      expect(f.slice(0, rows * ld)).toEqual(z);
    }
  });
});
