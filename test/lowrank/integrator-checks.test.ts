import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IntegratorOptions, RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { mul, square, sub } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { RankAdaptiveIntegrator as Integrator } from '../../src/lowrank/integrator.js';
import { fcOptions } from '../helpers.js';
import { type LayerReport, snapshot, stepAndCheck, tangentProject } from './checks.js';
import { frobDiff, frobNorm, leastSquares, orthoError, tuckerConv } from './fixtures.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { differentiableModeProduct } from '../../src/lowrank/mode-product.js';
import { convProblem, linearProblem, type Problem, threeLayerProblem } from './problems.js';

/** Fewer fast-check runs under mutation testing (MUTATION_RUNS), the full count in CI. */
const runs = (n: number) => Number(process.env.MUTATION_RUNS ?? n);

function expectClean(reports: LayerReport[]): void {
  for (const r of reports) {
    expect(r.preconditions).toEqual([]);
    expect(r.violations).toEqual([]);
  }
}

const arbConv = fc.record({
  outC: fc.integer({ min: 3, max: 7 }),
  inC: fc.integer({ min: 3, max: 6 }),
  k: fc.constantFrom(1, 3),
  r1: fc.integer({ min: 1, max: 3 }),
  r2: fc.integer({ min: 1, max: 3 }),
  lrFactor: fc.double({ min: 0.1, max: 1, noNaN: true }),
  tau: fc.constantFrom(0, 0.05, 0.15, 0.3),
  momentum: fc.constantFrom(0, 0.9),
  weightDecay: fc.constantFrom(0, 0.01),
  minRank: fc.integer({ min: 1, max: 2 }),
  maxRank: fc.constantFrom(undefined, 2, 4),
  integrator: fc.constantFrom('parallel' as const, 'bug' as const),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('integrator steps against independent recomputations (checks.ts)', () => {
  it('one Tucker conv: K-step span, ϑ_i = τ‖Ĉ1‖, tail and minimality with named clamps, W1 = P_new(Y½), velocity', () => {
    const seen = { steps: 0, rankChanges: 0, momentumRankChanges: 0, unclamped: 0, clamps: new Set<string>() };
    fc.assert(
      fc.property(arbConv, (p) => {
        const r1 = Math.min(p.r1, p.outC);
        const r2 = Math.min(p.r2, p.inC);
        fc.pre(r1 <= r2 * p.k * p.k && r2 <= r1 * p.k * p.k);
        const gen = new Generator(p.seed);
        const pad = (p.k - 1) / 2;
        const ls = leastSquares(p.inC, p.k, gen, 2, 5, pad);
        const y = ls.targets(p.outC);
        const layer = tuckerConv([p.outC, p.inC, p.k, p.k], [r1, r2], gen, pad);
        const options: IntegratorOptions = {
          integrator: p.integrator,
          lr: p.lrFactor / ls.beta,
          tau: p.tau,
          minRank: p.minRank,
          maxRank: p.maxRank,
          momentum: p.momentum,
          weightDecay: p.weightDecay,
        };
        const integ = new RankAdaptiveIntegrator(layer, options);
        const lossOf = (ws: Tensor[]) => ls.lossOfWeight(ws[0], y);
        const closure = () => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5);
        for (let step = 0; step < 4; step++) {
          const reports = stepAndCheck(integ, options, lossOf, closure, 1e-9);
          expectClean(reports);
          seen.steps++;
          for (const r of reports) {
            if (r.rankChanged) seen.rankChanges++;
            if (r.rankChanged && p.momentum > 0) seen.momentumRankChanges++;
            if (!r.anyClamp) seen.unclamped++;
            for (const m of r.modes) if (m) seen.clamps.add(m.clamp);
          }
        }
      }),
      fcOptions(runs(20)),
    );
    console.log(seen);
  });

  /** Runs `steps` checked steps of a problem; returns how many changed a rank. */
  function runChecked(problem: Problem, options: IntegratorOptions, steps: number, tol: number): number {
    const integ = new Integrator(problem.model, options);
    let changes = 0;
    for (let s = 0; s < steps; s++) {
      const reports = stepAndCheck(integ, options, problem.lossOfWeights, problem.closure, tol);
      expectClean(reports);
      changes += reports.filter((r) => r.rankChanged).length;
    }
    return changes;
  }

  it('stored 5×5 spatial modes (adaptModes all): every mode adapts under the same checks', () => {
    let changes = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.constantFrom(0.05, 0.2), fc.constantFrom(0, 0.9), (seed, tau, momentum) => {
        const gen = new Generator(seed);
        const p = convProblem([6, 4, 5, 5], [3, 3, 3, 3], gen, 'all');
        changes += runChecked(p, { lr: 0.02, tau, minRank: 1, momentum }, 3, 1e-9);
      }),
      fcOptions(runs(6)),
    );
    expect(changes).toBeGreaterThan(0);
  });

  it('the small-matrix (d = 2) path: a low-rank linear layer below the Gram size', () => {
    let changes = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 9 }),
        fc.integer({ min: 3, max: 9 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(0, 0.05, 0.2),
        fc.constantFrom(0, 0.9),
        fc.integer({ min: 0, max: 1e6 }),
        (out, inp, r0, r1, tau, momentum, seed) => {
          const r = Math.min(r0, r1, out, inp);
          const gen = new Generator(seed);
          const p = linearProblem(out, inp, [r, r], 12, gen);
          changes += runChecked(p, { lr: 0.5 / p.beta, tau, minRank: 1, momentum }, 4, 1e-9);
        },
      ),
      fcOptions(runs(20)),
    );
    expect(changes).toBeGreaterThan(0);
  });

  it('several low-rank layers at once (two Tucker convs and a low-rank linear, tanh between)', () => {
    for (const integrator of ['parallel', 'bug'] as const) {
      for (const [seed, momentum] of [
        [1, 0],
        [2, 0.9],
      ]) {
        const gen = new Generator(seed);
        // Near full rank, so that τ = 0.3 prunes within the four steps on either step.
        const p = threeLayerProblem(gen, { conv1: [5, 3], conv2: [4, 5], fc: [6, 6] });
        const changes = runChecked(p, { integrator, lr: 0.01, tau: 0.3, minRank: 1, momentum }, 4, 1e-9);
        expect(changes).toBeGreaterThan(0);
      }
    }
  });

  it('the float32 path: the same guarantees up to float32 accuracy', () => {
    for (const seed of [3, 4]) {
      const conv = convProblem([6, 5, 3, 3], [3, 3], new Generator(seed), 'channels', 'float32');
      runChecked(conv, { lr: 0.02, tau: 0.1, minRank: 1, momentum: 0.9 }, 4, 2e-5);
      const lin = linearProblem(9, 7, [3, 3], 12, new Generator(seed), 'float32');
      runChecked(lin, { lr: 0.5 / lin.beta, tau: 0.1, minRank: 1, momentum: 0.9 }, 4, 2e-5);
    }
  });

  it('near convergence, where the gradient lies almost inside span U_i, the augmented bases stay orthonormal (to 1e-10)', () => {
    // ½‖W − A‖² with A = W0 − (B ×U) − δE: the K-step's new directions are δ-small against its
    // component inside span U, which a Gram–Schmidt augmentation would lose to cancellation.
    for (const seed of [5, 6]) {
      const gen = new Generator(seed);
      const layer = tuckerConv([6, 5, 3, 3], [3, 2], gen);
      const w0 = layer.fullWeight();
      const inside = noGrad(() => {
        const b = new Tensor(
          Float64Array.from({ length: layer.core.size }, () => gen.normal()),
          layer.core.shape,
        );
        let t: Tensor = b;
        layer.factors.forEach((f, i) => {
          if (f) t = differentiableModeProduct(t, f, i);
        });
        return t;
      });
      const target = new Tensor(
        w0.data.map((v, k) => v - inside.data[k] - 1e-9 * gen.normal()),
        w0.shape,
      );
      const options: IntegratorOptions = { lr: 0.5, tau: 0, minRank: 1 };
      const integ = new Integrator(layer, options);
      const reports = stepAndCheck(
        integ,
        options,
        (ws) => mul(sum(square(sub(ws[0], target))), 0.5),
        () => mul(sum(square(sub(layer.reconstruct(), target))), 0.5),
        1e-9,
      );
      expectClean(reports);
      for (const f of layer.factors) if (f) expect(orthoError(f)).toBeLessThan(1e-10);
    }
  });

  it("tangentProject (the parallel step's P_T) is an orthogonal projection, and UUᵀZ + ZVVᵀ − UUᵀZVVᵀ for a matrix", () => {
    const gen = new Generator(8);
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((t, v, k) => t + v * b[k], 0);
    for (const p of [
      linearProblem(7, 5, [2, 2], 6, gen),
      convProblem([6, 5, 3, 3], [3, 2], gen, 'channels'),
      convProblem([6, 4, 5, 5], [2, 3, 2, 3], gen, 'all'),
    ]) {
      const integ = new Integrator(p.model, { lr: 0.1 });
      const [name, layer] = integ.layers[0];
      const at = snapshot(integ, name, layer);
      const z = Float64Array.from({ length: at.weight.length }, () => gen.normal());
      const pz = tangentProject(at, z);
      const ppz = tangentProject(at, pz);
      expect(frobDiff(ppz, pz)).toBeLessThan(1e-12 * frobNorm(pz));
      expect(
        Math.abs(
          dot(
            pz,
            z.map((v, k) => v - pz[k]),
          ),
        ),
      ).toBeLessThan(1e-12 * frobNorm(z) ** 2);
      // W itself is tangent (Y = C ×U lies in its own tangent space).
      expect(frobDiff(tangentProject(at, at.weight), at.weight)).toBeLessThan(1e-12 * frobNorm(at.weight));
      if (at.fullShape.length === 2) {
        const [m, n] = at.fullShape;
        const [u, v] = at.factors as Float64Array[];
        const [ru, rv] = at.ranks;
        const pu = (x: Float64Array) =>
          Float64Array.from({ length: m * n }, (_, k) => {
            const i = Math.floor(k / n);
            const j = k % n;
            let t = 0;
            for (let a = 0; a < m; a++) for (let c = 0; c < ru; c++) t += u[i * ru + c] * u[a * ru + c] * x[a * n + j];
            return t;
          });
        const pv = (x: Float64Array) =>
          Float64Array.from({ length: m * n }, (_, k) => {
            const i = Math.floor(k / n);
            const j = k % n;
            let t = 0;
            for (let b = 0; b < n; b++) for (let c = 0; c < rv; c++) t += x[i * n + b] * v[b * rv + c] * v[j * rv + c];
            return t;
          });
        const want = pu(z).map((x, k) => x + pv(z)[k] - pv(pu(z))[k]);
        expect(frobDiff(pz, want)).toBeLessThan(1e-12 * frobNorm(z));
      }
    }
  });
});
