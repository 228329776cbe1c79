/**
 * syrkWasm (linalg/syrk.ts) against the GEMM route it replaces (gramRowsGemm, the GEMM with a
 * transposed operand): the same products summed in the same order, on both layouts, with row
 * strides and offsets, ragged sizes around the 4-row panels and the k-slices; and the routing of
 * gramRows / gramCols by thread count, with the GEMM route when SIMD is off.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads, setSimd, simdEnabled } from '../../src/backend/cpu/threads.js';
import { gemm64 } from '../../src/linalg/matrix.js';
import { SYRK_MAX_MACS, gramBySyrk, gramCols, gramRows, gramRowsGemm } from '../../src/linalg/svd-gram.js';
import { syrkUnfolding, syrkWasm } from '../../src/linalg/syrk.js';
import { Generator } from '../../src/tensor/random.js';
import { opts } from './helpers.js';

function rand(n: number, seed: number): Float64Array {
  const g = new Generator(seed);
  return Float64Array.from({ length: n }, () => g.normal());
}

/** Σ_p |a_ip·a_jp| bounds the rounding of entry (i, j): the tolerance of every comparison here. */
function expectGram(got: Float64Array, want: Float64Array, m: number, absRow: (i: number) => Float64Array): void {
  expect(got.length).toBe(m * m);
  for (let i = 0; i < m; i++) {
    const ai = absRow(i);
    for (let j = 0; j <= i; j++) {
      const aj = absRow(j);
      let bound = 0;
      for (let p = 0; p < ai.length; p++) bound += ai[p] * aj[p];
      expect(Math.abs(got[i * m + j] - want[i * m + j])).toBeLessThanOrEqual(1e-14 * bound);
      // Exactly symmetric.
      expect(got[j * m + i]).toBe(got[i * m + j]);
    }
  }
}

describe('linalg syrkWasm', () => {
  it('A·Aᵀ and AᵀA equal the GEMM route, with row strides and offsets, across panels and k-slices (null without SIMD)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 3000 })),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (m, k, pad, off, seed) => {
          // A·Aᵀ: m rows of k values, row stride k + pad.
          const lda = k + pad;
          const a = rand(off + m * lda, seed);
          const g = syrkWasm(a, off, lda, m, k, false);
          if (!simdEnabled()) {
            expect(g).toBeNull();
            return;
          }
          const want = gemm64(false, true, m, m, k, a, off, lda, a, off, lda);
          expectGram(g!, want, m, (i) => a.slice(off + i * lda, off + i * lda + k).map(Math.abs));
          // AᵀA: A stored k×m, row stride m + pad.
          const ldb = m + pad;
          const b = rand(off + k * ldb, seed + 1);
          const h = syrkWasm(b, off, ldb, m, k, true)!;
          const wantT = gemm64(true, false, m, m, k, b, off, ldb, b, off, ldb);
          expectGram(h, wantT, m, (i) => Float64Array.from({ length: k }, (_, p) => Math.abs(b[off + p * ldb + i])));
        },
      ),
      opts(30),
    );
  });

  it('syrkUnfolding: Mat·Matᵀ of the [P, I, Q] view gathered slice by slice, no unfolded copy (null for fibres longer than a slice)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (P, I, Q, seed) => {
          const x = rand(P * I * Q, seed);
          const g = syrkUnfolding(x, P, I, Q);
          if (!simdEnabled()) {
            expect(g).toBeNull();
            return;
          }
          // The definition, and the unfolding (row i, column p·Q + q) as the rows of |.| for the bound.
          const u = new Float64Array(I * P * Q);
          for (let p = 0; p < P; p++) for (let i = 0; i < I; i++) for (let q = 0; q < Q; q++) u[i * P * Q + p * Q + q] = x[(p * I + i) * Q + q];
          const want = gemm64(false, true, I, I, P * Q, u, 0, P * Q, u, 0, P * Q);
          expectGram(g!, want, I, (i) => u.slice(i * P * Q, (i + 1) * P * Q).map(Math.abs));
        },
      ),
      opts(30),
    );
    if (simdEnabled()) expect(syrkUnfolding(rand(3 * 2 * 5000, 1), 3, 2, 5000)).toBeNull();
  });

  it('m = 0 or k = 0: the empty or zero Gram matrix', () => {
    expect(syrkWasm(new Float64Array(0), 0, 0, 0, 5, false)!.length).toBe(0);
    expect(Array.from(syrkWasm(new Float64Array(0), 0, 0, 3, 0, true)!)).toEqual(new Array(9).fill(0));
  });
});

describe('gramRows and gramCols: syrk or the GEMM by thread count, the same values either way', () => {
  const saved = { threads: getNumThreads(), simd: simdEnabled() };
  const restore = () => {
    setNumThreads(saved.threads);
    setSimd(saved.simd);
  };

  it('gramBySyrk: always on one thread, up to SYRK_MAX_MACS on two, never on more', () => {
    try {
      const big = Math.ceil((2 * SYRK_MAX_MACS) / (256 * 256)) + 1;
      setNumThreads(1);
      expect(gramBySyrk(256, big)).toBe(true);
      setNumThreads(2);
      expect(gramBySyrk(256, 2304)).toBe(true);
      // Exactly SYRK_MAX_MACS multiply-adds (256²·4096/2 = 2^27) still go to syrk: "up to".
      expect((256 * 256 * 4096) / 2).toBe(SYRK_MAX_MACS);
      expect(gramBySyrk(256, 4096)).toBe(true);
      expect(gramBySyrk(256, 4097)).toBe(false);
      expect(gramBySyrk(256, big)).toBe(false);
      setNumThreads(4);
      expect(gramBySyrk(256, 2304)).toBe(false);
    } finally {
      restore();
    }
  });

  // 40 rows fit one row block of gramRowsGemm (one GEMM), 70 take two (block triangle, mirrored).
  it.each([40, 70])('every route (syrk, threaded GEMM, plain-JavaScript GEMM) gives the Gram matrix, %i rows', (m) => {
    const k = 300;
    const a = rand(m * k, 9);
    const absRow = (i: number) => a.slice(i * k, i * k + k).map(Math.abs);
    const ref = gemm64(false, true, m, m, k, a, 0, k, a, 0, k);
    const at = new Float64Array(k * m);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) at[p * m + i] = a[i * k + p];
    try {
      for (const [threads, simd] of [
        [1, true],
        [3, true],
        [1, false],
      ] as const) {
        setNumThreads(threads);
        setSimd(simd && saved.simd);
        expectGram(gramRowsGemm(a, m, k), ref, m, absRow);
        expectGram(gramRows(a, m, k), ref, m, absRow);
        expectGram(gramCols(at, k, m), ref, m, absRow);
      }
    } finally {
      restore();
    }
  });
});
