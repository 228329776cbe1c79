import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../../src/autograd/gradcheck.js';
import { svdRaw } from '../../../src/linalg/svd.js';
import { randomOrthonormal } from '../../../src/lowrank/init.js';
import { ElrtMethod } from '../../../src/lowrank/methods/elrt.js';
import { ORTHO_KINDS, OrthoRegularizer, orthoPenalty } from '../../../src/lowrank/methods/ortho.js';
import { factorParameters } from '../../../src/lowrank/methods/sgd-split.js';
import { TuckerConv2d } from '../../../src/lowrank/tucker-conv2d.js';
import { Generator } from '../../../src/tensor/random.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import { randT } from '../../helpers.js';
import { batch, ctx, smallNet } from './nets.js';

/** UᵀU − I (r×r) and UUᵀ − I (n×n) of a plain n×r factor. */
function defects(u: Tensor): { small: number[][]; large: number[][] } {
  const [n, r] = u.shape;
  const at = (i: number, j: number) => u.data[i * r + j];
  const small = Array.from({ length: r }, (_, a) =>
    Array.from({ length: r }, (_, b) => Array.from({ length: n }, (_, i) => at(i, a) * at(i, b)).reduce((x, y) => x + y, 0) - (a === b ? 1 : 0)),
  );
  const large = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => Array.from({ length: r }, (_, a) => at(i, a) * at(j, a)).reduce((x, y) => x + y, 0) - (i === j ? 1 : 0)),
  );
  return { small, large };
}
const frob2 = (m: number[][]) => m.flat().reduce((a, x) => a + x * x, 0);

describe('ELRT orthogonality regularisers', () => {
  it('are 0 on orthonormal factors', () => {
    for (const [n, r] of [
      [6, 3],
      [5, 5],
      [20, 4],
    ]) {
      const u = randomOrthonormal(n, r, 'float64', new Generator(n * r));
      for (const kind of ORTHO_KINDS) {
        const v = orthoPenalty(u, kind).item();
        // DSO's constant n − r is what ‖UUᵀ − I‖² keeps at an orthonormal U: it is 0 only for square U.
        expect(Math.abs(v - (kind === 'dso' ? n - r : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('match their definitions on a general factor (SO, DSO = ‖UᵀU − I‖² + ‖UUᵀ − I‖² = 2·SO + n − r, MC, SRIP = σ_max)', () => {
    const u = randT([7, 3], 11, false, 0.6);
    const { small, large } = defects(u);
    expect(orthoPenalty(u, 'so').item()).toBeCloseTo(frob2(small), 12);
    expect(orthoPenalty(u, 'dso').item()).toBeCloseTo(frob2(small) + frob2(large), 10);
    expect(orthoPenalty(u, 'mc').item()).toBeCloseTo(Math.max(...small.flat().map(Math.abs)), 12);
    const sigma = svdRaw(Float64Array.from(small.flat()), 3, 3, { wantU: false, wantV: false }).s[0];
    expect(orthoPenalty(u, 'srip', { powerIterations: 200 }).item()).toBeCloseTo(sigma, 10);
  });

  for (const kind of ORTHO_KINDS) {
    it(`${kind}: the gradient matches finite differences (float64)`, () => {
      const u = randT([6, 3], 21, true, 0.7);
      gradcheck((t) => orthoPenalty(t, kind, { powerIterations: 300 }), [u], { atol: 1e-6, rtol: 1e-5 });
    });
  }

  it('OrthoRegularizer sums λ·penalty over factors and warm-starts SRIP', () => {
    const us = [randT([6, 3], 31, true, 0.7), randT([5, 2], 32, true, 0.7)];
    const reg = new OrthoRegularizer('so', 0.25, new Generator(1));
    expect(reg.penalty(us)?.item()).toBeCloseTo(0.25 * (orthoPenalty(us[0], 'so').item() + orthoPenalty(us[1], 'so').item()), 12);
    const srip = new OrthoRegularizer('srip', 1, new Generator(2), 2);
    let value = 0;
    for (let k = 0; k < 60; k++) value = srip.penalty([us[0]])?.item() ?? 0;
    expect(value).toBeCloseTo(orthoPenalty(us[0], 'srip', { powerIterations: 300 }).item(), 8);
    expect(new OrthoRegularizer('mc', 0, new Generator(1)).penalty(us)).toBeNull();
    expect(() => new OrthoRegularizer('so', -1, new Generator(1))).toThrow(/lambda must be a finite number ≥ 0, got -1/);
  });

  it('ElrtMethod trains Tucker-2 convs whose factors stay closer to orthonormal than without the regulariser', () => {
    const { x, y } = batch(8, 16);
    const drift = (lambda: number) => {
      const m = new ElrtMethod({ lr: 0.2, momentum: 0, weightDecay: 0, ranks: { '2': [4, 2, 3, 3], '5': [6, 6] }, lambda });
      const model = m.setup(smallNet(9), ctx(3));
      expect(model.namedModules().find(([n]) => n === '2')?.[1]).toBeInstanceOf(TuckerConv2d);
      for (let s = 0; s < 25; s++) m.step(x, y);
      return factorParameters(model).reduce((a, u) => a + orthoPenalty(u, 'so').item(), 0);
    };
    const free = drift(0);
    const held = drift(0.5);
    expect(free).toBeGreaterThan(1e-6);
    expect(held).toBeLessThan(0.5 * free);
  });

  it('checks its options', () => {
    expect(() => new ElrtMethod({ lr: 0.1, budget: 0.1, regularizer: 'l1' as never })).toThrow(/regularizer must be one of so, dso, srip, mc/);
    expect(() => new ElrtMethod({ lr: 0.1, budget: 0.1, lambda: Number.NaN })).toThrow(/lambda must be a finite number ≥ 0/);
    expect(() => new ElrtMethod({ lr: 0.1 })).toThrow(/give budget/);
    expect(() => orthoPenalty(randT([2, 3], 1), 'so')).toThrow(/no more columns than rows/);
  });
});
