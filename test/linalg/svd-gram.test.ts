import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GRAM_SVD_FLOOR, leftSvdByGram } from '../../src/linalg/svd-gram.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { Generator } from '../../src/tensor/random.js';
import { buildCase, diffFro, mm, opts, orthError, spectrum, tr, withSpectrum, SPECTRUM_KINDS } from './helpers.js';

const arbCase = fc.record({
  m: fc.integer({ min: 1, max: 40 }),
  n: fc.integer({ min: 1, max: 40 }),
  kind: fc.constantFrom(...SPECTRUM_KINDS),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/**
 * Fixed accuracies, never derived from GRAM_SVD_FLOOR (a looser floor must not loosen these tests):
 * on a well-conditioned spectrum (σ_min ≥ 0.01·σ₁, or repeated/clustered values) squaring costs
 * about ε·σ₁²/σ per value, far below 1e-9·σ₁; near zero the error of σ is √(ε·‖A‖²)-sized, below
 * 3e-7·σ₁ at these sizes.
 */
const WELL_CONDITIONED = new Set(['random', 'repeated', 'clustered']);
const accuracy = (kind: string) => (WELL_CONDITIONED.has(kind) ? 1e-9 : 3e-7);

describe('leftSvdByGram (U and σ from eig(A·Aᵀ))', () => {
  it('σ agree with Jacobi to 1e-9·σ₁ on well-conditioned input (3e-7·σ₁ otherwise), U is orthonormal with its signs fixed, and A·Aᵀ·U = U·Σ²', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { a, sigma } = buildCase(c);
        const k = Math.min(c.m, c.n);
        const { u, s, uCols } = leftSvdByGram(a, c.m, c.n);
        expect(uCols).toBe(k);
        const ref = svdRaw(a, c.m, c.n, { wantU: false, wantV: false }).s;
        const top = Math.max(ref[0], 1e-300);
        const tol = accuracy(c.kind) * top;
        for (let j = 0; j < k; j++) {
          expect(Math.abs(s[j] - ref[j])).toBeLessThanOrEqual(tol);
          expect(Math.abs(s[j] - sigma[j])).toBeLessThanOrEqual(tol);
          if (j > 0) expect(s[j]).toBeLessThanOrEqual(s[j - 1]);
          expect(s[j]).toBeGreaterThanOrEqual(0);
        }
        expect(orthError(u, c.m, k)).toBeLessThanOrEqual(1e-12);
        for (let j = 0; j < k; j++) {
          let best = 0;
          for (let i = 0; i < c.m; i++) if (Math.abs(u[i * k + j]) > Math.abs(best)) best = u[i * k + j];
          expect(best).toBeGreaterThan(0);
        }
        // ‖Aᵀ·U_j‖ = σ_j: the columns really are the left singular directions.
        const atu = mm(tr(a, c.m, c.n), c.n, c.m, u, k);
        for (let j = 0; j < k; j++) {
          let nrm = 0;
          for (let i = 0; i < c.n; i++) nrm += atu[i * k + j] ** 2;
          expect(Math.abs(Math.sqrt(nrm) - s[j])).toBeLessThanOrEqual(tol);
        }
      }),
      opts(40),
    );
  });

  it('the kept subspace of a gapped spectrum matches Jacobi: U_r·U_rᵀ agree to 1e-9 at the sizes the integrator uses', () => {
    const g = new Generator(3);
    for (const [m, n, r] of [
      [100, 100, 40],
      [96, 180, 12],
      [150, 60, 30],
    ]) {
      const k = Math.min(m, n);
      const sigma = new Float64Array(k);
      for (let j = 0; j < k; j++) sigma[j] = j < r ? 1 + g.uniform() : 0.05 * g.uniform();
      sigma.sort().reverse();
      const a = withSpectrum(m, n, sigma, g);
      const fast = leftSvdByGram(a, m, n);
      const ref = svdRaw(a, m, n, { wantU: true, wantV: false });
      const proj = (u: Float64Array, cols: number) => {
        const ur = new Float64Array(m * r);
        for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) ur[i * r + j] = u[i * cols + j];
        return mm(ur, m, r, tr(ur, m, r), m);
      };
      expect(diffFro(proj(fast.u, fast.uCols), proj(ref.u as Float64Array, ref.uCols))).toBeLessThanOrEqual(1e-9);
    }
  });

  it('keeps large and tiny scales in range, and rejects a buffer of the wrong size', () => {
    const g = new Generator(9);
    for (const scale of [1e-200, 1e200]) {
      const sigma = spectrum('random', 20, g).map((v) => v * scale);
      const a = withSpectrum(20, 30, sigma, g);
      const { s } = leftSvdByGram(a, 20, 30);
      const ref = svdRaw(a, 20, 30, { wantU: false, wantV: false }).s;
      expect(s.every((v) => Number.isFinite(v))).toBe(true);
      // Entry by entry against σ₁: a Frobenius norm of these values would under- or overflow itself.
      expect(ref[0]).toBeGreaterThan(1e-3 * scale);
      expect(Math.max(...s.map((v, j) => Math.abs(v - ref[j])))).toBeLessThanOrEqual(1e-9 * ref[0]);
    }
    expect(() => leftSvdByGram(new Float64Array(5), 2, 3)).toThrow(/2×3 = 6 values.*got 5/);
  });

  it('GRAM_SVD_FLOOR sits at the noise level: the σ above GRAM_SVD_FLOOR·σ₁ keep 1% relative accuracy on a graded spectrum down to 1e-9·σ₁', () => {
    const g = new Generator(17);
    for (const [m, n] of [
      [60, 80],
      [100, 100],
    ]) {
      const k = Math.min(m, n);
      const sigma = Float64Array.from({ length: k }, (_, j) => Math.pow(10, (-9 * j) / (k - 1)));
      const a = withSpectrum(m, n, sigma, g);
      const { s } = leftSvdByGram(a, m, n);
      let checked = 0;
      for (let j = 0; j < k; j++) {
        if (sigma[j] <= GRAM_SVD_FLOOR * sigma[0]) continue;
        expect(Math.abs(s[j] - sigma[j])).toBeLessThanOrEqual(1e-2 * sigma[j]);
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    }
  });
});
