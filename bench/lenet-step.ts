/**
 * The LeNet-5 training steps the step benches time (bench/step-run.ts, bench/step-serial.ts): the
 * full model by SGD, a fixed-rank Tucker model by SGD, or TDLRT's rank-adaptive step (the default
 * integrator step), both low-rank ones at the ranks the demo's TDLRT ends at (bench/demo-ranks.ts),
 * on one seeded random batch.
 */
import { Generator, lowrank, manualSeed, nn, optim, randn } from '../src/index.js';
import { crossEntropy } from '../src/ops/loss.js';
import { DEMO_RANKS, demoRankCaps } from './demo-ranks.js';

export const STEP_METHODS = ['full', 'tucker-fixed', 'tdlrt'] as const;
export type StepMethod = (typeof STEP_METHODS)[number];

/** One training step of `method` on a batch of `batch` images (seed 0), as a function to call. */
export function lenetStep(method: string, batch: number): () => void {
  if (!(STEP_METHODS as readonly string[]).includes(method)) throw new Error(`lenetStep: method must be one of ${STEP_METHODS.join(', ')}, got '${method}'`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`lenetStep: batch must be a positive integer, got ${batch}`);
  manualSeed(0);
  const model = method === 'full' ? nn.lenet5() : lowrank.factorize(nn.lenet5(), { ranks: DEMO_RANKS, init: 'random', generator: new Generator(1) });
  const x = randn([batch, 1, 28, 28]);
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const loss = () => crossEntropy(model.forward(x), y);
  if (method === 'tdlrt') {
    // τ = 0 with the ranks capped where they start: every step augments and truncates back to them.
    const integrator = new lowrank.RankAdaptiveIntegrator(model, { lr: 0.01, tau: 0, maxRank: demoRankCaps, momentum: 0.9 });
    return () => {
      integrator.step(loss);
    };
  }
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  return () => {
    opt.zeroGrad();
    loss().backward();
    opt.step();
  };
}
