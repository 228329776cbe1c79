import { describe, expect, it } from 'vitest';
import { qrRaw } from '../../src/linalg/qr.js';
import { Generator } from '../../src/tensor/random.js';
import { diffFro, fro, mm, orthError, spectrum, withSpectrum } from './helpers.js';

/**
 * Column pivoting chooses, at each step s, the remaining column of largest trailing norm, so that
 * |R_ss| ≥ ‖R[s..j, j]‖ for every j > s (Businger–Golub). The norms are downdated, not recomputed;
 * a wrong downdate passes "A·P = Q·R" but breaks this inequality (mutation survivors of issue #18).
 */
describe('qrRaw with column pivoting: the pivot is the largest trailing column', () => {
  it('|R_ss| ≥ ‖R[s..j, j]‖ for all j > s, on graded, rank-deficient and random matrices, with A[:, perm] = Q·R', () => {
    const g = new Generator(41);
    let checks = 0;
    for (const kind of ['graded', 'rankDeficient', 'random'] as const) {
      for (const [m, n] of [
        [30, 20],
        [20, 30],
        [25, 25],
        [12, 40],
      ]) {
        const k = Math.min(m, n);
        const a = withSpectrum(m, n, spectrum(kind, k, g), g);
        // Scale the columns unevenly, so the pivot order differs from the natural one.
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[i * n + j] *= 1 + ((j * 7) % 5);
        const { q, r, qCols, perm } = qrRaw(a, m, n, 'reduced', true);
        const ap = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) ap[i * n + j] = a[i * n + perm[j]];
        expect(diffFro(ap, mm(q, m, qCols, r, n))).toBeLessThanOrEqual(1e-12 * fro(a));
        expect(orthError(q, m, qCols)).toBeLessThanOrEqual(1e-12);
        for (let s = 0; s < qCols; s++) {
          const pivot = Math.abs(r[s * n + s]);
          for (let j = s + 1; j < n; j++) {
            let t = 0;
            for (let i = s; i <= Math.min(j, qCols - 1); i++) t += r[i * n + j] ** 2;
            expect(pivot).toBeGreaterThanOrEqual(Math.sqrt(t) * (1 - 1e-10) - 1e-13 * fro(a));
            checks++;
          }
        }
      }
    }
    expect(checks).toBeGreaterThan(1000);
  });
});
