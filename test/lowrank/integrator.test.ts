import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { matmul as mm, matmulTA } from '../../src/linalg/matrix.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import type { TuckerConv2d } from '../../src/lowrank/tucker-conv2d.js';
import { mul, square, sub } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { modeProductRaw } from '../../src/tucker/product.js';
import { reconstruct } from '../../src/tucker/product.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';
import { fcOptions } from '../helpers.js';
import { frobDiff, frobNorm, leastSquares, orthoError, tuckerConv } from './fixtures.js';

/** ∇L(W) and L(W) of a loss given on the full weight. */
function gradAt(lossOfWeight: (w: Tensor) => Tensor, w: Tensor): { loss: number; grad: Float64Array } {
  const leaf = new Tensor(Float64Array.from(w.data), w.shape, true);
  const l = lossOfWeight(leaf);
  l.backward();
  return { loss: l.item(), grad: Float64Array.from(leaf.grad?.data ?? []) };
}

/**
 * ‖P_T Z‖ at Y = C ×U on the Tucker manifold (stored modes only):
 * ‖Z ×Uᵀ‖² + Σ_i ‖(I − U_iU_iᵀ)·Mat_i(Z ×_{j≠i} U_jᵀ)·Q_i‖², Q_i the row space of Mat_i(C).
 */
function tangentNorm(layer: TuckerConv2d, z: Float64Array): number {
  const shape = [...layer.fullShape];
  const factors = layer.factors.map((f) => (f ? Float64Array.from(f.data) : null));
  const core = Float64Array.from(layer.core.data);
  const ranks = layer.ranks;
  const project = (skip: number) => {
    let data: Float64Array = z;
    let s = shape.slice();
    factors.forEach((u, j) => {
      if (!u || j === skip) return;
      const ut = new Float64Array(ranks[j] * shape[j]);
      for (let a = 0; a < shape[j]; a++) for (let b = 0; b < ranks[j]; b++) ut[b * shape[j] + a] = u[a * ranks[j] + b];
      const r = modeProductRaw(data, s, ut, ranks[j], j);
      data = r.data;
      s = r.shape;
    });
    return { data, shape: s };
  };
  let total = frobNorm(project(-1).data) ** 2;
  factors.forEach((u, i) => {
    if (!u) return;
    const { data, shape: s } = project(i);
    const rest = data.length / shape[i];
    const y = unfoldRaw(data, s, i);
    const { v } = svdRaw(unfoldRaw(core, ranks, i), ranks[i], rest, { wantU: false, wantV: true });
    const yq = mm(y, shape[i], rest, v as Float64Array, ranks[i]);
    const coef = matmulTA(u, shape[i], ranks[i], yq, ranks[i]);
    const inSpan = mm(u, shape[i], ranks[i], coef, ranks[i]);
    total += frobDiff(yq, inSpan) ** 2;
  });
  return Math.sqrt(total);
}

