/**
 * The Gram route's pieces on their own (svd-gram.ts): gramRows against the product written out
 * here, on both sides of its row-block size; leftSvdByGram's argument checks, one bad argument at a
 * time; the sign convention of U (largest |entry| of each column positive).
 */
import { describe, expect, it } from 'vitest';
import { gramRows, leftSvdByGram } from '../../src/linalg/svd-gram.js';
import { Generator } from '../../src/tensor/random.js';

function gaussian(n: number, seed: number): Float64Array {
  const g = new Generator(seed);
  return Float64Array.from({ length: n }, () => g.normal());
}

describe('svd-gram: gramRows, checks, signs', () => {
  it('gramRows is A·Aᵀ entry by entry and exactly symmetric, below, at and above the row block (64) and across several blocks', () => {
    for (const [m, n] of [
      [5, 7],
      [64, 9],
      [65, 4],
      [150, 6],
    ]) {
      const a = gaussian(m * n, m);
      const g = gramRows(a, m, n);
      expect(g.length).toBe(m * m);
      let worst = 0;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += a[i * n + k] * a[j * n + k];
          worst = Math.max(worst, Math.abs(g[i * m + j] - s));
          expect(g[i * m + j]).toBe(g[j * m + i]);
        }
      expect(worst).toBeLessThan(1e-12 * n);
    }
  });

  it('leftSvdByGram rejects each bad argument alone', () => {
    const a = new Float64Array(6);
    const msg = /leftSvdByGram: expected an m×n buffer of/;
    // m·n = 5 = a.length: only the integer checks catch these.
    expect(() => leftSvdByGram(new Float64Array(5), 2.5, 2)).toThrow(msg);
    expect(() => leftSvdByGram(new Float64Array(5), 2, 2.5)).toThrow(msg);
    expect(() => leftSvdByGram(new Float64Array(0), 0, 3)).toThrow(msg);
    expect(() => leftSvdByGram(new Float64Array(0), 3, 0)).toThrow(msg);
    expect(() => leftSvdByGram(a, 2, 2)).toThrow(/2×2 = 4 values with m, n ≥ 1, got 6/);
    expect(leftSvdByGram(a, 2, 3).uCols).toBe(2);
  });

  it('U: the entry of largest magnitude of each column is positive, and U·diag(σ)² = A·Aᵀ·U', () => {
    for (const [m, n, seed] of [
      [6, 9, 1],
      [8, 5, 2],
      [70, 80, 3],
    ]) {
      const a = gaussian(m * n, seed);
      const { u, s, uCols: k } = leftSvdByGram(a, m, n);
      for (let j = 0; j < k; j++) {
        let best = 0;
        for (let i = 0; i < m; i++) if (Math.abs(u[i * k + j]) > Math.abs(u[best * k + j])) best = i;
        expect(u[best * k + j]).toBeGreaterThan(0);
      }
      // A·Aᵀ·u_j = σ_j²·u_j for the leading (well-separated enough) column.
      let res = 0;
      for (let i = 0; i < m; i++) {
        let v = 0;
        for (let t = 0; t < m; t++) {
          let g = 0;
          for (let c = 0; c < n; c++) g += a[i * n + c] * a[t * n + c];
          v += g * u[t * k];
        }
        res = Math.max(res, Math.abs(v - s[0] * s[0] * u[i * k]));
      }
      expect(res).toBeLessThan(1e-9 * s[0] * s[0]);
    }
  });
});
