/**
 * The zero-corner route of the truncation (truncate-blocks.ts): each helper against plain loops
 * written from its definition, and truncateCore with the corner declared against the dense route
 * (itself checked against Jacobi spectra in truncate-core.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { truncateCore, type TruncationInput } from '../../src/lowrank/truncate-core.js';
import { cornerIsZero, modeGram, projectCorner, SWAP_TILE, swapLeading, zeroCorner, type ZeroCorner } from '../../src/lowrank/truncate-blocks.js';
import { Generator } from '../../src/tensor/random.js';
import { fcOptions } from '../helpers.js';
import { randomOrthogonal } from '../linalg/helpers.js';

/** [R0, R1, S] Gaussian entries, zero where i0 ≥ r0 and i1 ≥ r1 (the parallel step's pattern). */
function cornerCore(z: ZeroCorner, gen: Generator): Float64Array {
  const x = new Float64Array(z.R0 * z.R1 * z.S);
  for (let a = 0; a < z.R0; a++)
    for (let b = 0; b < z.R1; b++) for (let s = 0; s < z.S; s++) x[(a * z.R1 + b) * z.S + s] = a >= z.r0 && b >= z.r1 ? 0 : gen.normal();
  return x;
}

const at = (x: Float64Array, z: ZeroCorner, a: number, b: number, s: number) => x[(a * z.R1 + b) * z.S + s];

/** Σ over every other index of x[.., i, ..]·x[.., j, ..] for mode 0 or 1, in plain loops. */
function plainGram(x: Float64Array, z: ZeroCorner, mode: 0 | 1): Float64Array {
  const n = mode === 0 ? z.R0 : z.R1;
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let o = 0; o < (mode === 0 ? z.R1 : z.R0); o++)
        for (let q = 0; q < z.S; q++) s += mode === 0 ? at(x, z, i, o, q) * at(x, z, j, o, q) : at(x, z, o, i, q) * at(x, z, o, j, q);
      g[i * n + j] = s;
    }
  return g;
}

/** Σ_{a,b} P0[a,c]·P1[b,d]·x[a,b,s] in plain loops (a null P is the identity). */
function plainProject(x: Float64Array, z: ZeroCorner, p0: Float64Array | null, k0: number, p1: Float64Array | null, k1: number): Float64Array {
  const out = new Float64Array(k0 * k1 * z.S);
  for (let c = 0; c < k0; c++)
    for (let d = 0; d < k1; d++)
      for (let s = 0; s < z.S; s++) {
        let v = 0;
        for (let a = 0; a < z.R0; a++) {
          const w0 = p0 ? p0[a * k0 + c] : a === c ? 1 : 0;
          if (w0 === 0) continue;
          for (let b = 0; b < z.R1; b++) {
            const w1 = p1 ? p1[b * k1 + d] : b === d ? 1 : 0;
            v += w0 * w1 * at(x, z, a, b, s);
          }
        }
        out[(c * k1 + d) * z.S + s] = v;
      }
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

function randomMatrix(rows: number, cols: number, gen: Generator): Float64Array {
  return Float64Array.from({ length: rows * cols }, () => gen.normal());
}

const cornerArb = fc.record({
  r0: fc.integer({ min: 1, max: 6 }),
  m0: fc.integer({ min: 1, max: 6 }),
  r1: fc.integer({ min: 1, max: 6 }),
  m1: fc.integer({ min: 1, max: 6 }),
  S: fc.constantFrom(1, 4, 9),
  seed: fc.integer({ min: 1, max: 10_000 }),
});

describe('zeroCorner', () => {
  it('applies exactly when modes 0 and 1 grew and no other mode changed', () => {
    expect(zeroCorner([8, 6, 3, 3], [4, 3, 3, 3])).toEqual({ R0: 8, R1: 6, S: 9, r0: 4, r1: 3 });
    expect(zeroCorner([8, 6], [4, 3])).toEqual({ R0: 8, R1: 6, S: 1, r0: 4, r1: 3 });
    expect(zeroCorner([8, 6, 3, 3], undefined)).toBeNull();
    expect(zeroCorner([8, 3, 3, 3], [4, 3, 3, 3])).toBeNull(); // one mode grew: no corner
    expect(zeroCorner([8, 6, 3, 3], [4, 3, 2, 3])).toBeNull(); // a third mode grew
    expect(zeroCorner([8, 6, 3, 3], [0, 3, 3, 3])).toBeNull(); // nothing old
    expect(zeroCorner([8, 6, 3], [4, 3, 3, 3])).toBeNull(); // ranks of another core
  });

  it('cornerIsZero looks at the corner and nowhere else', () => {
    const z = { R0: 3, R1: 4, S: 2, r0: 1, r1: 2 };
    const x = cornerCore(z, new Generator(1));
    expect(cornerIsZero(x, z)).toBe(true);
    x[(2 * 4 + 3) * 2 + 1] = 1e-300;
    expect(cornerIsZero(x, z)).toBe(false);
    x[(2 * 4 + 3) * 2 + 1] = 0;
    x[(0 * 4 + 3) * 2] = 0; // outside the corner: any value
    expect(cornerIsZero(x, z)).toBe(true);
  });
});

describe('the corner route against plain loops', () => {
  it('swapLeading is the [A, B, S] → [B, A, S] transpose, within one tile and across ragged tiles', () => {
    const gen = new Generator(2);
    for (const [A, B, S] of [
      [3, 5, 4],
      [19, 13, 3],
      [2 * SWAP_TILE, SWAP_TILE + 1, 2],
      [1, 17, 5],
      [9, 1, 1],
    ]) {
      const x = randomMatrix(A * B, S, gen);
      const y = swapLeading(x, A, B, S);
      expect(y.length).toBe(x.length);
      for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) expect(y[(b * A + a) * S + s]).toBe(x[(a * B + b) * S + s]);
    }
  });

  it('modeGram equals the Gram matrix of each unfolding', () => {
    fc.assert(
      fc.property(cornerArb, ({ r0, m0, r1, m1, S, seed }) => {
        const z = { R0: r0 + m0, R1: r1 + m1, S, r0, r1 };
        const x = cornerCore(z, new Generator(seed));
        for (const mode of [0, 1] as const) expect(maxDiff(modeGram(x, z, mode), plainGram(x, z, mode))).toBeLessThan(1e-12 * (z.R0 * z.R1 * S + 1));
      }),
      fcOptions(40),
    );
  });

  it('projectCorner equals x ×_0 P0ᵀ ×_1 P1ᵀ, with either projection absent', () => {
    fc.assert(
      fc.property(cornerArb, fc.constantFrom('both', 'first', 'second'), ({ r0, m0, r1, m1, S, seed }, which) => {
        const z = { R0: r0 + m0, R1: r1 + m1, S, r0, r1 };
        const gen = new Generator(seed);
        const x = cornerCore(z, gen);
        const k0 = which === 'second' ? z.R0 : 1 + (seed % z.R0);
        const k1 = which === 'first' ? z.R1 : 1 + ((seed >> 3) % z.R1);
        const p0 = which === 'second' ? null : randomMatrix(z.R0, k0, gen);
        const p1 = which === 'first' ? null : randomMatrix(z.R1, k1, gen);
        const got = projectCorner(x, z, p0, k0, p1, k1);
        expect(maxDiff(got, plainProject(x, z, p0, k0, p1, k1))).toBeLessThan(1e-12 * z.R0 * z.R1);
      }),
      fcOptions(40),
    );
  });
});

