/**
 * orthonormalRows (orth-rows.ts): the Cholesky QR route for nearly orthogonal rows against the
 * Householder QR it replaces there, and the switch to Householder for rows closer to dependent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHOLESKY_QR_MAX_COS_SUM, orthonormalRows } from '../../src/linalg/orth-rows.js';
import { qrRaw } from '../../src/linalg/qr.js';
import { Generator } from '../../src/tensor/random.js';
import { diffFro, mm, opts, orthError, randomOrthogonal, tr } from './helpers.js';

/** r rows of a random orthogonal n×n matrix, each scaled and perturbed by `noise`·N(0, 1) entries. */
function nearlyOrthogonalRows(r: number, n: number, noise: number, seed: number): Float64Array {
  const g = new Generator(seed);
  const q = randomOrthogonal(n, g);
  const x = new Float64Array(r * n);
  for (let j = 0; j < r; j++) {
    const s = 0.5 + 3 * g.uniform();
    for (let i = 0; i < n; i++) x[j * n + i] = s * (q[j * n + i] + noise * g.normal());
  }
  return x;
}

/** Σ_{j≠i} |cos(x_i, x_j)|, the largest over i (the quantity the route is chosen by). */
function maxCosSum(x: Float64Array, r: number, n: number): number {
  const g = mm(x, r, n, tr(x, r, n), r);
  let worst = 0;
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < r; j++) if (j !== i) s += Math.abs(g[i * r + j]) / Math.sqrt(g[i * r + i] * g[j * r + j]);
    worst = Math.max(worst, s);
  }
  return worst;
}

describe('linalg orthonormalRows', () => {
  it('takes the Cholesky route exactly when the cosine sums are within the bound, and gives the Householder QR result there', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom(0, 1e-14, 1e-8, 1e-3, 1e-2, 0.05, 0.3),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (r, extra, noise, seed) => {
          const n = r + extra;
          const x = nearlyOrthogonalRows(r, n, noise, seed);
          const { q, route } = orthonormalRows(x, r, n);
          const cos = maxCosSum(x, r, n);
          // Away from the bound the two computations of the cosines cannot disagree on the side.
          if (Math.abs(cos - CHOLESKY_QR_MAX_COS_SUM) > 1e-6) expect(route).toBe(cos <= CHOLESKY_QR_MAX_COS_SUM ? 'cholesky' : 'householder');
          const qt = tr(q, r, n); // n×r, columns = rows of q
          expect(orthError(qt, n, r)).toBeLessThan(1e-14 * Math.max(10, r));
          // The QR of Xᵀ with a positive diagonal is unique: both routes give the same vectors.
          const ref = qrRaw(tr(x, r, n), n, r).q;
          expect(diffFro(qt, ref)).toBeLessThan(1e-13 * r);
        },
      ),
      opts(60),
    );
  });

  it('sends nearly dependent, repeated and zero rows to the Householder QR', () => {
    const n = 30;
    const r = 5;
    const x = nearlyOrthogonalRows(r, n, 0, 7);
    for (let i = 0; i < n; i++) x[3 * n + i] = x[2 * n + i] + 1e-9 * x[4 * n + i];
    const close = orthonormalRows(x, r, n);
    expect(close.route).toBe('householder');
    expect(orthError(tr(close.q, r, n), n, r)).toBeLessThan(1e-14);
    const zero = new Float64Array(r * n);
    zero.set(nearlyOrthogonalRows(2, n, 0, 8));
    const z = orthonormalRows(zero, r, n);
    expect(z.route).toBe('householder');
    expect(orthError(tr(z.q, r, n), n, r)).toBeLessThan(1e-14);
  });

  it('r = 0 and invalid shapes', () => {
    expect(orthonormalRows(new Float64Array(0), 0, 4).q.length).toBe(0);
    expect(() => orthonormalRows(new Float64Array(6), 3, 2)).toThrow('orthonormalRows: expected an r×n buffer with 0 ≤ r ≤ n, got r = 3, n = 2, length 6');
  });
});
