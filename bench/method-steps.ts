/**
 * What does one training step of each method cost on LeNet-5, against a full step, in one run?
 * Batch 64 of random 28×28 images, the settings of the methods bench's middle budget (TDLRT and
 * matrix DLRT at τ = 0.1 with fc1 capped at rank 100 and a 20-step warm-up at τ = 0, TRP at
 * e = 0.95 truncating every 20 steps, the budget-matched methods at 13.3% of conv2 + fc1).
 * The integrator's warm-up steps (ranks at their caps) and the steps after it are timed apart.
 *
 *   npx tsx bench/method-steps.ts          Writes bench/results/method-steps.md.
 * To compare two versions of the code, run the same file in a checkout of each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { lenet5 } from '../src/nn/models.js';
import { createMethod, type MethodOptions } from '../src/lowrank/methods/registry.js';
import { Generator, manualSeed } from '../src/tensor/random.js';
import { randn } from '../src/tensor/creation.js';
import { tidy } from '../src/tensor/storage.js';

const batch = 64;
const fc1Cap = (layer: string, _mode: number, size: number) => (layer === '7' ? Math.min(size, 100) : size);

/** Mean step time over [from, to) after `skip` untimed steps. */
function stepTimes(name: string, options: Omit<MethodOptions, 'lr'>, steps: number, windows: Record<string, [number, number]>): Record<string, number> {
  manualSeed(0);
  const model = lenet5({ generator: new Generator(0) });
  const method = createMethod(name, { lr: 0.05, ...options });
  method.setup(model, { stepsPerEpoch: 100, epochs: 1, generator: new Generator(0) });
  const x = randn([batch, 1, 28, 28]);
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const t: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    tidy(() => {
      method.step(x, y);
    });
    t.push(performance.now() - t0);
  }
  const out: Record<string, number> = {};
  for (const [k, [a, b]] of Object.entries(windows)) out[k] = t.slice(a, b).reduce((p, q) => p + q, 0) / (b - a);
  return out;
}

const adaptive = { tau: 0.1, warmupEpochs: 0.2, maxRank: fc1Cap };
const budget = 0.133;
const rows: [string, string, Record<string, number>][] = [];
const run = (label: string, name: string, options: Omit<MethodOptions, 'lr'>, steps: number, windows: Record<string, [number, number]>) => {
  const r = stepTimes(name, options, steps, windows);
  rows.push([label, name, r]);
  process.stderr.write(
    `${label}: ${Object.entries(r)
      .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
      .join(', ')}\n`,
  );
};
run('full', 'full', {}, 30, { step: [5, 30] });
for (const integrator of ['parallel', 'bug'] as const) {
  const windows: Record<string, [number, number]> = { 'warm-up (τ = 0, ranks at their caps)': [3, 20], 'after the warm-up': [25, 50] };
  run(`tdlrt (τ = 0.1, ${integrator})`, 'tdlrt', { ...adaptive, integrator }, 50, windows);
  run(`dlrt-matrix (τ = 0.1, ${integrator})`, 'dlrt-matrix', { ...adaptive, integrator }, 50, windows);
}
run('trp (e = 0.95, m = 20)', 'trp', { trpEnergy: 0.95, trpInterval: 20 }, 63, { 'step, truncation amortised': [3, 63] });
run('lra (S_D = 200)', 'lra', { budget, lraInterval: 200 }, 30, { step: [5, 30] });
run('tucker-fixed', 'tucker-fixed', { budget }, 30, { step: [5, 30] });
run('elrt', 'elrt', { budget }, 30, { step: [5, 30] });

const full = rows[0][2].step;
const lines = [
  '# One training step of each method on LeNet-5 (batch 64), against the full step',
  '',
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, CPU backend, mean step time over the window. Command: \`npx tsx bench/method-steps.ts\`.`,
  '',
  '| method | window | step (ms) | × full step |',
  '|---|---|---|---|',
  ...rows.flatMap(([label, , r]) => Object.entries(r).map(([k, v]) => `| ${label} | ${k} | ${v.toFixed(0)} | ${(v / full).toFixed(2)} |`)),
  '',
];
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/method-steps.md', lines.join('\n'));
process.stderr.write('wrote bench/results/method-steps.md\n');
