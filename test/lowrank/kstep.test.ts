/**
 * The K-step pieces (kstep.ts) on their own, against quantities recomputed here: the new directions
 * of a mode by their defining properties (orthonormal, orthogonal to U, spanning (I − UUᵀ)D, as many
 * as the planted rank), on the QR route and on the Gram route; the coefficient matrices E_i by the
 * equations they solve, with row-space projectors from Jacobi SVD.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { qrRaw } from '../../src/linalg/qr.js';
import { svdRaw } from '../../src/linalg/svd.js';
import {
  directionsFromFactorGrad,
  directionsFromKernelGrad,
  explicitDirections,
  NEW_DIRECTION_GRAM_MIN,
  newDirections,
  pivotedCholesky,
} from '../../src/lowrank/kstep.js';
import { cholesky, unfoldingGram } from '../../src/lowrank/layer-point.js';
import { Generator } from '../../src/tensor/random.js';
import { modeProductRaw } from '../../src/tucker/product.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';
import { fcOptions } from '../helpers.js';
import { diffFro, fro, mm, orthError, randomOrthogonal, tr } from '../linalg/helpers.js';

function gaussian(n: number, gen: Generator, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * gen.normal());
}

function orthonormal(n: number, r: number, gen: Generator): Float64Array {
  const q = randomOrthogonal(n, gen);
  const out = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) out[i * r + j] = q[i * n + j];
  return out;
}

/** X − Q·QᵀX for an orthonormal Q (n × q). */
function residual(q: Float64Array, n: number, qc: number, x: Float64Array, xc: number): Float64Array {
  if (qc === 0) return Float64Array.from(x);
  const back = mm(q, n, qc, mm(tr(q, n, qc), qc, n, x, xc), xc);
  return x.map((v, k) => v - back[k]);
}

/**
 * D = U·A + B·M: a part inside span U (Gaussian A times `inside`) and a part of planted rank k
 * outside it (B orthonormal to U), with the outside part's singular values in [0.5, 2]·scale, or
 * graded from scale down to scale·spread when `spread` is given.
 */
function plantedDirections(
  n: number,
  r: number,
  cols: number,
  k: number,
  scale: number,
  gen: Generator,
  inside = 1,
  spread?: number,
): { u: Float64Array; d: Float64Array } {
  // r + k orthonormal columns (QR of a Gaussian n × (r + k)): U the first r, B the next k.
  const w = r + k;
  const q = qrRaw(gaussian(n * w, gen), n, w, 'reduced').q;
  const u = new Float64Array(n * r);
  const b = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < r; j++) u[i * r + j] = q[i * w + j];
    for (let j = 0; j < k; j++) b[i * k + j] = q[i * w + r + j];
  }
  const inPart = mm(u, n, r, gaussian(r * cols, gen, inside), cols);
  const sigma = (j: number) => (spread === undefined ? scale * (0.5 + 1.5 * gen.uniform()) : scale * spread ** (k > 1 ? j / (k - 1) : 0));
  const m = mm(
    Float64Array.from({ length: k * k }, (_, t) => (t % (k + 1) === 0 ? sigma(t / (k + 1)) : 0)),
    k,
    k,
    orthonormalRows(k, cols, gen),
    cols,
  );
  const outside = mm(b, n, k, m, cols);
  return { u, d: inPart.map((v, t) => v + outside[t]) };
}

/** k × cols with orthonormal rows (k ≤ cols). */
function orthonormalRows(k: number, cols: number, gen: Generator): Float64Array {
  return tr(orthonormal(cols, k, gen), cols, k);
}

function checkDirections(u: Float64Array, d: Float64Array, n: number, r: number, cols: number, expectedCount: number, tol: number, perpTol = tol): void {
  const { basis, count } = newDirections(u, d, n, r);
  expect(count).toBe(expectedCount);
  expect(basis.length).toBe(n * count);
  if (count === 0) return;
  expect(orthError(basis, n, count)).toBeLessThan(tol);
  // Orthogonal to U.
  expect(fro(mm(tr(u, n, r), r, n, basis, count))).toBeLessThan(perpTol);
  // span[U, Ũ] contains D.
  const rest = residual(basis, n, count, residual(u, n, r, d, cols), cols);
  expect(fro(rest)).toBeLessThan(tol * Math.max(1, fro(d)));
}

