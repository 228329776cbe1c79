/**
 * The integrator's interface around the step (integrator.ts): option checks, the closure's checks,
 * maxRank as a function, the absolute tolerance θ and the warm-up under the independent step
 * checks of checks.ts, settleRanks against the fixed point of the tail rule computed here from
 * Jacobi spectra, the SGD step of the other parameters, and getState/setState (bit-for-bit resume).
 */
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { type IntegratorOptions, RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import type { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { Linear, Sequential } from '../../src/nn/layers.js';
import { mul, square, sub } from '../../src/ops/elementwise.js';
import { linear } from '../../src/ops/matmul.js';
import { sum } from '../../src/ops/reduce.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { modeProductRaw } from '../../src/tucker/product.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';
import { type LayerReport, stepAndCheck, tail } from './checks.js';
import { frobDiff, frobNorm } from './fixtures.js';
import { convProblem, linearProblem, lowRankLinear } from './problems.js';

function expectClean(reports: LayerReport[]): void {
  for (const r of reports) {
    expect(r.preconditions).toEqual([]);
    expect(r.violations).toEqual([]);
  }
}

/** W = C ×_i U_i of a layer, float64. */
function weightOf(layer: TuckerLayer): Float64Array {
  let w: Float64Array = Float64Array.from(layer.core.data);
  let s = [...layer.core.shape];
  layer.factors.forEach((f, i) => {
    if (!f) return;
    const next = modeProductRaw(w, s, Float64Array.from(f.data), layer.fullShape[i], i);
    w = next.data;
    s = next.shape;
  });
  return w;
}

/** σ of Mat_i(x) by plain Jacobi, and its left singular vectors. */
function modeSvd(x: Float64Array, shape: readonly number[], i: number): { s: Float64Array; u: Float64Array } {
  const rows = shape[i];
  const r = svdRaw(unfoldRaw(x, shape, i), rows, x.length / rows, { wantV: false, method: 'jacobi' });
  return { s: r.s, u: r.u as Float64Array };
}

/** The fixed point of the tail rule on σ_1..σ_r at τ·(Σ_{k≤r}σ_k²)^½, from r = all, clamped to [lo, hi] (docs/integrator.md, "No pruning cliff"). */
function settledRank(s: Float64Array, tau: number, lo: number, hi: number): number {
  let r = s.length;
  for (;;) {
    let e = 0;
    for (let k = 0; k < r; k++) e += s[k] * s[k];
    const theta = tau * Math.sqrt(e);
    let least = 0;
    while (tail(s.subarray(0, r), least) > theta) least++;
    const next = Math.min(hi, Math.max(lo, least));
    if (next >= r) return r;
    r = next;
  }
}

const half = (a: Tensor, b: Tensor) => mul(sum(square(sub(a, b))), 0.5);

describe('RankAdaptiveIntegrator: options, closure, state', () => {
  it('rejects each bad option with its name, and a model without low-rank layers', () => {
    const layer = lowRankLinear(5, 4, [2, 2], new Generator(1));
    const make = (o: Partial<IntegratorOptions>) => () => new RankAdaptiveIntegrator(layer, { lr: 0.1, ...o } as IntegratorOptions);
    expect(() => new RankAdaptiveIntegrator(layer, null as unknown as IntegratorOptions)).toThrow(
      /^RankAdaptiveIntegrator: options must be an object with lr, got null/,
    );
    expect(() => new RankAdaptiveIntegrator(layer, 3 as unknown as IntegratorOptions)).toThrow(/options must be an object/);
    for (const lr of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(make({ lr })).toThrow(new RegExp(`lr must be > 0, got ${lr}`));
    for (const tau of [-0.1, 1, 2, Number.NaN]) expect(make({ tau })).toThrow(new RegExp(`tau must be ≥ 0 and < 1, got ${tau}`));
    for (const theta of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(make({ theta })).toThrow(new RegExp(`theta must be a finite number ≥ 0, got ${theta}`));
    for (const minRank of [0, 1.5, -2]) expect(make({ minRank })).toThrow(new RegExp(`minRank must be a positive integer, got ${minRank}`));
    for (const momentum of [-0.1, 1, Number.NaN]) expect(make({ momentum })).toThrow(new RegExp(`momentum must be ≥ 0 and < 1, got ${momentum}`));
    for (const weightDecay of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(make({ weightDecay })).toThrow(new RegExp(`weightDecay must be a finite number ≥ 0, got ${weightDecay}`));
    for (const warmupSteps of [-1, 1.5]) expect(make({ warmupSteps })).toThrow(new RegExp(`warmupSteps must be an integer ≥ 0, got ${warmupSteps}`));
    expect(make({ integrator: 'euler' as 'bug' })).toThrow(/integrator must be one of bug, parallel, got euler/);
    expect(() => new RankAdaptiveIntegrator(new Linear(3, 2, { dtype: 'float64' }), { lr: 0.1 })).toThrow(/the model has no low-rank layers/);
    // The bounds themselves are accepted.
    expect(make({ tau: 0, theta: 0, minRank: 1, momentum: 0, weightDecay: 0, warmupSteps: 0 })).not.toThrow();
    const integ = new RankAdaptiveIntegrator(layer, { lr: 0.1 });
    expect([integ.tau, integ.theta, integ.minRank, integ.momentum, integ.weightDecay, integ.warmupSteps, integ.kind]).toEqual([
      0.1,
      null,
      2,
      0,
      0,
      0,
      'parallel',
    ]);
  });

  it('checks the closure and its loss on either pass', () => {
    const p = linearProblem(5, 4, [2, 2], 6, new Generator(3));
    for (const integrator of ['parallel', 'bug'] as const) {
      const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.1, integrator });
      expect(() => integ.step(3 as unknown as () => Tensor)).toThrow(/closure must be a function returning the loss/);
      expect(() => integ.step(() => p.layer.forward(new Tensor(new Float64Array(8), [2, 4])))).toThrow(
        /closure must return a scalar loss Tensor \(first pass\), got \[2, 5\]/,
      );
      expect(() => integ.step((() => 1) as unknown as () => Tensor)).toThrow(/got number/);
      expect(() => integ.step(() => mul(p.closure(), Number.NaN))).toThrow(/the loss is NaN \(first pass\)/);
      expect(integ.stepCount).toBe(0);
    }
    // The second pass of the two-pass step is checked too.
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.1, integrator: 'bug' });
    let calls = 0;
    expect(() => integ.step(() => (++calls === 2 ? mul(p.closure(), Number.POSITIVE_INFINITY) : p.closure()))).toThrow(/the loss is Infinity \(second pass\)/);
  });

  it('maxRank as a function gets (layer, mode, size) and caps each mode; θ replaces τ; under the independent step checks', () => {
    const p = convProblem([6, 5, 3, 3], [3, 3], new Generator(4), 'channels');
    const calls: string[] = [];
    const options: IntegratorOptions = {
      lr: 0.02,
      theta: 0.05,
      tau: 0.9,
      minRank: 1,
      maxRank: (layer, mode, size) => {
        calls.push(`${layer}:${mode}:${size}`);
        return mode === 0 ? 2 : 8;
      },
    };
    const integ = new RankAdaptiveIntegrator(p.model, options);
    for (let s = 0; s < 3; s++) {
      expectClean(stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9));
      expect(p.layer.ranks[0]).toBeLessThanOrEqual(2);
    }
    expect([...new Set(calls)].sort()).toEqual([':0:6', ':1:5']);
    // A cap that is not a positive integer is rejected with the layer and mode named.
    for (const bad of [0, 1.5]) {
      const q = convProblem([6, 5, 3, 3], [3, 3], new Generator(4), 'channels');
      const i2 = new RankAdaptiveIntegrator(q.model, { lr: 0.02, maxRank: (_l, mode) => (mode === 1 ? bad : 3) });
      expect(() => i2.step(q.closure)).toThrow(new RegExp(`maxRank for  mode 1 must be a positive integer, got ${bad}`));
    }
  });

  it('warm-up: τ is 0 for the first warmupSteps steps (no pruning), then applies; under the independent step checks', () => {
    const p = linearProblem(8, 7, [5, 5], 12, new Generator(5));
    const options: IntegratorOptions = { lr: 0.5 / p.beta, tau: 0.4, minRank: 1, warmupSteps: 2 };
    const integ = new RankAdaptiveIntegrator(p.model, options);
    expect(integ.currentTau).toBe(0);
    for (let s = 0; s < 4; s++) {
      const before = p.layer.ranks;
      expectClean(stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9));
      if (s < 2) for (let i = 0; i < 2; i++) expect(p.layer.ranks[i]).toBeGreaterThanOrEqual(before[i]);
      if (s === 2) expect(p.layer.ranks[0]).toBeLessThan(before[0]);
    }
    expect(integ.currentTau).toBe(0.4);
  });

  it('settleRanks: each adapted mode at the fixed point of the tail rule on the Jacobi spectrum of Mat_i(W), W projected onto its dominant subspaces, the velocity alike', () => {
    for (const tau of [0.2, 0.5]) {
      const p = convProblem([8, 6, 3, 3], [6, 5], new Generator(6), 'channels');
      const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.02, tau: 0, minRank: 2, maxRank: 5, momentum: 0.9 });
      for (let s = 0; s < 2; s++) integ.step(p.closure);
      const layer = p.layer;
      const ranks0 = layer.ranks;
      const w0 = weightOf(layer);
      const full = [...layer.fullShape];
      const vCore = integ.getState().velocity[''];
      const lift = (x: Float64Array, shape: number[]) => {
        let d: Float64Array = x;
        let sh = [...shape];
        layer.factors.forEach((f, i) => {
          if (!f) return;
          const next = modeProductRaw(d, sh, Float64Array.from(f.data), full[i], i);
          d = next.data;
          sh = next.shape;
        });
        return d;
      };
      const v0 = lift(vCore, ranks0);
      const spectra = [0, 1].map((i) => modeSvd(w0, full, i).s.subarray(0, ranks0[i]));
      const expected = [0, 1].map((i) => settledRank(spectra[i], tau, 2, 5));
      expect(() => integ.settleRanks(1)).toThrow(/settleRanks: tau must be ≥ 0 and < 1, got 1/);
      const after = integ.settleRanks(tau);
      expect(after).toEqual({ '': [...expected, 3, 3] });
      expect(layer.ranks.slice(0, 2)).toEqual(expected);
      expect(integ.settled).toEqual({ step: 2, before: { '': ranks0 }, after: { '': layer.ranks } });
      // W1 = W0 ×_i F_iF_iᵀ, and F_i captures the top-r_i energy of Mat_i(W0).
      const w1 = weightOf(layer);
      const project = (x: Float64Array) => {
        let d: Float64Array = x;
        const sh = [...full];
        layer.factors.forEach((f, i) => {
          if (!f) return;
          const fd = Float64Array.from(f.data);
          const r = layer.ranks[i];
          const ft = new Float64Array(r * full[i]);
          for (let a = 0; a < full[i]; a++) for (let b = 0; b < r; b++) ft[b * full[i] + a] = fd[a * r + b];
          const down = modeProductRaw(d, sh, ft, r, i);
          d = modeProductRaw(down.data, down.shape, fd, full[i], i).data;
        });
        return d;
      };
      expect(frobDiff(w1, project(w0))).toBeLessThan(1e-10 * frobNorm(w0));
      for (let i = 0; i < 2; i++) {
        const f = Float64Array.from(layer.factors[i]?.data ?? []);
        const r = layer.ranks[i];
        const mat = unfoldRaw(w0, full, i);
        const cols = mat.length / full[i];
        let captured = 0;
        for (let a = 0; a < r; a++)
          for (let c = 0; c < cols; c++) {
            let v = 0;
            for (let k = 0; k < full[i]; k++) v += f[k * r + a] * mat[k * cols + c];
            captured += v * v;
          }
        let top = 0;
        for (let k = 0; k < r; k++) top += spectra[i][k] ** 2;
        expect(Math.abs(captured - top)).toBeLessThan(1e-10 * frobNorm(w0) ** 2);
      }
      const v1 = lift(integ.getState().velocity[''], layer.ranks);
      expect(frobDiff(v1, project(v0))).toBeLessThan(1e-10 * Math.max(1, frobNorm(v0)));
    }
  });

  it('settleAfterWarmup: at the step that ends the warm-up the ranks settle first (the fixed point on that point), then the step runs', () => {
    const p = convProblem([8, 6, 3, 3], [6, 5], new Generator(7), 'channels');
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.02, tau: 0.3, minRank: 1, warmupSteps: 2, settleAfterWarmup: true });
    for (let s = 0; s < 2; s++) integ.step(p.closure);
    expect(integ.settled).toBeNull();
    const w = weightOf(p.layer);
    const ranks = p.layer.ranks;
    const expected = [0, 1].map((i) => settledRank(modeSvd(w, [...p.layer.fullShape], i).s.subarray(0, ranks[i]), 0.3, 1, p.layer.fullShape[i]));
    integ.step(p.closure);
    expect(integ.settled?.step).toBe(2);
    expect(integ.settled?.before).toEqual({ '': ranks });
    expect(integ.settled?.after[''].slice(0, 2)).toEqual(expected);
    expect(expected[0]).toBeLessThan(ranks[0]);
    // Without the option, or with τ = 0, nothing settles.
    for (const o of [
      { settleAfterWarmup: false, tau: 0.3 },
      { settleAfterWarmup: true, tau: 0 },
    ]) {
      const q = convProblem([8, 6, 3, 3], [6, 5], new Generator(7), 'channels');
      const i2 = new RankAdaptiveIntegrator(q.model, { lr: 0.02, minRank: 1, warmupSteps: 2, ...o });
      for (let s = 0; s < 3; s++) i2.step(q.closure);
      expect(i2.settled).toBeNull();
    }
  });

  it('the other parameters take a plain SGD step with the current λ (set between steps), with the step of the low-rank layers', () => {
    const gen = new Generator(8);
    const lr1 = lowRankLinear(6, 5, [3, 3], gen);
    const head = new Linear(6, 3, { dtype: 'float64', generator: gen });
    const model = new Sequential(lr1, head);
    const x = new Tensor(
      Float64Array.from({ length: 4 * 5 }, () => gen.normal()),
      [4, 5],
    );
    const y = new Tensor(
      Float64Array.from({ length: 4 * 3 }, () => gen.normal()),
      [4, 3],
    );
    const closure = () => half(model.forward(x), y);
    const integ = new RankAdaptiveIntegrator(model, { lr: 0.05, tau: 0 });
    const params = head.parameters();
    for (const lr of [0.05, 0.01]) {
      integ.lr = lr;
      // ∇ of the head's parameters at the current point, from a separate forward on copies.
      const copies = params.map((q) => new Tensor(Float64Array.from(q.data), [...q.shape], true));
      const hidden = noGrad(() => lr1.forward(x));
      const loss = half(linear(hidden, copies[0], copies[1]), y);
      loss.backward();
      const expected = params.map((q, k) => Float64Array.from(q.data).map((v, t) => v - lr * (copies[k].grad?.data[t] ?? 0)));
      integ.step(closure);
      params.forEach((q, k) => expect(frobDiff(q.data, expected[k])).toBeLessThan(1e-12 * frobNorm(expected[k])));
    }
  });

  it('same ranks: the parameters are written in place (their buffers kept); new ranks: new parameters', () => {
    const p = linearProblem(6, 5, [5, 5], 12, new Generator(9));
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.5 / p.beta, tau: 0, minRank: 1 });
    const core = p.layer.core;
    const buffers = [core.data, ...p.layer.factors.map((f) => f?.data)];
    integ.step(p.closure);
    expect(p.layer.core).toBe(core);
    expect([p.layer.core.data, ...p.layer.factors.map((f) => f?.data)]).toEqual(buffers);
    expect(p.layer.core.data).toBe(buffers[0]);
    // Gradients of the next step start from zero, and the factors train again.
    expect(p.layer.core.grad === null || frobNorm(p.layer.core.grad.data) === 0).toBe(true);
    for (const f of p.layer.factors) if (f) expect(f.requiresGrad).toBe(true);
    const q = linearProblem(6, 5, [2, 2], 12, new Generator(9));
    const i2 = new RankAdaptiveIntegrator(q.model, { lr: 0.5 / q.beta, tau: 0, minRank: 1 });
    const core2 = q.layer.core;
    i2.step(q.closure);
    expect(q.layer.ranks).not.toEqual([2, 2]);
    expect(q.layer.core).not.toBe(core2);
  });

  it('getState/setState: a run resumed from the state (and the same weights) continues bit for bit; bad states are refused before anything changes', () => {
    const make = () => {
      const gen = new Generator(10);
      const lr1 = lowRankLinear(6, 5, [3, 3], gen);
      const head = new Linear(6, 3, { dtype: 'float64', generator: gen });
      const model = new Sequential(lr1, head);
      const x = new Tensor(
        Float64Array.from({ length: 4 * 5 }, () => gen.normal()),
        [4, 5],
      );
      const y = new Tensor(
        Float64Array.from({ length: 4 * 3 }, () => gen.normal()),
        [4, 3],
      );
      return { model, lr1, head, closure: () => half(model.forward(x), y) };
    };
    const options: IntegratorOptions = { lr: 0.05, tau: 0.2, minRank: 1, momentum: 0.9, weightDecay: 1e-3 };
    const a = make();
    const ia = new RankAdaptiveIntegrator(a.model, options);
    for (let s = 0; s < 3; s++) ia.step(a.closure);
    ia.lr = 0.03;
    const state = ia.getState();
    const name = ia.layers[0][0];
    expect(state.stepCount).toBe(3);
    expect(Object.keys(state.velocity)).toEqual([name]);
    const b = make();
    // Bring b to a's weights and ranks.
    b.lr1.setTucker(
      new Tensor(Float64Array.from(a.lr1.core.data), [...a.lr1.core.shape]),
      a.lr1.factors.map((f) => (f ? new Tensor(Float64Array.from(f.data), [...f.shape]) : null)),
    );
    b.head.parameters().forEach((q, k) => q.data.set(a.head.parameters()[k].data));
    const ib = new RankAdaptiveIntegrator(b.model, options);
    const bad = (s: object) => () => ib.setState({ ...state, ...s } as typeof state);
    expect(bad({ stepCount: -1 })).toThrow(/stepCount must be a non-negative integer, got -1/);
    expect(bad({ stepCount: 1.5 })).toThrow(/stepCount must be a non-negative integer/);
    expect(bad({ lr: 0 })).toThrow(/lr must be > 0, got 0/);
    expect(bad({ velocity: { conv: new Float64Array(9) } })).toThrow(/velocity names layer 'conv', which is not a low-rank layer of the model/);
    expect(bad({ velocity: { [name]: new Float64Array(b.lr1.core.size + 1) } })).toThrow(
      new RegExp(`velocity of '${name}' must be a Float64Array of \\d+ values`),
    );
    expect(bad({ velocity: { [name]: [1, 2] } })).toThrow(/must be a Float64Array/);
    expect(bad({ others: null })).toThrow(/the state lacks an optimizer for the other parameters, this integrator has one/);
    expect(ib.stepCount).toBe(0);
    expect(ib.lr).toBe(0.05);
    ib.setState(state);
    expect(ib.stepCount).toBe(3);
    expect(ib.lr).toBe(0.03);
    for (let s = 0; s < 2; s++) {
      ia.step(a.closure);
      ib.step(b.closure);
    }
    expect(Array.from(b.lr1.fullWeight().data)).toEqual(Array.from(a.lr1.fullWeight().data));
    for (const [k, q] of b.head.parameters().entries()) expect(Array.from(q.data)).toEqual(Array.from(a.head.parameters()[k].data));
    // A model without other parameters refuses a state that has them.
    const lone = linearProblem(6, 5, [3, 3], 4, new Generator(11));
    const il = new RankAdaptiveIntegrator(lone.model, options);
    expect(() => il.setState({ ...state, velocity: {} })).toThrow(/the state has an optimizer for the other parameters, this integrator has none/);
  });

  it('stored modes outside adaptModes keep their rank in a step and in settleRanks (ϑ reported 0 there), while the adapted modes truncate', () => {
    for (const integrator of ['parallel', 'bug'] as const) {
      const p = convProblem([6, 5, 3, 3], [4, 4, 2, 2], new Generator(12), 'all');
      p.layer.adaptModes = [0, 1];
      const options: IntegratorOptions = { lr: 0.02, tau: 0.3, minRank: 1, integrator };
      const integ = new RankAdaptiveIntegrator(p.model, options);
      expect(integ.lastInfo).toEqual([]);
      for (let s = 0; s < 3; s++) {
        integ.step(p.closure);
        expect(p.layer.ranks.slice(2)).toEqual([2, 2]);
        const t = integ.lastInfo[0].thresholds;
        expect(t[2]).toBe(0);
        expect(t[3]).toBe(0);
        expect(t[0]).toBeGreaterThan(0);
      }
      expect(p.layer.ranks[0]).toBeLessThan(6);
      integ.settleRanks(0.6);
      expect(p.layer.ranks.slice(2)).toEqual([2, 2]);
    }
  });

  it('settleRanks accepts τ in [0, 1) only; τ = 0 keeps every rank of a generic point', () => {
    const p = convProblem([6, 5, 3, 3], [3, 3], new Generator(13), 'channels');
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.02, minRank: 1 });
    for (const tau of [-0.1, 1, Number.NaN]) expect(() => integ.settleRanks(tau)).toThrow(new RegExp(`settleRanks: tau must be ≥ 0 and < 1, got ${tau}`));
    const before = p.layer.ranks;
    const w0 = weightOf(p.layer);
    integ.settleRanks(0);
    expect(p.layer.ranks).toEqual(before);
    expect(frobDiff(weightOf(p.layer), w0)).toBeLessThan(1e-12 * frobNorm(w0));
  });

  it('settleAfterWarmup without a warm-up settles nothing; a maxRank of 1 is accepted', () => {
    const p = convProblem([6, 5, 3, 3], [3, 3], new Generator(14), 'channels');
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.02, tau: 0.3, minRank: 1, maxRank: () => 1, settleAfterWarmup: true });
    for (let s = 0; s < 2; s++) integ.step(p.closure);
    expect(integ.settled).toBeNull();
    expect(p.layer.ranks.slice(0, 2)).toEqual([1, 1]);
  });

  it('after a step through the full-kernel probe (a zero core) the layer forwards through its factors again', () => {
    const p = convProblem([6, 5, 3, 3], [2, 2], new Generator(15), 'channels');
    p.layer.core.data.fill(0);
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.02, tau: 0, minRank: 1 });
    integ.step(p.closure);
    expect(p.layer.gradientProbe).toBeNull();
  });

  // Inside a Sequential the layer is named '0' (alone it would be ''), so names in messages and maps show.
  it('the state is a copy both ways; setState clears a velocity the state lacks; stepCount 0 and a model without other parameters are fine', () => {
    const p = linearProblem(6, 5, [3, 3], 8, new Generator(16));
    const options: IntegratorOptions = { lr: 0.5 / p.beta, tau: 0, minRank: 1, momentum: 0.9 };
    const integ = new RankAdaptiveIntegrator(new Sequential(p.layer), options);
    for (let s = 0; s < 2; s++) integ.step(p.closure);
    const name = integ.layers[0][0];
    const s1 = integ.getState();
    const v0 = s1.velocity[name][0];
    s1.velocity[name][0] += 1;
    expect(integ.getState().velocity[name][0]).toBe(v0);
    const s2 = integ.getState();
    integ.setState(s2);
    s2.velocity[name][0] += 1;
    expect(integ.getState().velocity[name][0]).toBe(v0);
    expect(s2.others).toBeNull();
    expect(() => integ.setState({ ...s2, velocity: { [name]: undefined as unknown as Float64Array } })).toThrow(
      /RankAdaptiveIntegrator\.setState: velocity of '.*' must be a Float64Array of \d+ values \(core \[\d+, \d+\]\), got undefined/,
    );
    expect(() => integ.setState({ ...s2, velocity: { x: new Float64Array(1) } })).toThrow(
      new RegExp(`which is not a low-rank layer of the model \\(${name}\\)`),
    );
    integ.setState({ ...s2, stepCount: 0, velocity: {} });
    expect(integ.stepCount).toBe(0);
    expect(integ.getState().velocity).toEqual({});
  });

  it('an ill-conditioned core (Cholesky succeeds, κ(Mat_0(C)) ≈ 1e5) takes the full-kernel probe and stays exact under the independent step checks; probeCounts counts those steps', () => {
    const p = convProblem([6, 5, 3, 3], [2, 3], new Generator(17), 'channels');
    // Row 1 of Mat_0(C) scaled by 1e-5.
    const core = p.layer.core.data;
    const slice = core.length / 2;
    for (let k = slice; k < 2 * slice; k++) core[k] *= 1e-5;
    const options: IntegratorOptions = { lr: 0.02, tau: 0, minRank: 1 };
    const integ = new RankAdaptiveIntegrator(new Sequential(p.layer), options);
    expectClean(stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9));
    expect(integ.probeCounts.get(integ.layers[0][0])).toBe(1);
    // A well-conditioned layer never probes.
    const q = convProblem([6, 5, 3, 3], [2, 3], new Generator(18), 'channels');
    const i2 = new RankAdaptiveIntegrator(q.model, options);
    i2.step(q.closure);
    expect(i2.probeCounts.size).toBe(0);
  });

  it('heavy-ball momentum with weight decay under the independent step checks; momentum set to 0 between steps drops the velocity', () => {
    const p = convProblem([6, 5, 3, 3], [3, 3], new Generator(19), 'channels');
    const options: IntegratorOptions = { lr: 0.02, tau: 0.2, minRank: 1, momentum: 0.9, weightDecay: 0.1 };
    const integ = new RankAdaptiveIntegrator(p.model, options);
    for (let s = 0; s < 3; s++) expectClean(stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9));
    expect(Object.keys(integ.getState().velocity)).toHaveLength(1);
    integ.momentum = 0;
    integ.step(p.closure);
    expect(integ.getState().velocity).toEqual({});
  });

  it('a factor drifted past its limit gives the step of its repaired point (polar factor, core times (UᵀU)^½, recomputed here by SVD)', () => {
    const skew = (layer: TuckerLayer) => {
      const u = layer.factors[0]?.data as Float64Array;
      const gen = new Generator(21);
      const e = Float64Array.from({ length: 9 }, (_, k) => (k % 4 === 0 ? 1 : 0) + 1e-3 * gen.normal());
      const skewed = new Float64Array(u.length);
      for (let i = 0; i < 6; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) skewed[i * 3 + j] += u[i * 3 + k] * e[k * 3 + j];
      u.set(skewed);
    };
    const drifted = convProblem([6, 5, 3, 3], [3, 3], new Generator(20), 'channels');
    skew(drifted.layer);
    const repaired = convProblem([6, 5, 3, 3], [3, 3], new Generator(20), 'channels');
    skew(repaired.layer);
    // U = P·Σ·Qᵀ: the polar factor P·Qᵀ, and (UᵀU)^½ = Q·Σ·Qᵀ applied to the core along mode 0.
    const u = Float64Array.from(repaired.layer.factors[0]?.data ?? []);
    const svd = svdRaw(u, 6, 3, { method: 'jacobi' });
    const pu = svd.u as Float64Array;
    const q = svd.v as Float64Array;
    const polar = new Float64Array(18);
    const half = new Float64Array(9);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let k = 0; k < 3; k++) half[a * 3 + b] += q[a * 3 + k] * svd.s[k] * q[b * 3 + k];
    for (let i = 0; i < 6; i++) for (let b = 0; b < 3; b++) for (let k = 0; k < 3; k++) polar[i * 3 + b] += pu[i * 3 + k] * q[b * 3 + k];
    const core = modeProductRaw(Float64Array.from(repaired.layer.core.data), [...repaired.layer.core.shape], half, 3, 0).data;
    repaired.layer.core.data.set(core);
    (repaired.layer.factors[0] as Tensor).data.set(polar);
    const w0 = weightOf(drifted.layer);
    expect(frobDiff(weightOf(repaired.layer), w0)).toBeLessThan(1e-12 * frobNorm(w0));
    const options: IntegratorOptions = { lr: 0.02, tau: 0.1, minRank: 1 };
    const a = new RankAdaptiveIntegrator(drifted.model, options);
    const b = new RankAdaptiveIntegrator(repaired.model, options);
    for (let s = 0; s < 2; s++) {
      a.step(drifted.closure);
      b.step(repaired.closure);
      expect(drifted.layer.ranks).toEqual(repaired.layer.ranks);
      const wb = weightOf(repaired.layer);
      expect(frobDiff(weightOf(drifted.layer), wb)).toBeLessThan(1e-10 * frobNorm(wb));
    }
  });

  it('two low-rank layers: the probe is counted under the name of the layer that took it, and an unknown name in a state lists both layers', () => {
    const gen = new Generator(22);
    const first = lowRankLinear(6, 5, [2, 2], gen);
    const second = lowRankLinear(4, 6, [2, 2], gen);
    // Second layer: Mat_0(C) with singular values 1 and 1e-5 (κ = 1e5 > K_STEP_COND_LIMIT).
    const c = second.core.data;
    c[2] *= 1e-5;
    c[3] *= 1e-5;
    const model = new Sequential(first, second);
    const x = new Tensor(
      Float64Array.from({ length: 3 * 5 }, () => gen.normal()),
      [3, 5],
    );
    const y = new Tensor(
      Float64Array.from({ length: 3 * 4 }, () => gen.normal()),
      [3, 4],
    );
    const integ = new RankAdaptiveIntegrator(model, { lr: 0.01, tau: 0, minRank: 1 });
    integ.step(() => half(model.forward(x), y));
    expect([...integ.probeCounts.entries()]).toEqual([['1', 1]]);
    expect(() => integ.setState({ ...integ.getState(), velocity: { x: new Float64Array(1) } })).toThrow(/which is not a low-rank layer of the model \(0, 1\)/);
  });
  it("both steps, with and without momentum and weight decay, two steps each under the independent step checks; lastInfo.truncationError is ‖Y½ − W1‖ recomputed from the checks' Y½", () => {
    for (const integrator of ['parallel', 'bug'] as const)
      for (const [momentum, weightDecay] of [
        [0, 0.5],
        [0.9, 0],
        [0.9, 0.5],
      ]) {
        const p = convProblem([6, 5, 3, 3], [2, 3], new Generator(23), 'channels');
        const options: IntegratorOptions = { lr: 0.02, tau: 0.05, minRank: 1, momentum, weightDecay, integrator };
        const integ = new RankAdaptiveIntegrator(p.model, options);
        for (let s = 0; s < 2; s++) {
          const reports = stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9);
          expectClean(reports);
          const reported = integ.lastInfo[0].truncationError;
          expect(Math.abs(reported - reports[0].truncationError)).toBeLessThanOrEqual(1e-9 * frobNorm(reports[0].yHalf));
        }
        // The velocity is held across the steps exactly when there is momentum.
        expect(Object.keys(integ.getState().velocity)).toHaveLength(momentum > 0 ? 1 : 0);
      }
  });

  it("a stored mode at full rank ahead of modes with room (each mode's factor-gradient solve is its own); no probe", () => {
    // Shape [3, 5, 3, 3], every mode stored: mode 0 at rank 3 = n_0 has no room, modes 1–3 grow.
    for (const integrator of ['parallel', 'bug'] as const) {
      const p = convProblem([3, 5, 3, 3], [3, 2, 2, 2], new Generator(24), 'all');
      const options: IntegratorOptions = { lr: 0.02, tau: 0, minRank: 1, integrator };
      const integ = new RankAdaptiveIntegrator(p.model, options);
      expectClean(stepAndCheck(integ, options, p.lossOfWeights, p.closure, 1e-9));
      expect(integ.probeCounts.size).toBe(0);
      // At τ = 0 each mode with room takes its K-step directions (up to twice its rank, within n_i).
      expect(p.layer.ranks).toEqual([3, 4, 3, 3]);
    }
  });
});
