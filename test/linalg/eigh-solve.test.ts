import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eigh, lstsq, norm, orth, solve } from '../../src/linalg/index.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { SPECTRUM_KINDS, arbMatrixCase, buildCase, diffFro, fro, mm, opts, orthError, randomOrthogonal, spectrum, tr } from './helpers.js';

describe('linalg.eigh', () => {
  it('A = VΛVᵀ, VᵀV = I, eigenvalues ascending and equal to the prescribed ones (±, repeated, clustered, zero)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 14 }), fc.constantFrom(...SPECTRUM_KINDS), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n, kind, seed) => {
        const g = new Generator(seed);
        const lam = spectrum(kind, n, g).map((v) => (g.uniform() < 0.5 ? -v : v));
        const q = randomOrthogonal(n, g);
        const a = new Float64Array(n * n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j <= i; j++) {
            let s = 0;
            for (let p = 0; p < n; p++) s += q[i * n + p] * lam[p] * q[j * n + p];
            a[i * n + j] = s;
            a[j * n + i] = s;
          }
        const { values, vectors } = eigh(Tensor.fromData(a, [n, n]));
        const v = vectors.data;
        const vl = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vl[i * n + j] = v[i * n + j] * values.data[j];
        expect(diffFro(a, mm(vl, n, n, tr(v, n, n), n))).toBeLessThanOrEqual(1e-12 * fro(a));
        expect(orthError(v, n, n)).toBeLessThanOrEqual(1e-12);
        const want = Array.from(lam).sort((x, y) => x - y);
        const scale = Math.max(...want.map(Math.abs)) || 1;
        for (let i = 0; i < n; i++) {
          if (i > 0) expect(values.data[i]).toBeGreaterThanOrEqual(values.data[i - 1]);
          expect(Math.abs(values.data[i] - want[i])).toBeLessThanOrEqual(1e-12 * scale);
        }
      }),
      opts(80),
    );
  });

  it('rejects non-square, non-symmetric and non-finite input', () => {
    expect(() => eigh(Tensor.fromData(new Float64Array(6), [2, 3]))).toThrow(/eigh: a must be square, got shape \[2, 3\]/);
    expect(() => eigh(Tensor.fromData(Float64Array.from([1, 2, 3, 4]), [2, 2]))).toThrow(
      /eigh: a must be symmetric .*got max \|a\[i\]\[j\] − a\[j\]\[i\]\| = 1/,
    );
    expect(() => eigh(Tensor.fromData(Float64Array.from([1, NaN, NaN, 4]), [2, 2]))).toThrow(/eigh: a must hold finite values, got NaN/);
  });
});

