/**
 * The Gram checks of the 'fast' SVD's Jacobi iteration (svd.ts): `unconvergedPairs` lists the pairs
 * of rows whose cosine exceeds the threshold from one full Gram product; `unconvergedPairsOf`, used
 * after a round that rotated few rows, lists only the pairs involving those rows from a thin GEMM.
 * Both against a plain-loop recomputation of every cosine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unconvergedPairs, unconvergedPairsOf } from '../../src/linalg/svd.js';
import { Generator } from '../../src/tensor/random.js';
import { opts } from './helpers.js';

/** Rows of an n×n matrix nearly orthogonal (orthogonal rows, scaled, plus a perturbation of size eps·δ). */
function nearlyOrthogonalRows(n: number, g: Generator, delta: number): Float64Array {
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) x[i * n + i] = 10 ** (-3 * g.uniform());
  for (let i = 0; i < n * n; i++) if (g.uniform() < 0.2) x[i] += delta * g.normal() * x[Math.floor(i / n) * n + Math.floor(i / n)];
  return x;
}

/** Every pair p < q with |x_p·x_q| > tol·‖x_p‖·‖x_q‖, by plain loops, as "p,q" strings. */
function bruteForce(x: Float64Array, n: number, tol: number, keep: (p: number, q: number) => boolean): string[] {
  const out: string[] = [];
  const dot = (p: number, q: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[p * n + i] * x[q * n + i];
    return s;
  };
  for (let p = 0; p < n; p++)
    for (let q = p + 1; q < n; q++) {
      if (!keep(p, q)) continue;
      const c = Math.abs(dot(p, q)) / Math.sqrt(dot(p, p) * dot(q, q));
      // Cosines within rounding of the threshold may go either way: leave them out of both lists.
      if (Math.abs(c - tol) < 1e-3 * tol) continue;
      if (c > tol) out.push(`${p},${q}`);
    }
  return out.sort();
}

function asKeys(pairs: Int32Array, skip: (p: number, q: number) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    expect(pairs[i]).toBeLessThan(pairs[i + 1]);
    if (!skip(pairs[i], pairs[i + 1])) out.push(`${pairs[i]},${pairs[i + 1]}`);
  }
  return out.sort();
}

describe('the Gram checks of the Jacobi iteration', () => {
  it('property: both lists are exactly the pairs a plain recomputation finds above the threshold (seeded)', () => {
    let listed = 0;
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 70 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n, seed) => {
        const g = new Generator(seed);
        const tol = 1e-12;
        const x = nearlyOrthogonalRows(n, g, 1e-12 * (1 + 10 * g.uniform()));
        const rows = Uint8Array.from({ length: n }, () => (g.uniform() < 0.3 ? 1 : 0));
        const nearTol = (p: number, q: number) => isNearTol(x, n, tol, p, q);
        const full = asKeys(unconvergedPairs(x, n, tol), nearTol);
        const expected = bruteForce(x, n, tol, () => true);
        expect(full).toEqual(expected);
        listed += expected.length;
        const some = asKeys(unconvergedPairsOf(x, n, tol, rows), nearTol);
        expect(some).toEqual(bruteForce(x, n, tol, (p, q) => rows[p] === 1 || rows[q] === 1));
      }),
      opts(40),
    );
    expect(listed).toBeGreaterThan(100);
  });

  it('lists a pair of two flagged rows once, and nothing when no row is flagged', () => {
    const n = 6;
    const x = new Float64Array(n * n);
    for (let i = 0; i < n; i++) x[i * n + i] = 1;
    x[1 * n + 4] = 1e-3; // rows 1 and 4 not orthogonal
    const both = unconvergedPairsOf(x, n, 1e-12, Uint8Array.of(0, 1, 0, 0, 1, 0));
    expect(Array.from(both)).toEqual([1, 4]);
    expect(Array.from(unconvergedPairsOf(x, n, 1e-12, Uint8Array.of(0, 0, 0, 0, 1, 0)))).toEqual([1, 4]);
    expect(Array.from(unconvergedPairsOf(x, n, 1e-12, new Uint8Array(n)))).toEqual([]);
  });
});

function isNearTol(x: Float64Array, n: number, tol: number, p: number, q: number): boolean {
  let s = 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    s += x[p * n + i] * x[q * n + i];
    a += x[p * n + i] ** 2;
    b += x[q * n + i] ** 2;
  }
  return Math.abs(Math.abs(s) / Math.sqrt(a * b) - tol) < 1e-3 * tol;
}
