import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressedLayers, formParams, layerRanksForBudget, planRanks, ranksForBudget, ranksForKeptFraction } from '../../../src/lowrank/methods/budget.js';
import { createMethod } from '../../../src/lowrank/methods/registry.js';
import { lenet5 } from '../../../src/nn/models.js';
import { Generator } from '../../../src/tensor/random.js';
import { fcOptions } from '../../helpers.js';

const ctx = (seed = 1) => ({ stepsPerEpoch: 1, epochs: 1, generator: new Generator(seed) });

describe('budget → ranks', () => {
  it('compresses conv2 and fc1 of LeNet-5 (the first conv and the last linear stay whole)', () => {
    const layers = compressedLayers(lenet5());
    expect(layers.map((l) => [l.name, l.kind, l.fullParams])).toEqual([
      ['3', 'conv', 25050],
      ['7', 'linear', 400500],
    ]);
    expect(() => compressedLayers(lenet5(), ['nope'])).toThrow(/skip names 'nope'/);
  });

  it('ranksForBudget returns maximal ranks within the budget (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }), fc.double({ min: 0.05, max: 1, noNaN: true }), (sizes, frac) => {
        // A Tucker-like count: core Π r_i plus factors Σ n_i r_i.
        const count = (r: number[]) => r.reduce((p, x) => p * x, 1) + r.reduce((s, x, i) => s + x * sizes[i], 0);
        const budget = Math.max(count(sizes.map(() => 1)), frac * count(sizes));
        const r = ranksForBudget(sizes, count, budget);
        expect(count(r)).toBeLessThanOrEqual(budget);
        r.forEach((ri, i) => {
          expect(ri).toBeGreaterThanOrEqual(1);
          expect(ri).toBeLessThanOrEqual(sizes[i]);
          if (ri < sizes[i]) {
            const up = r.slice();
            up[i]++;
            expect(count(up)).toBeGreaterThan(budget);
          }
        });
      }),
      fcOptions(60),
    );
  });

  it('rejects a budget below the smallest form, naming the numbers', () => {
    const [conv2] = compressedLayers(lenet5());
    expect(() => layerRanksForBudget(conv2, 'matrix', 100)).toThrow(/budget 100 parameters is below the smallest form/);
    expect(() => ranksForBudget([3], (r) => r[0], Number.NaN)).toThrow(/budget must be a positive number/);
  });

  it('each layer keeps at most the budget fraction, in every form', () => {
    const layers = compressedLayers(lenet5());
    for (const form of ['tucker', 'matrix', 'two-factor'] as const) {
      for (const keep of [0.2, 0.07, 0.03]) {
        const ranks = ranksForKeptFraction(layers, form, keep);
        for (const l of layers) {
          const f = l.kind === 'linear' ? (form === 'two-factor' ? 'two-factor' : 'matrix') : form;
          expect(formParams(l, f, ranks[l.name])).toBeLessThanOrEqual(keep * l.fullParams);
        }
      }
    }
  });

  for (const name of ['tucker-fixed', 'matrix-fixed', 'elrt'] as const) {
    it(`${name}: the factorised model's parameters meet the budget, maximally`, () => {
      for (const budget of [0.2, 0.07]) {
        const method = createMethod(name, { lr: 0.01, budget });
        method.setup(lenet5({ generator: new Generator(1) }), ctx());
        const rep = method.report();
        expect(rep.layers.map((l) => l.name)).toEqual(['3', '7']);
        for (const l of rep.layers) {
          expect(l.params).toBeLessThanOrEqual(budget * l.fullParams);
          // One more rank on fc1 (both modes: a matrix has one rank) would break the budget.
          if (l.name === '7') expect(l.params + (l.ranks[0] + 1) ** 2 - l.ranks[0] ** 2 + 1300).toBeGreaterThan(budget * l.fullParams);
        }
        expect(rep.params).toBeLessThanOrEqual(budget * rep.fullParams);
        expect(rep.params).toBeGreaterThan(0.9 * budget * rep.fullParams);
      }
    });
  }

  it('planRanks takes explicit ranks, and checks that they name every compressed layer', () => {
    const model = lenet5();
    const plan = planRanks(model, { ranks: { '3': [5, 4, 5, 5], '7': [10, 10] }, convForm: 'tucker' }, 'test');
    expect(plan.ranks['3']).toEqual([5, 4, 5, 5]);
    expect(plan.skip).toEqual(['0', '9']);
    expect(() => planRanks(model, { ranks: { '3': [5, 4, 5, 5] }, convForm: 'tucker' }, 'test')).toThrow(/'7' is missing/);
    expect(() => planRanks(model, { convForm: 'tucker' }, 'test')).toThrow(/give budget/);
  });
});
