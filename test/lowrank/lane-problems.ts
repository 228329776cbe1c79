/**
 * The problem of test/lowrank/layer-lanes.test.ts, and what it checks in a fresh worker thread
 * (where the layer lanes' module state starts empty): a step without worker threads or without
 * tsx falls back to the calling thread.
 */
import { setNumThreads } from '../../src/backend/index.js';
import { factorize } from '../../src/lowrank/factorize.js';
import { RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { lanesDisabled, lanesFor } from '../../src/lowrank/layer-lanes.js';
import type { ParallelLayerJob } from '../../src/lowrank/layer-update.js';
import { Conv2d, Flatten, Linear, ReLU, Sequential } from '../../src/nn/layers.js';
import { mseLoss } from '../../src/ops/loss.js';
import { randn } from '../../src/tensor/creation.js';
import { Generator } from '../../src/tensor/random.js';

/** Three low-rank layers (two Tucker convolutions, one matrix layer) on a seeded batch. */
export function problem(seed: number) {
  const g = new Generator(seed);
  const net = new Sequential(
    new Conv2d(3, 8, 3, { padding: 1, generator: g }),
    new ReLU(),
    new Conv2d(8, 10, 3, { padding: 1, generator: g }),
    new ReLU(),
    new Conv2d(10, 6, 3, { generator: g }),
    new ReLU(),
    new Flatten(),
    new Linear(6 * 4 * 4, 12, { generator: g }),
    new ReLU(),
    new Linear(12, 3, { generator: g }),
  );
  const model = factorize(net, { rankRatio: 0.5, init: 'random', generator: new Generator(seed + 1), skip: ['0', '9'] });
  const x = randn([4, 3, 6, 6], { generator: new Generator(seed + 2) });
  const y = randn([4, 3], { generator: new Generator(seed + 3) });
  return { model, loss: () => mseLoss(model.forward(x), y) };
}

export function snapshot(model: Sequential): Float32Array[] {
  return model.parameters().map((p) => Float32Array.from(p.data));
}

/**
 * In a fresh worker: hides one built-in module from process.getBuiltinModule, then takes `steps`
 * steps of problem(seed) on one kernel thread asking for two lanes. Returns the parameters,
 * whether the lanes were disabled, and how many lanes two would get after the steps.
 */
export function stepsWithout(hidden: string, seed: number, steps: number): { params: Float32Array[]; disabled: boolean; lanes: number } {
  const proc = process as unknown as { getBuiltinModule: (id: string) => unknown };
  const original = proc.getBuiltinModule.bind(process);
  proc.getBuiltinModule = (id: string) => (id === hidden ? undefined : original(id));
  setNumThreads(1);
  const p = problem(seed);
  const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.05, tau: 0.2, momentum: 0.9, layerThreads: 2 });
  let jobs: readonly ParallelLayerJob[] = [];
  integ.onLayerJobs = (j) => {
    jobs = j;
  };
  for (let s = 0; s < steps; s++) integ.step(p.loss);
  return { params: snapshot(p.model), disabled: lanesDisabled(), lanes: lanesFor(jobs, 2) };
}
