/**
 * Theory of the single-pass ('parallel') integrator step (docs/integrator.md), checked in float64
 * against quantities recomputed here on full tensors: the tangent projection P_T of tangent.ts,
 * gradients of the loss as a function of the full weight, and spans by Jacobi SVD.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { directionsFromFactorGrad, directionsFromKernelGrad } from '../../src/lowrank/kstep.js';
import { cholesky, readPoint, unfoldingGram } from '../../src/lowrank/layer-point.js';
import { matmul } from '../../src/linalg/matrix.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { modeProductRaw } from '../../src/tucker/product.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';
import { fcOptions } from '../helpers.js';
import { frobDiff, frobNorm, orthoError } from './fixtures.js';
import { gradAt, lossAt, makeProblem, type LayerKind } from './parallel-problems.js';
import { coordinates, outsideSpan, partialProjection, pointOf, rangeBasis, tangentProject } from './tangent.js';

const arbCase = fc.record({
  kind: fc.constantFrom<LayerKind>('tucker2', 'tucker4', 'matrix'),
  out: fc.integer({ min: 4, max: 7 }),
  inC: fc.integer({ min: 3, max: 6 }),
  r1: fc.integer({ min: 1, max: 3 }),
  r2: fc.integer({ min: 1, max: 3 }),
  lrFactor: fc.double({ min: 0.05, max: 1, noNaN: true }),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

/** Ranks below the mode sizes and feasible (each r_i ≤ Π_{j≠i} r_j), so every Mat_i(C) has full row rank. */
function ranksOf(c: { kind: LayerKind; out: number; inC: number; r1: number; r2: number }): [number, number] {
  let r1 = Math.min(c.r1, c.out - 1);
  let r2 = Math.min(c.r2, c.inC - 1);
  if (c.kind === 'matrix') r1 = r2 = Math.min(r1, r2);
  return [r1, r2];
}

