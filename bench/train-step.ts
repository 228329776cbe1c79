/**
 * LeNet-5 training step (batch 64, SGD momentum): forward + backward + update, in ms and images/s,
 * each step inside arena() (its buffers serve the next step; --no-arena: fresh buffers), with the
 * buffers allocated fresh per step. --threads 1,2 times each count in turn in the same process
 * and prints the speed-up of the last over the first.
 * Run: npx tsx bench/train-step.ts [--batch 64] [--steps 20] [--threads 1,2] [--no-arena]
 */
import { getNumThreads, setNumThreads, startWorkers } from '../src/backend/cpu/index.js';
import { nn, optim, randn, manualSeed } from '../src/index.js';
import { crossEntropy } from '../src/ops/loss.js';
import { allocationStats } from '../src/tensor/dtype.js';
import { arena } from '../src/tensor/storage.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const batch = arg('batch', 64);
const steps = arg('steps', 20);
const useArena = !args.includes('--no-arena');
const ti = args.indexOf('--threads');
const threadList = ti >= 0 ? args[ti + 1].split(',').map(Number) : [getNumThreads()];
manualSeed(0);
const model = nn.lenet5();
const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const x = randn([batch, 1, 28, 28]);
const y = Int32Array.from({ length: batch }, (_, i) => i % 10);

const phases = { forward: 0, backward: 0, update: 0 };
const body = (): void => {
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
const once = (): void => (useArena ? arena(body) : body());
console.log(`LeNet-5 training step, batch ${batch}, float32, CPU backend (${steps} steps after warm-up, ${useArena ? 'arena' : 'no arena'})`);
const times: number[] = [];
for (const threads of threadList) {
  setNumThreads(threads);
  if (threads > 1) startWorkers();
  for (let i = 0; i < 3; i++) once();
  phases.forward = phases.backward = phases.update = 0;
  const fresh0 = allocationStats.fresh;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) once();
  const ms = (performance.now() - t0) / steps;
  times.push(ms);
  console.log(
    `  ${threads} thread${threads > 1 ? 's' : ''}: ${ms.toFixed(1)} ms/step, ${((batch * 1000) / ms).toFixed(0)} images/s; ${(allocationStats.fresh - fresh0) / steps} buffers allocated per step`,
  );
  console.log(
    `    forward ${(phases.forward / steps).toFixed(1)} ms, backward ${(phases.backward / steps).toFixed(1)} ms, update ${(phases.update / steps).toFixed(1)} ms`,
  );
}
if (times.length > 1)
  console.log(`  ${threadList[threadList.length - 1]} threads against ${threadList[0]}: ${(times[0] / times[times.length - 1]).toFixed(2)}× faster`);
