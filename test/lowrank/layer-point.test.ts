/**
 * The integrator's reading of a layer (layer-point.ts) against quantities recomputed here: Cholesky
 * factors and solves checked by multiplying back, the condition estimate against the exact ratio of
 * Jacobi singular values, Cholesky QR by orthonormality and span, and the drift repair by the polar
 * factor's defining properties (UᵀU' symmetric positive definite, W unchanged).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { svdRaw } from '../../src/linalg/svd.js';
import {
  CHOLESKY_LEAF,
  cholesky,
  choleskyQr,
  choleskySolve,
  choleskySolveVector,
  DRIFT_LIMIT,
  driftLimit,
  gramCondition,
  gramRootsByEigh,
  gramRootsBySeries,
  LOWER_INVERSE_LEAF,
  lowerInverse,
  POLAR_SERIES_MAX,
  readPoint,
  unfoldingGram,
} from '../../src/lowrank/layer-point.js';
import { Generator } from '../../src/tensor/random.js';
import { modeProductRaw } from '../../src/tucker/product.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';
import { fcOptions } from '../helpers.js';
import { diffFro, fro, mm, orthError, tr } from '../linalg/helpers.js';
import { makeProblem } from './parallel-problems.js';
import { pointOf } from './tangent.js';

function gaussian(n: number, gen: Generator): Float64Array {
  return Float64Array.from({ length: n }, () => gen.normal());
}

/** B·Bᵀ + shift·I for a random n×k B: symmetric positive definite when k ≥ n or shift > 0. */
function spd(n: number, k: number, shift: number, gen: Generator): Float64Array {
  const b = gaussian(n * k, gen);
  const a = mm(b, n, k, tr(b, n, k), n);
  for (let i = 0; i < n; i++) a[i * n + i] += shift;
  return a;
}

/** Full weight C ×_i U_i of a point. */
function weightOf(shape: number[], core: Float64Array, factors: (Float64Array | null)[], fullShape: readonly number[]): Float64Array {
  let w = core;
  let s = [...shape];
  factors.forEach((u, i) => {
    if (!u) return;
    const next = modeProductRaw(w, s, u, fullShape[i], i);
    w = next.data;
    s = next.shape;
  });
  return w;
}

