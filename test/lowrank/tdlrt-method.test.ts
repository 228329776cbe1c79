import { describe, expect, it, vi } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { TdlrtMethod } from '../../src/lowrank/methods/tdlrt.js';
import { FullMethod } from '../../src/lowrank/methods/full.js';
import { maxAbsDiff } from '../helpers.js';
import { rankReport } from '../../src/lowrank/rank-report.js';
import { Conv2d, Flatten, Linear, ReLU, Sequential } from '../../src/nn/layers.js';
import { randn } from '../../src/tensor/creation.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';
import { Generator } from '../../src/tensor/random.js';

function net(seed: number) {
  const g = new Generator(seed);
  return new Sequential(
    new Conv2d(1, 4, 3, { generator: g }),
    new ReLU(),
    new Conv2d(4, 8, 3, { generator: g }),
    new ReLU(),
    new Flatten(),
    new Linear(8 * 4 * 4, 16, { generator: g }),
    new ReLU(),
    new Linear(16, 10, { generator: g }),
  );
}

describe('TdlrtMethod', () => {
  it("a 'full' warm-up trains the full layers, converts them exactly to Tucker form, then prunes", () => {
    const g = new Generator(3);
    const x = randn([16, 1, 8, 8], { generator: g });
    const y = Int32Array.from({ length: 16 }, (_, i) => i % 10);
    const method = new TdlrtMethod({ lr: 0.05, tau: 0.3, warmupSteps: 3, settle: false });
    const model = method.setup(net(1), { stepsPerEpoch: 3, epochs: 2, generator: new Generator(2) });
    const reference = new FullMethod({ lr: 0.05 });
    const refModel = reference.setup(net(1), { stepsPerEpoch: 3, epochs: 2, generator: new Generator(2) });
    for (let s = 0; s < 2; s++) {
      method.step(x, y);
      reference.step(x, y);
    }
    expect(method.state).toBeNull();
    // The third step ends the warm-up: the model is factorised at full rank, exactly (same outputs as full training).
    method.step(x, y);
    reference.step(x, y);
    expect(method.state).not.toBeNull();
    const rep = rankReport(model);
    expect(rep.layers.map((l) => l.ranks.slice(0, 2))).toEqual([
      [8, 4],
      [16, 16],
    ]);
    expect(maxAbsDiff(noGrad(() => model.forward(x)).data, noGrad(() => refModel.forward(x)).data)).toBeLessThan(1e-4);
    // Pruning steps: tau = 0.3 lowers the ranks.
    for (let s = 0; s < 5; s++) method.step(x, y);
    const after = rankReport(model);
    expect(after.params).toBeLessThan(rep.params);
    expect(Number.isFinite(method.step(x, y).loss)).toBe(true);
  });
  it('settles the ranks at the switch: the fixed point of the truncation rule on the trained weights, computed here from their unfoldings', () => {
    const g = new Generator(3);
    const x = randn([16, 1, 8, 8], { generator: g });
    const y = Int32Array.from({ length: 16 }, (_, i) => i % 10);
    const tau = 0.3;
    const method = new TdlrtMethod({ lr: 0.05, tau, warmupSteps: 3, minRank: 1 });
    const model = method.setup(net(1), { stepsPerEpoch: 3, epochs: 2, generator: new Generator(2) });
    const reference = new FullMethod({ lr: 0.05 });
    const refModel = reference.setup(net(1), { stepsPerEpoch: 3, epochs: 2, generator: new Generator(2) });
    for (let s = 0; s < 3; s++) {
      method.step(x, y);
      reference.step(x, y);
    }
    const fixedPoint = (sigma: Float64Array): number => {
      let r = sigma.length;
      for (;;) {
        let e = 0;
        for (let k = 0; k < r; k++) e += sigma[k] ** 2;
        // Smallest rank whose tail within σ_1..σ_r has norm ≤ τ·(Σ_{k≤r} σ_k²)^½, at least 1.
        let next = r;
        let tail = 0;
        while (next > 1 && Math.sqrt(tail + sigma[next - 1] ** 2) <= tau * Math.sqrt(e)) tail += sigma[--next] ** 2;
        if (next >= r) return r;
        r = next;
      }
    };
    const layers = refModel.namedModules().filter(([n]) => n === '2' || n === '5');
    const expected = layers.map(([, m]) => {
      const w = (m as unknown as { weight: { data: Float32Array; shape: number[] } }).weight;
      const shape = w.shape;
      const data = Float64Array.from(w.data);
      return [0, 1].map((i) => fixedPoint(svdRaw(unfoldRaw(data, shape, i), shape[i], data.length / shape[i], { wantU: false, wantV: false }).s));
    });
    const settled = rankReport(model).layers.map((l) => l.ranks.slice(0, 2));
    // A matrix has one rank: min of the two modes' fixed points.
    expect(settled).toEqual([expected[0], [Math.min(...expected[1]), Math.min(...expected[1])]]);
    expect(method.state?.settled?.before).toEqual({ '2': [8, 4, 3, 3], '5': [16, 16] });
  });

  it('with a maxRank cap the warm-up is still the full model, and the switch lands at or under the cap', () => {
    const g = new Generator(3);
    const x = randn([16, 1, 8, 8], { generator: g });
    const y = Int32Array.from({ length: 16 }, (_, i) => i % 10);
    for (const settle of [true, false]) {
      const method = new TdlrtMethod({ lr: 0.05, tau: 0.01, warmupSteps: 2, maxRank: 3, settle });
      const model = method.setup(net(1), { stepsPerEpoch: 2, epochs: 2, generator: new Generator(2) });
      const reference = new FullMethod({ lr: 0.05 });
      const refModel = reference.setup(net(1), { stepsPerEpoch: 2, epochs: 2, generator: new Generator(2) });
      method.step(x, y);
      reference.step(x, y);
      // The full model trains during the warm-up, cap or not: same outputs as plain full training.
      expect(method.state).toBeNull();
      expect(rankReport(model).layers).toEqual([]);
      expect(maxAbsDiff(noGrad(() => model.forward(x)).data, noGrad(() => refModel.forward(x)).data)).toBeLessThan(1e-5);
      method.step(x, y);
      if (!settle) method.step(x, y);
      // After the switch (and, without settling, the first integrator step) no adapted rank exceeds 3,
      // although τ = 0.01 alone would keep nearly every direction.
      for (const l of rankReport(model).layers) for (const r of l.ranks.slice(0, 2)) expect(r).toBeLessThanOrEqual(3);
      expect(Number.isFinite(method.step(x, y).loss)).toBe(true);
    }
  });
  it("progress names the ranks, τ, and once a step has run, the share of the step outside its passes (the integrator's lastTimes)", () => {
    const g = new Generator(5);
    const x = randn([8, 1, 8, 8], { generator: g });
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 10);
    const method = new TdlrtMethod({ lr: 0.05, tau: 0.1, warmup: 'integrator', warmupSteps: 0 });
    method.setup(net(4), { stepsPerEpoch: 2, epochs: 1, generator: new Generator(6) });
    expect(method.progress()).not.toHaveProperty('integrator');
    method.step(x, y);
    const p = method.progress();
    const t = method.state!.lastTimes!;
    expect(p.integrator).toBe(`${Math.round((100 * (t.total - t.passes)) / t.total)}%`);
    expect(p.tau).toBe(0.1);
    expect(p.ranks).toMatch(/^\d+×\d+ \d+×\d+$/);
    // A step that took no measurable time has no share to show (not NaN%).
    const now = performance.now();
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      method.step(x, y);
      expect(method.state!.lastTimes!.total).toBe(0);
      expect(method.progress()).not.toHaveProperty('integrator');
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("the 'integrator' warm-up holds tau at 0 and starts from the factorised model", () => {
    const g = new Generator(4);
    const x = randn([8, 1, 8, 8], { generator: g });
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 10);
    const method = new TdlrtMethod({ lr: 0.05, tau: 0.3, warmupSteps: 2, warmup: 'integrator', factorize: { rankRatio: 0.5, init: 'random' } });
    method.setup(net(2), { stepsPerEpoch: 2, epochs: 1, generator: new Generator(5) });
    expect(method.state?.currentTau).toBe(0);
    method.step(x, y);
    method.step(x, y);
    expect(method.state?.currentTau).toBe(0.3);
    expect(() => new TdlrtMethod({ lr: 0.1, warmup: 'bad' as never }).setup(net(1), { stepsPerEpoch: 1, epochs: 1, generator: new Generator(1) })).toThrow(
      /warmup must be 'full' or 'integrator'/,
    );
  });
});
