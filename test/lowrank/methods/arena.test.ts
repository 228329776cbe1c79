/**
 * Every training method inside arena(), which recycles the buffers a step allocates, follows the
 * same trajectory bit for bit as inside tidy(): nothing a method keeps across steps (the
 * integrator's float64 velocities, TRP's subgradients, the warm-up's conversion to Tucker form,
 * the parameters it installs) lives in a recycled buffer. The steps cross a TDLRT warm-up's switch,
 * rank changes, LRA's projections and TRP's truncations.
 */
import { describe, expect, it } from 'vitest';
import { createMethod, METHOD_NAMES, type MethodOptions } from '../../../src/lowrank/methods/registry.js';
import { buildBaseModel, type ModelSpec } from '../../../src/nn/zoo.js';
import { Generator } from '../../../src/tensor/random.js';
import { arena, tidy } from '../../../src/tensor/storage.js';
import { Tensor } from '../../../src/tensor/tensor.js';

const LENET: ModelSpec = { builder: 'lenet5', numClasses: 10, dtype: 'float32', inputShape: [1, 28, 28] };

function batch(n: number, seed: number): { x: Tensor; y: Int32Array } {
  const g = new Generator(seed);
  const x = new Float32Array(n * 784).map(() => g.normal());
  return { x: new Tensor(x, [n, 1, 28, 28]), y: Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10) };
}

const options: Omit<MethodOptions, 'lr'> = {
  momentum: 0.9,
  weightDecay: 5e-4,
  tau: 0.2,
  rankRatio: 0.3,
  warmupEpochs: 0.5,
  budget: 0.2,
  lraInterval: 3,
  trpInterval: 3,
  trpEnergy: 0.9,
  trpNuclear: 1e-3,
};

function run(name: string, scope: (fn: () => void) => void, extra: Omit<MethodOptions, 'lr'> = {}) {
  const method = createMethod(name, { lr: 0.05, ...options, ...extra });
  method.setup(buildBaseModel(LENET), { stepsPerEpoch: 6, epochs: 2, generator: new Generator(5) });
  const losses: number[] = [];
  for (let s = 0; s < 9; s++) {
    const { x, y } = batch(8, s);
    scope(() => {
      losses.push(method.step(x, y).loss);
    });
  }
  const weights = Object.entries(method.finalize().stateDict()).map(([k, t]) => [k, Array.from(t.data)] as const);
  return { losses, weights, report: JSON.stringify(method.report()) };
}

describe('training methods inside arena() match tidy() bit for bit', () => {
  const cases: [string, Omit<MethodOptions, 'lr'>][] = [
    ...METHOD_NAMES.map((n): [string, Omit<MethodOptions, 'lr'>] => [n, {}]),
    ['tdlrt', { integrator: 'bug' }],
  ];
  for (const [name, extra] of cases) {
    it(`${name}${extra.integrator ? ` (integrator ${extra.integrator})` : ''}`, () => {
      const plain = run(name, (fn) => tidy(fn), extra);
      const pooled = run(name, (fn) => arena(fn), extra);
      expect(pooled.losses).toEqual(plain.losses);
      expect(pooled.report).toEqual(plain.report);
      expect(pooled.weights.map(([k]) => k)).toEqual(plain.weights.map(([k]) => k));
      pooled.weights.forEach(([k, w], i) => expect(w, k).toEqual(plain.weights[i][1]));
    });
  }
});
