/**
 * The Gram checks of the 'fast' SVD's Jacobi iteration (svd.ts): `unconvergedPairs` lists the pairs
 * of rows whose cosine exceeds the threshold from one full Gram product; `unconvergedPairsOf`, used
 * after a round that rotated few rows, lists only the pairs involving those rows from a thin GEMM.
 * Both against a plain-loop recomputation of every cosine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wasmRowPairs } from '../../src/linalg/jacobi-wasm.js';
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

describe('wasmRowPairs: the Jacobi round on the wasm kernels', () => {
  for (const n of [2, 7, 8, 13, 40]) {
    it(`n = ${n}: dot products and rotations of rows p < q match plain loops, X and W written back`, () => {
      const g = new Generator(n);
      const x = Float64Array.from({ length: n * n }, () => g.normal());
      const wt = Float64Array.from({ length: n * n }, () => g.normal());
      const x0 = x.slice();
      const w0 = wt.slice();
      const k = wasmRowPairs(x, wt, n);
      expect(k).not.toBeNull();
      if (!k) return;
      const rows = (a: Float64Array, i: number) => Array.from(a.subarray(i * n, i * n + n));
      for (let r = 0; r < 3 * n; r++) {
        const p = g.int(0, n);
        const q = g.int(0, n);
        if (p >= q) continue;
        let d = 0;
        for (let i = 0; i < n; i++) d += x0[p * n + i] * x0[q * n + i];
        expect(Math.abs(k.dot(p, q) - d)).toBeLessThanOrEqual(1e-13 * n);
        const c = Math.cos(0.1 * r);
        const s = Math.sin(0.1 * r);
        k.rotate(p, q, c, s);
        for (const a of [x0, w0]) {
          const xp = rows(a, p);
          const xq = rows(a, q);
          for (let i = 0; i < n; i++) {
            a[p * n + i] = c * xp[i] - s * xq[i];
            a[q * n + i] = s * xp[i] + c * xq[i];
          }
        }
      }
      // Nothing reaches the caller's buffers before finish.
      k.finish();
      for (let i = 0; i < n * n; i++) {
        expect(Math.abs(x[i] - x0[i])).toBeLessThanOrEqual(1e-13);
        expect(Math.abs(wt[i] - w0[i])).toBeLessThanOrEqual(1e-13);
      }
    });
  }

  it('works without W (the singular values alone)', () => {
    const n = 9;
    const x = Float64Array.from({ length: n * n }, (_, i) => (i % 7) - 3);
    const ref = x.slice();
    const k = wasmRowPairs(x, null, n);
    if (!k) throw new Error('no wasm kernels');
    k.rotate(2, 5, 0, 1); // a quarter turn: row 2 ← −row 5, row 5 ← row 2
    k.finish();
    for (let i = 0; i < n; i++) {
      expect(x[2 * n + i] + ref[5 * n + i]).toBe(0);
      expect(x[5 * n + i] - ref[2 * n + i]).toBe(0);
    }
  });
});
