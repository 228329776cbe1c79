/**
 * What does one training step of each method cost on LeNet-5, against a full step, in one run?
 * Batch 64 of random 28×28 images.
 *
 * Part 1, at the ranks TDLRT ends at in the demo (conv2 16×11, fc1 20): the full step, a
 * tucker-fixed step and a TDLRT step of each integrator (τ = 0 with maxRank at those ranks keeps
 * them there: the augmentation to 2r, the K-step directions and the truncation SVDs all run), in
 * interleaved rounds, median over rounds, so that a change of machine load hits all alike. Every
 * step runs inside arena(), as the training loop runs it.
 *
 * Part 2, the settings of the methods bench's middle budget (TDLRT and matrix DLRT at τ = 0.1 with
 * fc1 capped at rank 100 and a 20-step warm-up at τ = 0, TRP at e = 0.95 truncating every 20 steps,
 * the budget-matched methods at 13.3% of conv2 + fc1). The warm-up steps (the full model, by
 * default), the switch to Tucker form, and the steps after it are timed apart; one row runs the
 * integrator's own warm-up at the capped ranks (option warmup 'integrator') for comparison.
 *
 * Part 3, the switch at the end of TDLRT's default full-model warm-up: the exact conversion to
 * Tucker form and the settling of the ranks, a one-off cost.
 *
 *   npx tsx bench/method-steps.ts          Writes bench/results/method-steps.md.
 * To compare two versions of the code, run the same file in a checkout of each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { factorize } from '../src/lowrank/factorize.js';
import { RankAdaptiveIntegrator } from '../src/lowrank/integrator.js';
import { crossEntropy } from '../src/ops/loss.js';
import { SGD } from '../src/optim/sgd.js';
import { lenet5 } from '../src/nn/models.js';
import { createMethod, type MethodOptions } from '../src/lowrank/methods/registry.js';
import { Generator, manualSeed } from '../src/tensor/random.js';
import { randn } from '../src/tensor/creation.js';
import { arena } from '../src/tensor/storage.js';

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
    arena(() => {
      method.step(x, y);
    });
    t.push(performance.now() - t0);
  }
  const out: Record<string, number> = {};
  for (const [k, [a, b]] of Object.entries(windows)) out[k] = t.slice(a, b).reduce((p, q) => p + q, 0) / (b - a);
  return out;
}

/** Part 1: median step times of interleaved rounds, at the demo's final ranks. */
function atFinalRanks(rounds: number): Record<string, number> {
  manualSeed(0);
  const x = randn([batch, 1, 28, 28]);
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const ranks = { '3': [16, 11, 5, 5], '7': [20, 20] };
  const caps = (layer: string, mode: number) => (layer === '3' ? ([16, 11][mode] ?? 5) : 20);
  const steps: Record<string, () => void> = {};
  const sgd = (m: ReturnType<typeof lenet5>) => {
    const opt = new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
    return () => {
      opt.zeroGrad();
      crossEntropy(m.forward(x), y).backward();
      opt.step();
    };
  };
  steps.full = sgd(lenet5({ generator: new Generator(0) }));
  steps['tucker-fixed'] = sgd(factorize(lenet5({ generator: new Generator(0) }), { ranks, init: 'random', generator: new Generator(1) }));
  for (const integrator of ['parallel', 'bug'] as const) {
    const m = factorize(lenet5({ generator: new Generator(0) }), { ranks, init: 'random', generator: new Generator(1) });
    const it = new RankAdaptiveIntegrator(m, { integrator, lr: 0.01, tau: 0, maxRank: caps, momentum: 0.9, weightDecay: 5e-4 });
    steps[`tdlrt ${integrator}`] = () => {
      it.step(() => crossEntropy(m.forward(x), y));
    };
  }
  const times: Record<string, number[]> = {};
  for (const [k, f] of Object.entries(steps)) {
    times[k] = [];
    for (let i = 0; i < 3; i++) arena(f);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [k, f] of Object.entries(steps)) {
      const t0 = performance.now();
      for (let i = 0; i < 4; i++) arena(f);
      times[k].push((performance.now() - t0) / 4);
    }
  }
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** Part 3: the conversion of a full LeNet-5 to Tucker form at full rank and the settling of its ranks. */
function switchCost(): { convert: number; settle: number; ranks: string } {
  const model = lenet5({ generator: new Generator(0) });
  let t0 = performance.now();
  factorize(model, { rankRatio: 1, init: 'weights' });
  const convert = performance.now() - t0;
  const it = new RankAdaptiveIntegrator(model, { lr: 0.05, tau: 0.1, momentum: 0.9 });
  t0 = performance.now();
  it.settleRanks();
  const settle = performance.now() - t0;
  return {
    convert,
    settle,
    ranks: Object.entries(it.ranks())
      .map(([n, r]) => `${n}: ${r.slice(0, 2).join('×')}`)
      .join(', '),
  };
}

