import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { GRAM_SVD_MIN_SIDE } from '../../src/linalg/svd-gram.js';
import { type IntegratorOptions, RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { LowRankLinear } from '../../src/lowrank/low-rank-linear.js';
import { randomCore, randomOrthonormal } from '../../src/lowrank/init.js';
import { mul, square, sub } from '../../src/ops/elementwise.js';
import { matmul } from '../../src/ops/matmul.js';
import { sum } from '../../src/ops/reduce.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { reconstruct } from '../../src/tucker/product.js';
import { stepAndCheck } from './checks.js';
import { frobDiff, frobNorm, orthoError } from './fixtures.js';
import { linearProblem } from './problems.js';

/**
 * The integrator's large-rank route: once an unfolding of Ĉ1 has both sides ≥ GRAM_SVD_MIN_SIDE,
 * the truncation's SVD goes through the Gram matrix (linalg/svd-gram.ts). The guarantees of
 * docs/integrator.md must hold there too, to the Gram route's accuracy. A least-squares problem through a
 * 120×100 low-rank linear layer with a planted rank-8 solution, started at rank 30×30 (augmented 60).
 */
describe('RankAdaptiveIntegrator on the Gram-SVD route (augmented ranks ≥ GRAM_SVD_MIN_SIDE)', () => {
  it('obeys the HOSVD truncation bound and the loss-descent bound, keeps the factors orthonormal and prunes towards the planted rank', () => {
    const gen = new Generator(21);
    const [out, inp, batch, r0] = [120, 100, 150, 30];
    const x = new Tensor(
      Float64Array.from({ length: batch * inp }, () => gen.normal()),
      [batch, inp],
    );
    const planted = new Float64Array(out * inp);
    for (let p = 0; p < 8; p++) {
      const a = Array.from({ length: out }, () => gen.normal());
      const b = Array.from({ length: inp }, () => gen.normal() / Math.sqrt(inp));
      for (let i = 0; i < out; i++) for (let j = 0; j < inp; j++) planted[i * inp + j] += a[i] * b[j];
    }
    const y = noGrad(() => matmul(x, new Tensor(planted, [out, inp]).T));
    for (let i = 0; i < y.size; i++) y.data[i] += 0.01 * gen.normal();
    const beta = svdRaw(Float64Array.from(x.data), batch, inp, { wantU: false, wantV: false }).s[0] ** 2;
    const lossOf = (w: Tensor) => mul(sum(square(sub(matmul(x, w.T), y))), 0.5);
    const core = randomCore([r0, r0], [out, inp], inp, 'float64', gen);
    const layer = new LowRankLinear([out, inp], core, [randomOrthonormal(out, r0, 'float64', gen), randomOrthonormal(inp, r0, 'float64', gen)], null);
    const lr = 0.5 / beta;
    const integ = new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr, tau: 0.02 });
    let first = Infinity;
    let last = Infinity;
    let gramSteps = 0;
    for (let step = 0; step < 25; step++) {
      const w0 = layer.fullWeight();
      const l0 = noGrad(() => lossOf(w0)).item();
      if (step === 0) first = l0;
      integ.step(() => mul(sum(square(sub(layer.forward(x), y))), 0.5));
      const info = integ.lastInfo[0];
      if (Math.min(...info.augmentedRanks) >= GRAM_SVD_MIN_SIDE) gramSteps++;
      const c1Norm = frobNorm(info.updatedCore);
      expect(info.truncationError).toBeLessThanOrEqual(info.tailBound + 1e-9 * c1Norm);
      const whalf = reconstruct(
        new Tensor(info.updatedCore, info.augmentedRanks),
        info.augmentedBases.map((b, i) => (b ? new Tensor(b, [layer.fullShape[i], info.augmentedRanks[i]]) : null)),
      );
      const w1 = layer.fullWeight();
      const eps = frobDiff(whalf.data, w1.data);
      const leaf = new Tensor(Float64Array.from(whalf.data), whalf.shape, true);
      lossOf(leaf).backward();
      const gHalf = frobNorm(leaf.grad?.data ?? []);
      const g = info.galerkinGradNorm;
      last = noGrad(() => lossOf(w1)).item();
      const bound = l0 - lr * (1 - (beta * lr) / 2) * g * g + gHalf * eps + (beta * eps * eps) / 2;
      expect(last).toBeLessThanOrEqual(bound + 1e-9 * (1 + l0));
    }
    expect(gramSteps).toBeGreaterThan(0);
    for (const f of layer.factors) if (f) expect(orthoError(f)).toBeLessThan(1e-10);
    expect(last).toBeLessThan(0.05 * first);
    expect(Math.max(...layer.ranks)).toBeLessThan(r0);
    expect(Math.min(...layer.ranks)).toBeGreaterThanOrEqual(8);
  });
});

describe('RankAdaptiveIntegrator on the Gram-SVD route, against independent recomputations (checks.ts, fixed accuracy 1e-9)', () => {
  it('ranks minimal for ϑ = τ‖Ĉ1‖ by the Jacobi spectra, W1 = P_new(Y½), at τ = 1e-4 after a small step (new σ near 1e-5·‖Ĉ1‖) and at τ = 0.02', () => {
    for (const [tau, lrFactor, steps] of [
      [1e-4, 0.01, 2],
      [0.02, 0.5, 3],
    ]) {
      const p = linearProblem(120, 100, [30, 30], 150, new Generator(21));
      const options: IntegratorOptions = { lr: lrFactor / p.beta, tau, minRank: 1, momentum: 0.5 };
      const integ = new RankAdaptiveIntegrator(p.model, options);
      for (let s = 0; s < steps; s++) {
        const [report] = stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9);
        expect(report.preconditions).toEqual([]);
        expect(report.violations).toEqual([]);
        expect(Math.min(...integ.lastInfo[0].augmentedRanks)).toBeGreaterThanOrEqual(GRAM_SVD_MIN_SIDE);
      }
    }
  });
});
