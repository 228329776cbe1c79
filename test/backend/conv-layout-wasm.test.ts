/**
 * The layout pass's wasm route (swapRowsW, wasm/rows.ts) against the plain loops (swapRows): the
 * bias added bit for bit, every row where it belongs, and each row's sum within float32 rounding
 * of the sequential double sum; rows of any length (P mod 4 ≠ 0 too), row ranges that start
 * anywhere, and blocks of rows past the kernel's 64 Ki-float buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { swapRows, swapRowsW } from '../../src/backend/cpu/conv-layout.js';
import * as threads from '../../src/backend/cpu/threads.js';
import { fcOptions } from '../helpers.js';
import { randomArray } from './cpu-helpers.js';

describe('swapRowsW', () => {
  it('runs on the wasm kernels here (else this file would test the loops against themselves)', () => {
    expect(threads.simdEnabled()).toBe(true);
    const st = threads.mainState();
    expect(typeof st.wasm?.ex.rowsBias).toBe('function');
    expect(typeof st.wasm?.ex.rowsSum4).toBe('function');
  });

  it('equals swapRows: the bias bit for bit, the row sums within float32 rounding', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: 1, max: 24 }),
        fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 590, max: 1300 })),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        (A, B, P, withBias, withSums, seed) => {
          fc.pre(withBias || withSums);
          const rows = A * B;
          const x = randomArray(Float32Array, rows * P, seed) as Float32Array;
          const bias = withBias ? (randomArray(Float32Array, A, seed + 1) as Float32Array) : null;
          // A range that starts and ends inside, as a worker's chunk does.
          const r0 = seed % rows;
          const r1 = r0 + 1 + ((seed >> 3) % (rows - r0));
          const want = new Float32Array(rows * P).fill(7);
          const got = new Float32Array(rows * P).fill(7);
          const wantSums = withSums ? new Float64Array(rows).fill(7) : null;
          const gotSums = withSums ? new Float64Array(rows).fill(7) : null;
          swapRows(x, A, B, P, bias, want, wantSums, r0, r1);
          swapRowsW(threads.mainState(), x, A, B, P, bias, got, gotSums, r0, r1);
          expect(Array.from(got)).toEqual(Array.from(want));
          if (wantSums && gotSums) {
            for (let r = 0; r < rows; r++) {
              if (r < r0 || r >= r1) {
                expect(gotSums[r]).toBe(7);
                continue;
              }
              let abs = 0;
              const b = Math.floor(r / A);
              for (let p = 0; p < P; p++) abs += Math.abs(x[((r - b * A) * B + b) * P + p]);
              // Lanes summed in float32: at most ~P·2⁻²⁴ of Σ|x| apart.
              expect(Math.abs(gotSums[r] - wantSums[r])).toBeLessThanOrEqual(P * 2 ** -24 * abs + 1e-30);
            }
          }
        },
      ),
      fcOptions(60),
    );
  });
});
