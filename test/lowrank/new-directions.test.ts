/**
 * The new basis directions of a mode (kstep.ts, newDirections) and the coefficient product of the
 * K-step's factor route (ModeDirections.timesE), against what they must be, recomputed here with
 * plain loops: Ũ orthonormal, orthogonal to U, and spanning (I − UUᵀ)D (docs/integrator.md, "The
 * K-step directions"). The cases reach each of the three routes: the Cholesky route (a well-
 * conditioned residual), the pivoted QR (a residual of lower rank), and the Gram route (n·r large);
 * and the case where D lies almost inside span(U), where a single projection leaves the new
 * directions measurably non-orthogonal to U.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { directionsFromFactorGrad, newDirections, NEW_DIRECTION_GRAM_MIN } from '../../src/lowrank/kstep.js';
import { cholesky } from '../../src/lowrank/layer-point.js';
import { Generator } from '../../src/tensor/random.js';
import { fcOptions } from '../helpers.js';

/** Gaussian n × c matrix, row-major, from a seeded generator. */
function gaussian(n: number, c: number, gen: Generator): Float64Array {
  const a = new Float64Array(n * c);
  for (let k = 0; k < a.length; k++) a[k] = gen.normal();
  return a;
}

/** Orthonormal columns by modified Gram–Schmidt twice (independent of the library's QR). */
function orthonormal(a: Float64Array, n: number, c: number): Float64Array {
  const q = Float64Array.from(a);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < c; j++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i * c + k] * q[i * c + j];
        for (let i = 0; i < n; i++) q[i * c + j] -= dot * q[i * c + k];
      }
      let nrm = 0;
      for (let i = 0; i < n; i++) nrm += q[i * c + j] ** 2;
      nrm = Math.sqrt(nrm);
      for (let i = 0; i < n; i++) q[i * c + j] /= nrm;
    }
  }
  return q;
}

/** AᵀB for A (n × a), B (n × b). */
function tProduct(a: Float64Array, ac: number, b: Float64Array, bc: number, n: number): Float64Array {
  const out = new Float64Array(ac * bc);
  for (let i = 0; i < n; i++) for (let p = 0; p < ac; p++) for (let q = 0; q < bc; q++) out[p * bc + q] += a[i * ac + p] * b[i * bc + q];
  return out;
}

/** A·B for A (m × k), B (k × c). */
function product(a: Float64Array, m: number, k: number, b: Float64Array, c: number): Float64Array {
  const out = new Float64Array(m * c);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < c; j++) out[i * c + j] += a[i * k + p] * b[p * c + j];
  return out;
}

/** (I − QQᵀ)·X for orthonormal Q (n × q) and X (n × c). */
function outside(q: Float64Array, qc: number, x: Float64Array, c: number, n: number): Float64Array {
  const coef = tProduct(q, qc, x, c, n);
  const back = product(q, n, qc, coef, c);
  return x.map((v, k) => v - back[k]);
}

