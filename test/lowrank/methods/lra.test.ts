import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { svdRaw } from '../../../src/linalg/svd.js';
import { compressedLayers } from '../../../src/lowrank/methods/budget.js';
import { LraMethod, projectWeight } from '../../../src/lowrank/methods/lra.js';
import { LowRankLinear } from '../../../src/lowrank/low-rank-linear.js';
import { TuckerConv2d } from '../../../src/lowrank/tucker-conv2d.js';
import type { Conv2d, Linear, Sequential } from '../../../src/nn/layers.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { unfoldRaw } from '../../../src/tucker/unfold.js';
import { fcOptions, randT } from '../../helpers.js';
import { batch, ctx, maxDiff, smallNet } from './nets.js';

function numericalRank(data: Float64Array, rows: number, cols: number): number {
  const s = svdRaw(data, rows, cols, { wantU: false, wantV: false }).s;
  return s.filter((x) => x > 1e-10 * s[0]).length;
}

describe('LRA', () => {
  const [conv, linear] = compressedLayers(smallNet(1));

  it('the projection is idempotent and has the ranks asked for (property: Tucker conv, lowered conv, linear)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 1000 }),
        (r1, r2, r, seed) => {
          const w = randT(conv.shape, seed, false);
          const p = projectWeight(w, conv, 'tucker', [r1, r2, 3, 3]);
          const again = projectWeight(new Tensor(p, conv.shape), conv, 'tucker', [r1, r2, 3, 3]);
          expect(maxDiff(again, p)).toBeLessThan(1e-10 * Math.max(1, Math.max(...p.map(Math.abs))));
          expect(numericalRank(unfoldRaw(p, conv.shape, 0), 8, 36)).toBeLessThanOrEqual(r1);
          expect(numericalRank(unfoldRaw(p, conv.shape, 1), 4, 72)).toBeLessThanOrEqual(r2);
          const rm = Math.min(r, 8);
          const pm = projectWeight(w, conv, 'matrix', [rm, rm]);
          expect(maxDiff(projectWeight(new Tensor(pm, conv.shape), conv, 'matrix', [rm, rm]), pm)).toBeLessThan(1e-10);
          expect(numericalRank(pm, 8, 36)).toBeLessThanOrEqual(rm);
          const wl = randT(linear.shape, seed + 1, false);
          const pl = projectWeight(wl, linear, 'matrix', [r, r]);
          expect(maxDiff(projectWeight(new Tensor(pl, linear.shape), linear, 'matrix', [r, r]), pl)).toBeLessThan(1e-10);
          expect(numericalRank(pl, 16, 128)).toBeLessThanOrEqual(r);
        },
      ),
      fcOptions(20),
    );
  });

  it('projects every S_D steps, and finalize deploys the last projection as factorised layers', () => {
    const { x, y } = batch(2, 16);
    const ranks = { '2': [3, 2, 3, 3], '5': [4, 4] };
    const model = smallNet(2);
    const lra = new LraMethod({ lr: 0.05, ranks, interval: 3 });
    lra.setup(model, ctx());
    const w = (n: number) => (model.layers[n] as Conv2d | Linear).weight;
    for (let s = 0; s < 3; s++) lra.step(x, y);
    // Right after a projection the weights are fixed points of it.
    expect(maxDiff(projectWeight(w(2), conv, 'tucker', ranks['2']), w(2).data)).toBeLessThan(1e-12);
    expect(maxDiff(projectWeight(w(5), linear, 'matrix', ranks['5']), w(5).data)).toBeLessThan(1e-12);
    lra.step(x, y);
    expect(maxDiff(projectWeight(w(5), linear, 'matrix', ranks['5']), w(5).data)).toBeGreaterThan(1e-8);
    // The deployed model computes what the projected full model computes.
    const ref = smallNet(2);
    ref.loadStateDict(model.stateDict());
    (ref.layers[2] as Conv2d).weight.data.set(projectWeight(w(2), conv, 'tucker', ranks['2']));
    (ref.layers[5] as Linear).weight.data.set(projectWeight(w(5), linear, 'matrix', ranks['5']));
    const deployed = lra.finalize() as Sequential;
    expect(deployed.layers[2]).toBeInstanceOf(TuckerConv2d);
    expect(deployed.layers[5]).toBeInstanceOf(LowRankLinear);
    expect(maxDiff(noGrad(() => deployed.forward(x)).data, noGrad(() => ref.forward(x)).data)).toBeLessThan(1e-10);
    expect(lra.report().layers.map((l) => l.ranks.slice(0, 2))).toEqual([
      [3, 2],
      [4, 4],
    ]);
    expect(() => lra.step(x, y)).toThrow(/factorised by finalize/);
  });

  it('derives its ranks from the budget and checks its options', () => {
    const lra = new LraMethod({ lr: 0.05, budget: 0.3 });
    lra.setup(smallNet(3), ctx());
    lra.finalize();
    const rep = lra.report();
    for (const l of rep.layers) expect(l.params).toBeLessThanOrEqual(0.3 * l.fullParams);
    expect(() => new LraMethod({ lr: 0.05, budget: 0.3, interval: 0 })).toThrow(/interval \(S_D\) must be a positive integer, got 0/);
    expect(() => new LraMethod({ lr: 0.05 })).toThrow(/give budget/);
    expect(() => projectWeight(randT([2, 2], 1), conv, 'tucker', [1, 1, 3, 3])).toThrow(/must have the layer's shape/);
  });
});