describe('truncateCore with a declared zero corner', () => {
  /** A parallel-step-like input: conv or matrix core with its corner zero, velocity alike. */
  function input(z: ZeroCorner, spatial: number[], gen: Generator, n: [number, number], tau: number, withVelocity: boolean): TruncationInput {
    const shape = [z.R0, z.R1, ...spatial];
    const c1 = cornerCore(z, gen);
    // Decaying scales along the new rows, as the small K-step blocks of a step are.
    for (let k = 0; k < c1.length; k++) c1[k] *= 0.8 ** Math.floor(k / (z.R1 * z.S));
    const basis = (i: 0 | 1) => {
      const q = randomOrthogonal(n[i], gen);
      const R = shape[i];
      return Float64Array.from({ length: n[i] * R }, (_, k) => q[Math.floor(k / R) * n[i] + (k % R)]);
    };
    const norm = Math.hypot(...c1);
    return {
      shape,
      c1,
      bases: [basis(0), basis(1), ...spatial.map(() => null)],
      fullShape: [n[0], n[1], ...spatial],
      thresholds: [tau * norm, tau * norm, ...spatial.map(() => null)],
      keep: [z.r0, z.r1, ...spatial],
      bounds: [[1, z.R0] as [number, number], [1, z.R1] as [number, number], ...spatial.map((s) => [s, s] as [number, number])],
      velocity: withVelocity ? cornerCore(z, gen) : null,
    };
  }

  it('gives the truncation of the dense route (ranks, factors, core, velocity, tail bound)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 24 }),
        fc.integer({ min: 10, max: 24 }),
        fc.constantFrom<number[]>([], [3, 3]),
        fc.constantFrom(0, 0.05, 0.3),
        fc.boolean(),
        fc.integer({ min: 1, max: 10_000 }),
        (r0, r1, spatial, tau, withVelocity, seed) => {
          // Augmented sides from 20 to 48: both sides of the Gram route's threshold (16) are met.
          const z = { R0: 2 * r0, R1: 2 * r1, S: spatial.reduce((a, b) => a * b, 1), r0, r1 };
          const base = input(z, spatial, new Generator(seed), [2 * r0 + 5, 2 * r1 + 3], tau, withVelocity);
          const dense = truncateCore(base);
          const fast = truncateCore({ ...base, zeroCornerFrom: [r0, r1, ...spatial] });
          expect(fast.coreShape).toEqual(dense.coreShape);
          expect(fast.routes).toEqual(dense.routes);
          // Two summation orders of the same Gram matrices: the kept subspaces agree to the Gram
          // route's own accuracy, ε·σ₁²/(σ_r² − σ_{r+1}²), far below any defect's O(1).
          const scale = Math.hypot(...base.c1);
          expect(maxDiff(fast.core, dense.core)).toBeLessThan(1e-8 * scale);
          expect(Math.abs(fast.tailBound - dense.tailBound)).toBeLessThan(1e-9 * scale);
          for (let i = 0; i < 2; i++) expect(maxDiff(fast.factors[i] as Float64Array, dense.factors[i] as Float64Array)).toBeLessThan(1e-7);
          if (withVelocity)
            expect(maxDiff(fast.velocity as Float64Array, dense.velocity as Float64Array)).toBeLessThan(1e-8 * Math.hypot(...(base.velocity as Float64Array)));
          expect(Math.abs(fast.truncationError() - dense.truncationError())).toBeLessThan(1e-9 * scale);
        },
      ),
      fcOptions(12),
    );
  });

  it('with a stored third mode that is not grown but truncates (the corner applies to modes 0 and 1 only): the dense route', () => {
    // Mode 2 of size 20 (≥ 16, so its spectrum comes from a Gram matrix) adapts with a spectrum
    // decaying along it, so its rank drops too: its Gram matrix and projection must be the dense ones.
    const z = { R0: 24, R1: 20, S: 20, r0: 12, r1: 10 };
    // Modes 0 and 1 adapted too, or kept whole (no projection of theirs: mode 2's alone).
    for (const [seed, whole] of [
      [3, false],
      [4, false],
      [5, true],
    ] as const) {
      const base = input(z, [z.S], new Generator(seed), [30, 26], 0.05, true);
      for (let k = 0; k < base.c1.length; k++) base.c1[k] *= 0.6 ** (k % z.S);
      const norm = Math.hypot(...base.c1);
      const basis2 = randomOrthogonal(z.S, new Generator(seed + 100));
      const adapted: TruncationInput = {
        ...base,
        bases: [base.bases[0], base.bases[1], basis2],
        thresholds: whole ? [null, null, 0.05 * norm] : [0.05 * norm, 0.05 * norm, 0.05 * norm],
        keep: whole ? [z.R0, z.R1, z.S] : base.keep,
        bounds: [base.bounds[0], base.bounds[1], [1, z.S]],
      };
      const dense = truncateCore(adapted);
      const fast = truncateCore({ ...adapted, zeroCornerFrom: [z.r0, z.r1, z.S] });
      expect(dense.coreShape[2]).toBeLessThan(z.S);
      expect(fast.coreShape).toEqual(dense.coreShape);
      expect(maxDiff(fast.core, dense.core)).toBeLessThan(1e-8 * norm);
      for (let i = 0; i < 3; i++) expect(maxDiff(fast.factors[i] as Float64Array, dense.factors[i] as Float64Array)).toBeLessThan(1e-7);
      expect(maxDiff(fast.velocity as Float64Array, dense.velocity as Float64Array)).toBeLessThan(1e-8 * Math.hypot(...(base.velocity as Float64Array)));
    }
  });

  it('takes the dense route, bit for bit, for entries beyond 2^±300 (the corner Gram matrices would overflow or underflow)', () => {
    const z = { R0: 24, R1: 20, S: 9, r0: 12, r1: 10 };
    for (const e of [400, -400]) {
      const base = input(z, [3, 3], new Generator(9), [30, 26], 0.05, true);
      const f = 2 ** e;
      const scaled: TruncationInput = {
        ...base,
        c1: base.c1.map((v) => v * f),
        velocity: (base.velocity as Float64Array).map((v) => v * f),
        thresholds: base.thresholds.map((t) => (t === null ? null : t * f)),
      };
      const dense = truncateCore(scaled);
      const hinted = truncateCore({ ...scaled, zeroCornerFrom: [12, 10, 3, 3] });
      expect(hinted.coreShape).toEqual(dense.coreShape);
      expect(Array.from(hinted.core)).toEqual(Array.from(dense.core));
      expect(Array.from(hinted.velocity as Float64Array)).toEqual(Array.from(dense.velocity as Float64Array));
      expect(dense.core.every((v) => Number.isFinite(v))).toBe(true);
    }
  });

  it('takes the dense route, bit for bit, when the corner is not zero after all', () => {
    const z = { R0: 24, R1: 20, S: 9, r0: 12, r1: 10 };
    const base = input(z, [3, 3], new Generator(5), [30, 26], 0.05, true);
    for (const bad of ['core', 'velocity'] as const) {
      const x = Float64Array.from(bad === 'core' ? base.c1 : (base.velocity as Float64Array));
      x[x.length - 1] = 1e-3; // inside the corner
      const broken = bad === 'core' ? { ...base, c1: x } : { ...base, velocity: x };
      const dense = truncateCore(broken);
      const hinted = truncateCore({ ...broken, zeroCornerFrom: [12, 10, 3, 3] });
      expect(hinted.coreShape).toEqual(dense.coreShape);
      expect(Array.from(hinted.core)).toEqual(Array.from(dense.core));
      expect(Array.from(hinted.velocity as Float64Array)).toEqual(Array.from(dense.velocity as Float64Array));
    }
  });
});
