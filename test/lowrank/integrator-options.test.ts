/**
 * Issue #19, defect 7: the integrator takes τ and momentum on the same terms as optim.SGD takes
 * momentum, 0 ≤ x < 1. Before the fix τ ≥ 1, τ = ∞ and momentum ≥ 1 were accepted (τ = 1 truncates
 * every layer to its minimum rank; momentum ≥ 1 makes the velocity grow without bound).
 */
import { describe, expect, it } from 'vitest';
import { RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { createMethod } from '../../src/lowrank/methods/registry.js';
import { Generator } from '../../src/tensor/random.js';
import { tuckerConv } from './fixtures.js';

describe('RankAdaptiveIntegrator option bounds', () => {
  const layer = tuckerConv([4, 4, 3, 3], [2, 2], new Generator(1));

  it.each([1, 1.5, Number.POSITIVE_INFINITY, Number.NaN, -0.1])('tau %s is refused, naming the bound and the value', (tau) => {
    expect(() => new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.1, tau })).toThrow(`RankAdaptiveIntegrator: tau must be ≥ 0 and < 1, got ${tau}`);
  });

  it.each([1, 50, Number.POSITIVE_INFINITY, -0.5])('momentum %s is refused, naming the bound and the value', (momentum) => {
    expect(() => new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.1, momentum })).toThrow(
      `RankAdaptiveIntegrator: momentum must be ≥ 0 and < 1, got ${momentum}`,
    );
  });

  it('the bounds themselves: tau 0 and momentum 0 are taken, and values just below 1', () => {
    for (const [tau, momentum] of [
      [0, 0],
      [0.999, 0.999],
    ])
      expect(() => new RankAdaptiveIntegrator(layer, { integrator: 'bug', lr: 0.1, tau, momentum })).not.toThrow();
  });

  // With the default full warm-up, TDLRT builds its integrator only after the first epoch: τ = 1 or
  // ∞ was accepted by createMethod and setup and failed an epoch into training, from inside step().
  it.each([
    ['tdlrt', 'tau', 1],
    ['tdlrt', 'tau', Number.POSITIVE_INFINITY],
    ['tdlrt', 'momentum', 1],
    ['dlrt-matrix', 'tau', 1.5],
    ['dlrt-matrix', 'momentum', -0.1],
  ])('createMethod(%s) refuses %s = %s at once, before any training', (method, key, value) => {
    expect(() => createMethod(method, { lr: 0.05, [key]: value })).toThrow(`tdlrt: ${key} must be ≥ 0 and < 1, got ${value}`);
  });
});
