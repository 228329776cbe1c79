/**
 * Divide and conquer on the tridiagonal (tridiag-dc.ts) and eigh's 'dc' route, against the QL route
 * (tql2) and against plain-loop recomputations: T·z = λ·z and A·V = V·Λ residuals, orthogonality,
 * on random, repeated, clustered, graded, zero and split spectra, at orders around the leaf size
 * (where the recursion starts) and its multiples.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DC_LEAF, tridiagEigDC } from '../../src/linalg/tridiag-dc.js';
import { DC_MIN, eighRaw, eighRawWith, tql2 } from '../../src/linalg/eigh.js';
import { Generator } from '../../src/tensor/random.js';
import { SPECTRUM_KINDS, opts, orthError, randomOrthogonal, spectrum, tr } from './helpers.js';

const EPS = 2.220446049250313e-16;

/** max_i ‖T·z_i − λ_i·z_i‖∞ for the tridiagonal (d, e) (e[i] between i−1 and i), row i of zt = z_i. */
function tridiagResidual(d: Float64Array, e: Float64Array, n: number, values: Float64Array, zt: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const z = zt.subarray(i * n, i * n + n);
    for (let r = 0; r < n; r++) {
      let s = d[r] * z[r] - values[i] * z[r];
      if (r > 0) s += e[r] * z[r - 1];
      if (r + 1 < n) s += e[r + 1] * z[r + 1];
      worst = Math.max(worst, Math.abs(s));
    }
  }
  return worst;
}

/** max |A·V − V·Λ| for row-major A and V (eigenvector j in column j). */
function eigResidual(a: Float64Array, n: number, values: Float64Array, v: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = -v[i * n + j] * values[j];
      for (let p = 0; p < n; p++) s += a[i * n + p] * v[p * n + j];
      worst = Math.max(worst, Math.abs(s));
    }
  return worst;
}

function tnorm(d: Float64Array, e: Float64Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(d[i]) + Math.abs(e[i]) + (i + 1 < n ? Math.abs(e[i + 1]) : 0));
  return m;
}

/** QL eigenvalues of the tridiagonal (the reference). */
function qlValues(d: Float64Array, e: Float64Array, n: number): Float64Array {
  const dd = d.slice(0, n);
  tql2(null, dd, e.slice(0, n), n);
  return dd;
}

/** Q·diag(λ)·Qᵀ for a random orthogonal Q, symmetrised exactly. */
function symmetricWith(lambda: ArrayLike<number>, g: Generator): Float64Array {
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

function checkTridiag(d: Float64Array, e: Float64Array, n: number): void {
  const { values, zt } = tridiagEigDC(d, e, n);
  const scale = Math.max(tnorm(d, e, n), Number.MIN_VALUE);
  for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
  const ref = qlValues(d, e, n);
  for (let i = 0; i < n; i++) expect(Math.abs(values[i] - ref[i])).toBeLessThanOrEqual(1e-14 * n * scale);
  expect(tridiagResidual(d, e, n, values, zt)).toBeLessThanOrEqual(1e-14 * n * scale);
  expect(orthError(tr(zt, n, n), n, n)).toBeLessThan(1e-13);
}

describe('tridiagEigDC: divide and conquer on the tridiagonal', () => {
  const sizes = [1, 2, 3, DC_LEAF, DC_LEAF + 1, 2 * DC_LEAF, 2 * DC_LEAF + 1, 4 * DC_LEAF + 3, 150];
  for (const n of sizes) {
    it(`n = ${n}, random tridiagonal: QL's eigenvalues, T·z = λ·z, orthonormal vectors`, () => {
      const g = new Generator(100 + n);
      const d = Float64Array.from({ length: n }, () => g.normal());
      const e = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : g.normal()));
      checkTridiag(d, e, n);
    });
  }

  it('leaves d and e as they were', () => {
    const g = new Generator(5);
    const n = 3 * DC_LEAF;
    const d = Float64Array.from({ length: n }, () => g.normal());
    const e = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : g.normal()));
    const d0 = d.slice();
    const e0 = e.slice();
    tridiagEigDC(d, e, n);
    expect(d).toEqual(d0);
    expect(e).toEqual(e0);
  });

  it("Wilkinson's W⁺ (n = 101): pairs of eigenvalues equal to many digits deflate, vectors stay orthogonal", () => {
    const n = 101;
    const d = Float64Array.from({ length: n }, (_, i) => Math.abs(i - 50));
    const e = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : 1));
    checkTridiag(d, e, n);
  });

  it('the identity, a constant diagonal with tiny couplings, and a zero matrix (everything deflates)', () => {
    const n = 3 * DC_LEAF + 5;
    checkTridiag(new Float64Array(n).fill(1), new Float64Array(n), n);
    const e = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : 1e-17 * (i % 3)));
    checkTridiag(new Float64Array(n).fill(2), e, n);
    const { values, zt } = tridiagEigDC(new Float64Array(n), new Float64Array(n), n);
    expect(Array.from(values)).toEqual(new Array(n).fill(0));
    expect(orthError(zt, n, n)).toBe(0);
  });

  it('an off-diagonal zero exactly at the split (β = 0) and glued 1-2-1 blocks', () => {
    const n = 4 * DC_LEAF;
    const g = new Generator(9);
    const d = Float64Array.from({ length: n }, () => g.normal());
    const e = Float64Array.from({ length: n }, (_, i) => (i === 0 || i === n / 2 ? 0 : g.normal()));
    checkTridiag(d, e, n);
    const d2 = new Float64Array(n).fill(2);
    const e2 = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : -1));
    checkTridiag(d2, e2, n);
  });

  it('graded diagonal (10^0 … 10^-15) with graded couplings', () => {
    const n = 3 * DC_LEAF + 1;
    const d = Float64Array.from({ length: n }, (_, i) => 10 ** ((-15 * i) / n));
    const e = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : 0.5 * 10 ** ((-15 * i) / n)));
    checkTridiag(d, e, n);
  });

  it('rejects a bad order', () => {
    expect(() => tridiagEigDC(new Float64Array(2), new Float64Array(2), 3)).toThrow(/n = 3/);
  });
});

