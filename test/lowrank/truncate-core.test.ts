/**
 * truncateCore (the last part of every integrator step) on its own, against quantities recomputed
 * here: the spectra of each Mat_i(Ĉ1) by plain Jacobi SVD, the least rank whose tail is ≤ ϑ_i, the
 * HOSVD projection of Ŵ = Ĉ1 ×_i Û_i onto the returned factors, its error and the tail bound.
 * Small, fast cases, so that a mutation run reaches every branch of the truncation directly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { svdRaw } from '../../src/linalg/svd.js';
import { truncateCore, type TruncationInput, type TruncationResult } from '../../src/lowrank/truncate-core.js';
import { Generator } from '../../src/tensor/random.js';
import { modeProductRaw } from '../../src/tucker/product.js';
import { foldRaw, unfoldRaw } from '../../src/tucker/unfold.js';
import { fcOptions } from '../helpers.js';
import { mm, orthError as orthoErr, randomOrthogonal, tr } from '../linalg/helpers.js';
import { tail } from './checks.js';
import { frobDiff, frobNorm } from './fixtures.js';

/** A core whose unfoldings have decaying spectra: Gaussian entries scaled by ∏_i decay^{k_i}. */
function decayingCore(shape: number[], decay: number, gen: Generator): Float64Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const c = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    let rem = k;
    let f = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      f *= decay ** (rem % shape[i]);
      rem = Math.floor(rem / shape[i]);
    }
    c[k] = f * gen.normal();
  }
  return c;
}

/** The first r columns of a random n×n orthogonal matrix. */
function orthonormal(n: number, r: number, gen: Generator): Float64Array {
  const q = randomOrthogonal(n, gen);
  const out = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) out[i * r + j] = q[i * n + j];
  return out;
}

/** X ×_i B_i over the modes with a basis (B_i rows × cols, applied as B_i). */
function lift(x: Float64Array, shape: readonly number[], bases: readonly (Float64Array | null)[], rowsOf: readonly number[]): Float64Array {
  let data = x;
  let s = [...shape];
  bases.forEach((b, i) => {
    if (!b) return;
    const next = modeProductRaw(data, s, b, rowsOf[i], i);
    data = next.data;
    s = next.shape;
  });
  return data;
}

/** X ×_i (F_iF_iᵀ) for every mode with a factor (n_i × r_i). */
function project(x: Float64Array, shape: readonly number[], factors: readonly (Float64Array | null)[]): Float64Array {
  let data = x;
  const s = [...shape];
  factors.forEach((f, i) => {
    if (!f) return;
    const n = s[i];
    const r = f.length / n;
    const ft = new Float64Array(r * n);
    for (let a = 0; a < n; a++) for (let b = 0; b < r; b++) ft[b * n + a] = f[a * r + b];
    const down = modeProductRaw(data, s, ft, r, i);
    data = modeProductRaw(down.data, down.shape, f, n, i).data;
  });
  return data;
}

/** The singular values of Mat_i(x) by plain (unpreconditioned) Jacobi. */
function modeSpectrum(x: Float64Array, shape: readonly number[], i: number): Float64Array {
  const rows = shape[i];
  return svdRaw(unfoldRaw(x, shape, i), rows, x.length / rows, { wantU: false, wantV: false, method: 'jacobi' }).s;
}

/** Least r with tail(r) ≤ ϑ, written out from the definition. */
function leastRank(s: Float64Array, theta: number): number {
  let r = 0;
  while (tail(s, r) > theta) r++;
  return r;
}

