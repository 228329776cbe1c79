/**
 * RankAdaptiveIntegrator.lastTimes: where a step's time went. Checked on a clock that moves only
 * while the closure (the forward pass) runs, so every figure is known exactly: the passes hold all
 * of it, once per pass, and every other part is zero. No real time is measured or asserted.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { Linear, Sequential } from '../../src/nn/layers.js';
import { SGD } from '../../src/optim/sgd.js';
import { Generator } from '../../src/tensor/random.js';
import { linearProblem } from './problems.js';

/** A clock at `start` ms that the returned `tick` moves by `ms`; performance.now() reads it. */
function fakeClock(start: number): (ms: number) => void {
  let now = start;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  return (ms) => {
    now += ms;
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('RankAdaptiveIntegrator.lastTimes', () => {
  it('is null before the first step', () => {
    const p = linearProblem(6, 5, [2, 2], 8, new Generator(1));
    expect(new RankAdaptiveIntegrator(p.model, { lr: 0.01 }).lastTimes).toBeNull();
  });

  for (const [integrator, passes] of [
    ['parallel', 1],
    ['bug', 2],
  ] as const) {
    it(`${integrator}: the passes hold exactly the closure's time (${passes} pass${passes > 1 ? 'es' : ''} a step), every other part none, and the parts add up to the total`, () => {
      const p = linearProblem(6, 5, [2, 2], 8, new Generator(2));
      // A plain layer besides the low-rank one, so that the step of the other parameters runs too.
      const model = new Sequential(p.model, new Linear(6, 3, { dtype: 'float64', generator: new Generator(3) }));
      const integ = new RankAdaptiveIntegrator(model, { lr: 0.01, tau: 0.1, momentum: 0.9, integrator });
      const tick = fakeClock(5000);
      const closure = () => {
        tick(7);
        return p.closure();
      };
      for (let step = 0; step < 2; step++) {
        integ.step(closure);
        expect(integ.lastTimes).toEqual({ prepare: 0, passes: 7 * passes, gradients: 0, update: 0, others: 0, total: 7 * passes });
      }
      // Each other part now takes its own (distinct) time: each lands in its own field.
      const proto = RankAdaptiveIntegrator.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
      const taking = (target: Record<string, (...a: unknown[]) => unknown>, method: string, ms: number) => {
        const original = target[method];
        vi.spyOn(target, method).mockImplementation(function (this: unknown, ...a: unknown[]) {
          tick(ms);
          return original.apply(this, a);
        });
      };
      taking(proto, 'prepare', 1000);
      taking(proto, 'gradientsOf', 200);
      taking(proto, 'finish', 30);
      taking(SGD.prototype as unknown as Record<string, (...a: unknown[]) => unknown>, 'step', 0.5);
      integ.step(closure);
      expect(integ.lastTimes).toEqual({ prepare: 1000, passes: 7 * passes, gradients: 200, update: 30, others: 0.5, total: 1230.5 + 7 * passes });
    });
  }

  it('a pass that throws still counts its time, and the failed step leaves the last complete step’s times', () => {
    const p = linearProblem(6, 5, [2, 2], 8, new Generator(4));
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.01 });
    const tick = fakeClock(100);
    integ.step(() => {
      tick(3);
      return p.closure();
    });
    const before = integ.lastTimes;
    expect(() =>
      integ.step(() => {
        tick(5);
        throw new Error('bad batch');
      }),
    ).toThrow('bad batch');
    expect(integ.lastTimes).toBe(before);
    // The next step starts its own count: the failed pass's 5 ms are not carried over.
    integ.step(() => {
      tick(2);
      return p.closure();
    });
    expect(integ.lastTimes?.passes).toBe(2);
    expect(integ.lastTimes?.total).toBe(2);
  });
});
