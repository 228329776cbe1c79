import { describe, expect, it } from 'vitest';
import { MatrixConv2d } from '../../../src/lowrank/matrix-conv2d.js';
import { LowRankLinear } from '../../../src/lowrank/low-rank-linear.js';
import { DlrtMatrixMethod } from '../../../src/lowrank/methods/dlrt-matrix.js';
import { FixedRankMethod } from '../../../src/lowrank/methods/fixed-rank.js';
import { factorParameters, splitSgd } from '../../../src/lowrank/methods/sgd-split.js';
import { TuckerConv2d } from '../../../src/lowrank/tucker-conv2d.js';
import type { Sequential } from '../../../src/nn/layers.js';
import { batch, ctx, smallNet } from './nets.js';

describe('fixed-rank methods', () => {
  for (const conv of ['tucker', 'matrix'] as const) {
    it(`${conv}-fixed trains core and factors at fixed ranks and lowers the loss`, () => {
      const { x, y } = batch(4, 16);
      const m = new FixedRankMethod({ lr: 0.05, conv, budget: 0.4 });
      const model = m.setup(smallNet(1), ctx()) as Sequential;
      expect(m.name).toBe(`${conv}-fixed`);
      expect(model.layers[2]).toBeInstanceOf(conv === 'tucker' ? TuckerConv2d : MatrixConv2d);
      expect(model.layers[5]).toBeInstanceOf(LowRankLinear);
      const ranks = m.report().layers.map((l) => l.ranks);
      const first = m.step(x, y).loss;
      let last = first;
      for (let s = 0; s < 40; s++) last = m.step(x, y).loss;
      expect(last).toBeLessThan(0.8 * first);
      expect(m.report().layers.map((l) => l.ranks)).toEqual(ranks);
      for (const l of m.report().layers) expect(l.params).toBeLessThanOrEqual(0.4 * l.fullParams);
    });
  }

  it('weight decay acts on cores and the other parameters, never on factors', () => {
    const m = new FixedRankMethod({ lr: 0.05, conv: 'tucker', ranks: { '2': [4, 2, 3, 3], '5': [5, 5] } });
    const model = m.setup(smallNet(2), ctx());
    const [rest, factors] = splitSgd(model, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    expect(rest.weightDecay).toBe(5e-4);
    expect(factors.weightDecay).toBe(0);
    expect(new Set(factors.params)).toEqual(new Set(factorParameters(model)));
    expect(factors.params.length).toBe(4);
    expect(rest.params.length + factors.params.length).toBe(model.parameters().length);
    expect(() => new FixedRankMethod({ lr: 0.1, conv: 'cp' as never, budget: 0.1 })).toThrow(/conv must be 'tucker' or 'matrix'/);
    expect(() => new FixedRankMethod({ lr: 0, conv: 'tucker', budget: 0.1 })).toThrow(/lr must be a positive number, got 0/);
  });
});

describe('dlrt-matrix', () => {
  it('holds convs as lowered matrices and adapts one rank per layer', () => {
    const { x, y } = batch(6, 16);
    // The integrator's warm-up: the model is factorised at setup, from rank ratio 0.2.
    const m = new DlrtMatrixMethod({ lr: 0.05, tau: 0.3, warmupSteps: 2, maxRank: 16, warmup: 'integrator' });
    const model = m.setup(smallNet(3), ctx()) as Sequential;
    expect(m.name).toBe('dlrt-matrix');
    expect(model.layers[2]).toBeInstanceOf(MatrixConv2d);
    for (let s = 0; s < 6; s++) m.step(x, y);
    const rep = m.report();
    for (const l of rep.layers) {
      expect(l.ranks[0]).toBe(l.ranks[1]);
      expect(l.params).toBeLessThan(l.fullParams);
    }
    expect(m.stepFlops(16, [1, 8, 8])).toBeGreaterThan(0);
    expect(m.memory().optimizerBytes).toBeGreaterThan(0);
  });
});
