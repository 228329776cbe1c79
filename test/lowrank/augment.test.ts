/**
 * Basis augmentation and the parallel step's augmented gradient (augment.ts) on their own, against
 * quantities recomputed here entry by entry: the zero padding of the core and velocity, Û_i = [U_i | Ũ_i]
 * with Ũ_i spanning (I − U_iU_iᵀ)D_i, and each block of the augmented gradient.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { augmentPoint, embed, parallelGradient } from '../../src/lowrank/augment.js';
import { explicitDirections, type ModeDirections } from '../../src/lowrank/kstep.js';
import { Generator } from '../../src/tensor/random.js';
import { fcOptions } from '../helpers.js';
import { diffFro, fro, mm, orthError, randomOrthogonal, tr } from '../linalg/helpers.js';

function gaussian(n: number, gen: Generator): Float64Array {
  return Float64Array.from({ length: n }, () => gen.normal());
}

function orthonormal(n: number, r: number, gen: Generator): Float64Array {
  const q = randomOrthogonal(n, gen);
  const out = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) out[i * r + j] = q[i * n + j];
  return out;
}

/** Multi-index of a flat row-major offset. */
function indexOf(k: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = k % shape[i];
    k = Math.floor(k / shape[i]);
  }
  return idx;
}

function offsetOf(idx: readonly number[], shape: readonly number[]): number {
  let o = 0;
  for (let i = 0; i < shape.length; i++) o = o * shape[i] + idx[i];
  return o;
}

