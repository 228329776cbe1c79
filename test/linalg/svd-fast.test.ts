/**
 * The two SVD routes against each other ('fast': Gram-eigenvector preconditioned Jacobi, the
 * default; 'jacobi': the plain iteration), and what relative accuracy each route keeps on graded
 * matrices (σ from 1 to 1e-12), the Gram route of svd-gram.ts included for comparison.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { svd } from '../../src/linalg/index.js';
import { PRECONDITION_MIN, type SvdMethod, svdRaw } from '../../src/linalg/svd.js';
import { GRAM_SVD_FLOOR, leftSvdByGram } from '../../src/linalg/svd-gram.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { type SpectrumKind, diffFro, fro, opts, orthError, randomOrthogonal, spectrum, tr, withSpectrum } from './helpers.js';

const METHODS: SvdMethod[] = ['fast', 'jacobi'];

/** U·diag(s)·Vᵀ for U m×k, V n×k (row-major). */
function rebuild(u: ArrayLike<number>, s: ArrayLike<number>, v: ArrayLike<number>, m: number, n: number, k: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let p = 0; p < k; p++)
    for (let i = 0; i < m; i++) {
      const f = u[i * k + p] * s[p];
      if (f !== 0) for (let j = 0; j < n; j++) out[i * n + j] += f * v[j * k + p];
    }
  return out;
}

/** |u_jᵀ w_j| for column j of two m×k matrices (1 when they span the same line). */
function colCos(u: ArrayLike<number>, w: ArrayLike<number>, m: number, k: number, j: number): number {
  let d = 0;
  for (let i = 0; i < m; i++) d += u[i * k + j] * w[i * k + j];
  return Math.abs(d);
}

/** The m×n matrix Q[:, :n]·diag(d) (columns graded) for a random orthogonal Q, m ≥ n. */
function columnGraded(m: number, d: Float64Array, g: Generator): Float64Array {
  const n = d.length;
  const q = randomOrthogonal(m, g);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[i * n + j] = q[i * m + j] * d[j];
  return a;
}

/** max_i |s_i − d_i| / d_i over the i with d_i ≥ floor. */
function maxRelErr(s: ArrayLike<number>, d: Float64Array, floor = 0): number {
  let e = 0;
  for (let i = 0; i < d.length; i++) if (d[i] >= floor) e = Math.max(e, Math.abs(s[i] - d[i]) / d[i]);
  return e;
}

describe('linalg.svd: the fast route against plain Jacobi', () => {
  const kinds: SpectrumKind[] = ['random', 'repeated', 'clustered', 'rankDeficient', 'graded', 'zero'];
  it('both routes: ‖A − UΣVᵀ‖ ≤ 1e-13‖A‖, UᵀU = VᵀV = I to 1e-13, equal spectra, and the same isolated vectors', () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: PRECONDITION_MIN, max: 48 }),
          n: fc.integer({ min: PRECONDITION_MIN, max: 48 }),
          kind: fc.constantFrom(...kinds),
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        }),
        ({ m, n, kind, seed }) => {
          const g = new Generator(seed);
          const k = Math.min(m, n);
          const sigma = spectrum(kind, k, g);
          const a = withSpectrum(m, n, sigma, g);
          const normA = fro(a);
          const res = METHODS.map((method) => svdRaw(a, m, n, { method }));
          for (const r of res) {
            expect(diffFro(a, rebuild(r.u!, r.s, r.v!, m, n, k))).toBeLessThanOrEqual(1e-13 * normA + 1e-300);
            expect(orthError(r.u!, m, k)).toBeLessThanOrEqual(1e-13);
            expect(orthError(r.v!, n, k)).toBeLessThanOrEqual(1e-13);
          }
          const [f, j] = res;
          for (let i = 0; i < k; i++) {
            expect(Math.abs(f.s[i] - j.s[i])).toBeLessThanOrEqual(1e-13 * (sigma[0] || 1));
            // A singular vector is determined to ≈ ε/gap: compare those with a relative gap ≥ 1e-4.
            const gap = Math.min(i > 0 ? f.s[i - 1] - f.s[i] : Infinity, i < k - 1 ? f.s[i] - f.s[i + 1] : Infinity);
            if (f.s[i] > 0 && gap >= 1e-4 * f.s[0]) {
              expect(colCos(f.u!, j.u!, m, k, i)).toBeGreaterThan(1 - 1e-9);
              expect(colCos(f.v!, j.v!, n, k, i)).toBeGreaterThan(1 - 1e-9);
            }
          }
        },
      ),
      opts(60),
    );
  });

  it('a 200×150 matrix: same contract, equal spectra, and the public svd() routes agree', () => {
    const g = new Generator(21);
    const m = 200;
    const n = 150;
    const sigma = Float64Array.from({ length: n }, () => g.uniform() + 0.01)
      .sort()
      .reverse();
    const a = withSpectrum(m, n, sigma, g);
    const t = Tensor.fromData(a, [m, n]);
    const [f, j] = METHODS.map((method) => svd(t, { method }));
    for (const r of [f, j]) {
      const v = tr(r.vt.data, n, n).subarray(0, n * n);
      expect(diffFro(a, rebuild(r.u.data, r.s.data, tr(r.vt.data, n, n), m, n, n))).toBeLessThanOrEqual(1e-13 * fro(a));
      expect(orthError(r.u.data, m, n)).toBeLessThanOrEqual(1e-13);
      expect(orthError(v, n, n)).toBeLessThanOrEqual(1e-13);
    }
    for (let i = 0; i < n; i++) {
      expect(Math.abs(f.s.data[i] - sigma[i])).toBeLessThanOrEqual(1e-13 * sigma[0]);
      expect(Math.abs(f.s.data[i] - j.s.data[i])).toBeLessThanOrEqual(1e-13 * sigma[0]);
    }
  });

  it('full U and V on the fast route (tall, wide, rank-deficient): orthogonal, and A = UΣVᵀ', () => {
    const g = new Generator(22);
    for (const [m, n] of [
      [40, 30],
      [30, 40],
      [32, 32],
    ]) {
      const k = Math.min(m, n);
      const sigma = Float64Array.from({ length: k }, (_, i) => (i < k / 2 ? 2 - i / k : 0));
      const a = withSpectrum(m, n, sigma, g);
      for (const method of METHODS) {
        const r = svd(Tensor.fromData(a, [m, n]), { full: true, method });
        expect(orthError(r.u.data, m, m)).toBeLessThanOrEqual(1e-13);
        expect(orthError(tr(r.vt.data, n, n), n, n)).toBeLessThanOrEqual(1e-13);
        const u = new Float64Array(m * k);
        for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) u[i * k + j] = r.u.data[i * m + j];
        const v = tr(r.vt.data, n, n);
        const vk = new Float64Array(n * k);
        for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) vk[i * k + j] = v[i * n + j];
        expect(diffFro(a, rebuild(u, r.s.data, vk, m, n, k))).toBeLessThanOrEqual(1e-13 * fro(a));
        for (let i = 0; i < k; i++) expect(Math.abs(r.s.data[i] - sigma[i])).toBeLessThanOrEqual(1e-13 * sigma[0]);
      }
    }
  });

  it('rejects an unknown method', () => {
    expect(() => svd(Tensor.fromData(new Float64Array(4), [2, 2]), { method: 'lapack' as SvdMethod })).toThrow(
      /svd: options\.method must be 'fast' or 'jacobi', got lapack/,
    );
  });
});