function maxOrthoError(f: Float64Array, n: number, r: number): number {
  let worst = 0;
  for (let a = 0; a < r; a++)
    for (let b = 0; b < r; b++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += f[k * r + a] * f[k * r + b];
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  return worst;
}

/**
 * What every truncation must satisfy: orthonormal factors inside span Û_i of the returned ranks,
 * W1 = C_new ×_i F_i equal to Ŵ ×_i F_iF_iᵀ (the core is the projection, not any other core), the
 * error and tail bound recomputed from Jacobi spectra, the velocity projected like the core.
 */
function checkResult(input: TruncationInput, out: TruncationResult, tol: number): { sigma: (Float64Array | null)[] } {
  const { shape, c1, bases, fullShape } = input;
  const d = shape.length;
  const norm = frobNorm(c1);
  const rowsOf = shape.map((n, i) => (bases[i] ? fullShape[i] : n));
  const what = shape.map((n, i) => (bases[i] ? fullShape[i] : n));
  const wHat = lift(c1, shape, bases, rowsOf);
  const ranks = out.coreShape;
  expect(out.core.length).toBe(ranks.reduce((a, b) => a * b, 1));
  const sigma: (Float64Array | null)[] = [];
  let tail2 = 0;
  for (let i = 0; i < d; i++) {
    const f = out.factors[i];
    const b = bases[i];
    if (!b) {
      expect(f).toBeNull();
      expect(ranks[i]).toBe(shape[i]);
      expect(out.routes[i]).toBeNull();
      sigma.push(null);
      continue;
    }
    expect(f).not.toBeNull();
    const fi = f as Float64Array;
    expect(fi.length).toBe(fullShape[i] * ranks[i]);
    expect(maxOrthoError(fi, fullShape[i], ranks[i])).toBeLessThan(1e-10);
    // F_i lies in span Û_i: Û_iÛ_iᵀF_i = F_i.
    const inside = project(fi, [fullShape[i], ranks[i]], [b, null]);
    expect(frobDiff(inside, fi)).toBeLessThan(1e-10 * Math.max(1, frobNorm(fi)));
    const s = modeSpectrum(c1, shape, i);
    sigma.push(s);
    tail2 += tail(s, ranks[i]) ** 2;
    // F_i = Û_i·P_i spans the dominant subspace of Mat_i(Ĉ1): the energy it captures, ‖F_iᵀMat_i(Ĉ1 ×_i Û_i)‖²,
    // is the largest any r_i columns capture, Σ_{k<r_i} σ_k².
    const rows = fullShape[i];
    const lifted = lift(
      c1,
      shape,
      bases.map((bb, j) => (j === i ? bb : null)),
      rowsOf,
    );
    const wMat = unfoldRaw(
      lifted,
      shape.map((n, j) => (j === i ? rows : n)),
      i,
    );
    const cols = wMat.length / rows;
    let captured = 0;
    for (let a = 0; a < ranks[i]; a++)
      for (let col = 0; col < cols; col++) {
        let v = 0;
        for (let k = 0; k < rows; k++) v += fi[k * ranks[i] + a] * wMat[k * cols + col];
        captured += v * v;
      }
    let top = 0;
    for (let k = 0; k < Math.min(ranks[i], s.length); k++) top += s[k] * s[k];
    expect(Math.abs(top - captured)).toBeLessThan(tol * norm * norm);
  }
  expect(out.factors.length).toBe(d);
  expect(out.routes.length).toBe(d);
  const factors = out.factors.map((f, i) => (bases[i] ? f : null));
  const w1 = lift(out.core, ranks, factors, what);
  const expected = project(wHat, what, factors);
  expect(frobDiff(w1, expected)).toBeLessThan(tol * Math.max(norm, 1e-300));
  const err = frobDiff(wHat, w1);
  expect(Math.abs(out.truncationError() - err)).toBeLessThan(tol * Math.max(norm, 1e-300));
  // Read twice: the cached value is the same.
  expect(out.truncationError()).toBe(out.truncationError());
  expect(Math.abs(out.tailBound - Math.sqrt(tail2))).toBeLessThan(tol * Math.max(norm, 1e-300));
  if (input.velocity) {
    const vHat = lift(input.velocity, shape, bases, rowsOf);
    expect(out.velocity).not.toBeNull();
    const v1 = lift(out.velocity as Float64Array, ranks, factors, what);
    expect(frobDiff(v1, project(vHat, what, factors))).toBeLessThan(tol * Math.max(1, frobNorm(vHat)));
  } else {
    expect(out.velocity).toBeNull();
  }
  return { sigma };
}

interface Case {
  input: TruncationInput;
  /** Per mode: the τ of ϑ = τ‖Ĉ1‖, or null where the mode keeps `keep`. */
  taus: (number | null)[];
}

function makeCase(
  shape: number[],
  fullShape: number[],
  stored: boolean[],
  taus: (number | null)[],
  keep: number[],
  bounds: [number, number][],
  withVelocity: boolean,
  decay: number,
  seed: number,
  scale = 1,
): Case {
  const gen = new Generator(seed);
  const c1 = decayingCore(shape, decay, gen).map((v) => v * scale);
  const norm = frobNorm(c1);
  const bases = shape.map((r, i) => (stored[i] ? orthonormal(fullShape[i], r, gen) : null));
  const velocity = withVelocity ? decayingCore(shape, 1, gen) : null;
  const thresholds = taus.map((t) => (t === null ? null : t * norm));
  return { input: { shape, c1, bases, fullShape, thresholds, keep, bounds, velocity }, taus };
}

const arbCase = fc
  .record({
    d: fc.constantFrom(2, 3, 4),
    sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 4, maxLength: 4 }),
    extra: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
    stored: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    taus: fc.array(fc.constantFrom<number | null>(null, 0, 0.01, 0.1, 0.3, 0.6), { minLength: 4, maxLength: 4 }),
    keepDrop: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
    lo: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }),
    hiDrop: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
    velocity: fc.boolean(),
    decay: fc.constantFrom(0.3, 0.6, 1),
    seed: fc.integer({ min: 0, max: 1e6 }),
  })
  .map((c): Case => {
    const shape = c.sizes.slice(0, c.d);
    const fullShape = shape.map((n, i) => n + c.extra[i]);
    const stored = c.stored.slice(0, c.d);
    if (!stored.some(Boolean)) stored[0] = true;
    const keep = shape.map((n, i) => Math.max(1, n - c.keepDrop[i]));
    const bounds = shape.map((n, i): [number, number] => {
      const hi = Math.max(1, n - c.hiDrop[i]);
      return [Math.min(c.lo[i], hi), hi];
    });
    return makeCase(shape, fullShape, stored, c.taus.slice(0, c.d), keep, bounds, c.velocity, c.decay, c.seed);
  });

