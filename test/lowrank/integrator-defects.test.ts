import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { type IntegratorOptions, RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import type { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { stepAndCheck } from './checks.js';
import { convProblem, linearProblem, type Problem } from './problems.js';

/**
 * Two defects of the two-pass step that the independent checks (checks.ts) expose:
 *   - a zero or singular core: the K-step must keep the gradient directions K_i1 = U_iS_i − λMat_i(G)V_i;
 *   - τ = 0 never prunes, on every SVD route (also the Gram route of large unfoldings).
 * The zero-core cases use square unfoldings of the core (Π_{j≠i} r_j = r_i), where V_i spans all of
 * ⊗_{j≠i} U_j whatever Q_i is, so the explicit K-step is defined without a choice of completion.
 */

function oneCheckedStep(p: Problem, layer: TuckerLayer, options: IntegratorOptions) {
  const integ = new RankAdaptiveIntegrator(p.model, options);
  const [report] = stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9);
  const lossOf = (w: Float64Array) => noGrad(() => p.lossOfWeights([new Tensor(w, [...layer.fullShape])])).item();
  return { report, loss: lossOf(Float64Array.from(layer.fullWeight().data)), explicitLoss: lossOf(report.yHalf) };
}

describe('integrator defects: the zero / singular core keeps the K-step directions; τ = 0 never prunes', () => {
  it('an exactly zero core: the step spans the explicit K-step directions and reaches its one-step loss (low-rank linear 8×6 and 1×1 Tucker conv, rank 3)', () => {
    for (const seed of [1, 2]) {
      const lin = linearProblem(8, 6, [3, 3], 12, new Generator(seed));
      lin.layer.core.data.fill(0);
      const a = oneCheckedStep(lin, lin.layer, { lr: 0.5 / lin.beta, tau: 0, minRank: 1 });
      expect(a.report.preconditions).toEqual([]);
      expect(a.report.violations).toEqual([]);
      expect(Math.abs(a.loss - a.explicitLoss)).toBeLessThanOrEqual(1e-9 * (1 + a.explicitLoss));

      const conv = convProblem([6, 5, 1, 1], [3, 3], new Generator(seed), 'channels');
      conv.layer.core.data.fill(0);
      const b = oneCheckedStep(conv, conv.layer, { lr: 0.01, tau: 0, minRank: 1 });
      expect(b.report.preconditions).toEqual([]);
      expect(b.report.violations).toEqual([]);
      expect(Math.abs(b.loss - b.explicitLoss)).toBeLessThanOrEqual(1e-9 * (1 + b.explicitLoss));
    }
  });

  it('a singular core (rank 1 of 3, square): the step keeps every K-step direction, not only those of the numerical rank', () => {
    for (const seed of [3, 4]) {
      const p = linearProblem(8, 6, [3, 3], 12, new Generator(seed));
      const c = p.layer.core.data;
      // Mat_0(C) = a·bᵀ: rank 1.
      const a = [1, -0.5, 2];
      const b = [0.3, 1, -1];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) c[i * 3 + j] = a[i] * b[j];
      const r = oneCheckedStep(p, p.layer, { lr: 0.5 / p.beta, tau: 0, minRank: 1 });
      expect(r.report.preconditions).toEqual([]);
      expect(r.report.violations).toEqual([]);
      expect(Math.abs(r.loss - r.explicitLoss)).toBeLessThanOrEqual(1e-9 * (1 + r.explicitLoss));
    }
  });

  it('τ = 0 on the Gram route: a 120×100 layer at rank 30, augmented to 60, keeps 60 for every λ', () => {
    for (const lrFactor of [1e-2, 1e-4, 1e-5]) {
      const p = linearProblem(120, 100, [30, 30], 150, new Generator(21));
      const options: IntegratorOptions = { lr: lrFactor / p.beta, tau: 0, minRank: 1 };
      const integ = new RankAdaptiveIntegrator(p.model, options);
      const [report] = stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9);
      expect(p.layer.ranks).toEqual([60, 60]);
      expect(report.violations).toEqual([]);
    }
  });
});