describe('augmentation', () => {
  it('embed writes src at the offset and nothing else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
        (src, at0, more) => {
          const d = src.length;
          const at = at0.slice(0, d);
          const dst = src.map((n, i) => n + at[i] + more[i]);
          const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
          const values = Float64Array.from({ length: size(src) }, (_, k) => k + 1);
          const out = new Float64Array(size(dst)).fill(-1);
          embed(out, dst, values, src, at);
          for (let k = 0; k < out.length; k++) {
            const idx = indexOf(k, dst);
            const inside = idx.every((v, i) => v >= at[i] && v < at[i] + src[i]);
            const expected = inside
              ? values[
                  offsetOf(
                    idx.map((v, i) => v - at[i]),
                    src,
                  )
                ]
              : -1;
            expect(out[k]).toBe(expected);
          }
        },
      ),
      fcOptions(60),
    );
  });

  it('augmentPoint: Û_i = [U_i | Ũ_i] (Ũ_i orthonormal, ⊥ U_i, spanning (I − U_iU_iᵀ)D_i), the core and velocity zero-padded; full-rank or direction-less modes keep U_i', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.boolean(), fc.constantFrom(0, 1, 2), (seed, withVelocity, which) => {
        const gen = new Generator(seed);
        const full = [5, 4, 3];
        // Mode 1 at full rank when which = 1; mode 2 kept full (no factor).
        const ranks = [2, which === 1 ? 4 : 2, 3];
        const factors = [orthonormal(5, 2, gen), orthonormal(4, ranks[1], gen), null];
        const size = ranks.reduce((a, b) => a * b, 1);
        const core = gaussian(size, gen);
        const velocity = withVelocity ? gaussian(size, gen) : null;
        const point = { shape: ranks, core, factors, drift: [0, 0, 0], repaired: false };
        // Directions: mode 0 always; mode 1 none when which = 2.
        const modes: (ModeDirections | null)[] = [
          explicitDirections(gaussian(5 * 2, gen), new Float64Array(0), 2),
          which === 2 ? null : explicitDirections(gaussian(4 * ranks[1], gen), new Float64Array(0), ranks[1]),
          null,
        ];
        const aug = augmentPoint(point, full, modes, velocity);
        expect(aug.before).toEqual(ranks);
        for (let i = 0; i < 3; i++) {
          const u = factors[i];
          const b = aug.bases[i];
          if (!u) {
            expect(b).toBeNull();
            expect(aug.fresh[i]).toBeNull();
            expect(aug.shape[i]).toBe(ranks[i]);
            continue;
          }
          const n = full[i];
          const r = ranks[i];
          const rh = aug.shape[i];
          const m = rh - r;
          const dir = modes[i];
          // Expected new directions: rank of (I − UUᵀ)D, capped by n − r (generic D: min(cols, n − r)).
          const expectedM = dir && r < n ? Math.min(dir.d.length / n, n - r) : 0;
          expect(m).toBe(expectedM);
          const bh = b as Float64Array;
          expect(bh.length).toBe(n * rh);
          for (let row = 0; row < n; row++) for (let c = 0; c < r; c++) expect(bh[row * rh + c]).toBe(u[row * r + c]);
          expect(orthError(bh, n, rh)).toBeLessThan(1e-10);
          const fresh = aug.fresh[i] as Float64Array;
          expect(fresh.length).toBe(n * m);
          for (let row = 0; row < n; row++) for (let c = 0; c < m; c++) expect(bh[row * rh + r + c]).toBe(fresh[row * m + c]);
          if (dir && m > 0) {
            // D ∈ span Û.
            const cols = dir.d.length / n;
            const back = mm(bh, n, rh, mm(tr(bh, n, rh), rh, n, dir.d, cols), cols);
            expect(diffFro(back, dir.d)).toBeLessThan(1e-10 * fro(dir.d));
          }
        }
        const padded = (x: Float64Array, name: string) => {
          expect(x.length, name).toBe(aug.shape.reduce((a, b) => a * b, 1));
          for (let k = 0; k < x.length; k++) {
            const idx = indexOf(k, aug.shape);
            const old = idx.every((v, i) => v < ranks[i]);
            expect(x[k], name).toBe(old ? (name === 'core' ? core : (velocity as Float64Array))[offsetOf(idx, ranks)] : 0);
          }
        };
        padded(aug.core, 'core');
        if (velocity) padded(aug.velocity as Float64Array, 'velocity');
        else expect(aug.velocity).toBeNull();
      }),
      fcOptions(30),
    );
  });

  it('parallelGradient: old block ∇_C L, the block new in mode i alone (Ũ_iᵀD_i)E_i, blocks new in two modes zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.boolean(), (seed, twoModes) => {
        const gen = new Generator(seed);
        const full = [6, 5, 2];
        const ranks = [2, 2, 2];
        const factors = [orthonormal(6, 2, gen), orthonormal(5, 2, gen), null];
        const size = 8;
        const point = { shape: ranks, core: gaussian(size, gen), factors, drift: [0, 0, 0], repaired: false };
        // E_i: w × Π_{j≠i} r_j, w = 1 for mode 0 (so m_0 = 1 ≠ r_0) and 2 for mode 1.
        const modes: (ModeDirections | null)[] = [
          explicitDirections(gaussian(6 * 1, gen), gaussian(1 * 4, gen), 1),
          twoModes ? explicitDirections(gaussian(5 * 2, gen), gaussian(2 * 4, gen), 2) : null,
          null,
        ];
        const aug = augmentPoint(point, full, modes, null);
        const coreGrad = gaussian(size, gen);
        const g = parallelGradient(aug, coreGrad, full, modes);
        expect(aug.before).toEqual(ranks);
        const shape = aug.shape;
        expect(g.length).toBe(shape.reduce((a, b) => a * b, 1));
        // Expected blocks, entry by entry.
        const blocks = [0, 1].map((i) => {
          const dir = modes[i];
          if (!dir) return null;
          const m = shape[i] - ranks[i];
          const fresh = aug.fresh[i] as Float64Array;
          const w = dir.d.length / full[i];
          return mm(mm(tr(fresh, full[i], m), m, full[i], dir.d, w), m, w, dir.e, 4); // m × 4 (Mat_i order)
        });
        for (let k = 0; k < g.length; k++) {
          const idx = indexOf(k, shape);
          const isNew = idx.map((v, i) => v >= ranks[i]);
          const count = isNew.filter(Boolean).length;
          let expected = 0;
          if (count === 0) expected = coreGrad[offsetOf(idx, ranks)];
          else if (count === 1) {
            const i = isNew.indexOf(true);
            const block = blocks[i] as Float64Array;
            // Column of Mat_i over the other (old) modes, Kolda–Bader order (first remaining mode fastest).
            const others = [0, 1, 2].filter((j) => j !== i);
            let col = 0;
            let stride = 1;
            for (const j of others) {
              col += idx[j] * stride;
              stride *= ranks[j];
            }
            expected = block[(idx[i] - ranks[i]) * 4 + col];
          }
          expect(Math.abs(g[k] - expected)).toBeLessThan(1e-12 * (1 + Math.abs(expected)));
        }
        // The coreGrad itself is not modified.
        expect(fro(coreGrad)).toBeGreaterThan(0);
        // Same shape (no new directions): a copy of ∇_C L.
        const none = augmentPoint(point, full, [null, null, null], null);
        const g0 = parallelGradient(none, coreGrad, full, [null, null, null]);
        expect(Array.from(g0)).toEqual(Array.from(coreGrad));
        expect(g0).not.toBe(coreGrad);
      }),
      fcOptions(20),
    );
  });

  it('augmentPoint and parallelGradient when every mode grows (a matrix core, both sides): the core and gradient are padded', () => {
    const gen = new Generator(41);
    const point = { shape: [2, 2], core: gaussian(4, gen), factors: [orthonormal(5, 2, gen), orthonormal(4, 2, gen)], drift: [0, 0], repaired: false };
    const modes: ModeDirections[] = [
      explicitDirections(gaussian(5 * 2, gen), gaussian(2 * 2, gen), 2),
      explicitDirections(gaussian(4 * 2, gen), gaussian(2 * 2, gen), 2),
    ];
    const velocity = gaussian(4, gen);
    const aug = augmentPoint(point, [5, 4], modes, velocity);
    expect(aug.shape).toEqual([4, 4]);
    for (const [name, x, src] of [
      ['core', aug.core, point.core],
      ['velocity', aug.velocity as Float64Array, velocity],
    ] as const) {
      expect(x.length, name).toBe(16);
      for (let k = 0; k < 16; k++) expect(x[k], name).toBe(Math.floor(k / 4) < 2 && k % 4 < 2 ? src[Math.floor(k / 4) * 2 + (k % 4)] : 0);
    }
    const coreGrad = gaussian(4, gen);
    const g = parallelGradient(aug, coreGrad, [5, 4], modes);
    expect(g.length).toBe(16);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) expect(g[a * 4 + b]).toBe(coreGrad[a * 2 + b]);
    // The new/new block is zero.
    for (let a = 2; a < 4; a++) for (let b = 2; b < 4; b++) expect(g[a * 4 + b]).toBe(0);
  });
});
