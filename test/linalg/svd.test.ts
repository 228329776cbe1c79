import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { svd, svdvals, truncationRank } from '../../src/linalg/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { arbMatrixCase, buildCase, diffFro, fro, mm, opts, orthError, tr, withSpectrum } from './helpers.js';

/** U·diag(s)·Vᵀ for U m×k (leading k columns of an m×uc matrix) and Vᵀ (k rows of an vr×n matrix). */
function rebuild(u: ArrayLike<number>, m: number, uc: number, s: ArrayLike<number>, vt: ArrayLike<number>, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let p = 0; p < k; p++) {
    if (s[p] === 0) continue;
    for (let i = 0; i < m; i++) {
      const f = u[i * uc + p] * s[p];
      if (f === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += f * vt[p * n + j];
    }
  }
  return out;
}

function signConventionHolds(u: ArrayLike<number>, m: number, c: number): boolean {
  for (let j = 0; j < c; j++) {
    let best = 0;
    let bi = -1;
    for (let i = 0; i < m; i++)
      if (Math.abs(u[i * c + j]) > best) {
        best = Math.abs(u[i * c + j]);
        bi = i;
      }
    if (bi >= 0 && u[bi * c + j] <= 0) return false;
  }
  return true;
}

describe('linalg.svd (one-sided Jacobi)', () => {
  for (const full of [false, true]) {
    it(`A = UΣVᵀ, U and V orthonormal, σ descending ≥ 0 and equal to the prescribed spectrum (full=${full})`, () => {
      fc.assert(
        fc.property(arbMatrixCase(12), (c) => {
          const { a, sigma, t } = buildCase(c);
          const { m, n } = c;
          const k = Math.min(m, n);
          const { u, s, vt } = svd(t, { full });
          const uc = full ? m : k;
          const vr = full ? n : k;
          expect(u.shape).toEqual([m, uc]);
          expect(s.shape).toEqual([k]);
          expect(vt.shape).toEqual([vr, n]);
          const normA = fro(a);
          expect(diffFro(a, rebuild(u.data, m, uc, s.data, vt.data, n, k))).toBeLessThanOrEqual(1e-12 * normA);
          expect(orthError(u.data, m, uc)).toBeLessThanOrEqual(1e-12);
          expect(orthError(tr(vt.data, vr, n), n, vr)).toBeLessThanOrEqual(1e-12);
          for (let i = 0; i < k; i++) {
            expect(s.data[i]).toBeGreaterThanOrEqual(0);
            if (i > 0) expect(s.data[i]).toBeLessThanOrEqual(s.data[i - 1]);
            expect(Math.abs(s.data[i] - sigma[i])).toBeLessThanOrEqual(1e-12 * (sigma[0] || 1));
          }
          expect(signConventionHolds(u.data, m, uc)).toBe(true);
        }),
        opts(150),
      );
    });
  }

  it('larger matrices (up to 40×40, and 160×1…3): reconstruction, orthonormality, spectrum', () => {
    fc.assert(
      fc.property(arbMatrixCase(40), (c) => {
        const { a, sigma, t } = buildCase(c);
        const { m, n } = c;
        const k = Math.min(m, n);
        const { u, s, vt } = svd(t);
        expect(diffFro(a, rebuild(u.data, m, k, s.data, vt.data, n, k))).toBeLessThanOrEqual(1e-12 * fro(a));
        expect(orthError(u.data, m, k)).toBeLessThanOrEqual(1e-12);
        expect(orthError(tr(vt.data, k, n), n, k)).toBeLessThanOrEqual(1e-12);
        for (let i = 0; i < k; i++) expect(Math.abs(s.data[i] - sigma[i])).toBeLessThanOrEqual(1e-12 * (sigma[0] || 1));
      }),
      opts(25),
    );
  });

  it('Eckart–Young: the rank-k truncation error equals sqrt(Σ_{i>k} σ_i²) to 1e-10 relative', () => {
    fc.assert(
      fc.property(arbMatrixCase(12), (c) => {
        const { a, t } = buildCase(c);
        const { m, n } = c;
        const kk = Math.min(m, n);
        const { u, s, vt } = svd(t);
        const normA = fro(a);
        for (let r = 0; r <= kk; r++) {
          const err = diffFro(a, rebuild(u.data, m, kk, s.data, vt.data, n, r));
          let tail = 0;
          for (let i = kk - 1; i >= r; i--) tail += s.data[i] ** 2;
          tail = Math.sqrt(tail);
          // relative to the tail, with an absolute floor at the rounding level of A itself
          expect(Math.abs(err - tail)).toBeLessThanOrEqual(1e-10 * tail + 1e-13 * normA);
        }
      }),
      opts(60),
    );
  });

  it('is deterministic and consistent between A and Aᵀ', () => {
    fc.assert(
      fc.property(arbMatrixCase(10), (c) => {
        const { a, t } = buildCase(c);
        const r1 = svd(t);
        const r2 = svd(t);
        expect(Array.from(r2.u.data)).toEqual(Array.from(r1.u.data));
        expect(Array.from(r2.vt.data)).toEqual(Array.from(r1.vt.data));
        const st = svd(Tensor.fromData(tr(a, c.m, c.n), [c.n, c.m])).s;
        for (let i = 0; i < st.data.length; i++) expect(Math.abs(st.data[i] - r1.s.data[i])).toBeLessThanOrEqual(1e-13 * (r1.s.data[0] || 1));
        const sv = svdvals(t);
        for (let i = 0; i < sv.data.length; i++) expect(Math.abs(sv.data[i] - r1.s.data[i])).toBeLessThanOrEqual(1e-13 * (r1.s.data[0] || 1));
      }),
      opts(40),
    );
  });

  it('zero, 1×n, n×1 and empty matrices give orthonormal (completed) bases', () => {
    const z = svd(Tensor.fromData(new Float64Array(15), [3, 5]), { full: true });
    expect(Array.from(z.s.data)).toEqual([0, 0, 0]);
    expect(orthError(z.u.data, 3, 3)).toBe(0);
    expect(orthError(z.vt.data, 5, 5)).toBe(0);
    const row = svd(Tensor.fromData(Float64Array.from([3, 0, -4]), [1, 3]));
    expect(row.s.data[0]).toBeCloseTo(5, 14);
    expect(Array.from(row.u.data)).toEqual([1]);
    expect(Array.from(row.vt.data).map((v) => +v.toFixed(14))).toEqual([0.6, 0, -0.8]);
    const col = svd(Tensor.fromData(Float64Array.from([3, 0, -4]), [3, 1]), { full: true });
    expect(col.u.shape).toEqual([3, 3]);
    expect(orthError(col.u.data, 3, 3)).toBeLessThan(1e-15);
    // sign convention: largest-|.| entry of u_0 (−4 → −0.8) made positive, v follows
    expect(col.u.data[6]).toBeCloseTo(0.8, 14);
    expect(col.vt.data[0]).toBe(-1);
    const e = svd(Tensor.fromData(new Float64Array(0), [0, 4]), { full: true });
    expect(e.s.shape).toEqual([0]);
    expect(e.vt.shape).toEqual([4, 4]);
    expect(orthError(e.vt.data, 4, 4)).toBe(0);
  });

  it('is accurate on larger matrices with a graded spectrum and on float32 input', () => {
    const g = new Generator(7);
    for (const [m, n] of [
      [60, 40],
      [40, 60],
      [50, 50],
    ]) {
      const k = Math.min(m, n);
      const sigma = Float64Array.from({ length: k }, (_, i) => Math.pow(10, (-12 * i) / (k - 1)));
      const a = withSpectrum(m, n, sigma, g);
      const { u, s, vt } = svd(Tensor.fromData(a, [m, n]));
      expect(diffFro(a, rebuild(u.data, m, k, s.data, vt.data, n, k))).toBeLessThanOrEqual(1e-13 * fro(a));
      expect(orthError(u.data, m, k)).toBeLessThan(1e-13);
      expect(orthError(tr(vt.data, k, n), n, k)).toBeLessThan(1e-13);
      for (let i = 0; i < k; i++) expect(Math.abs(s.data[i] - sigma[i])).toBeLessThan(1e-14);
    }
    const a32 = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const r = svd(Tensor.fromData(a32, [2, 3]));
    expect(r.u.dtype).toBe('float64');
    expect(diffFro(Float64Array.from(a32), rebuild(r.u.data, 2, 2, r.s.data, r.vt.data, 3, 2))).toBeLessThan(1e-13);
  });

  it('rejects bad input with the argument and the actual value in the message', () => {
    expect(() => svd(Tensor.fromData(Float64Array.from([1, 2, NaN]), [1, 3]))).toThrow(
      /svd: a must hold finite values, got NaN at flat index 2 \(shape \[1, 3\]\)/,
    );
    expect(() => svd(Tensor.fromData(Float64Array.from([1, -Infinity]), [2, 1]))).toThrow(/svd: a must hold finite values, got -Infinity/);
    expect(() => svd(Tensor.fromData(new Float64Array(3), [3]))).toThrow(/svd: a must be 2-D \[rows, cols\], got shape \[3\]/);
    expect(() => svdvals(Tensor.fromData(new Float64Array(8), [2, 2, 2]))).toThrow(/svdvals: a must be 2-D/);
  });
});

