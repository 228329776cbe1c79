import { describe, expect, it } from 'vitest';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { MatrixConv2d } from '../../../src/lowrank/matrix-conv2d.js';
import { compressOnce, PostHocMethod } from '../../../src/lowrank/methods/post-hoc.js';
import { FullMethod } from '../../../src/lowrank/methods/full.js';
import { TuckerConv2d } from '../../../src/lowrank/tucker-conv2d.js';
import type { Sequential } from '../../../src/nn/layers.js';
import { batch, ctx, maxDiff, smallNet } from './nets.js';

describe('post-hoc', () => {
  for (const conv of ['tucker', 'matrix'] as const) {
    it(`at full rank reproduces the full model's predictions (${conv} convs)`, () => {
      const { x, y } = batch(1, 16);
      const full = new FullMethod({ lr: 0.05 });
      const fullModel = full.setup(smallNet(5), ctx());
      const post = new PostHocMethod({ lr: 0.05, conv, ranks: conv === 'tucker' ? { '2': [8, 4, 3, 3], '5': [16, 16] } : { '2': [8, 8], '5': [16, 16] } });
      const model = post.setup(smallNet(5), ctx());
      for (let s = 0; s < 3; s++) {
        full.step(x, y);
        post.step(x, y);
      }
      const deployed = post.finalize() as Sequential;
      expect(deployed.layers[2]).toBeInstanceOf(conv === 'tucker' ? TuckerConv2d : MatrixConv2d);
      expect(deployed).toBe(model);
      expect(maxDiff(noGrad(() => deployed.forward(x)).data, noGrad(() => fullModel.forward(x)).data)).toBeLessThan(1e-10);
      expect(post.finalize()).toBe(deployed);
    });
  }

  it('compresses a trained model once within the budget, without training', () => {
    const model = smallNet(7);
    const { x } = batch(2, 4);
    const before = noGrad(() => model.forward(x)).data.slice();
    const { plan } = compressOnce(model, { budget: 0.3 });
    expect(Object.keys(plan.ranks)).toEqual(['2', '5']);
    expect(maxDiff(before, noGrad(() => model.forward(x)).data)).toBeGreaterThan(0);
    const post = new PostHocMethod({ lr: 0.1, budget: 0.3 });
    post.setup(smallNet(7), ctx());
    post.finalize();
    const rep = post.report();
    for (const l of rep.layers) expect(l.params).toBeLessThanOrEqual(0.3 * l.fullParams);
    expect(() => new PostHocMethod({ lr: 0.1 })).toThrow(/give budget/);
    expect(() => compressOnce(smallNet(1), { budget: 0.1, conv: 'cp' as never })).toThrow(/conv must be 'tucker' or 'matrix'/);
  });
});
