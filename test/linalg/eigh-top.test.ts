/**
 * The leading eigenpairs by inverse iteration (eigh-top.ts) against the full eigendecomposition:
 * eigenvalues, residuals, orthonormality, and the subspaces of repeated or clustered eigenvalues.
 */
import { describe, expect, it } from 'vitest';
import { TOP_EIGEN_SHARE, eighSpectrumRaw } from '../../src/linalg/eigh-top.js';
import { eighRaw } from '../../src/linalg/eigh.js';
import { Generator } from '../../src/tensor/random.js';
import { diffFro, mm, orthError, randomOrthogonal, tr } from './helpers.js';

/** Q·diag(λ)·Qᵀ for a random orthogonal Q. */
function symmetricWith(lambda: Float64Array, g: Generator): Float64Array {
  const n = lambda.length;
  const q = randomOrthogonal(n, g);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += q[i * n + p] * lambda[p] * q[j * n + p];
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  return a;
}

/** max_j ‖A·u_j − λ_j·u_j‖ for the n×r columns u_j of the r largest λ. */
function maxResidual(a: Float64Array, n: number, u: Float64Array, r: number, values: Float64Array): number {
  const au = mm(a, n, n, u, r);
  let e = 0;
  for (let j = 0; j < r; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (au[i * r + j] - values[n - 1 - j] * u[i * r + j]) ** 2;
    e = Math.max(e, Math.sqrt(s));
  }
  return e;
}

describe('linalg eighSpectrumRaw: the leading eigenpairs', () => {
  const n = 90;
  const g = new Generator(31);
  const spectra: [string, Float64Array][] = [
    ['distinct', Float64Array.from({ length: n }, () => g.uniform() * 10 - 2)],
    ['repeated top', Float64Array.from({ length: n }, (_, i) => (i < 6 ? 5 : g.uniform()))],
    ['clustered top (1e-12 apart)', Float64Array.from({ length: n }, (_, i) => (i < 8 ? 3 + 1e-12 * i : g.uniform()))],
    ['low rank (zeros below)', Float64Array.from({ length: n }, (_, i) => (i < 10 ? 1 + i : 0))],
  ];
  for (const [name, lambda] of spectra) {
    it(`${name}: eigenvalues equal eighRaw's; A·u = λ·u and UᵀU = I to rounding; same leading subspaces`, () => {
      const a = symmetricWith(lambda, g);
      const full = eighRaw(a, n);
      const spec = eighSpectrumRaw(a, n);
      const scale = Math.max(...lambda.map(Math.abs));
      for (let i = 0; i < n; i++) expect(Math.abs(spec.values[i] - full.values[i])).toBeLessThan(1e-13 * scale * n);
      for (const r of [1, 12, Math.floor(TOP_EIGEN_SHARE * n), 60]) {
        const u = spec.top(r);
        expect(orthError(u, n, r)).toBeLessThan(1e-13);
        expect(maxResidual(a, n, u, r, spec.values)).toBeLessThan(1e-12 * scale);
        // The span of the top r is determined when a gap follows λ_r: compare projectors there.
        const gap = spec.values[n - r] - spec.values[n - r - 1];
        if (gap > 1e-3 * scale) {
          const w = new Float64Array(n * r);
          for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) w[i * r + j] = full.vectors[i * n + n - 1 - j];
          expect(diffFro(mm(u, n, r, tr(u, n, r), n), mm(w, n, r, tr(w, n, r), n))).toBeLessThan(1e-11);
        }
      }
    });
  }

  it('r = 0, the zero matrix, and a bad r', () => {
    const z = eighSpectrumRaw(new Float64Array(16), 4);
    expect(Array.from(z.values)).toEqual([0, 0, 0, 0]);
    expect(orthError(z.top(1), 4, 1)).toBeLessThan(1e-15);
    expect(z.top(0).length).toBe(0);
    expect(() => z.top(5)).toThrow(/eighSpectrumRaw: top\(r\) needs an integer r in \[0, 4\], got 5/);
  });
});
