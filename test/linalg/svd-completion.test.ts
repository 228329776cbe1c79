/**
 * svdRaw's sign fix of completed columns and truncationRank at a rounding tie (svd.ts), checked
 * against quantities recomputed here: orthonormality, A = U_k·diag(σ)·V_kᵀ, and the tail norm.
 */
import { describe, expect, it } from 'vitest';
import { truncationRank } from '../../src/linalg/index.js';
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