describe('linalg.truncationRank', () => {
  it('is the smallest r with sqrt(Σ_{k≥r} σ_k²) ≤ threshold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 0, maxLength: 12 }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        (vals, thr) => {
          const s = Float64Array.from(vals.sort((x, y) => y - x));
          const r = truncationRank(s, thr);
          // Math.hypot: no square under- or overflows (a subnormal σ has a non-zero tail).
          const tail = (q: number) => Math.hypot(...s.slice(q));
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(s.length);
          expect(tail(r)).toBeLessThanOrEqual(thr * (1 + 1e-12));
          if (r > 0) expect(tail(r - 1)).toBeGreaterThan(thr * (1 - 1e-12));
        },
      ),
      opts(200),
    );
  });

  it('handles the edge cases and rejects bad input', () => {
    expect(truncationRank(Float64Array.from([3, 2, 1]), 0)).toBe(3);
    expect(truncationRank(Float64Array.from([3, 2, 0]), 0)).toBe(2);
    expect(truncationRank(Float64Array.from([3, 4 / 3, 1]), Math.sqrt(1 + 16 / 9))).toBe(1);
    expect(truncationRank(Float64Array.from([3, 2, 1]), 100)).toBe(0);
    expect(truncationRank(new Float64Array(0), 1)).toBe(0);
    expect(() => truncationRank(Float64Array.from([1]), -1)).toThrow(/truncationRank: threshold must be a number ≥ 0, got -1/);
    expect(() => truncationRank(Float64Array.from([1]), NaN)).toThrow(/threshold must be a number ≥ 0, got NaN/);
    expect(() => truncationRank(Float64Array.from([1, 2]), 0.1)).toThrow(/sigma must be sorted descending/);
    expect(() => truncationRank(Float64Array.from([1, NaN]), 0.1)).toThrow(/sigma must hold finite values ≥ 0, got NaN at index 1/);
  });
});
