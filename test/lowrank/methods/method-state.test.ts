/**
 * The explicit, versioned checkpoint states of the SGD-trained methods (tucker-fixed, ELRT, LRA,
 * TRP): through a checkpoint file and back, a method set up afresh on the saved weights continues
 * bit for bit as the original, across the step where LRA projects and TRP truncates; a state of
 * the wrong version, or naming layers the model does not compress, is refused by name.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureMethodState, restoreMethodState } from '../../../src/lowrank/method-state.js';
import { loadModelState } from '../../../src/lowrank/load-state.js';
import { createMethod, type MethodOptions } from '../../../src/lowrank/methods/registry.js';
import { conformModel } from '../../../src/nn/model-structure.js';
import { buildBaseModel, type ModelSpec } from '../../../src/nn/zoo.js';
import { Generator } from '../../../src/tensor/random.js';
import type { StateTree } from '../../../src/tensor/state-tree.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { loadCheckpoint, saveCheckpoint } from '../../../src/train/checkpoint.js';
import { tempDir } from '../../cli/helpers.js';

const LENET: ModelSpec = { builder: 'lenet5', numClasses: 10, dtype: 'float32', inputShape: [1, 28, 28] };

let dir: string;
beforeAll(() => {
  dir = tempDir('tuckergrad-method-state-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function batch(n: number, seed: number): { x: Tensor; y: Int32Array } {
  const g = new Generator(seed);
  const x = new Float32Array(n * 784).map(() => g.normal());
  return { x: new Tensor(x, [n, 1, 28, 28]), y: Int32Array.from({ length: n }, (_, i) => i % 10) };
}

const cases: [string, Omit<MethodOptions, 'lr'>][] = [
  ['tucker-fixed', { budget: 0.2, momentum: 0.9, weightDecay: 5e-4 }],
  ['elrt', { budget: 0.2, momentum: 0.9 }],
  ['lra', { budget: 0.2, lraInterval: 2, momentum: 0.9 }],
  ['trp', { trpEnergy: 0.9, trpInterval: 2, trpNuclear: 1e-3, momentum: 0.9 }],
];

describe('versioned method states through a checkpoint', () => {
  for (const [name, options] of cases) {
    it(`${name}: restored on a fresh setup, the next steps are bit for bit the original's`, () => {
      const make = () => {
        const method = createMethod(name, { lr: 0.05, ...options });
        const model = method.setup(buildBaseModel(LENET), { stepsPerEpoch: 4, epochs: 1, generator: new Generator(3) });
        return { method, model };
      };
      const a = make();
      for (let s = 0; s < 3; s++) a.method.step(batch(8, s).x, batch(8, s).y);
      const state = captureMethodState(a.method);
      expect((state as { custom?: { version?: number } }).custom?.version).toBe(1);
      const path = join(dir, `${name}.safetensors`);
      saveCheckpoint(path, { model: a.model, modelSpec: LENET, kind: 'training', method: { name, options: {} }, state: { method: state }, sections: {} });
      const ckpt = loadCheckpoint(path);
      const b = make();
      conformModel(b.model, LENET, ckpt.layers);
      loadModelState(b.model, ckpt.modelState);
      restoreMethodState(b.method, (ckpt.state as { method: StateTree }).method);
      // Steps 3 and 4: LRA projects after step 4, TRP truncates before step 5 (interval 2).
      for (let s = 3; s < 6; s++) {
        const { x, y } = batch(8, s);
        expect(b.method.step(x, y).loss).toBe(a.method.step(x, y).loss);
      }
      const wa = a.model.stateDict();
      const wb = b.model.stateDict();
      for (const k of Object.keys(wa)) expect(Buffer.from(wb[k].data.buffer).equals(Buffer.from(wa[k].data.buffer)), k).toBe(true);
    });
  }

  it('a state of another version, or one naming a layer the model does not compress, is refused by name', () => {
    const lra = createMethod('lra', { lr: 0.05, budget: 0.2 });
    lra.setup(buildBaseModel(LENET), { stepsPerEpoch: 4, epochs: 1, generator: new Generator(3) });
    expect(() => lra.setState?.({ version: 2, stepCount: 0, optimizer: {} })).toThrow(/lra\.setState: expected state version 1, got 2/);
    expect(() => lra.setState?.({ version: 1, stepCount: -1, optimizer: {} })).toThrow(/stepCount must be an integer ≥ 0, got -1/);
    const trp = createMethod('trp', { lr: 0.05, trpEnergy: 0.9 });
    trp.setup(buildBaseModel(LENET), { stepsPerEpoch: 4, epochs: 1, generator: new Generator(3) });
    const good = trp.getState?.() as Record<string, unknown>;
    expect(() => trp.setState?.({ ...good, ranks: { nine: 3 } })).toThrow(/ranks names a layer 'nine'/);
    expect(() => trp.setState?.({ ...good, subgradients: { '3': new Float64Array(5) } })).toThrow(/subgradient of '3' must be a float array of 25000 values/);
    const fixed = createMethod('tucker-fixed', { lr: 0.05, budget: 0.2 });
    fixed.setup(buildBaseModel(LENET), { stepsPerEpoch: 4, epochs: 1, generator: new Generator(3) });
    expect(() => fixed.setState?.({ version: 1, optimizers: [] })).toThrow(/optimizers must be an array of \d+ optimizer states/);
  });
});
