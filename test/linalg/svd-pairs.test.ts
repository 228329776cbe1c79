/**
 * The Gram checks of the 'fast' SVD's Jacobi iteration (svd.ts): `unconvergedPairs` lists the pairs
 * of rows whose cosine exceeds the threshold from one full Gram product; `unconvergedPairsOf`, used
 * after a round that rotated few rows, lists only the pairs involving those rows from a thin GEMM.
 * Both against a plain-loop recomputation of every cosine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wasmRowPairs } from '../../src/linalg/jacobi-wasm.js';
import { TINY2, unconvergedPairs, unconvergedPairsOf } from '../../src/linalg/svd.js';
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

  it('a cosine equal to the threshold does not exceed it: the pair is not listed, by either check', () => {
    // Rows (1, 0) and (3, 4): cosine 3/5, with every product exact, and 0.6·1·5 = 3 exactly.
    const x = Float64Array.of(1, 0, 3, 4);
    expect(0.6 * Math.sqrt(1) * Math.sqrt(25)).toBe(3);
    expect(Array.from(unconvergedPairs(x, 2, 0.6))).toEqual([]);
    expect(Array.from(unconvergedPairsOf(x, 2, 0.6, Uint8Array.of(1, 1)))).toEqual([]);
    // Just under it, the pair is listed.
    expect(Array.from(unconvergedPairs(x, 2, 0.5999999999999999))).toEqual([0, 1]);
    expect(Array.from(unconvergedPairsOf(x, 2, 0.5999999999999999, Uint8Array.of(0, 1)))).toEqual([0, 1]);
  });

  it('a row whose squared norm is under TINY2 lists no pair (rotatePair skips it), as first or second row; one at TINY2 does', () => {
    // Rows 0 = (t, 0, 0, 0) and 3 = (0, 0, t, 0), each at 45° to row 1 = (1, 0, 1, 0); row 2 = (0, 1, 0, 0).
    const n = 4;
    const rowsOf = (t: number) => Float64Array.of(t, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, t, 0);
    const flags = (...on: number[]) => Uint8Array.from({ length: n }, (_, j) => (on.includes(j) ? 1 : 0));
    const tol = 1e-12;
    // t² = 2.5e-301: a normal double under TINY2, so the cosine is computed exactly (1/√2).
    const under = rowsOf(5e-151);
    expect(5e-151 ** 2).toBeLessThan(TINY2);
    expect(Array.from(unconvergedPairs(under, n, tol))).toEqual([]);
    for (const on of [[0], [1], [3], [0, 1, 2, 3]]) expect(Array.from(unconvergedPairsOf(under, n, tol, flags(...on)))).toEqual([]);
    // t² = 1e-300 = TINY2 to the bit: not under it, so both pairs are listed.
    const at = rowsOf(1e-150);
    expect(1e-150 ** 2).toBe(TINY2);
    expect(Array.from(unconvergedPairs(at, n, tol))).toEqual([0, 1, 1, 3]);
    expect(Array.from(unconvergedPairsOf(at, n, tol, flags(0)))).toEqual([0, 1]);
    expect(Array.from(unconvergedPairsOf(at, n, tol, flags(1)))).toEqual([0, 1, 1, 3]);
    expect(Array.from(unconvergedPairsOf(at, n, tol, flags(3)))).toEqual([1, 3]);
    expect(Array.from(unconvergedPairsOf(at, n, tol, flags(0, 1, 2, 3)))).toEqual([0, 1, 1, 3]);
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