describe('linalg.svd: relative accuracy on a graded spectrum (σ from 1 to 1e-12)', () => {
  const n = 64;
  const d = Float64Array.from({ length: n }, (_, i) => Math.pow(10, (-12 * i) / (n - 1)));

  it('column-graded A = Q·D (tall, and its wide transpose) and row-graded A = D·Q: both Jacobi routes keep every σ to 1e-13 relative', () => {
    const g = new Generator(11);
    const tall = columnGraded(96, d, g);
    const wide = tr(tall, 96, n);
    const q = randomOrthogonal(n, g);
    const rowGraded = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) rowGraded[i * n + j] = d[i] * q[i * n + j];
    for (const [a, m, c] of [
      [tall, 96, n],
      [wide, n, 96],
      [rowGraded, n, n],
    ] as const) {
      for (const method of METHODS) {
        const r = svdRaw(a, m, c, { method });
        expect(maxRelErr(r.s, d)).toBeLessThan(1e-13);
        expect(orthError(r.u!, m, n)).toBeLessThanOrEqual(1e-13);
        expect(orthError(r.v!, c, n)).toBeLessThanOrEqual(1e-13);
      }
    }
  });

  it('the Gram route keeps relative accuracy only above its floor: ≤ 1e-6 for σ ≥ 1e-4·σ₁, lost below GRAM_SVD_FLOOR·σ₁', () => {
    const g = new Generator(12);
    const a = tr(columnGraded(96, d, g), 96, n); // n×96: U of the wide side, as the truncations use it
    const r = leftSvdByGram(a, n, 96);
    expect(maxRelErr(r.s, d, 1e-4)).toBeLessThan(1e-6);
    // Below the floor the values are noise of size ≈ ε·σ₁ (relative error of order one at 1e-12).
    let below = 0;
    for (let i = 0; i < n; i++) if (d[i] < GRAM_SVD_FLOOR * 1e-3) below = Math.max(below, Math.abs(r.s[i] - d[i]) / d[i]);
    expect(below).toBeGreaterThan(1e-3);
  });

  it('A = U·Σ·Vᵀ formed in floating point: both routes give σ to ε·σ₁ absolute, the error of forming A', () => {
    const g = new Generator(13);
    const a = withSpectrum(80, n, d, g);
    for (const method of METHODS) {
      const r = svdRaw(a, 80, n, { method });
      for (let i = 0; i < n; i++) expect(Math.abs(r.s[i] - d[i])).toBeLessThan(1e-14);
    }
  });
});
