import { describe, expect, it } from 'vitest';
import { createMethod, METHOD_NAMES } from '../../../src/lowrank/methods/registry.js';
import { batch, ctx, smallNet } from './nets.js';

describe('createMethod', () => {
  it('creates every method by name; each trains, finalizes, reports and accounts for its cost', () => {
    const { x, y } = batch(3, 16);
    for (const name of METHOD_NAMES) {
      const m = createMethod(name, { lr: 0.05, budget: 0.3, tau: 0.2, warmupEpochs: 0, trpInterval: 2, lraInterval: 2 });
      expect(m.name).toBe(name);
      const model = m.setup(smallNet(1), ctx());
      for (let s = 0; s < 3; s++) expect(Number.isFinite(m.step(x, y).loss)).toBe(true);
      expect(model.parameters().length).toBeGreaterThan(0);
      const deployed = m.finalize();
      expect(deployed.forward(x).shape).toEqual([16, 10]);
      const rep = m.report();
      expect(rep.networkParams).toBeGreaterThan(0);
      if (name !== 'full') {
        expect(rep.layers.map((l) => l.name)).toEqual(['2', '5']);
        expect(rep.params).toBeLessThan(rep.fullParams);
      }
      expect(m.stepFlops?.(16, [1, 8, 8])).toBeGreaterThan(0);
    }
  });

  it("keeps 'full' and 'tdlrt' as they were, and names what is wrong", () => {
    expect(createMethod('full', { lr: 0.1 }).name).toBe('full');
    expect(createMethod('tdlrt', { lr: 0.1, tau: 0.1, rankRatio: 0.5 }).name).toBe('tdlrt');
    expect(() => createMethod('svd', { lr: 0.1 })).toThrow(
      /unknown method 'svd'; choose one of full, tucker-fixed, matrix-fixed, dlrt-matrix, trp, lra, elrt, tdlrt, post-hoc/,
    );
    expect(() => createMethod('tucker-fixed', { lr: 0.1 })).toThrow(/give budget/);
    expect(() => createMethod('full', null as never)).toThrow(/options must be an object/);
  });

  // Issue #19, defect 7: `--opt trpEnergyy=0.9` did nothing; the CLI checks its keys, and the API
  // now refuses a key that no method reads. A key another method reads stays allowed (shared options).
  it('refuses an option that no method has, naming it, and takes the options of another method', () => {
    expect(() => createMethod('trp', { lr: 0.05, trpEnergyy: 0.9 } as never)).toThrow(
      /createMethod: no method has an option 'trpEnergyy'; the options are lr, momentum, .*trpEnergy,/,
    );
    expect(createMethod('full', { lr: 0.05, tau: 0.1 }).name).toBe('full');
  });
});