const load0 = loadavg()[0];
const part1 = atFinalRanks(8);
process.stderr.write(`part 1: ${JSON.stringify(part1)}\n`);
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
// The default warm-up trains the full model; its 20th step (index 19) converts to Tucker form and
// settles the ranks (part 3 times the two apart on an untrained net).
const fullWarmup: Record<string, [number, number]> = {
  'warm-up (full model)': [3, 19],
  'the switch step (conversion and settling)': [19, 20],
  'first steps after the switch': [20, 25],
  'after the warm-up': [25, 50],
};
const capWarmup: Record<string, [number, number]> = { 'warm-up (τ = 0, ranks at their caps)': [3, 20], 'after the warm-up': [25, 50] };
for (const integrator of ['parallel', 'bug'] as const) {
  run(`tdlrt (τ = 0.1, ${integrator})`, 'tdlrt', { ...adaptive, integrator }, 50, fullWarmup);
  run(`dlrt-matrix (τ = 0.1, ${integrator})`, 'dlrt-matrix', { ...adaptive, integrator }, 50, fullWarmup);
}
run("tdlrt (τ = 0.1, parallel, warmup 'integrator')", 'tdlrt', { ...adaptive, warmup: 'integrator' }, 50, capWarmup);
run('trp (e = 0.95, m = 20)', 'trp', { trpEnergy: 0.95, trpInterval: 20 }, 63, { 'step, truncation amortised': [3, 63] });
run('lra (S_D = 200)', 'lra', { budget, lraInterval: 200 }, 30, { step: [5, 30] });
run('tucker-fixed', 'tucker-fixed', { budget }, 30, { step: [5, 30] });
run('elrt', 'elrt', { budget }, 30, { step: [5, 30] });

const part3 = switchCost();
const load1 = loadavg()[0];
const full = rows[0][2].step;
const lines = [
  '# One training step of each method on LeNet-5 (batch 64), against the full step',
  '',
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, CPU backend. Command: \`npx tsx bench/method-steps.ts\`. 1-minute load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end.`,
  '',
  '## 1. At the ranks TDLRT ends at in the demo (conv2 16×11, fc1 20)',
  '',
  'Median over 8 interleaved rounds of 4 steps each.',
  '',
  '| step | ms | × full step | × tucker-fixed step |',
  '|---|---|---|---|',
  ...Object.entries(part1).map(([k, v]) => `| ${k} | ${v.toFixed(1)} | ${(v / part1.full).toFixed(2)} | ${(v / part1['tucker-fixed']).toFixed(2)} |`),
  '',
  "## 2. At the methods bench's settings (mean step time over the window)",
  '',
  '| method | window | step (ms) | × full step |',
  '|---|---|---|---|',
  ...rows.flatMap(([label, , r]) => Object.entries(r).map(([k, v]) => `| ${label} | ${k} | ${v.toFixed(0)} | ${(v / full).toFixed(2)} |`)),
  '',
  '## 3. The switch after the default full-model warm-up (once per run)',
  '',
  `Exact conversion of LeNet-5 to Tucker form at full rank: ${part3.convert.toFixed(0)} ms; settling the ranks (τ = 0.1, an untrained net, so they fall further than after training): ${part3.settle.toFixed(0)} ms, to ${part3.ranks}.`,
  '',
];
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/method-steps.md', lines.join('\n'));
process.stderr.write('wrote bench/results/method-steps.md\n');