describe('truncateCore against recomputed spectra and projections', () => {
  it('ranks: the least tail rank at ϑ_i clamped to [lo, hi], or the kept rank; lowered below it only by the feasibility clamp r_i ≤ Π_{j≠i} r_j', () => {
    fc.assert(
      fc.property(arbCase, ({ input, taus }) => {
        const out = truncateCore(input);
        const { sigma } = checkResult(input, out, 1e-10);
        const ranks = out.coreShape;
        const stored = input.bases.map((b) => b !== null);
        for (let i = 0; i < ranks.length; i++) {
          if (!stored[i]) continue;
          const others = ranks.reduce((p, r, j) => (j === i ? p : p * r), 1);
          expect(ranks[i]).toBeLessThanOrEqual(others);
          const s = sigma[i] as Float64Array;
          const tau = taus[i];
          const [lo, hi] = input.bounds[i];
          const n = input.shape[i];
          // A matrix core with both modes stored takes one SVD of both sides: no mode is kept whole.
          const matrixPath = ranks.length === 2 && stored[0] && stored[1];
          const whole = !matrixPath && (tau === null ? input.keep[i] >= n : tau === 0 && n <= hi);
          let wanted: number;
          if (whole) wanted = n;
          else if (tau === null) wanted = Math.min(input.keep[i], s.length);
          else wanted = Math.min(s.length, hi, Math.max(lo, leastRank(s, Math.max(tau * frobNorm(input.c1), 1e-14 * frobNorm(input.c1)))));
          if (ranks[i] < wanted) {
            expect(ranks[i]).toBe(others);
          } else {
            expect(ranks[i]).toBe(wanted);
          }
          // A mode kept whole (and not lowered by the clamp) needs no spectrum and keeps its basis.
          if (whole && ranks[i] === n) {
            expect(out.routes[i]).toBeNull();
            expect(Array.from(out.factors[i] as Float64Array)).toEqual(Array.from(input.bases[i] as Float64Array));
          } else expect(out.routes[i]).toBe('jacobi');
        }
      }),
      fcOptions(60),
    );
    // The fixed cases below make sure that the clamps and the cuts each happen.
  });

  it('the feasibility clamp: modes 1 and 2 cut to rank 1 force mode 0 (whose own rule keeps 4) to rank 1', () => {
    const { input } = makeCase(
      [4, 3, 3],
      [6, 5, 5],
      [true, true, true],
      [null, 0.99, 0.99],
      [4, 3, 3],
      [
        [1, 4],
        [1, 3],
        [1, 3],
      ],
      true,
      1,
      7,
    );
    const out = truncateCore(input);
    checkResult(input, out, 1e-10);
    expect(out.coreShape).toEqual([1, 1, 1]);
  });

  it('a rank rule replaces the tolerance on adapted modes only: it sees the Jacobi spectrum of its mode, and its rank is clamped to the bounds', () => {
    const { input } = makeCase(
      [5, 4, 3],
      [7, 6, 3],
      [true, true, false],
      [0.1, 0.1, null],
      [5, 4, 3],
      [
        [1, 5],
        [2, 3],
        [3, 3],
      ],
      false,
      0.5,
      11,
    );
    const seen: number[] = [];
    const out = truncateCore({
      ...input,
      rankRule: (mode, s) => {
        seen.push(mode);
        const ref = modeSpectrum(input.c1, input.shape, mode);
        expect(frobDiff(s, ref)).toBeLessThan(1e-12 * frobNorm(ref));
        return 1;
      },
    });
    checkResult(input, out, 1e-10);
    expect(seen.sort()).toEqual([0, 1]);
    // Mode 0: the rule's 1 (≥ lo = 1); mode 1: raised to lo = 2; mode 2 has no basis.
    expect(out.coreShape).toEqual([1, 2, 3]);
  });

  it('the Gram route on wide unfoldings (short side ≥ 16): trusted cuts keep it, a tolerance at the Gram noise level takes Jacobi, τ = 0 keeps everything', () => {
    const shape = [18, 16, 2];
    const full = [24, 20, 2];
    const stored = [true, true, false];
    // A fast decay puts values below the Gram route's resolution (~1e-6·σ₁), where a 1e-9 cut falls.
    // ‖Ĉ1‖ far from 1 (scale): the levels are relative to it. The last case cuts nothing (every σ
    // above ϑ): no cut to distrust, so the Gram spectrum stands.
    for (const [tau, decay, route, scale] of [
      [0.05, 0.7, 'gram', 1e3],
      [1e-9, 0.2, 'jacobi', 1e3],
      [0.05, 0.7, 'gram', 1e-3],
      [1e-9, 0.2, 'jacobi', 1e-3],
      [1e-9, 0.95, 'gram', 1e3],
    ] as const) {
      const { input } = makeCase(
        shape,
        full,
        stored,
        [tau, tau, null],
        [18, 16, 2],
        [
          [1, 18],
          [1, 16],
          [2, 2],
        ],
        true,
        decay,
        3,
        scale,
      );
      const out = truncateCore(input);
      const { sigma } = checkResult(input, out, 1e-9);
      for (const i of [0, 1]) {
        expect(out.routes[i]).toBe(route);
        const s = sigma[i] as Float64Array;
        expect(out.coreShape[i]).toBe(leastRank(s, tau * frobNorm(input.c1)));
        if (decay < 0.9) expect(out.coreShape[i]).toBeLessThan(shape[i]);
        else expect(out.coreShape[i]).toBe(shape[i]);
      }
    }
    const { input } = makeCase(
      shape,
      full,
      stored,
      [0, 0, null],
      [18, 16, 2],
      [
        [1, 18],
        [1, 16],
        [2, 2],
      ],
      false,
      0.7,
      3,
    );
    const out = truncateCore(input);
    checkResult(input, out, 1e-9);
    expect(out.coreShape).toEqual(shape);
    expect(out.routes).toEqual([null, null, null]);
  });

  it('a matrix core (d = 2): Jacobi below 16, one Gram eigendecomposition from 16 on (the derived side re-orthonormalised); both sides keep the same rank', () => {
    // ‖Ĉ1‖ ≈ 1e3 and 1e-3: the Gram route's resolution (and with it which kept values are trusted) is relative to it.
    for (const [m, n, tau, decay, route, scale] of [
      [60, 50, 0.05, 0.85, 'gram', 1e-3],
      [60, 50, 2e-4, 0.8, 'gram', 1e-3],
      [7, 5, 0.1, 0.85, 'jacobi', 1e3],
      [5, 7, 0.1, 0.85, 'jacobi', 1e3],
      // Short side 15 < 16 (TRUNCATION_GRAM_MIN_SIDE, as for a conv core's unfoldings); 16 and 30 take the Gram route.
      [15, 60, 0.1, 0.85, 'jacobi', 1e3],
      [16, 60, 0.1, 0.85, 'gram', 1e3],
      [30, 60, 0.1, 0.85, 'gram', 1e3],
      [60, 50, 0.05, 0.85, 'gram', 1e3],
      [50, 60, 0.05, 0.85, 'gram', 1e3],
      [48, 52, 0.05, 0.85, 'gram', 1e3],
      // Kept values down to ~2e-4·σ₁ (resolved): the derived side needs its re-orthonormalisation.
      [60, 50, 2e-4, 0.8, 'gram', 1e3],
      [60, 50, 1e-9, 0.5, 'jacobi', 1e3],
    ] as const) {
      const { input } = makeCase(
        [m, n],
        [m + 4, n + 3],
        [true, true],
        [tau, tau],
        [m, n],
        [
          [1, m],
          [1, n],
        ],
        true,
        decay,
        m * 100 + n,
        scale,
      );
      const out = truncateCore(input);
      const { sigma } = checkResult(input, out, 1e-9);
      expect(out.routes).toEqual([route, route]);
      const r = leastRank(sigma[0] as Float64Array, tau * frobNorm(input.c1));
      expect(r).toBeLessThan(Math.min(m, n));
      expect(out.coreShape).toEqual([r, r]);
    }
  });

  it('keeps `keep[i]` on modes without a tolerance; a mode kept whole but then lowered by the feasibility clamp gets its spectrum after all', () => {
    const { input } = makeCase(
      [18, 16, 2],
      [20, 18, 2],
      [true, true, false],
      [null, null, null],
      [5, 16, 2],
      [
        [1, 18],
        [1, 16],
        [2, 2],
      ],
      false,
      0.7,
      5,
    );
    const out = truncateCore(input);
    checkResult(input, out, 1e-9);
    // Mode 1 keeps 16, its size, but r_1 ≤ r_0·r_2 = 10. Both cuts lie at resolved values
    // (σ_5 ≈ 0.7⁴σ₁, σ_10 ≈ 0.7⁹σ₁): the Gram route is trusted.
    expect(out.coreShape).toEqual([5, 10, 2]);
    expect(out.routes).toEqual(['gram', 'gram', null]);
  });

  it('a matrix core on the Gram route keeping values below its resolution (minRank binds): the derived side is recomputed by Jacobi', () => {
    // 60×50: the Gram side is the 50-side (mode 1); mode 0's vectors are derived, Ĉ1ᵀu/σ.
    const { input } = makeCase(
      [60, 50],
      [62, 52],
      [true, true],
      [0.05, 0.05],
      [60, 50],
      [
        [45, 60],
        [45, 50],
      ],
      false,
      0.5,
      5,
      1e3,
    );
    const out = truncateCore(input);
    checkResult(input, out, 1e-9);
    expect(out.coreShape).toEqual([45, 45]);
    expect(out.routes).toEqual(['jacobi', 'gram']);
  });

  it('τ = 0 on a matrix core, with or without a cap below the size: only values at Jacobi rounding level (≤ 1e-14‖Ĉ1‖) are dropped, whatever ‖Ĉ1‖', () => {
    for (const [scale, cap] of [
      [1e3, 4],
      [1e-3, 4],
      [1e3, 6],
    ]) {
      // A rank-2 matrix core 6×5 stored on both sides: the rounding-level values go, the two others stay.
      const gen = new Generator(8);
      const a = Float64Array.from({ length: 12 }, () => gen.normal());
      const b = Float64Array.from({ length: 10 }, () => gen.normal());
      const c1 = new Float64Array(30);
      for (let i = 0; i < 6; i++) for (let j = 0; j < 5; j++) c1[i * 5 + j] = scale * (a[i * 2] * b[j * 2] + a[i * 2 + 1] * b[j * 2 + 1]);
      const input: TruncationInput = {
        shape: [6, 5],
        c1,
        bases: [orthonormal(7, 6, gen), orthonormal(6, 5, gen)],
        fullShape: [7, 6],
        thresholds: [0, 0],
        keep: [6, 5],
        bounds: [
          [1, cap],
          [1, Math.min(cap, 5)],
        ],
        velocity: null,
      };
      const out = truncateCore(input);
      checkResult(input, out, 1e-10);
      expect(out.coreShape).toEqual([2, 2]);
    }
  });

  it('the keep rule on a Gram-sized mode: a cut among resolved values (by a fixed rank, the cap, or a resolved tolerance) keeps the Gram spectrum; a cut at unresolved values, a tolerance’s own cut below the resolution, or a zero core, takes Jacobi', () => {
    // Mat_0 (20 × 24, short side ≥ 16) with planted singular values; only mode 0 stored.
    const shape = [20, 8, 3];
    const planted = (sigma: readonly number[], scale: number): Float64Array => {
      const gen = new Generator(4);
      const u = orthonormal(20, 20, gen);
      const v = orthonormal(24, 20, gen);
      const us = new Float64Array(400);
      for (let i = 0; i < 20; i++) for (let k = 0; k < 20; k++) us[i * 20 + k] = u[i * 20 + k] * scale * sigma[k];
      return foldRaw(mm(us, 20, 20, tr(v, 24, 20), 24), 0, shape);
    };
    const ones = (k: number, v: number) => new Array<number>(k).fill(v);
    const cases: [number[], 'gram' | 'jacobi', number | null, number][] = [
      [[...ones(5, 1), ...ones(15, 1e-2)], 'gram', null, 5],
      // The 5th kept value is unresolved (1e-6 < 1e-4·‖Ĉ1‖).
      [[...ones(4, 1), 1e-6, ...ones(15, 1e-7)], 'jacobi', null, 5],
      // The kept values are resolved; those cut are not, which does not matter.
      [[...ones(5, 1), 1e-6, ...ones(14, 1e-7)], 'gram', null, 5],
      [ones(20, 0), 'jacobi', null, 5],
      // A tolerance ϑ = 1e-5‖Ĉ1‖ below the resolution (1e-4‖Ĉ1‖), the cap (8) not binding: the cut
      // (at 5) is the tolerance's own, decided among unresolved values: Jacobi.
      [[...ones(5, 1), ...ones(15, 1e-6)], 'jacobi', 1e-5, 8],
      // The same spectrum and ϑ with the cap at the cut (5): the kept values are resolved, so Jacobi
      // could only cut at 5 as well (its tail(4) holds a value of 1 > ϑ): Gram.
      [[...ones(5, 1), ...ones(15, 1e-6)], 'gram', 1e-5, 5],
      // The same ϑ with the cap 5 binding (ϑ alone keeps 10): the cut is the cap's, at resolved values: Gram.
      [[...ones(5, 1), ...ones(5, 1e-3), ...ones(10, 1e-6)], 'gram', 1e-5, 5],
    ];
    for (const [sigma, route, relTheta, cap] of cases) {
      for (const scale of [1e3, 1e-3]) {
        const gen = new Generator(2);
        const input: TruncationInput = {
          shape,
          c1: planted(sigma, scale),
          bases: [orthonormal(22, 20, gen), null, null],
          fullShape: [22, 8, 3],
          thresholds: [relTheta === null ? null : relTheta * scale * Math.hypot(...sigma), null, null],
          keep: [5, 8, 3],
          bounds: [
            [1, cap],
            [8, 8],
            [3, 3],
          ],
          velocity: null,
        };
        const out = truncateCore(input);
        if (sigma[0] > 0) checkResult(input, out, 1e-9);
        expect(out.coreShape).toEqual([5, 8, 3]);
        expect(out.routes[0]).toBe(route);
        expect(orthoErr(out.factors[0] as Float64Array, 22, 5)).toBeLessThan(1e-10);
      }
    }
  });

  it('a rank rule applies at τ = 0 too (no mode is kept whole when a rule decides)', () => {
    const { input } = makeCase(
      [5, 4, 3],
      [7, 6, 3],
      [true, true, false],
      [0, 0, null],
      [5, 4, 3],
      [
        [1, 5],
        [1, 4],
        [3, 3],
      ],
      false,
      0.5,
      12,
    );
    const out = truncateCore({ ...input, rankRule: () => 2 });
    checkResult(input, out, 1e-10);
    expect(out.coreShape).toEqual([2, 2, 3]);
  });

  it('modes kept whole: keep = size, or τ = 0 within the cap, need no spectrum (route null, basis as given); a rule still decides τ-modes; the matrix path has no whole modes', () => {
    const base = makeCase(
      [4, 3, 5],
      [6, 5, 7],
      [true, true, true],
      [null, 0, 0.3],
      [4, 3, 5],
      [
        [1, 4],
        [1, 3],
        [1, 5],
      ],
      false,
      0.6,
      13,
    );
    for (const rule of [undefined, () => 2]) {
      const input = { ...base.input, rankRule: rule };
      const out = truncateCore(input);
      checkResult(input, out, 1e-10);
      expect(out.routes[0]).toBeNull();
      expect(Array.from(out.factors[0] as Float64Array)).toEqual(Array.from(input.bases[0] as Float64Array));
      expect(out.routes[1]).toBe(rule ? 'jacobi' : null);
      expect(out.routes[2]).toBe('jacobi');
      expect(out.coreShape[0]).toBe(4);
      expect(out.coreShape[1]).toBe(rule ? 2 : 3);
    }
    // A cap below the size: τ = 0 is no longer "keep whole"; the rank is the numerical one, capped.
    const capped = makeCase(
      [4, 3, 5],
      [6, 5, 7],
      [true, true, true],
      [null, 0, 0.3],
      [4, 3, 5],
      [
        [1, 4],
        [1, 2],
        [1, 5],
      ],
      false,
      0.6,
      13,
    );
    const outCapped = truncateCore(capped.input);
    checkResult(capped.input, outCapped, 1e-10);
    expect(outCapped.routes[1]).toBe('jacobi');
    expect(outCapped.coreShape[1]).toBe(2);
    // Matrix path, τ = 0: one SVD gives both sides, so both report Jacobi, at full (numerical) rank.
    const matrix = makeCase(
      [4, 6],
      [5, 8],
      [true, true],
      [0, 0],
      [4, 6],
      [
        [1, 4],
        [1, 6],
      ],
      false,
      0.6,
      14,
    );
    const outMatrix = truncateCore(matrix.input);
    checkResult(matrix.input, outMatrix, 1e-10);
    expect(outMatrix.routes).toEqual(['jacobi', 'jacobi']);
    expect(outMatrix.coreShape).toEqual([4, 4]);
  });
});
