/**
 * What the pivoted QR and the rotation formula of svd.ts's Jacobi iteration are for, each on the
 * case that needs it: the cases a capped property run (mutation testing) never draws.
 */
import { describe, expect, it } from 'vitest';
import { extractR, householder } from '../../src/linalg/qr.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { Generator } from '../../src/tensor/random.js';
import { diffFro, fro, mm, orthError, tr } from './helpers.js';

/** U·diag(σ)·Vᵀ of a thin SVD (U m×k, V n×k). */
function rebuild(u: Float64Array, s: Float64Array, v: Float64Array, m: number, n: number): Float64Array {
  const k = s.length;
  const us = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) us[i * k + j] = u[i * k + j] * s[j];
  return mm(us, m, k, tr(v, n, k), n);
}

describe('svd.ts: the preconditioning QR and the rotation of a strongly graded pair', () => {
  it('column pivoting makes two Jacobi sweeps enough on A = B·D with D ascending from 1e-12 to 1 (Drmač–Veselić): U and V orthonormal, A = UΣVᵀ', () => {
    // Without pivoting Rᵀ = D·R_Bᵀ is far from orthogonal columns and two sweeps leave V off by O(1);
    // with it the pivoted R is nearly diagonal-dominant and one or two sweeps converge.
    const g = new Generator(5);
    for (const [m, n] of [
      [8, 4],
      [12, 8],
      [20, 12],
    ]) {
      const b = Float64Array.from({ length: m * n }, () => g.normal());
      const a = b.map((x, k) => x * 10 ** (-12 + (12 * (k % n)) / (n - 1)));
      const r = svdRaw(a, m, n, { method: 'jacobi', maxSweeps: 2 });
      const u = r.u as Float64Array;
      const v = r.v as Float64Array;
      expect(orthError(v, n, n)).toBeLessThan(1e-12);
      expect(orthError(u, m, n)).toBeLessThan(1e-12);
      expect(diffFro(rebuild(u, r.s, v, m, n), a)).toBeLessThan(1e-13 * fro(a));
    }
  });

  it('a pair whose squared norms differ by 1e290 with a cosine of 1e-8 (|ζ| > 1e150: t = 1/(2ζ)) is orthogonalised; σ₂ = |det A|/σ₁ to relative accuracy', () => {
    // A = [[1, c], [0, δ]]: rows of R = A are x_0 = (1, c), x_1 = (0, δ), cosine c/√(1 + c²), and
    // ζ = (δ² − 1 − c²)/(2cδ) ≈ −5e152 for c = 1e-8, δ = 1e-145.
    for (const [c, delta] of [
      [1e-8, 1e-145],
      [-3e-7, 2e-148],
      // |ζ| ≈ 1.7e158: 1 + ζ² overflows, so the exact formula would give t = 0 (no rotation).
      [1e-9, 3e-150],
    ]) {
      const a = Float64Array.from([1, c, 0, delta]);
      for (const method of ['jacobi', 'fast'] as const) {
        const r = svdRaw(a, 2, 2, { method });
        const u = r.u as Float64Array;
        const v = r.v as Float64Array;
        expect(orthError(u, 2, 2)).toBeLessThan(1e-15);
        expect(orthError(v, 2, 2)).toBeLessThan(1e-15);
        const s1 = Math.hypot(1, c);
        expect(Math.abs(r.s[0] - s1)).toBeLessThan(1e-15 * s1);
        // det A = δ (triangular), exactly; σ₁σ₂ = |det A|.
        const s2 = delta / s1;
        expect(Math.abs(r.s[1] - s2)).toBeLessThan(1e-14 * s2);
        expect(diffFro(rebuild(u, r.s, v, 2, 2), a)).toBeLessThan(1e-15 * fro(a));
        // The second right singular vector: A·v₂ = σ₂u₂ to relative accuracy in its second row,
        // which alone carries δ: (A v₂)_1 = δ·v₂[1].
        expect(Math.abs(delta * v[3] - r.s[1] * u[3])).toBeLessThan(1e-14 * r.s[1]);
      }
    }
  });
  it('a pair of equal squared norms (ζ = 0 exactly: a rotation by 45°), from an upper-triangular A that the QR leaves as it is', () => {
    // A = R (no reflector has anything to do and the columns are already in pivot order): the rows
    // (3, 0, 1) and (0, 3, 1) of R, the first pair Jacobi meets, both have squared norm 10.
    // AᵀA·(1, −1, 0) = 9·(1, −1, 0), so σ = 3 is exact; Σσ² = ‖A‖² = 21 and Πσ = |det A| = 9.
    const a = Float64Array.from([3, 0, 1, 0, 3, 1, 0, 0, 1]);
    for (const method of ['jacobi', 'fast'] as const) {
      const r = svdRaw(a, 3, 3, { method });
      const u = r.u as Float64Array;
      const v = r.v as Float64Array;
      expect(orthError(u, 3, 3)).toBeLessThan(1e-15);
      expect(orthError(v, 3, 3)).toBeLessThan(1e-15);
      expect(diffFro(rebuild(u, r.s, v, 3, 3), a)).toBeLessThan(1e-15 * fro(a));
      expect(Math.min(...r.s.map((x) => Math.abs(x - 3)))).toBeLessThan(1e-15 * 3);
      expect(Math.abs(r.s[0] ** 2 + r.s[1] ** 2 + r.s[2] ** 2 - 21)).toBeLessThan(1e-14 * 21);
      expect(Math.abs(r.s[0] * r.s[1] * r.s[2] - 9)).toBeLessThan(1e-14 * 9);
    }
  });

  it('maxSweeps bounds the Jacobi sweeps: at 0 the pivoted QR is all there is (σ = the norms of the rows of R); at 1 the result moves', () => {
    const g = new Generator(7);
    const [m, n] = [9, 6];
    const a = Float64Array.from({ length: m * n }, () => g.normal());
    const r = extractR(householder(a, m, n, true), n); // n×n, upper triangular
    const rowNorms = Array.from({ length: n }, (_, j) => Math.hypot(...r.subarray(j * n, j * n + n))).sort((x, y) => y - x);
    const none = svdRaw(a, m, n, { method: 'jacobi', maxSweeps: 0 });
    Array.from(none.s).forEach((v, j) => expect(Math.abs(v - rowNorms[j])).toBeLessThanOrEqual(1e-14 * rowNorms[0]));
    // One sweep already rotates: σ₁ rises towards ‖A‖₂ (the rows of R are far from orthogonal).
    const one = svdRaw(a, m, n, { method: 'jacobi', maxSweeps: 1 });
    expect(one.s[0] - rowNorms[0]).toBeGreaterThan(1e-3 * rowNorms[0]);
  });
});