describe('layer-point: Cholesky, condition estimate, Cholesky QR, drift repair', () => {
  it('cholesky gives a lower-triangular L with positive diagonal and L·Lᵀ = A; choleskySolve solves A·X = B', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1e6 }), (n, c, seed) => {
        const gen = new Generator(seed);
        const a = spd(n, n + 2, 0.1, gen);
        const l = cholesky(a, n);
        expect(l).not.toBeNull();
        const lf = l as Float64Array;
        for (let i = 0; i < n; i++) {
          expect(lf[i * n + i]).toBeGreaterThan(0);
          for (let j = i + 1; j < n; j++) expect(lf[i * n + j]).toBe(0);
        }
        expect(diffFro(mm(lf, n, n, tr(lf, n, n), n), a)).toBeLessThan(1e-12 * fro(a));
        const b = gaussian(n * c, gen);
        const x = Float64Array.from(b);
        choleskySolve(lf, n, x, c);
        expect(diffFro(mm(a, n, n, x, c), b)).toBeLessThan(1e-9 * fro(b) * Math.max(1, (fro(a) * fro(x)) / fro(b)));
      }),
      fcOptions(40),
    );
  });

  it('choleskySolveVector solves A·x = b for one vector; lowerInverse gives L⁻¹ with L·L⁻¹ = I, lower triangular', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 1e6 }), (n, seed) => {
        const gen = new Generator(seed);
        const a = spd(n, n + 2, 0.1, gen);
        const lf = cholesky(a, n) as Float64Array;
        const b = gaussian(n, gen);
        const x = Float64Array.from(b);
        choleskySolveVector(lf, n, x);
        expect(diffFro(mm(a, n, n, x, 1), b)).toBeLessThan(1e-9 * fro(b) * Math.max(1, (fro(a) * fro(x)) / fro(b)));
        const inv = lowerInverse(lf, n);
        const eye = new Float64Array(n * n);
        for (let i = 0; i < n; i++) eye[i * n + i] = 1;
        expect(diffFro(mm(lf, n, n, inv, n), eye)).toBeLessThan(1e-10 * Math.max(1, fro(lf) * fro(inv)));
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(inv[i * n + j]).toBe(0);
      }),
      fcOptions(40),
    );
  });

  it('lowerInverse past its plain-loop blocks (halved, the corner on the GEMM): L·L⁻¹ = I, lower triangular, as the plain loops give it', () => {
    fc.assert(
      fc.property(fc.integer({ min: LOWER_INVERSE_LEAF + 1, max: 3 * LOWER_INVERSE_LEAF + 5 }), fc.integer({ min: 0, max: 1e6 }), (n, seed) => {
        const gen = new Generator(seed);
        const lf = cholesky(spd(n, n + 2, 0.1, gen), n) as Float64Array;
        const inv = lowerInverse(lf, n);
        const eye = new Float64Array(n * n);
        for (let i = 0; i < n; i++) eye[i * n + i] = 1;
        expect(diffFro(mm(lf, n, n, inv, n), eye)).toBeLessThan(1e-10 * Math.max(1, fro(lf) * fro(inv)));
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(inv[i * n + j]).toBe(0);
        // Row by row in plain loops, the definition the blocks rearrange: the same to rounding.
        const ref = new Float64Array(n * n);
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < i; k++) for (let j = 0; j <= k; j++) ref[i * n + j] -= lf[i * n + k] * ref[k * n + j];
          for (let j = 0; j < i; j++) ref[i * n + j] /= lf[i * n + i];
          ref[i * n + i] = 1 / lf[i * n + i];
        }
        expect(diffFro(inv, ref)).toBeLessThan(1e-12 * Math.max(1, fro(ref) * fro(lf) * fro(ref)));
      }),
      fcOptions(8),
    );
  });

  it('choleskySolve with a sparse (unit lower-bidiagonal) factor: zero entries are skipped, not mistaken', () => {
    // L with exact zeros below the subdiagonal: the solve must still give A·X = B.
    const n = 5;
    const l = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      l[i * n + i] = 2 + i;
      if (i > 0) l[i * n + i - 1] = 1;
    }
    const a = mm(l, n, n, tr(l, n, n), n);
    const b = Float64Array.from({ length: n * 2 }, (_, k) => (k % 3) - 1);
    const x = Float64Array.from(b);
    choleskySolve(l, n, x, 2);
    expect(diffFro(mm(a, n, n, x, 2), b)).toBeLessThan(1e-13);
  });

  it('cholesky past its plain-loop blocks (halved, the Schur complement on the GEMM): L·Lᵀ = A, as the plain loops give it; null at a bad pivot in either half', () => {
    fc.assert(
      fc.property(fc.integer({ min: CHOLESKY_LEAF + 1, max: 2 * CHOLESKY_LEAF + 40 }), fc.integer({ min: 0, max: 1e6 }), (n, seed) => {
        const gen = new Generator(seed);
        const a = spd(n, n + 2, 0.1, gen);
        const lf = cholesky(a, n) as Float64Array;
        expect(lf).not.toBeNull();
        for (let i = 0; i < n; i++) {
          expect(lf[i * n + i]).toBeGreaterThan(0);
          for (let j = i + 1; j < n; j++) expect(lf[i * n + j]).toBe(0);
        }
        expect(diffFro(mm(lf, n, n, tr(lf, n, n), n), a)).toBeLessThan(1e-12 * fro(a));
        // Column by column in plain loops, the definition the halves rearrange: the same to rounding.
        const ref = new Float64Array(n * n);
        for (let j = 0; j < n; j++) {
          let d = a[j * n + j];
          for (let k = 0; k < j; k++) d -= ref[j * n + k] ** 2;
          ref[j * n + j] = Math.sqrt(d);
          for (let i = j + 1; i < n; i++) {
            let t = a[i * n + j];
            for (let k = 0; k < j; k++) t -= ref[i * n + k] * ref[j * n + k];
            ref[i * n + j] = t / ref[j * n + j];
          }
        }
        expect(diffFro(lf, ref)).toBeLessThan(1e-11 * fro(ref));
        // An indefinite matrix: a pivot that fails in the first half, or only in the trailing one.
        for (const at of [1, n - 2]) {
          const bad = Float64Array.from(a);
          bad[at * n + at] = -1;
          expect(cholesky(bad, n)).toBeNull();
        }
      }),
      fcOptions(6),
    );
  });

  it('cholesky returns null for a singular or indefinite matrix', () => {
    expect(cholesky(new Float64Array(9), 3)).toBeNull();
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toBeNull();
    // Rank 1: the second pivot is 0 up to rounding or exactly.
    expect(cholesky(Float64Array.from([1, 1, 1, 1]), 2)).toBeNull();
    expect(cholesky(Float64Array.from([Number.NaN]), 1)).toBeNull();
    expect(cholesky(Float64Array.from([4]), 1)).toEqual(Float64Array.from([2]));
  });

  it('unfoldingGram is Mat_i(C)·Mat_i(C)ᵀ with Mat_i(C) itself', () => {
    const gen = new Generator(5);
    const shape = [3, 4, 2];
    const core = gaussian(24, gen);
    for (let i = 0; i < 3; i++) {
      const { unfolded, gram } = unfoldingGram(core, shape, i);
      const ref = unfoldRaw(core, shape, i);
      expect(Array.from(unfolded)).toEqual(Array.from(ref));
      const cols = 24 / shape[i];
      expect(diffFro(gram, mm(ref, shape[i], cols, tr(ref, shape[i], cols), shape[i]))).toBeLessThan(1e-12 * fro(gram));
    }
  });

  it('gramCondition estimates σ_max/σ_min of Mat_i(C) (from below, within 10%); 1 for one row; Infinity without a factor', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1e6 }), (rows, extra, seed) => {
        const gen = new Generator(seed);
        const cols = rows + extra + 1;
        // Planted singular values 1 … κ⁻¹ with a clear gap at each end, so the iterations converge before they settle (at most 12).
        const kappa = 10 ** (1 + (seed % 4));
        const s = Float64Array.from({ length: rows }, (_, k) => (k === 0 ? 1 : k === rows - 1 ? 1 / kappa : 0.3 + 0.2 * gen.uniform()));
        const u = svdRaw(gaussian(rows * rows, gen), rows, rows).u as Float64Array;
        const v = svdRaw(gaussian(cols * rows, gen), cols, rows).u as Float64Array;
        const us = new Float64Array(rows * rows);
        for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) us[i * rows + j] = u[i * rows + j] * s[j];
        const m = mm(us, rows, rows, tr(v, cols, rows), cols);
        const gram = mm(m, rows, cols, tr(m, rows, cols), rows);
        const exact = svdRaw(m, rows, cols, { wantU: false, wantV: false, method: 'jacobi' }).s;
        const truth = exact[0] / exact[rows - 1];
        const est = gramCondition(gram, cholesky(gram, rows), rows);
        // Inverse iteration runs on the Gram matrix (condition κ²): rounding of ~κ²·ε relative.
        expect(est).toBeLessThanOrEqual(truth * (1 + 1e-6));
        expect(est).toBeGreaterThan(0.9 * truth);
      }),
      fcOptions(30),
    );
    expect(gramCondition(Float64Array.from([7]), Float64Array.from([Math.sqrt(7)]), 1)).toBe(1);
    expect(gramCondition(Float64Array.from([1, 0, 0, 1]), null, 2)).toBe(Infinity);
    // Identity: exactly conditioned.
    const eye = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(gramCondition(eye, cholesky(eye, 3), 3)).toBeCloseTo(1, 12);
  });

  it('choleskyQr orthonormalises the columns and keeps their span; false and untouched when they are dependent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 1e6 }), (c, extra, seed) => {
        const gen = new Generator(seed);
        const rows = c + extra;
        const p0 = gaussian(rows * c, gen);
        const p = Float64Array.from(p0);
        expect(choleskyQr(p, rows, c)).toBe(true);
        expect(orthError(p, rows, c)).toBeLessThan(1e-10);
        // Same span: P·Pᵀ·P0 = P0; and P = P0·L⁻ᵀ with L lower triangular means P0 = P·Lᵀ, Lᵀ upper:
        // PᵀP0 is upper triangular with a positive diagonal.
        const coef = mm(tr(p, rows, c), c, rows, p0, c);
        expect(diffFro(mm(p, rows, c, coef, c), p0)).toBeLessThan(1e-9 * fro(p0));
        for (let i = 0; i < c; i++) {
          expect(coef[i * c + i]).toBeGreaterThan(0);
          for (let j = 0; j < i; j++) expect(Math.abs(coef[i * c + j])).toBeLessThan(1e-9 * fro(p0));
        }
      }),
      fcOptions(40),
    );
    const dependent = Float64Array.from([1, 1, 2, 2, 3, 3]);
    const copy = Float64Array.from(dependent);
    expect(choleskyQr(dependent, 3, 2)).toBe(false);
    expect(Array.from(dependent)).toEqual(Array.from(copy));
  });

  it('driftLimit: DRIFT_LIMIT up to 100 columns, then 5e-9 per column (float32 storage alone drifts 1.6e-9·r)', () => {
    expect(driftLimit(1)).toBe(DRIFT_LIMIT);
    expect(driftLimit(100)).toBe(DRIFT_LIMIT);
    expect(driftLimit(500)).toBeCloseTo(2.5e-6, 15);
    expect(driftLimit(500)).toBeGreaterThan(500 * 1.6e-9);
  });

  it('readPoint: copies the point; a factor drifted past its limit is replaced by its polar factor and the core absorbs (UᵀU)^½, so W is unchanged', () => {
    for (const kind of ['tucker2', 'tucker4', 'matrix'] as const) {
      const p = makeProblem(kind, 6, 5, [2, 3], 17);
      const layer = p.layer;
      const before = pointOf(layer);
      const w0 = weightOf(before.ranks, before.core, before.factors, layer.fullShape);
      // Small drift (below the limit): nothing repaired, values equal but not aliased.
      const clean = readPoint(layer);
      expect(clean.repaired).toBe(false);
      expect(Array.from(clean.core)).toEqual(Array.from(layer.core.data));
      clean.core[0] += 1;
      expect(clean.core[0]).not.toBe(layer.core.data[0]);
      for (const d of clean.drift) expect(d).toBeLessThan(1e-12);
      // Skew mode 0's factor: U ← U·(I + E), E small and not orthogonal.
      const u = layer.factors[0]?.data as Float64Array;
      const n = layer.fullShape[0];
      const r = layer.ranks[0];
      const gen = new Generator(3);
      const e = Float64Array.from({ length: r * r }, (_, k) => (k % (r + 1) === 0 ? 1 : 0) + 1e-3 * gen.normal());
      u.set(mm(u, n, r, e, r));
      const skewed = pointOf(layer);
      const wSkewed = weightOf(skewed.ranks, skewed.core, skewed.factors, layer.fullShape);
      const expectedDrift = diffFro(
        mm(tr(u, n, r), r, n, u, r),
        Float64Array.from({ length: r * r }, (_, k) => (k % (r + 1) === 0 ? 1 : 0)),
      );
      const read = readPoint(layer);
      expect(read.repaired).toBe(true);
      expect(Math.abs(read.drift[0] - expectedDrift)).toBeLessThan(1e-12);
      expect(read.drift[0]).toBeGreaterThan(DRIFT_LIMIT);
      const f0 = read.factors[0] as Float64Array;
      expect(orthError(f0, n, r)).toBeLessThan(1e-12);
      // The polar factor U' of U: U'ᵀU is symmetric positive definite (it is (UᵀU)^½).
      const h = mm(tr(f0, n, r), r, n, u, r);
      expect(diffFro(h, tr(h, r, r))).toBeLessThan(1e-12);
      expect(cholesky(h, r)).not.toBeNull();
      // The other factors are untouched copies.
      for (let i = 1; i < read.factors.length; i++) {
        const f = layer.factors[i];
        if (f) expect(Array.from(read.factors[i] as Float64Array)).toEqual(Array.from(f.data));
        else expect(read.factors[i]).toBeNull();
      }
      const w1 = weightOf(read.shape, read.core, read.factors, layer.fullShape);
      expect(diffFro(w1, wSkewed)).toBeLessThan(1e-12 * fro(wSkewed));
      expect(diffFro(w0, wSkewed)).toBeGreaterThan(1e-6 * fro(w0));
    }
  });

  it('(UᵀU)^{±½} by the series (drift ≤ POLAR_SERIES_MAX) and by eigh both match Q·Σ^{±1}·Qᵀ from the Jacobi SVD of U', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 6 }),
        fc.double({ min: -7, max: -4.4, noNaN: true }),
        fc.integer({ min: 0, max: 1e6 }),
        (r, extra, logSkew, seed) => {
          const gen = new Generator(seed);
          const n = r + extra;
          // An orthonormal U0 skewed by I + E, ‖E‖_F from 1e-7 to 4e-5 (drift ≤ 2‖E‖ + ‖E‖²): the drift of a float32-stored factor and more.
          const u0 = svdRaw(gaussian(n * r, gen), n, r, { method: 'jacobi' }).u as Float64Array;
          const g = gaussian(r * r, gen);
          const scale = 10 ** logSkew / fro(g);
          const e = Float64Array.from(g, (v, k) => (k % (r + 1) === 0 ? 1 : 0) + scale * v);
          const u = mm(u0, n, r, e, r);
          const gram = mm(tr(u, n, r), r, n, u, r);
          const drift = diffFro(
            gram,
            Float64Array.from({ length: r * r }, (_, k) => (k % (r + 1) === 0 ? 1 : 0)),
          );
          expect(drift).toBeLessThanOrEqual(POLAR_SERIES_MAX);
          // Independent: U = P·Σ·Qᵀ, so (UᵀU)^{±½} = Q·Σ^{±1}·Qᵀ.
          const svd = svdRaw(u, n, r, { method: 'jacobi' });
          const q = svd.v as Float64Array;
          const root = (p: number) => {
            const out = new Float64Array(r * r);
            for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) for (let k = 0; k < r; k++) out[a * r + b] += q[a * r + k] * svd.s[k] ** p * q[b * r + k];
            return out;
          };
          const [half, invHalf] = [root(1), root(-1)];
          for (const roots of [gramRootsBySeries(gram, r), gramRootsByEigh(gram, r)]) {
            expect(diffFro(roots.half, half)).toBeLessThan(1e-12 * Math.sqrt(r));
            expect(diffFro(roots.invHalf, invHalf)).toBeLessThan(1e-12 * Math.sqrt(r));
            // The repaired factor U·(UᵀU)^{-½} is orthonormal.
            expect(orthError(mm(u, n, r, roots.invHalf, r), n, r)).toBeLessThan(1e-12 * Math.sqrt(r));
          }
        },
      ),
      fcOptions(40),
    );
  });

  it('readPoint repairs a drift between DRIFT_LIMIT and POLAR_SERIES_MAX (the series route) with W unchanged', () => {
    const p = makeProblem('tucker4', 8, 6, [3, 4], 29);
    const layer = p.layer;
    const u = layer.factors[1]?.data as Float64Array;
    const n = layer.fullShape[1];
    const r = layer.ranks[1];
    const gen = new Generator(5);
    u.set(
      mm(
        u,
        n,
        r,
        Float64Array.from({ length: r * r }, (_, k) => (k % (r + 1) === 0 ? 1 : 0) + 5e-6 * gen.normal()),
        r,
      ),
    );
    const skewed = pointOf(layer);
    const w = weightOf(skewed.ranks, skewed.core, skewed.factors, layer.fullShape);
    const read = readPoint(layer);
    expect(read.drift[1]).toBeGreaterThan(DRIFT_LIMIT);
    expect(read.drift[1]).toBeLessThan(POLAR_SERIES_MAX);
    expect(read.repaired).toBe(true);
    expect(orthError(read.factors[1] as Float64Array, n, r)).toBeLessThan(1e-14);
    expect(diffFro(weightOf(read.shape, read.core, read.factors, layer.fullShape), w)).toBeLessThan(1e-14 * fro(w));
  });
});
