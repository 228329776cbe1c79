/**
 * LeNet-5 training step (batch 64, SGD momentum): forward + backward + update, in ms and images/s.
 * Run: npx tsx bench/train-step.ts [--batch 64] [--steps 20]
 */
import { nn, optim, randn, manualSeed } from '../src/index.js';
import { crossEntropy } from '../src/ops/loss.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const batch = arg('batch', 64);
const steps = arg('steps', 20);
manualSeed(0);
const model = nn.lenet5();
const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const x = randn([batch, 1, 28, 28]);
const y = Int32Array.from({ length: batch }, (_, i) => i % 10);

const phases = { forward: 0, backward: 0, update: 0 };
const once = (): void => {
  let t = performance.now();
  opt.zeroGrad();
  const loss = crossEntropy(model.forward(x), y);
  phases.forward += performance.now() - t;
  t = performance.now();
  loss.backward();
  phases.backward += performance.now() - t;
  t = performance.now();
  opt.step();
  phases.update += performance.now() - t;
};
for (let i = 0; i < 3; i++) once();
phases.forward = phases.backward = phases.update = 0;
const t0 = performance.now();
for (let i = 0; i < steps; i++) once();
const ms = (performance.now() - t0) / steps;
console.log(`LeNet-5 training step, batch ${batch}, float32, CPU backend (${steps} steps after warm-up)`);
console.log(`  ${ms.toFixed(1)} ms/step, ${((batch * 1000) / ms).toFixed(0)} images/s`);
console.log(
  `  forward ${(phases.forward / steps).toFixed(1)} ms, backward ${(phases.backward / steps).toFixed(1)} ms, update ${(phases.update / steps).toFixed(1)} ms`,
);
