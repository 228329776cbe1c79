import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GRAM_SVD_MIN_SIDE } from '../../../src/linalg/svd-gram.js';
import { svdRaw } from '../../../src/linalg/svd.js';
import { energyRank, nuclearSubgradient, truncatedSvd } from '../../../src/lowrank/methods/lowered.js';
import { Generator } from '../../../src/tensor/random.js';
import { fcOptions } from '../../helpers.js';

function orthoError(u: Float64Array, rows: number, k: number, skip: (j: number) => boolean): number {
  let e = 0;
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      if (skip(a) || skip(b)) continue;
      let s = 0;
      for (let i = 0; i < rows; i++) s += u[i * k + a] * u[i * k + b];
      e = Math.max(e, Math.abs(s - (a === b ? 1 : 0)));
    }
  return e;
}

/** The Gram route of truncatedSvd (both sides ≥ GRAM_SVD_MIN_SIDE) against the Jacobi SVD. */
describe('truncatedSvd on the Gram route (TRP, LRA at fc1 sizes)', () => {
  it('gives the rank, spectrum, best approximation and nuclear subgradient of the Jacobi SVD, wide and tall', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: GRAM_SVD_MIN_SIDE, max: 90 }),
        fc.integer({ min: GRAM_SVD_MIN_SIDE, max: 90 }),
        fc.constantFrom(0.5, 0.9, 0.98),
        fc.integer({ min: 0, max: 1e6 }),
        (rows, cols, energy, seed) => {
          const gen = new Generator(seed);
          // A decaying spectrum, like a trained layer's, plus an exactly rank-deficient part.
          const data = new Float64Array(rows * cols);
          for (let p = 0; p < Math.min(rows, cols) - 5; p++) {
            const w = Math.exp(-p / 6);
            const a = Array.from({ length: rows }, () => gen.normal());
            const b = Array.from({ length: cols }, () => gen.normal());
            for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] += w * a[i] * b[j];
          }
          const t = truncatedSvd({ data, rows, cols }, { energy });
          const ref = svdRaw(data, rows, cols);
          const top = ref.s[0];
          expect(t.rank).toBe(energyRank(ref.s, energy));
          for (let j = 0; j < ref.s.length; j++) expect(Math.abs(t.spectrum[j] - ref.s[j])).toBeLessThanOrEqual(1e-6 * top);
          const k = t.rank;
          let err = 0;
          let refSub = 0;
          const sub = nuclearSubgradient(t, rows, cols);
          for (let i = 0; i < rows; i++)
            for (let j = 0; j < cols; j++) {
              let s = 0;
              let g = 0;
              for (let l = 0; l < k; l++) {
                const uv = (ref.u as Float64Array)[i * ref.uCols + l] * (ref.v as Float64Array)[j * ref.vCols + l];
                s += ref.s[l] * uv;
                g += uv;
              }
              err = Math.max(err, Math.abs(s - t.approx[i * cols + j]));
              refSub = Math.max(refSub, Math.abs(g - sub[i * cols + j]));
            }
          expect(err).toBeLessThanOrEqual(1e-9 * top);
          expect(refSub).toBeLessThanOrEqual(1e-6);
          const zero = (j: number) => t.s[j] === 0;
          expect(orthoError(t.u, rows, k, zero)).toBeLessThanOrEqual(1e-9);
          expect(orthoError(t.v, cols, k, zero)).toBeLessThanOrEqual(1e-9);
        },
      ),
      fcOptions(12),
    );
  });

  it('at a fixed rank past the numerical rank, the extra σ are 0 with zero vectors and the approximation is exact', () => {
    const gen = new Generator(4);
    const [rows, cols, r] = [60, 70, 10];
    const data = new Float64Array(rows * cols);
    for (let p = 0; p < r; p++) {
      const a = Array.from({ length: rows }, () => gen.normal());
      const b = Array.from({ length: cols }, () => gen.normal());
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] += a[i] * b[j];
    }
    const t = truncatedSvd({ data, rows, cols }, 20);
    expect(t.rank).toBe(20);
    for (let j = r; j < 20; j++) {
      expect(t.s[j]).toBe(0);
      for (let i = 0; i < cols; i++) expect(t.v[i * 20 + j]).toBe(0);
    }
    let err = 0;
    for (let i = 0; i < data.length; i++) err = Math.max(err, Math.abs(t.approx[i] - data[i]));
    expect(err).toBeLessThanOrEqual(1e-10 * Math.max(...data.map(Math.abs)));
  });
});