describe("RankAdaptiveIntegrator, integrator: 'parallel' (float64)", () => {
  it('before truncation the step is Y0 − λ·P_T∇L(Y0), with P_T computed on the full tensor (Tucker-2, stored spatial modes, matrix)', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const p = makeProblem(c.kind, c.out, c.inC, ranksOf(c), c.seed);
        const lr = c.lrFactor / p.beta;
        const point = pointOf(p.layer);
        const w0 = Float64Array.from(p.layer.fullWeight().data);
        const g = gradAt(p, w0).grad;
        const expected = tangentProject(point, g).map((v, k) => w0[k] - lr * v);
        // τ = 0 and no cap: the truncation drops nothing but rounding noise, so W1 is Ŷ1.
        const integ = new RankAdaptiveIntegrator(p.layer, { integrator: 'parallel', lr, tau: 0, minRank: 1 });
        integ.step(p.loss);
        expect(frobDiff(p.layer.fullWeight().data, expected)).toBeLessThan(1e-11 * Math.max(1, frobNorm(w0)));
        for (const f of p.layer.factors) if (f) expect(orthoError(f)).toBeLessThan(1e-12);
      }),
      fcOptions(30),
    );
  });

  it('at full ranks with τ = 0 a step is exactly gradient descent on W, with and without heavy-ball momentum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 4 }),
        fc.constantFrom(0, 0.9),
        fc.integer({ min: 0, max: 1e6 }),
        (out, inC, momentum, seed) => {
          const p = makeProblem('tucker2', out, inC, [out, inC], seed);
          const lr = 0.5 / p.beta;
          const integ = new RankAdaptiveIntegrator(p.layer, { integrator: 'parallel', lr, tau: 0, minRank: 1, momentum });
          const w = Float64Array.from(p.layer.fullWeight().data);
          const v = new Float64Array(w.length);
          for (let step = 0; step < 3; step++) {
            const g = gradAt(p, w).grad;
            for (let i = 0; i < w.length; i++) {
              v[i] = momentum * v[i] + g[i];
              w[i] -= lr * v[i];
            }
            integ.step(p.loss);
            expect(frobDiff(p.layer.fullWeight().data, w)).toBeLessThan(1e-12 * Math.max(1, frobNorm(w)));
          }
        },
      ),
      fcOptions(12),
    );
  });

  it('loss descent at every step for λ ≤ 1/β: L(Y1) ≤ L(Y0) − λ(1 − βλ/2)‖P_T G‖² + ‖∇L(Ŷ1)‖ε + βε²/2, ε = ‖Y1 − Ŷ1‖', () => {
    fc.assert(
      fc.property(arbCase, fc.constantFrom(0.02, 0.1, 0.3), (c, tau) => {
        const p = makeProblem(c.kind, c.out, c.inC, ranksOf(c), c.seed);
        const lr = c.lrFactor / p.beta;
        const integ = new RankAdaptiveIntegrator(p.layer, { integrator: 'parallel', lr, tau, minRank: 1 });
        for (let step = 0; step < 6; step++) {
          const point = pointOf(p.layer);
          const w0 = Float64Array.from(p.layer.fullWeight().data);
          const { loss: l0, grad } = gradAt(p, w0);
          const ptg = tangentProject(point, grad);
          const yHat = ptg.map((v, k) => w0[k] - lr * v);
          integ.step(p.loss);
          const w1 = p.layer.fullWeight().data;
          const eps = frobDiff(w1, yHat);
          const gHat = frobNorm(gradAt(p, yHat).grad);
          const n2 = frobNorm(ptg) ** 2;
          const bound = l0 - lr * (1 - (p.beta * lr) / 2) * n2 + gHat * eps + (p.beta * eps * eps) / 2;
          expect(lossAt(p, w1)).toBeLessThanOrEqual(bound + 1e-10 * (1 + l0));
        }
      }),
      fcOptions(15),
    );
  });

  it('against the two-pass step from the same point: the cores differ by −λ·(G − P_T G) in the augmented basis; the old block agrees; for matrices only the new/new block differs', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const ranks = ranksOf(c);
        const a = makeProblem(c.kind, c.out, c.inC, ranks, c.seed);
        const b = makeProblem(c.kind, c.out, c.inC, ranks, c.seed);
        const lr = c.lrFactor / a.beta;
        const point = pointOf(a.layer);
        const g = gradAt(a, a.layer.fullWeight().data).grad;
        const par = new RankAdaptiveIntegrator(a.layer, { integrator: 'parallel', lr, tau: 0, minRank: 1 });
        const bug = new RankAdaptiveIntegrator(b.layer, { integrator: 'bug', lr, tau: 0, minRank: 1 });
        par.step(a.loss);
        bug.step(b.loss);
        const ip = par.lastInfo[0];
        const ib = bug.lastInfo[0];
        expect(ip.augmentedRanks).toEqual(ib.augmentedRanks);
        ip.augmentedBases.forEach((u, i) => {
          if (u) expect(frobDiff(u, ib.augmentedBases[i] as Float64Array)).toBeLessThan(1e-13 * u.length);
        });
        const aug = ip.augmentedRanks;
        const full = [...a.layer.fullShape];
        // Expected difference, recomputed: (BUG − parallel) = −λ·(G − P_T G) ×_j Û_jᵀ.
        const resid = g.map((v, k) => v - tangentProject(point, g)[k]);
        const expected = coordinates(resid, full, ip.augmentedBases, aug).map((v) => -lr * v);
        const diff = ib.updatedCore.map((v, k) => v - ip.updatedCore[k]);
        const scale = Math.max(1, frobNorm(ip.updatedCore));
        expect(frobDiff(diff, expected)).toBeLessThan(1e-11 * scale);
        // Where the difference may live: blocks with an index past the old rank r_i in some mode.
        const strides = aug.map((_, i) => aug.slice(i + 1).reduce((x, y) => x * y, 1));
        let oldBlock = 0;
        let oneNewMatrix = 0;
        for (let k = 0; k < diff.length; k++) {
          const newModes = aug.filter((_, i) => Math.floor(k / strides[i]) % aug[i] >= point.ranks[i]).length;
          if (newModes === 0) oldBlock = Math.max(oldBlock, Math.abs(diff[k]));
          if (c.kind === 'matrix' && newModes === 1) oneNewMatrix = Math.max(oneNewMatrix, Math.abs(diff[k]));
        }
        expect(oldBlock).toBeLessThan(1e-12 * scale);
        expect(oneNewMatrix).toBeLessThan(1e-12 * scale);
      }),
      fcOptions(30),
    );
  });

  it('truncation, recomputed: ϑ = τ‖Ŷ1‖ (= τ‖Ĉ1‖), each kept rank is the least whose Jacobi tail of Mat_i(Ĉ1) is ≤ ϑ unless minRank binds, and W1 is the HOSVD projection', () => {
    let pruned = 0;
    fc.assert(
      fc.property(arbCase, fc.constantFrom(0.05, 0.2, 0.4), (c, tau) => {
        const m = Math.min(c.out, c.inC) - 1;
        const start: [number, number] = c.kind === 'matrix' ? [m, m] : [c.out - 1, c.inC - 1];
        const p = makeProblem(c.kind, c.out, c.inC, start, c.seed);
        const lr = c.lrFactor / p.beta;
        const integ = new RankAdaptiveIntegrator(p.layer, { integrator: 'parallel', lr, tau, minRank: 1 });
        for (let step = 0; step < 4; step++) {
          const point = pointOf(p.layer);
          const w0 = Float64Array.from(p.layer.fullWeight().data);
          const yHat = tangentProject(point, gradAt(p, w0).grad).map((v, k) => w0[k] - lr * v);
          integ.step(p.loss);
          const info = integ.lastInfo[0];
          const aug = info.augmentedRanks;
          const c1 = coordinates(yHat, point.fullShape, info.augmentedBases, aug);
          const theta = tau * frobNorm(yHat);
          const after = p.layer.ranks;
          for (const i of p.layer.adaptModes) {
            const s = svdRaw(unfoldRaw(c1, aug, i), aug[i], c1.length / aug[i], { wantU: false, wantV: false }).s;
            const tail = (r: number) => Math.sqrt(s.slice(r).reduce((a, v) => a + v * v, 0));
            const r = after[i];
            if (r < aug[i]) pruned++;
            // The feasibility clamp r_i ≤ Π_{j≠i} r_j may bind on a Tucker core (named here); on a
            // matrix both unfoldings share their spectrum, so both modes follow the rule exactly.
            const clampBinds = c.kind !== 'matrix' && r === after.reduce((a, v) => a * v, 1) / r;
            if (clampBinds) continue;
            expect(tail(r)).toBeLessThanOrEqual(theta * (1 + 1e-9) + 1e-12);
            if (r > 1) expect(tail(r - 1)).toBeGreaterThan(theta * (1 - 1e-9));
          }
          // W1 is Ŷ1 projected onto the kept bases (the HOSVD truncation).
          const w1 = p.layer.fullWeight().data;
          const proj = projectOnto(pointOf(p.layer), yHat);
          expect(frobDiff(w1, proj)).toBeLessThan(1e-10 * Math.max(1, frobNorm(proj)));
        }
      }),
      fcOptions(20),
    );
    expect(pruned).toBeGreaterThan(10);
  });

  it('heavy-ball momentum across rank changes: the velocity in full space becomes P_new(μ·V + P_T G + wd·W), P_new the projection onto the new Tucker space', () => {
    let rankChanges = 0;
    let cases = 0;
    fc.assert(
      fc.property(arbCase, fc.constantFrom(0.2, 0.4), (c, tau) => {
        cases++;
        // Start near full rank, so that τ prunes.
        const m = Math.min(c.out, c.inC) - 1;
        const start: [number, number] = c.kind === 'matrix' ? [m, m] : [c.out - 1, c.inC - 1];
        const p = makeProblem(c.kind, c.out, c.inC, start, c.seed);
        const lr = c.lrFactor / p.beta;
        const mu = 0.9;
        const wd = 1e-3;
        const integ = new RankAdaptiveIntegrator(p.layer, { integrator: 'parallel', lr, tau, minRank: 1, momentum: mu, weightDecay: wd });
        const full = [...p.layer.fullShape];
        // The velocity lives in core coordinates; in full space it is v ×_i U_i.
        const velocityOf = (): Float64Array => {
          const v = integ.getState().velocity[''];
          const point = pointOf(p.layer);
          return v ? coordinatesBack(v, point) : new Float64Array(w0Size);
        };
        const w0Size = full.reduce((a, b) => a * b, 1);
        for (let step = 0; step < 8; step++) {
          const point = pointOf(p.layer);
          const w0 = Float64Array.from(p.layer.fullWeight().data);
          const v0 = velocityOf();
          const ptg = tangentProject(point, gradAt(p, w0).grad);
          const before = p.layer.ranks.join(',');
          integ.step(p.loss);
          if (p.layer.ranks.join(',') !== before) rankChanges++;
          const after = pointOf(p.layer);
          const target = v0.map((v, k) => mu * v + ptg[k] + wd * w0[k]);
          const expected = projectOnto(after, target);
          expect(frobDiff(velocityOf(), expected)).toBeLessThan(1e-10 * Math.max(1, frobNorm(expected)));
        }
      }),
      fcOptions(20),
    );
    // The property is about steps that change ranks: make sure the runs had some, about one per case
    // (counted per case, so that the check also holds when a mutation run caps numRuns).
    expect(rankChanges).toBeGreaterThanOrEqual(cases);
  });

  it('recovers a planted Tucker rank (2, 2) for 0 < τ < τ*, converging to it; τ = 0 never prunes', () => {
    for (const seed of [1, 2, 3]) {
      const gen = new Generator(seed);
      const shape = [6, 6, 3, 3];
      // A = C ×U with ranks (2, 2, 3, 3).
      const planted = makeProblem('tucker2', 6, 6, [2, 2], seed + 100);
      const a = Float64Array.from(planted.layer.fullWeight().data);
      let tauStar = Infinity;
      const norm = frobNorm(a);
      for (const i of [0, 1]) {
        const s = svdRaw(unfoldRaw(a, shape, i), shape[i], a.length / shape[i], { wantU: false, wantV: false }).s;
        tauStar = Math.min(tauStar, s[1] / norm);
      }
      const p = makeProblem('tucker2', 6, 6, [5, 5], seed + 1 + Math.floor(50 * gen.uniform()));
      const target = new Tensor(a, shape);
      const lossOfW = (w: Tensor) => {
        let s = 0;
        for (let k = 0; k < a.length; k++) s += (w.data[k] - a[k]) ** 2;
        return s / 2;
      };
      const loss = () => {
        const w = p.layer.reconstruct();
        const d = w.sub(target);
        return d.mul(d).sum().mul(0.5);
      };
      const integ = new RankAdaptiveIntegrator(p.layer, { integrator: 'parallel', lr: 0.7, tau: tauStar / 2, minRank: 1 });
      for (let s = 0; s < 80; s++) integ.step(loss);
      expect(p.layer.ranks).toEqual([2, 2, 3, 3]);
      expect(Math.sqrt(2 * lossOfW(p.layer.fullWeight()))).toBeLessThan(1e-6 * norm);
      const q = makeProblem('tucker2', 6, 6, [3, 3], seed + 7);
      const loss0 = () => {
        const d = q.layer.reconstruct().sub(target);
        return d.mul(d).sum().mul(0.5);
      };
      const integ0 = new RankAdaptiveIntegrator(q.layer, { integrator: 'parallel', lr: 0.7, tau: 0, minRank: 1 });
      for (let s = 0; s < 10; s++) {
        const before = q.layer.ranks;
        integ0.step(loss0);
        expect(q.layer.ranks[0]).toBeGreaterThanOrEqual(before[0]);
        expect(q.layer.ranks[1]).toBeGreaterThanOrEqual(before[1]);
      }
    }
  });

  it('a zero core keeps the K-step directions: the new basis spans (I − UUᵀ)·Mat_i(G ×_{j≠i} U_jᵀ), and the loss falls', () => {
    for (const kind of ['tucker2', 'matrix'] as const) {
      const p = makeProblem(kind, 6, 5, [2, 2], 17);
      p.layer.core.data.fill(0);
      const point = pointOf(p.layer);
      const w0 = Float64Array.from(p.layer.fullWeight().data);
      const { loss: l0, grad } = gradAt(p, w0);
      const lr = 0.5 / p.beta;
      const integ = new RankAdaptiveIntegrator(p.layer, { integrator: 'parallel', lr, tau: 0, minRank: 1 });
      integ.step(p.loss);
      expect(integ.probeCounts.get('')).toBe(1);
      const info = integ.lastInfo[0];
      for (const i of [0, 1]) {
        const n = point.fullShape[i];
        const r = point.ranks[i];
        const z = partialProjection(point, grad, i);
        const zc = z.length / n;
        // The residual of Z_i against U_i, and its range.
        const u = point.factors[i] as Float64Array;
        const coef = matmul(
          Float64Array.from({ length: r * n }, (_, k) => u[(k % n) * r + Math.floor(k / n)]),
          r,
          n,
          z,
          zc,
        );
        const resid = z.map((v, k) => v - matmul(u, n, r, coef, zc)[k]);
        const { basis, rank } = rangeBasis(resid, n, zc);
        const m = info.augmentedRanks[i] - r;
        expect(m).toBe(Math.min(r, n - r, rank));
        const fresh = new Float64Array(n * m);
        const hat = info.augmentedBases[i] as Float64Array;
        for (let row = 0; row < n; row++) for (let j = 0; j < m; j++) fresh[row * m + j] = hat[row * (r + m) + r + j];
        expect(outsideSpan(basis, n, rank, fresh, m)).toBeLessThan(1e-10);
      }
      expect(lossAt(p, p.layer.fullWeight().data)).toBeLessThan(l0);
    }
  });

  it('the factor-gradient route and the full-kernel route give the same K-step data Z_iQ_iQ_iᵀ = D_iE_i and the same new spans', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const p = makeProblem(c.kind, c.out, c.inC, ranksOf(c), c.seed);
        const w0 = Float64Array.from(p.layer.fullWeight().data);
        const g = gradAt(p, w0).grad;
        p.layer.zeroGrad();
        p.loss().backward();
        const point = readPoint(p.layer);
        const viaKernel = directionsFromKernelGrad(g, p.layer.fullShape, point);
        expect(frobDiff(viaKernel.coreGrad, p.layer.core.grad?.data ?? [])).toBeLessThan(1e-11 * Math.max(1, frobNorm(viaKernel.coreGrad)));
        p.layer.factors.forEach((f, i) => {
          if (!f) return;
          const { unfolded, gram } = unfoldingGram(point.core, point.shape, i);
          const chol = cholesky(gram, point.shape[i]) as Float64Array;
          const viaFactor = directionsFromFactorGrad(Float64Array.from(f.grad?.data ?? []), unfolded, chol, point.shape[i]);
          const k = viaKernel.modes[i] as { d: Float64Array; e: Float64Array };
          const n = p.layer.fullShape[i];
          const cols = unfolded.length / point.shape[i];
          const wK = k.d.length / n;
          const a = matmul(k.d, n, wK, k.e, cols);
          const b = matmul(viaFactor.d, n, point.shape[i], viaFactor.e, cols);
          expect(frobDiff(a, b)).toBeLessThan(1e-9 * Math.max(1, frobNorm(a)));
        });
      }),
      fcOptions(20),
    );
  });

  it('float32 training keeps the factors orthonormal: ‖UᵀU − I‖_F ≤ 1e-6 over 10,000 steps while the ranks change', () => {
    const gen = new Generator(3);
    const p = makeProblem('tucker2', 8, 6, [6, 5], 3);
    // The same problem in float32: cast the layer's tensors.
    const layer = p.layer;
    const f32 = (t: Tensor) => new Tensor(Float32Array.from(t.data), t.shape);
    layer.setTucker(
      f32(layer.core),
      layer.factors.map((f) => (f ? f32(f) : null)),
    );
    const x = new Tensor(
      Float32Array.from({ length: 2 * 6 * 5 * 5 }, () => gen.normal()),
      [2, 6, 5, 5],
    );
    const y = new Tensor(
      Float32Array.from({ length: 2 * 8 * 5 * 5 }, () => gen.normal()),
      [2, 8, 5, 5],
    );
    const integ = new RankAdaptiveIntegrator(layer, { integrator: 'parallel', lr: 0.002, tau: 0.3, minRank: 1, momentum: 0.9 });
    let worst = 0;
    const ranksSeen = new Set<string>([layer.ranks.join(',')]);
    for (let s = 0; s < 10_000; s++) {
      integ.step(() => layer.forward(x).sub(y).square().sum().mul(0.5));
      ranksSeen.add(layer.ranks.join(','));
      for (const f of layer.factors) if (f) worst = Math.max(worst, frobOrtho(f));
    }
    console.log(`float32 drift over 10,000 steps: max ‖UᵀU − I‖_F = ${worst.toExponential(2)}; ranks seen ${[...ranksSeen].join(' | ')}`);
    expect(ranksSeen.size).toBeGreaterThan(1);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });
});

/** v ×_i U_i: core coordinates back to the full tensor. */
function coordinatesBack(v: Float64Array, p: ReturnType<typeof pointOf>): Float64Array {
  let data = v;
  let shape = p.ranks.slice();
  p.factors.forEach((u, i) => {
    if (!u) return;
    const r = modeProductRaw(data, shape, u, p.fullShape[i], i);
    data = r.data;
    shape = r.shape;
  });
  return data;
}

/** Z ×_i U_iU_iᵀ: the orthogonal projection onto the Tucker space of the point's bases. */
function projectOnto(p: ReturnType<typeof pointOf>, z: Float64Array): Float64Array {
  return coordinatesBack(coordinates(z, p.fullShape, p.factors, p.ranks), p);
}

/** ‖UᵀU − I‖_F in float64 of a stored (float32) factor. */
function frobOrtho(u: Tensor): number {
  const [n, r] = u.shape;
  const d = u.data;
  let s = 0;
  for (let a = 0; a < r; a++)
    for (let b = 0; b < r; b++) {
      let g = 0;
      for (let i = 0; i < n; i++) g += d[i * r + a] * d[i * r + b];
      s += (g - (a === b ? 1 : 0)) ** 2;
    }
  return Math.sqrt(s);
}