const arbProblem = fc.record({
  outC: fc.integer({ min: 3, max: 6 }),
  inC: fc.integer({ min: 3, max: 5 }),
  k: fc.constantFrom(1, 3),
  r1: fc.integer({ min: 1, max: 3 }),
  r2: fc.integer({ min: 1, max: 3 }),
  lrFactor: fc.double({ min: 0.05, max: 1, noNaN: true }),
  tau: fc.constantFrom(0, 0.05, 0.2),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('RankAdaptiveIntegrator: guarantees of docs/integrator.md (float64, least squares through a Tucker conv)', () => {
  it('(a) loss descent: L(Y1) ≤ L(Y0) − λ(1 − βλ/2)‖G‖² + ‖∇L(Ĉ1×Û)‖ε + βε²/2 for λ ≤ 1/β, and ‖G‖ ≥ ‖P_T ∇L(Y0)‖', () => {
    fc.assert(
      fc.property(arbProblem, (p) => {
        const r1 = Math.min(p.r1, p.outC);
        const r2 = Math.min(p.r2, p.inC);
        // Every S_i invertible (the premise of the claim): a feasible Tucker rank.
        fc.pre(r1 <= r2 * p.k * p.k && r2 <= r1 * p.k * p.k);
        const gen = new Generator(p.seed);
        const ls = leastSquares(p.inC, p.k, gen, 2, 5, (p.k - 1) / 2);
        const y = ls.targets(p.outC);
        const layer = tuckerConv([p.outC, p.inC, p.k, p.k], [Math.min(p.r1, p.outC), Math.min(p.r2, p.inC)], gen, (p.k - 1) / 2);
        const lr = p.lrFactor / ls.beta;
        const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr, tau: p.tau, minRank: 1 });
        const lossOf = (w: Tensor) => ls.lossOfWeight(w, y);
        for (let step = 0; step < 3; step++) {
          const w0 = layer.fullWeight();
          const at0 = gradAt(lossOf, w0);
          const pt = tangentNorm(layer, at0.grad);
          const before = integ.step(() => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5));
          expect(Math.abs(before - at0.loss)).toBeLessThan(1e-9 * (1 + at0.loss));
          const info = integ.lastInfo[0];
          const whalf = reconstruct(
            new Tensor(info.updatedCore, info.augmentedRanks),
            info.augmentedBases.map((b, i) => (b ? new Tensor(b, [layer.fullShape[i], info.augmentedRanks[i]]) : null)),
          );
          const w1 = layer.fullWeight();
          const eps = frobDiff(whalf.data, w1.data);
          expect(Math.abs(eps - info.truncationError)).toBeLessThan(1e-9 * (1 + eps));
          const gHalf = frobNorm(gradAt(lossOf, whalf).grad);
          const l1 = noGrad(() => lossOf(w1)).item();
          const g = info.galerkinGradNorm;
          const bound = at0.loss - lr * (1 - (ls.beta * lr) / 2) * g * g + gHalf * eps + (ls.beta * eps * eps) / 2;
          expect(l1).toBeLessThanOrEqual(bound + 1e-9 * (1 + at0.loss));
          expect(g).toBeGreaterThanOrEqual(pt - 1e-9 * (1 + pt));
        }
      }),
      fcOptions(15),
    );
  });

  it('(b) at full ranks with tau = 0 one step is exactly gradient descent on the full kernel (plain SGD and heavy-ball momentum)', () => {
    fc.assert(
      fc.property(arbProblem, fc.constantFrom(0, 0.9), (p, momentum) => {
        // Momentum is exact only where every adapted mode reaches r_i = n_i (not a rectangular matrix).
        if (momentum > 0) fc.pre(p.k === 3 || p.outC === p.inC);
        const gen = new Generator(p.seed);
        const pad = (p.k - 1) / 2;
        const ls = leastSquares(p.inC, p.k, gen, 2, 5, pad);
        const y = ls.targets(p.outC);
        const layer = tuckerConv([p.outC, p.inC, p.k, p.k], [p.outC, p.inC], gen, pad);
        const lr = p.lrFactor / ls.beta;
        const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr, tau: 0, minRank: 1, momentum });
        let w = Float64Array.from(layer.fullWeight().data);
        const v = new Float64Array(w.length);
        for (let step = 0; step < 3; step++) {
          const g = gradAt((t) => ls.lossOfWeight(t, y), new Tensor(w, layer.fullShape)).grad;
          for (let i = 0; i < w.length; i++) {
            v[i] = momentum * v[i] + g[i];
            w[i] -= lr * v[i];
          }
          integ.step(() => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5));
          expect(frobDiff(layer.fullWeight().data, w)).toBeLessThan(1e-12 * Math.max(1, frobNorm(w)));
          // Full rank of each unfolding (a 1×1 kernel is a matrix: one rank).
          expect(layer.ranks.slice(0, 2)).toEqual([Math.min(p.outC, p.inC * p.k * p.k), Math.min(p.inC, p.outC * p.k * p.k)]);
          w = Float64Array.from(w);
        }
      }),
      fcOptions(15),
    );
  });

  it('(c) the augmentation is exact (Ĉ0 ×Û = W) and factors stay orthonormal to 1e-10 over many steps', () => {
    const gen = new Generator(11);
    const ls = leastSquares(5, 3, gen);
    const y = ls.targets(6);
    const layer = tuckerConv([6, 5, 3, 3], [3, 2], gen);
    const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.5 / ls.beta, tau: 0.1, minRank: 1, momentum: 0.5 });
    for (let step = 0; step < 80; step++) {
      const w0 = layer.fullWeight();
      integ.step(() => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5));
      const info = integ.lastInfo[0];
      const lifted = reconstruct(
        new Tensor(info.liftedCore, info.augmentedRanks),
        info.augmentedBases.map((b, i) => (b ? new Tensor(b, [layer.fullShape[i], info.augmentedRanks[i]]) : null)),
      );
      expect(frobDiff(lifted.data, w0.data)).toBeLessThan(1e-12 * Math.max(1, frobNorm(w0.data)));
    }
    for (const f of layer.factors) if (f) expect(orthoError(f)).toBeLessThan(1e-10);
  });

  it('(d) the truncation error obeys the HOSVD bound, below (Σϑ_i²)^½ where no clamp binds; ranks stay in [minRank, maxRank]', () => {
    fc.assert(
      fc.property(arbProblem, fc.integer({ min: 1, max: 2 }), fc.integer({ min: 2, max: 4 }), (p, minRank, maxRank) => {
        const gen = new Generator(p.seed);
        const pad = (p.k - 1) / 2;
        const ls = leastSquares(p.inC, p.k, gen, 2, 5, pad);
        const y = ls.targets(p.outC);
        const layer = tuckerConv([p.outC, p.inC, p.k, p.k], [Math.min(p.r1, p.outC), Math.min(p.r2, p.inC)], gen, pad);
        const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: p.lrFactor / ls.beta, tau: p.tau + 0.05, minRank, maxRank });
        for (let step = 0; step < 4; step++) {
          integ.step(() => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5));
          const info = integ.lastInfo[0];
          expect(info.truncationError).toBeLessThanOrEqual(info.tailBound + 1e-12);
          const total = info.ranks.reduce((a, b) => a * b, 1);
          let clamped = false;
          for (const i of [0, 1]) {
            const r = info.ranks[i];
            expect(r).toBeLessThanOrEqual(Math.min(maxRank, layer.fullShape[i]));
            expect(r).toBeGreaterThanOrEqual(Math.min(minRank, info.augmentedRanks[i]));
            if (r <= minRank || r >= Math.min(maxRank, info.augmentedRanks[i]) || r >= total / r) clamped = true;
          }
          if (!clamped) expect(info.tailBound).toBeLessThanOrEqual(Math.hypot(...info.thresholds) + 1e-12);
        }
      }),
      fcOptions(20),
    );
  });

  describe('(e) rank recovery on ½‖W − A‖² with A of Tucker rank (2,2,3,3), started at (6,6,3,3)', () => {
    const shape: [number, number, number, number] = [8, 8, 3, 3];
    const setup = (seed: number) => {
      const gen = new Generator(seed);
      const planted = tuckerConv(shape, [2, 2], gen);
      const a = planted.fullWeight();
      const norm = frobNorm(a.data);
      let tauStar = Infinity;
      for (const i of [0, 1]) {
        const s = svdRaw(unfoldRaw(a.data, shape, i), shape[i], a.size / shape[i], { wantU: false, wantV: false }).s;
        tauStar = Math.min(tauStar, s[1] / norm);
      }
      const layer = tuckerConv(shape, [6, 6], gen);
      const loss = () => mul(sum(square(sub(layer.reconstruct(), a))), 0.5);
      return { a, tauStar, layer, loss };
    };
    it('0 < τ < τ*: the ranks fall to (2, 2) and the iterates converge to A', () => {
      for (const seed of [1, 2, 3]) {
        const { a, tauStar, layer, loss } = setup(seed);
        const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.7, tau: tauStar / 2, minRank: 1 });
        for (let s = 0; s < 60; s++) integ.step(loss);
        expect(layer.ranks).toEqual([2, 2, 3, 3]);
        expect(frobDiff(layer.fullWeight().data, a.data)).toBeLessThan(1e-6 * frobNorm(a.data));
      }
    });
    it('τ = 0 never prunes, and τ > τ* under-estimates the rank', () => {
      const { layer, loss, tauStar } = setup(4);
      const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.7, tau: 0, minRank: 1 });
      for (let s = 0; s < 20; s++) {
        integ.step(loss);
        expect(Math.min(layer.ranks[0], layer.ranks[1])).toBeGreaterThanOrEqual(6);
      }
      const over = setup(4);
      const integ2 = new RankAdaptiveIntegrator(over.layer, { integrator: 'bug', lr: 0.7, tau: tauStar * 1.5, minRank: 1 });
      for (let s = 0; s < 60; s++) integ2.step(over.loss);
      expect(Math.min(over.layer.ranks[0], over.layer.ranks[1])).toBeLessThan(2);
    });
  });

  it('(f) the distance to the gradient flow shrinks as λ falls (with ϑ ∝ λ²), and to GD as ϑ/λ falls', () => {
    const run = (lr: number, theta: number, steps: number, seed: number): Float64Array => {
      const gen = new Generator(seed);
      const ls = leastSquares(4, 3, gen);
      const y = ls.targets(5);
      const layer = tuckerConv([5, 4, 3, 3], [2, 2], gen);
      const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: lr / ls.beta, theta, minRank: 1 });
      for (let s = 0; s < steps; s++) integ.step(() => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5));
      return Float64Array.from(layer.fullWeight().data);
    };
    // Reference flow: the same start, tau = 0 (exact GD in the augmented space reaches full rank), tiny steps.
    const horizon = 2;
    const flow = run(horizon / 400, 0, 400, 5);
    const errs = [0.5, 0.25, 0.125].map((lr) => frobDiff(run(lr, 0.5 * lr * lr, Math.round(horizon / lr), 5), flow));
    expect(errs[1]).toBeLessThan(errs[0]);
    expect(errs[2]).toBeLessThan(errs[1]);
    const gd = run(0.25, 0, 8, 5);
    const errsTheta = [0.2, 0.05, 0.0125].map((theta) => frobDiff(run(0.25, theta, 8, 5), gd));
    expect(errsTheta[1]).toBeLessThanOrEqual(errsTheta[0]);
    expect(errsTheta[2]).toBeLessThanOrEqual(errsTheta[1]);
    expect(errsTheta[2]).toBeLessThan(errsTheta[0]);
  });

  it('a larger tau gives smaller final ranks (monotone on a fixed seed)', () => {
    const finalRanks = [0.02, 0.1, 0.3].map((tau) => {
      const gen = new Generator(21);
      const ls = leastSquares(5, 3, gen);
      const y = ls.targets(6);
      const layer = tuckerConv([6, 5, 3, 3], [4, 4], gen);
      const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.5 / ls.beta, tau, minRank: 1 });
      for (let s = 0; s < 30; s++) integ.step(() => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5));
      return layer.ranks[0] * layer.ranks[1];
    });
    expect(finalRanks[1]).toBeLessThanOrEqual(finalRanks[0]);
    expect(finalRanks[2]).toBeLessThanOrEqual(finalRanks[1]);
    expect(finalRanks[2]).toBeLessThan(finalRanks[0]);
  });

  it('a numerically singular core (S_i not invertible) takes its K-step directions from the full-kernel gradient, and training goes on', () => {
    const gen = new Generator(31);
    const ls = leastSquares(4, 3, gen);
    const y = ls.targets(5);
    const layer = tuckerConv([5, 4, 3, 3], [3, 3], gen);
    // Make Mat_0(C) rank 1: every mode-0 slice a multiple of the first.
    const c = layer.core.data;
    const slice = c.length / 3;
    for (let a = 1; a < 3; a++) for (let k = 0; k < slice; k++) c[a * slice + k] = (a + 1) * c[k];
    const loss = () => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5);
    const l0 = noGrad(loss).item();
    const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.5 / ls.beta, tau: 0, minRank: 1 });
    const first = integ.step(loss);
    expect(Math.abs(first - l0)).toBeLessThan(1e-10 * (1 + l0));
    // Mode 0 (rank 3 of 5) keeps the K-step's 2 new directions although Mat_0(C) has rank 1.
    expect(integ.lastInfo[0].augmentedRanks[0]).toBe(5);
    expect(integ.probeCounts.get('')).toBe(1);
    // A zero core: W = 0, still no NaN and the loss falls.
    layer.core.data.fill(0);
    const start = noGrad(loss).item();
    for (let s = 0; s < 5; s++) integ.step(loss);
    const end = noGrad(loss).item();
    expect(Number.isFinite(end)).toBe(true);
    expect(end).toBeLessThan(start);
  });

  it('rejects bad options and models without low-rank layers', () => {
    const layer = tuckerConv([4, 4, 3, 3], [2, 2], new Generator(1));
    expect(() => new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0 })).toThrow(/lr must be > 0, got 0/);
    expect(() => new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.1, tau: -1 })).toThrow(/tau must be ≥ 0/);
    const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.1 });
    expect(() => integ.step(() => layer.reconstruct())).toThrow(/closure must return a scalar loss Tensor/);
  });
});