describe('linalg.solve / lstsq / orth / norm', () => {
  it('solve: small backward error for well-conditioned square systems (1-D and 2-D b)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n, k, seed) => {
        const { a, t } = buildCase({ m: n, n, kind: 'random', seed });
        const g = new Generator(seed + 1);
        const b = Float64Array.from({ length: n * k }, () => g.normal());
        const x = solve(t, Tensor.fromData(b, [n, k]));
        expect(x.shape).toEqual([n, k]);
        expect(diffFro(mm(a, n, n, x.data, k), b)).toBeLessThanOrEqual(1e-10 * fro(a) * fro(x.data));
        const x1 = solve(
          t,
          Tensor.fromData(
            Float64Array.from({ length: n }, (_, i) => b[i * k]),
            [n],
          ),
        );
        expect(x1.shape).toEqual([n]);
        for (let i = 0; i < n; i++) expect(Math.abs(x1.data[i] - x.data[i * k])).toBeLessThanOrEqual(1e-12 * (fro(x.data) + 1));
      }),
      opts(60),
    );
  });

  it('solve rejects singular, non-square and mismatched systems', () => {
    expect(() => solve(Tensor.fromData(Float64Array.from([1, 2, 2, 4]), [2, 2]), Tensor.fromData(Float64Array.from([1, 1]), [2]))).toThrow(
      /solve: a is singular to working precision/,
    );
    expect(() => solve(Tensor.fromData(new Float64Array(6), [2, 3]), Tensor.fromData(new Float64Array(2), [2]))).toThrow(
      /solve: a must be square, got shape \[2, 3\]/,
    );
    expect(() => solve(Tensor.fromData(Float64Array.from([1, 0, 0, 1]), [2, 2]), Tensor.fromData(new Float64Array(3), [3]))).toThrow(
      /solve: b must have 2 rows \(the rows of a\), got shape \[3\]/,
    );
    expect(() => solve(Tensor.fromData(Float64Array.from([1, 0, 0, 1]), [2, 2]), Tensor.fromData(Float64Array.from([1, NaN]), [2]))).toThrow(
      /solve: b must hold finite values, got NaN/,
    );
  });

  it('lstsq: the minimum-norm least-squares solution for any shape and rank', () => {
    fc.assert(
      fc.property(arbMatrixCase(10), fc.integer({ min: 1, max: 3 }), (c, k) => {
        const { a, sigma, t } = buildCase(c);
        const { m, n } = c;
        const g = new Generator(c.seed + 7);
        const b = Float64Array.from({ length: m * k }, () => g.normal());
        const res = lstsq(t, Tensor.fromData(b, [m, k]), { rcond: 1e-10 });
        const x = res.x.data;
        const rank = sigma.filter((s) => s > 1e-10 * sigma[0]).length;
        expect(res.rank).toBe(rank);
        // normal equations: Aᵀ(b − Ax) = 0
        const r = mm(a, m, n, x, k).map((v, i) => b[i] - v);
        const atr = mm(tr(a, m, n), n, m, r, k);
        expect(fro(atr)).toBeLessThanOrEqual(1e-10 * fro(a) * (fro(a) * fro(x) + fro(b)) + 1e-300);
        // minimum norm: x lies in the row space of A, i.e. x = Aᵀy: ‖x − orth(Aᵀ)orth(Aᵀ)ᵀx‖ ≈ 0
        const q = orth(Tensor.fromData(tr(a, m, n), [n, m]), { rtol: 1e-10 });
        const rr = q.shape[1];
        const proj = mm(q.data, n, rr, mm(tr(q.data, n, rr), rr, n, x, k), k);
        expect(diffFro(x, proj)).toBeLessThanOrEqual(1e-9 * (fro(x) + 1e-300));
        for (let j = 0; j < k; j++) {
          let s2 = 0;
          for (let i = 0; i < m; i++) s2 += r[i * k + j] ** 2;
          expect(Math.abs(res.residuals.data[j] - s2)).toBeLessThanOrEqual(1e-10 * (fro(b) ** 2 + 1));
        }
      }),
      opts(60),
    );
  });

  it('orth: an orthonormal basis of the range with the numerical rank', () => {
    fc.assert(
      fc.property(arbMatrixCase(10), (c) => {
        const { a, sigma, t } = buildCase(c);
        const { m, n } = c;
        const q = orth(t, { rtol: 1e-10 });
        const r = sigma.filter((s) => s > 1e-10 * sigma[0]).length;
        expect(q.shape).toEqual([m, r]);
        expect(orthError(q.data, m, r)).toBeLessThanOrEqual(1e-12);
        const qqa = mm(q.data, m, r, mm(tr(q.data, m, r), r, m, a, n), n);
        expect(diffFro(a, qqa)).toBeLessThanOrEqual(1e-10 * fro(a));
      }),
      opts(60),
    );
    expect(orth(Tensor.fromData(new Float64Array(6), [3, 2])).shape).toEqual([3, 0]);
    expect(() => orth(Tensor.fromData(new Float64Array(4), [2, 2]), { rtol: -1 })).toThrow(/orth: options.rtol must be a finite number ≥ 0, got -1/);
  });

  it("norm: 'fro', 2 and 'nuc' agree with the spectrum", () => {
    fc.assert(
      fc.property(arbMatrixCase(10), (c) => {
        const { a, sigma, t } = buildCase(c);
        const s2 = Math.sqrt(sigma.reduce((x, y) => x + y * y, 0));
        const scale = sigma[0] || 1;
        expect(Math.abs(norm(t) - fro(a))).toBeLessThanOrEqual(1e-14 * scale);
        expect(Math.abs(norm(t, 'fro') - s2)).toBeLessThanOrEqual(1e-12 * scale);
        expect(Math.abs(norm(t, 2) - sigma[0])).toBeLessThanOrEqual(1e-12 * scale);
        expect(Math.abs(norm(t, 'nuc') - sigma.reduce((x, y) => x + y, 0))).toBeLessThanOrEqual(1e-11 * scale);
      }),
      opts(60),
    );
    expect(norm(Tensor.fromData(Float64Array.from([1e200, 1e200]), [2]))).toBeCloseTo(Math.SQRT2 * 1e200, -186);
    expect(() => norm(Tensor.fromData(new Float64Array(8), [2, 2, 2]), 2)).toThrow(/norm: a must be 2-D/);
    expect(() => norm(Tensor.fromData(new Float64Array(4), [2, 2]), 1 as 2)).toThrow(/norm: ord must be 'fro', 2 or 'nuc', got 1/);
    expect(() => norm(Tensor.fromData(Float64Array.from([NaN]), [1]))).toThrow(/norm: a must hold finite values, got NaN/);
  });
});