describe("eighRaw's divide-and-conquer route against the QL route", () => {
  it(`'auto' is divide and conquer from DC_MIN = ${DC_MIN} on, QL below`, () => {
    for (const n of [DC_MIN - 1, DC_MIN]) {
      const g = new Generator(n);
      const a = symmetricWith(
        Float64Array.from({ length: n }, () => g.normal()),
        g,
      );
      const route = n >= DC_MIN ? 'dc' : 'ql';
      expect(eighRaw(a, n)).toEqual(eighRawWith(a, n, route));
    }
  });

  const cases: [string, (n: number, g: Generator) => Float64Array][] = [
    ['random', (n, g) => Float64Array.from({ length: n }, () => g.normal())],
    ['repeated (three values)', (n) => Float64Array.from({ length: n }, (_, i) => [1, -2, 3][i % 3])],
    ['clustered to 1e-12', (n, g) => Float64Array.from({ length: n }, () => 1 + 1e-12 * g.uniform())],
    ['graded 1 … 1e-12', (n) => Float64Array.from({ length: n }, (_, i) => 10 ** ((-12 * i) / (n - 1 || 1)))],
    ['rank one', (n) => Float64Array.from({ length: n }, (_, i) => (i === 0 ? 5 : 0))],
  ];
  for (const n of [DC_LEAF + 1, 2 * DC_LEAF + 1, 100]) {
    for (const [name, lam] of cases) {
      it(`n = ${n}, ${name}: same eigenvalues, A·V = V·Λ, VᵀV = I`, () => {
        const g = new Generator(n + name.length);
        const lambda = lam(n, g);
        const a = symmetricWith(lambda, g);
        const dc = eighRawWith(a, n, 'dc');
        const ql = eighRawWith(a, n, 'ql');
        const big = Math.max(...lambda.map(Math.abs));
        const sorted = Float64Array.from(lambda).sort();
        for (let i = 0; i < n; i++) {
          expect(Math.abs(dc.values[i] - ql.values[i])).toBeLessThanOrEqual(1e-14 * n * big);
          expect(Math.abs(dc.values[i] - sorted[i])).toBeLessThanOrEqual(1e-14 * n * big);
        }
        expect(eigResidual(a, n, dc.values, dc.vectors)).toBeLessThanOrEqual(1e-14 * n * big);
        expect(orthError(dc.vectors, n, n)).toBeLessThan(1e-13);
      });
    }
  }

  it('the zero matrix and n = 1, 2', () => {
    const n = 2 * DC_LEAF + 3;
    const z = eighRawWith(new Float64Array(n * n), n, 'dc');
    expect(Array.from(z.values)).toEqual(new Array(n).fill(0));
    expect(orthError(z.vectors, n, n)).toBe(0);
    expect(Array.from(eighRawWith(Float64Array.of(-3), 1, 'dc').values)).toEqual([-3]);
    const two = eighRawWith(Float64Array.of(2, 1, 1, 2), 2, 'dc');
    expect(Math.abs(two.values[0] - 1)).toBeLessThan(4 * EPS);
    expect(Math.abs(two.values[1] - 3)).toBeLessThan(4 * EPS);
    expect(orthError(two.vectors, 2, 2)).toBeLessThan(4 * EPS);
  });

  it('property: every spectrum kind, signs mixed, orders 1..110 (seeded)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 110 }), fc.constantFrom(...SPECTRUM_KINDS), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n, kind, seed) => {
        const g = new Generator(seed);
        const lambda = spectrum(kind, n, g).map((v) => (g.uniform() < 0.5 ? -v : v));
        const a = symmetricWith(lambda, g);
        const dc = eighRawWith(a, n, 'dc');
        const ql = eighRawWith(a, n, 'ql');
        const big = Math.max(...lambda.map(Math.abs), Number.MIN_VALUE);
        for (let i = 0; i < n; i++) expect(Math.abs(dc.values[i] - ql.values[i])).toBeLessThanOrEqual(1e-14 * n * big);
        expect(eigResidual(a, n, dc.values, dc.vectors)).toBeLessThanOrEqual(1e-14 * n * big);
        expect(orthError(dc.vectors, n, n)).toBeLessThan(1e-13);
      }),
      opts(25),
    );
  });

  it('rejects an unknown route', () => {
    expect(() => eighRawWith(Float64Array.of(1), 1, 'jacobi' as never)).toThrow(/'auto', 'dc' or 'ql'.*jacobi/);
  });
});