describe('K-step directions', () => {
  it('newDirections (QR route): an orthonormal basis of (I − UUᵀ)D, orthogonal to U, of the planted rank, at most n − r', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 9 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 1e6 }),
        (n, r0, cols, k0, seed) => {
          const gen = new Generator(seed);
          const r = Math.min(r0, n - 1);
          const k = Math.min(k0, n - r, cols);
          const { u, d } = plantedDirections(n, r, cols, k, 1, gen);
          expect(n * cols).toBeLessThan(NEW_DIRECTION_GRAM_MIN);
          checkDirections(u, d, n, r, cols, k, 1e-10);
        },
      ),
      fcOptions(50),
    );
  });

  it('newDirections: none at full rank, for a zero D, or for D inside span U; a tiny outside part (1e-6‖D‖) still counts', () => {
    const gen = new Generator(9);
    const n = 6;
    const u = orthonormal(n, 6, gen);
    expect(newDirections(u, gaussian(n * 2, gen), n, 6).count).toBe(0);
    const u2 = orthonormal(n, 2, gen);
    expect(newDirections(u2, new Float64Array(n * 3), n, 2).count).toBe(0);
    const inside = mm(u2, n, 2, gaussian(2 * 3, gen), 3);
    expect(newDirections(u2, inside, n, 2).count).toBe(0);
    const { u: u3, d } = plantedDirections(n, 2, 3, 1, 1e-6, gen);
    checkDirections(u3, d, n, 2, 3, 1, 1e-9);
    // More columns than room: n − r = 2 directions at most.
    const { u: u4, d: d4 } = plantedDirections(5, 3, 4, 2, 1, gen);
    const wide = d4.map((v, t) => v + 0.1 * gen.normal() * (t % 4 === 3 ? 1 : 0));
    checkDirections(u4, wide, 5, 3, 4, 2, 1e-10);
  });

  it('newDirections (Gram route, n·r ≥ NEW_DIRECTION_GRAM_MIN): the same properties; directions below 1e-7‖D‖ are dropped', () => {
    const gen = new Generator(21);
    const n = 600;
    const r = 20;
    const cols = 30;
    expect(n * cols).toBeGreaterThanOrEqual(NEW_DIRECTION_GRAM_MIN);
    for (const k of [0, 5, 30]) {
      const { u, d } = plantedDirections(n, r, cols, k, 1, gen);
      checkDirections(u, d, n, r, cols, k, 1e-9);
    }
    // An outside part at 1e-9 of ‖D‖ is below the Gram route's resolution: no direction.
    const { u, d } = plantedDirections(n, r, cols, 3, 1e-9, gen);
    expect(newDirections(u, d, n, r).count).toBe(0);
  });

  it('newDirections (Gram route) with more columns than room (cols > n − r, where the Cholesky route declines before any Gram product): n − r directions', () => {
    const gen = new Generator(23);
    const n = 200;
    const r = 150;
    const cols = 100;
    expect(n * cols).toBeGreaterThanOrEqual(NEW_DIRECTION_GRAM_MIN);
    const { u, d } = plantedDirections(n, r, cols, n - r, 1, gen);
    checkDirections(u, d, n, r, cols, n - r, 1e-9);
  });

  it('explicitDirections: D and E as given, timesE(X) = X·E', () => {
    const gen = new Generator(29);
    for (const [w, cols, m] of [
      [3, 5, 4],
      [4, 2, 1],
    ]) {
      const d = gaussian(7 * w, gen);
      const e = gaussian(w * cols, gen);
      const dirs = explicitDirections(d, e, w);
      expect(dirs.d).toBe(d);
      expect(dirs.e).toBe(e);
      const x = gaussian(m * w, gen);
      expect(diffFro(dirs.timesE(x, m), mm(x, m, w, e, cols))).toBeLessThan(1e-14 * fro(x) * fro(e));
    }
  });

  it('directionsFromFactorGrad: D = ∇_U L as given, E = (Mat_i(C)Mat_i(C)ᵀ)⁻¹Mat_i(C)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1e6 }), (r, extra, seed) => {
        const gen = new Generator(seed);
        const shape = [r, r + extra, 2];
        const core = gaussian(
          shape.reduce((a, b) => a * b, 1),
          gen,
        );
        const { unfolded, gram } = unfoldingGram(core, shape, 0);
        const chol = cholesky(gram, r) as Float64Array;
        const fg = gaussian(7 * r, gen);
        const cols = core.length / r;
        const { d, e } = directionsFromFactorGrad(fg, unfolded, chol, r);
        expect(d).toBe(fg);
        expect(diffFro(mm(gram, r, r, e, cols), unfolded)).toBeLessThan(1e-10 * fro(unfolded));
      }),
      fcOptions(30),
    );
  });

  it('directionsFromKernelGrad: ∇_C L = G ×_j U_jᵀ; per stored mode D_iE_i = Z_i·Π_i (Π_i the row-space projector of Mat_i(C)) and E_i has orthonormal rows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.boolean(), fc.boolean(), (seed, zeroCore, storeSpatial) => {
        const gen = new Generator(seed);
        const full = [5, 4, 3, 3];
        const ranks = [2, 3, storeSpatial ? 2 : 3, 3];
        const stored = [true, true, storeSpatial, false];
        const factors = full.map((n, i) => (stored[i] ? orthonormal(n, ranks[i], gen) : null));
        const core = zeroCore
          ? new Float64Array(ranks.reduce((a, b) => a * b, 1))
          : gaussian(
              ranks.reduce((a, b) => a * b, 1),
              gen,
            );
        const g = gaussian(
          full.reduce((a, b) => a * b, 1),
          gen,
        );
        const point = { shape: ranks, core, factors, drift: [0, 0, 0, 0], repaired: false };
        const { coreGrad, modes } = directionsFromKernelGrad(g, full, point);
        // ∇_C L = G ×_j U_jᵀ over the stored modes.
        const project = (skip: number) => {
          let x = g;
          let s = [...full];
          factors.forEach((u, j) => {
            if (!u || j === skip) return;
            const next = modeProductRaw(x, s, tr(u, full[j], ranks[j]), ranks[j], j);
            x = next.data;
            s = next.shape;
          });
          return { x, s };
        };
        expect(diffFro(coreGrad, project(-1).x)).toBeLessThan(1e-12 * fro(g));
        for (let i = 0; i < 4; i++) {
          const m = modes[i];
          if (!stored[i]) {
            expect(m).toBeNull();
            continue;
          }
          const { d, e } = m as { d: Float64Array; e: Float64Array };
          const { x, s } = project(i);
          const z = unfoldRaw(x, s, i);
          const cols = z.length / full[i];
          const w = d.length / full[i];
          expect(e.length).toBe(w * cols);
          expect(orthError(tr(e, w, cols), cols, w)).toBeLessThan(1e-12);
          // Π_i from the right singular vectors of Mat_i(C) for σ > 0 (all of them, C being generic;
          // none for a zero core, where Householder QR still gives w orthonormal rows).
          const mat = unfoldRaw(core, ranks, i);
          const svd = svdRaw(mat, ranks[i], cols, { method: 'jacobi' });
          if (zeroCore) {
            // Any w-dimensional row space: D_iE_i = Z_i·EᵀE.
            expect(diffFro(mm(d, full[i], w, e, cols), mm(z, full[i], cols, mm(tr(e, w, cols), cols, w, e, cols), cols))).toBeLessThan(
              1e-12 * Math.max(1, fro(z)),
            );
            continue;
          }
          const v = svd.v as Float64Array;
          const k = svd.vCols;
          const proj = mm(v, cols, k, tr(v, cols, k), cols);
          expect(diffFro(mm(d, full[i], w, e, cols), mm(z, full[i], cols, proj, cols))).toBeLessThan(1e-10 * fro(z));
        }
      }),
      fcOptions(20),
    );
  });

  it('newDirections: the thresholds are relative to ‖D‖ (D scaled by 1e-9 and 1e9), the QR route resolves 1e-9‖D‖, the Gram route (from n·r = 16384 exactly) does not', () => {
    for (const scale of [1e-9, 1, 1e9]) {
      const gen = new Generator(31);
      // Outside part 1e-9 of the inside part: one direction on the QR route (1e-12 resolution).
      const { u, d } = plantedDirections(7, 2, 3, 1, 1e-9 * scale, gen, scale);
      checkDirections(u, d, 7, 2, 3, 1, 1e-6);
      // The Gram route at n·cols = NEW_DIRECTION_GRAM_MIN: 1e-9 is below its 1e-7 resolution.
      const g = plantedDirections(512, 4, 32, 2, 1e-9 * scale, gen, scale);
      expect(512 * 32).toBe(NEW_DIRECTION_GRAM_MIN);
      expect(newDirections(g.u, g.d, 512, 4).count).toBe(0);
      // One step below the Gram size (QR route): found.
      const h = plantedDirections(511, 4, 32, 2, 1e-9 * scale, gen, scale);
      expect(newDirections(h.u, h.d, 511, 4).count).toBe(2);
    }
  });

  it('newDirections (QR route) reveals the rank with column pivoting: a first column inside span U does not hide the second', () => {
    const gen = new Generator(33);
    const n = 6;
    const u = orthonormal(n, 2, gen);
    const { d: out } = plantedDirections(n, 2, 1, 1, 1, gen);
    // Column 0 of D inside span U, column 1 with a part outside.
    const d = new Float64Array(n * 2);
    const inside = mm(u, n, 2, Float64Array.from([1, -2]), 1);
    const outsidePart = residual(u, n, 2, out, 1);
    for (let i = 0; i < n; i++) {
      d[i * 2] = inside[i];
      d[i * 2 + 1] = inside[i] + outsidePart[i];
    }
    checkDirections(u, d, n, 2, 2, 1, 1e-10);
  });

  it('newDirections (Gram route) with a large part inside span U and graded outside directions (1 … 1e-2): orthonormal, ⊥ U to 1e-12, all found', () => {
    const gen = new Generator(35);
    const { u, d } = plantedDirections(600, 20, 30, 6, 1, gen, 1e3, 1e-2);
    checkDirections(u, d, 600, 20, 30, 6, 1e-10, 1e-12);
  });
});