const frob = (a: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

/** ‖BᵀB − I‖_F, ‖UᵀB‖_F and ‖(I − BBᵀ)(I − UUᵀ)D‖_F / ‖D‖_F for the returned basis B. */
function measure(u: Float64Array, r: number, d: Float64Array, c: number, basis: Float64Array, m: number, n: number) {
  const gram = tProduct(basis, m, basis, m, n);
  for (let j = 0; j < m; j++) gram[j * m + j] -= 1;
  const residual = outside(u, r, d, c, n);
  return {
    orthonormality: frob(gram),
    againstU: frob(tProduct(u, r, basis, m, n)),
    spanGap: frob(outside(basis, m, residual, c, n)) / frob(d),
  };
}

const arbShape = fc.record({
  n: fc.integer({ min: 8, max: 60 }),
  r: fc.integer({ min: 1, max: 6 }),
  c: fc.integer({ min: 1, max: 6 }),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

/**
 * newDirections(u, d) returns `count` columns, orthonormal, orthogonal to U and spanning the
 * residual (I − UUᵀ)D, each to its tolerance [orthonormality, against U, span gap].
 */
function expectDirections(u: Float64Array, d: Float64Array, n: number, r: number, cols: number, count: number, tol: [number, number, number]): void {
  const out = newDirections(u, d, n, r);
  expect(out.count).toBe(count);
  const m = measure(u, r, d, cols, out.basis, out.count, n);
  expect(m.orthonormality).toBeLessThan(tol[0]);
  expect(m.againstU).toBeLessThan(tol[1]);
  expect(m.spanGap).toBeLessThan(tol[2]);
}

describe('newDirections: an orthonormal basis of (I − UUᵀ)D, orthogonal to U', () => {
  it('a generic D: every column is a direction, orthonormal to 1e-13, orthogonal to U, spanning the residual', () => {
    fc.assert(
      fc.property(arbShape, ({ n, r, c, seed }) => {
        const gen = new Generator(seed);
        const u = orthonormal(gaussian(n, r, gen), n, r);
        const d = gaussian(n, c, gen);
        expectDirections(u, d, n, r, c, Math.min(c, n - r), [1e-13, 1e-13, 1e-12]);
      }),
      fcOptions(40),
    );
  });

  it('D almost inside span(U) (residual 1e-5‖D‖): the directions stay orthogonal to U to 1e-13, as a second projection makes them', () => {
    fc.assert(
      fc.property(arbShape, ({ n, r, c, seed }) => {
        const gen = new Generator(seed);
        const u = orthonormal(gaussian(n, r, gen), n, r);
        const inside = product(u, n, r, gaussian(r, c, gen), c);
        const small = gaussian(n, c, gen);
        const d = inside.map((v, k) => 1e3 * v + 1e-2 * small[k]);
        expectDirections(u, d, n, r, c, Math.min(c, n - r), [1e-13, 1e-13, 1e-12]);
      }),
      fcOptions(40),
    );
  });

  it('a graded residual (singular values from 1 to 3e-3): orthonormal to 1e-13, where one Cholesky QR would leave ε·cond² ≈ 1e-11', () => {
    fc.assert(
      fc.property(arbShape, ({ n, r, c, seed }) => {
        const cols = Math.max(2, Math.min(c, n - r));
        const gen = new Generator(seed);
        const u = orthonormal(gaussian(n, r, gen), n, r);
        // The residual's part: orthonormal columns (outside U) scaled geometrically, then mixed by an orthogonal matrix.
        const q = orthonormal(outside(u, r, gaussian(n, cols, gen), cols, n), n, cols);
        const mix = orthonormal(gaussian(cols, cols, gen), cols, cols);
        for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) q[i * cols + j] *= 3e-3 ** (j / (cols - 1));
        const graded = product(q, n, cols, mix, cols);
        const inside = product(u, n, r, gaussian(r, cols, gen), cols);
        const d = graded.map((v, k) => v + inside[k]);
        expectDirections(u, d, n, r, cols, cols, [1e-13, 1e-12, 1e-11]);
      }),
      fcOptions(40),
    );
  });

  it('a tiny, well-conditioned residual (σ = 1e-9‖D‖ and 2e-13‖D‖, κ = 5e3, at ‖D‖ ≈ 1e6 and 1e-6): one direction, the second σ lying under the 1e-12‖D‖ cut', () => {
    // κ ≤ 1e4 would suit the Cholesky route, but its σ_min is far below 1e-6‖D‖: the residual must go
    // to the rank-revealing route, which keeps only σ above 1e-12‖D‖ (the second is rounding-level
    // relative to D, and a Cholesky QR would return it as a direction).
    for (const [seed, scale] of [
      [1, 1e6],
      [2, 1e-6],
      [3, 1],
    ]) {
      const gen = new Generator(seed);
      const n = 12;
      const r = 3;
      const cols = 2;
      const both = orthonormal(gaussian(n, r + cols, gen), n, r + cols);
      const u = new Float64Array(n * r);
      const p = new Float64Array(n * cols);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < r; j++) u[i * r + j] = both[i * (r + cols) + j];
        for (let j = 0; j < cols; j++) p[i * cols + j] = both[i * (r + cols) + r + j];
      }
      const inside = product(u, n, r, gaussian(r, cols, gen), cols);
      const dNorm = frob(inside) * scale;
      // R = P·diag(σ)·Wᵀ with W a rotation by 0.6 rad: the residual's SVD, exactly as built.
      const [c0, s0] = [Math.cos(0.6), Math.sin(0.6)];
      const sigma = [1e-9 * dNorm, 2e-13 * dNorm];
      const w = [c0, -s0, s0, c0];
      const d = new Float64Array(n * cols);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < cols; j++) {
          let res = 0;
          for (let k = 0; k < cols; k++) res += p[i * cols + k] * sigma[k] * w[j * cols + k];
          d[i * cols + j] = scale * inside[i * cols + j] + res;
        }
      const out = newDirections(u, d, n, r);
      expect(out.count).toBe(1);
      // The direction is P's first column up to sign: |p₁ᵀb| = 1 to rounding relative to σ₁.
      let dot = 0;
      for (let i = 0; i < n; i++) dot += p[i * cols] * out.basis[i];
      expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-6);
      const m = measure(u, r, d, cols, out.basis, out.count, n);
      expect(m.orthonormality).toBeLessThan(1e-13);
      expect(m.againstU).toBeLessThan(1e-13);
      expect(m.spanGap).toBeLessThan(1e-12);
    }
  });

  it('a residual of rank k < columns: exactly k directions (the rank-revealing route), spanning it', () => {
    fc.assert(
      fc.property(arbShape, fc.integer({ min: 1, max: 3 }), ({ n, r, c, seed }, kWant) => {
        const cols = Math.max(c, kWant + 1);
        const k = Math.min(kWant, n - r);
        const gen = new Generator(seed);
        const u = orthonormal(gaussian(n, r, gen), n, r);
        // D = U·A + B·M with B (n × k) and M (k × cols): (I − UUᵀ)D has rank k.
        const d0 = product(u, n, r, gaussian(r, cols, gen), cols);
        const low = product(gaussian(n, k, gen), n, k, gaussian(k, cols, gen), cols);
        const d = d0.map((v, i) => v + low[i]);
        expectDirections(u, d, n, r, cols, k, [1e-12, 1e-12, 1e-11]);
      }),
      fcOptions(40),
    );
  });

  it('a residual past the Gram route size (n·r ≥ NEW_DIRECTION_GRAM_MIN): orthonormal, orthogonal to U, spanning it to the route’s 1e-7', () => {
    const n = 420;
    const r = 40;
    const c = Math.ceil(NEW_DIRECTION_GRAM_MIN / n);
    const gen = new Generator(5);
    const u = orthonormal(gaussian(n, r, gen), n, r);
    const d = gaussian(n, c, gen);
    expectDirections(u, d, n, r, c, c, [1e-12, 1e-12, 1e-7]);
  });

  it('a large graded residual (σ from 1 to 1e-5, past the Cholesky route’s conditioning): the Gram route, still orthonormal to 1e-13', () => {
    const n = 420;
    const r = 10;
    const cols = 40; // n·cols ≥ NEW_DIRECTION_GRAM_MIN
    expect(n * cols).toBeGreaterThanOrEqual(NEW_DIRECTION_GRAM_MIN);
    const gen = new Generator(8);
    const u = orthonormal(gaussian(n, r, gen), n, r);
    const q = orthonormal(outside(u, r, gaussian(n, cols, gen), cols, n), n, cols);
    const mix = orthonormal(gaussian(cols, cols, gen), cols, cols);
    for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) q[i * cols + j] *= 1e-5 ** (j / (cols - 1));
    const graded = product(q, n, cols, mix, cols);
    const inside = product(u, n, r, gaussian(r, cols, gen), cols);
    const d = graded.map((v, k) => v + inside[k]);
    const { basis, count } = newDirections(u, d, n, r);
    // The residual's singular values are the grading; every one is above the route's 1e-7‖D‖_F cut.
    expect(1e-5).toBeGreaterThan(1e-7 * frob(d));
    expect(count).toBe(cols);
    const m = measure(u, r, d, cols, basis, count, n);
    expect(m.orthonormality).toBeLessThan(1e-13);
    expect(m.againstU).toBeLessThan(1e-12);
    expect(m.spanGap).toBeLessThan(1e-7);
  });

  it('no room (r = n) or D = 0: no directions', () => {
    const gen = new Generator(3);
    const u = orthonormal(gaussian(6, 6, gen), 6, 6);
    expect(newDirections(u, gaussian(6, 2, gen), 6, 6).count).toBe(0);
    const v = orthonormal(gaussian(9, 3, gen), 9, 3);
    expect(newDirections(v, new Float64Array(9 * 2), 9, 3).count).toBe(0);
  });
});

