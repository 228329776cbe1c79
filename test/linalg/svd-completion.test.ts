/**
 * svdRaw's sign fix of completed columns and truncationRank at a rounding tie (svd.ts), checked
 * against quantities recomputed here: orthonormality, A = U_k·diag(σ)·V_kᵀ, and the tail norm.
 */
import { describe, expect, it } from 'vitest';
import { truncationRank } from '../../src/linalg/index.js';
import { householder } from '../../src/linalg/qr.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { Generator } from '../../src/tensor/random.js';
import { diffFro, fro, mm, orthError, tr } from './helpers.js';

describe('svdRaw full: completed columns of U', () => {
  // Small integer matrices make ties among the entries of the completed columns of U (beyond
  // column n), so the sign fix flips some of them: V (n columns only) must be left alone then.
  it('full SVD of tall integer matrices: U (m×m) and V (n×n) orthonormal and A = U_k·diag(σ)·V_kᵀ', () => {
    const g = new Generator(31);
    let cases = 0;
    for (let trial = 0; trial < 300; trial++) {
      const m = 3 + (trial % 5);
      const n = 1 + (trial % (m - 1));
      const a = Float64Array.from({ length: m * n }, () => g.int(-2, 3));
      const r = svdRaw(a, m, n, { full: true });
      const u = r.u as Float64Array;
      const v = r.v as Float64Array;
      expect([r.uCols, r.vCols]).toEqual([m, n]);
      expect(orthError(u, m, m)).toBeLessThan(1e-12);
      expect(orthError(v, n, n)).toBeLessThan(1e-12);
      const us = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) us[i * n + j] = u[i * m + j] * r.s[j];
      expect(diffFro(mm(us, m, n, tr(v, n, n), n), a)).toBeLessThanOrEqual(1e-12 * fro(a));
      cases++;
    }
    expect(cases).toBe(300);
  });
});

describe('truncationRank at a rounding tie', () => {
  it('a threshold equal to the tail norm as computed (√(σ₁² + σ₀²), summed from the end) drops that tail', () => {
    const g = new Generator(47);
    let ties = 0;
    for (let trial = 0; trial < 2000 && ties < 20; trial++) {
      const s0 = g.uniform();
      const s1 = s0 * g.uniform();
      const tail2 = s1 * s1 + s0 * s0;
      const t = Math.sqrt(tail2);
      // The cases that matter: t² rounds below the tail's squared norm, so only the norm form holds.
      if (!(t * t < tail2)) continue;
      ties++;
      expect(truncationRank([s0, s1], t)).toBe(0);
      // Just below the norm, σ₀ alone stays (σ₁ ≤ σ₀ < t).
      expect(truncationRank([s0, s1], t * (1 - 1e-15))).toBe(1);
    }
    expect(ties).toBeGreaterThanOrEqual(20);
  });

  it('σ may rise by exactly the 1e-12 relative tolerance of the order check, not more', () => {
    expect(truncationRank([1, 1 + 1e-12], 0)).toBe(2);
    expect(() => truncationRank([1, 1 + 3e-12], 0)).toThrow(/sigma must be sorted descending/);
  });
});

describe('svdRaw: exact zeros and ties', () => {
  // After the power-of-two scaling (max |entry| ≈ 1), a column of the Jacobi iteration whose squared
  // norm is under TINY2 = 1e-300 counts as an exact zero: σ = 0, its vectors completed.
  it('σ under 1e-150·max|entry| is reported as 0 with completed vectors; σ = 1e-150 exactly is kept', () => {
    for (const method of ['fast', 'jacobi'] as const) {
      for (const [t, want] of [
        [9.999999999999999e-151, 0],
        [1e-150, 1e-150],
      ]) {
        // 3×2, entries 1 and t on the diagonal: every product exact, t² = 1e-300 for t = 1e-150.
        const a = Float64Array.of(1, 0, 0, t, 0, 0);
        const r = svdRaw(a, 3, 2, { wantU: true, wantV: true, method });
        expect(Array.from(r.s), `${method}, t = ${t}`).toEqual([1, want]);
        expect(orthError(r.u as Float64Array, 3, 2)).toBeLessThan(1e-15);
        expect(orthError(r.v as Float64Array, 2, 2)).toBeLessThan(1e-15);
        // A = U·diag(σ)·Vᵀ to the last bit of the large entry (the small one is dropped when σ = 0).
        const us = mm(r.u as Float64Array, 3, 2, Float64Array.from([r.s[0], 0, 0, r.s[1]]), 2);
        expect(diffFro(mm(us, 3, 2, tr(r.v as Float64Array, 2, 2), 2), a)).toBeLessThanOrEqual(t + 1e-16);
      }
    }
  });

  it('equal singular values keep their Jacobi order: the pivoted QR order of equal columns', () => {
    // diag(d) with many equal entries: Jacobi rotates nothing (the columns are orthogonal), so the
    // Jacobi order is the column pivoting's (householder(…, true), qr.ts), which the sort of σ must
    // keep among equal values: U = V = the columns e_perm[0], e_perm[1], …
    for (const [n, method] of [
      [5, 'fast'],
      [5, 'jacobi'],
      [100, 'jacobi'],
    ] as const) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) a[i * n + i] = i % 2 === 0 ? 2 : 1;
      const perm = householder(a, n, n, true).perm;
      const r = svdRaw(a, n, n, { wantU: true, wantV: true, method });
      expect(Array.from(r.s)).toEqual(Array.from({ length: n }, (_, c) => (c < Math.ceil(n / 2) ? 2 : 1)));
      for (const q of [r.u as Float64Array, r.v as Float64Array])
        for (let c = 0; c < n; c++) {
          const col = Array.from({ length: n }, (_, i) => q[i * n + c] + 0); // (+ 0: −0 reads as 0)
          expect(col, `${method}, n = ${n}, column ${c}`).toEqual(Array.from({ length: n }, (_, i) => (i === perm[c] ? 1 : 0)));
        }
    }
  });
});