describe('pivotedCholesky (the Gram route of the new directions)', () => {
  /** G = RᵀR for R (n × w) of planted rank k: k random columns, the rest combinations of them. */
  function plantedGram(n: number, w: number, k: number, seed: number): Float64Array {
    const g = new Generator(seed);
    const base = Array.from({ length: k }, () => Float64Array.from({ length: n }, () => g.normal()));
    const cols = Array.from({ length: w }, (_, j) => {
      if (j % 2 === 0 && j / 2 < k) return base[j / 2];
      const c = new Float64Array(n);
      for (const b of base) {
        const f = g.normal();
        for (let i = 0; i < n; i++) c[i] += f * b[i];
      }
      return c;
    });
    const gram = new Float64Array(w * w);
    for (let a = 0; a < w; a++) for (let b = 0; b < w; b++) gram[a * w + b] = cols[a].reduce((s, v, i) => s + v * cols[b][i], 0);
    return gram;
  }

  it('factors G[π, π] = L·Lᵀ on distinct pivots, stops at the planted rank, and honours the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 10_000 }), (w, kk, seed) => {
        const k = Math.min(kk, w);
        const g = plantedGram(20, w, k, seed);
        let trace = 0;
        for (let j = 0; j < w; j++) trace += g[j * w + j];
        const out = pivotedCholesky(g, w, 1e-12 * trace, w);
        expect(out.k).toBe(k);
        expect(new Set(out.piv).size).toBe(k);
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++) {
            let s = 0;
            for (let t = 0; t < k; t++) s += out.l[a * k + t] * out.l[b * k + t];
            expect(Math.abs(s - g[out.piv[a] * w + out.piv[b]])).toBeLessThan(1e-10 * trace);
            if (b > a) expect(out.l[a * k + b]).toBe(0);
          }
        // The first pivot is the largest diagonal entry.
        for (let j = 0; j < w; j++) expect(g[j * w + j]).toBeLessThanOrEqual(g[out.piv[0] * w + out.piv[0]]);
        if (k > 1) expect(pivotedCholesky(g, w, 1e-12 * trace, k - 1).k).toBe(k - 1);
        expect(pivotedCholesky(g, w, 2 * trace, w).k).toBe(0);
      }),
      fcOptions(40),
    );
  });
});
