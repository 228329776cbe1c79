import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { qr } from '../../src/linalg/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { arbMatrixCase, buildCase, diffFro, fro, mm, opts, orthError } from './helpers.js';

function permuted(a: Float64Array, m: number, n: number, perm: Int32Array | undefined): Float64Array {
  if (!perm) return a;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = a[i * n + perm[j]];
  return out;
}

describe('linalg.qr (Householder)', () => {
  for (const mode of ['reduced', 'complete'] as const) {
    for (const pivoting of [false, true]) {
      it(`A = QR, QᵀQ = I, R upper triangular with diag ≥ 0 (${mode}, pivoting=${pivoting})`, () => {
        fc.assert(
          fc.property(arbMatrixCase(12), (c) => {
            const { a, t } = buildCase(c);
            const { m, n } = c;
            const { q, r, perm } = qr(t, { mode, pivoting });
            const k = mode === 'complete' ? m : Math.min(m, n);
            expect(q.shape).toEqual([m, k]);
            expect(r.shape).toEqual([k, n]);
            expect(q.dtype).toBe('float64');
            if (pivoting) {
              expect(perm).toBeDefined();
              expect([...perm!].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
            } else expect(perm).toBeUndefined();
            const qrProd = mm(q.data, m, k, r.data, n);
            expect(diffFro(permuted(a, m, n, perm), qrProd)).toBeLessThanOrEqual(1e-12 * fro(a));
            expect(orthError(q.data, m, k)).toBeLessThanOrEqual(1e-12);
            for (let i = 0; i < k; i++) {
              for (let j = 0; j < Math.min(i, n); j++) expect(r.data[i * n + j]).toBe(0);
              if (i < n) expect(r.data[i * n + i]).toBeGreaterThanOrEqual(0);
            }
            if (pivoting) {
              // |R_00| ≥ |R_11| ≥ … (column pivoting), up to rounding
              for (let i = 1; i < Math.min(k, n); i++) {
                expect(r.data[i * n + i]).toBeLessThanOrEqual(r.data[(i - 1) * n + i - 1] + 1e-12 * fro(a));
              }
            }
          }),
          opts(100),
        );
      });
    }
  }

  it('is unique for a full-column-rank matrix (thin QR agrees with the complete one)', () => {
    const { t } = buildCase({ m: 7, n: 4, kind: 'random', seed: 5 });
    const a = qr(t);
    const b = qr(t, { mode: 'complete' });
    for (let i = 0; i < 7; i++) for (let j = 0; j < 4; j++) expect(Math.abs(a.q.data[i * 4 + j] - b.q.data[i * 7 + j])).toBeLessThan(1e-14);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(Math.abs(a.r.data[i * 4 + j] - b.r.data[i * 4 + j])).toBeLessThan(1e-14);
  });

  it('handles zero, 1×n, n×1 and empty matrices, and float32 input', () => {
    const z = qr(Tensor.fromData(new Float64Array(12), [4, 3]), { mode: 'complete' });
    expect(orthError(z.q.data, 4, 4)).toBeLessThan(1e-15);
    expect(Array.from(z.r.data).every((v) => v === 0)).toBe(true);
    const row = qr(Tensor.fromData(Float64Array.from([3, -4, 1]), [1, 3]));
    expect(row.q.toArray()).toEqual([[1]]);
    expect(row.r.toArray()).toEqual([[3, -4, 1]]);
    const col = qr(Tensor.fromData(Float64Array.from([0, -3, 4]), [3, 1]));
    expect(col.r.data[0]).toBeCloseTo(5, 14);
    expect(Array.from(col.q.data).map((v) => +v.toFixed(14))).toEqual([0, -0.6, 0.8]);
    const e = qr(Tensor.fromData(new Float64Array(0), [0, 3]));
    expect(e.q.shape).toEqual([0, 0]);
    expect(e.r.shape).toEqual([0, 3]);
    const f32 = qr(Tensor.fromData(Float32Array.from([1, 2, 3, 4]), [2, 2]));
    expect(f32.q.dtype).toBe('float64');
    expect(diffFro(mm(f32.q.data, 2, 2, f32.r.data, 2), [1, 2, 3, 4])).toBeLessThan(1e-14);
  });

  it('rejects bad input with the argument and the actual value in the message', () => {
    expect(() => qr(Tensor.fromData(Float64Array.from([1, NaN, 2, 3]), [2, 2]))).toThrow(/qr: a must hold finite values, got NaN at flat index 1/);
    expect(() => qr(Tensor.fromData(Float64Array.from([1, Infinity]), [1, 2]))).toThrow(/qr: a must hold finite values, got Infinity/);
    expect(() => qr(Tensor.fromData(new Float64Array(8), [2, 2, 2]))).toThrow(/qr: a must be 2-D \[rows, cols\], got shape \[2, 2, 2\]/);
    expect(() => qr(Tensor.fromData(new Float64Array(4), [2, 2]), { mode: 'full' as 'reduced' })).toThrow(
      /qr: options.mode must be 'reduced' or 'complete', got full/,
    );
    expect(() => qr([[1, 2]] as unknown as Tensor)).toThrow(/qr: a must be a Tensor, got an array/);
  });
});