describe('directionsFromFactorGrad: X·E = X·(MMᵀ)⁻¹M without forming E', () => {
  it('timesE(X) and X·e agree with the inverse of MMᵀ formed here by Gauss–Jordan elimination', () => {
    fc.assert(
      fc.property(arbShape, fc.integer({ min: 1, max: 5 }), ({ n, r, c, seed }, m) => {
        const rows = r;
        const cols = rows + c; // Mat_i(C) is rows × cols with full row rank (generic)
        const gen = new Generator(seed);
        const unfolded = gaussian(rows, cols, gen);
        const gram = product(unfolded, rows, cols, transposeOf(unfolded, rows, cols), rows);
        const chol = cholesky(gram, rows) as Float64Array;
        const dirs = directionsFromFactorGrad(gaussian(n, rows, gen), unfolded, chol, rows);
        const x = gaussian(m, rows, gen);
        const want = product(product(x, m, rows, inverse(gram, rows), rows), m, rows, unfolded, cols);
        const scale = frob(want);
        const viaTimes = dirs.timesE(x, m);
        const viaE = product(x, m, rows, dirs.e, cols);
        for (const got of [viaTimes, viaE]) expect(frob(got.map((v, k) => v - want[k])) / scale).toBeLessThan(1e-9);
      }),
      fcOptions(40),
    );
  });
});

function transposeOf(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

/** Inverse of a small symmetric positive definite matrix by Gauss–Jordan with partial pivoting. */
function inverse(a: Float64Array, n: number): Float64Array {
  const w = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let i = col + 1; i < n; i++) if (Math.abs(w[i * n + col]) > Math.abs(w[piv * n + col])) piv = i;
    for (let j = 0; j < n; j++) {
      [w[col * n + j], w[piv * n + j]] = [w[piv * n + j], w[col * n + j]];
      [inv[col * n + j], inv[piv * n + j]] = [inv[piv * n + j], inv[col * n + j]];
    }
    const p = w[col * n + col];
    for (let j = 0; j < n; j++) {
      w[col * n + j] /= p;
      inv[col * n + j] /= p;
    }
    for (let i = 0; i < n; i++) {
      if (i === col) continue;
      const f = w[i * n + col];
      for (let j = 0; j < n; j++) {
        w[i * n + j] -= f * w[col * n + j];
        inv[i * n + j] -= f * inv[col * n + j];
      }
    }
  }
  return inv;
}
