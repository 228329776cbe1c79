import { describe, expect, it } from 'vitest';
import { qrRaw } from '../../src/linalg/qr.js';
import { Generator } from '../../src/tensor/random.js';
import { diffFro, fro, mm, orthError, randomOrthogonal, spectrum, withSpectrum } from './helpers.js';

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

/**
 * Checks A[:, perm] = Q·R, QᵀQ = I and |R_ss| ≥ ‖R[s..j, j]‖ for all j > s (up to `rel` relative
 * and `abs`·‖A‖F absolute); returns the number of pivot inequalities checked.
 */
function checkPivoted(a: Float64Array, m: number, n: number, rel: number, abs: number): number {
  const { q, r, qCols, perm } = qrRaw(a, m, n, 'reduced', true);
  const ap = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) ap[i * n + j] = a[i * n + perm[j]];
  expect(diffFro(ap, mm(q, m, qCols, r, n))).toBeLessThanOrEqual(1e-12 * fro(a));
  // Householder QR keeps QᵀQ = I to a few ε per row (≈ 1e-12 at m = 10,000).
  expect(orthError(q, m, qCols)).toBeLessThanOrEqual(Math.max(1e-12, 1e-15 * m));
  let checks = 0;
  for (let s = 0; s < qCols; s++) {
    const pivot = Math.abs(r[s * n + s]);
    for (let j = s + 1; j < n; j++) {
      let t = 0;
      for (let i = s; i <= Math.min(j, qCols - 1); i++) t += r[i * n + j] ** 2;
      expect(pivot).toBeGreaterThanOrEqual(Math.sqrt(t) * (1 - rel) - abs * fro(a));
      checks++;
    }
  }
  return checks;
}

describe('qrRaw with column pivoting: the cases where downdated norms go wrong', () => {
  it('a 70×66 matrix (past the size where unpivoted QR goes blocked) is pivoted too', () => {
    const g = new Generator(43);
    const a = withSpectrum(70, 66, spectrum('graded', 66, g), g);
    for (let i = 0; i < 70; i++) for (let j = 0; j < 66; j++) a[i * 66 + j] *= 1 + ((j * 7) % 5);
    expect(checkPivoted(a, 70, 66, 1e-10, 1e-13)).toBe((66 * 65) / 2);
  });

  it('exact zero columns are never pivoted ahead of a non-zero one', () => {
    const g = new Generator(44);
    for (const zeros of [[1], [1, 4], [0, 2, 5]]) {
      const a = withSpectrum(9, 7, spectrum('random', 7, g), g);
      for (const z of zeros) for (let i = 0; i < 9; i++) a[i * 7 + z] = 0;
      checkPivoted(a, 9, 7, 1e-10, 1e-13);
      const { r } = qrRaw(a, 9, 7, 'reduced', true);
      // The last |zeros| diagonal entries are the zero columns'.
      for (let s = 0; s < 7 - zeros.length; s++) expect(Math.abs(r[s * 7 + s])).toBeGreaterThan(0);
    }
  });

  it('nearly dependent columns (trailing norms 1e-3 … 1e-13 of their own): pivots on recomputed norms, at scales 1e-6, 1 and 1e6', () => {
    // c_p = 1.01·v is the first pivot; every other c_j = v + δ_j·w_j (w_j orthonormal, orthogonal
    // to v) keeps a trailing norm of δ_j·‖c_j‖, where the downdate ‖c_j‖·√(1 − (r_pj/‖c_j‖)²)
    // cancels to rounding noise once δ_j² < ε: those norms must be recomputed.
    const m = 16;
    const deltas = [1e-9, 1e-3, 1e-13, 1e-5, 1e-11, 1e-7, 1e-12, 1e-10, 1e-8];
    const n = deltas.length + 1;
    const p = 4;
    for (const [seed, scale] of [
      [45, 1],
      [46, 1e6],
      [47, 1e-6],
    ]) {
      const qm = randomOrthogonal(m, new Generator(seed));
      const a = new Float64Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0, w = 1; j < n; j++) {
          if (j === p) a[i * n + j] = scale * 1.01 * qm[i * m];
          else {
            a[i * n + j] = scale * (qm[i * m] + deltas[w - 1] * qm[i * m + w]);
            w++;
          }
        }
      checkPivoted(a, m, n, 1e-6, 1e-15);
    }
    // Long columns (m = 10,000 equal entries, ‖v‖ = 100 times its largest entry): the recompute
    // rule compares the norm's drop (‖c‖ now / ‖c‖ at its last recompute), not its size.
    const mL = 10_000;
    const aL = new Float64Array(mL * n);
    for (let i = 0; i < mL; i++)
      for (let j = 0, w = 0; j < n; j++) {
        if (j === p) aL[i * n + j] = 1.01;
        else {
          const pair = i === 2 * w ? 1 : i === 2 * w + 1 ? -1 : 0;
          aL[i * n + j] = 1 + (deltas[w] * 100 * pair) / Math.SQRT2;
          w++;
        }
      }
    checkPivoted(aL, mL, n, 1e-6, 1e-15);
  });

  it('columns orthogonal to each pivot (r_sj = 0 exactly): a scaled permutation matrix is pivoted by column norm', () => {
    const n = 7;
    const rowOf = [3, 0, 6, 1, 5, 2, 4];
    const a = new Float64Array(n * n);
    for (let j = 0; j < n; j++) a[rowOf[j] * n + j] = [2, 5, 1, 7, 3, 6, 4][j];
    checkPivoted(a, n, n, 1e-12, 0);
    const { r, perm } = qrRaw(a, n, n, 'reduced', true);
    expect(Array.from({ length: n }, (_, s) => r[s * n + s])).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(Array.from(perm)).toEqual([3, 5, 1, 6, 4, 0, 2]);
  });
});
