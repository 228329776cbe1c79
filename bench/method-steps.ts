/**
 * What does one training step of each method cost on LeNet-5, against a full step, in one run?
 * Batch 64 of random 28×28 images, but for two rows of part 2 on the embedded MNIST digits.
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
 * integrator's own warm-up at the capped ranks (option warmup 'integrator') for comparison. On
 * random images and labels the ranks stay near full after the switch; the last two rows run the
 * full step and TDLRT on consecutive batches of real digits, where they fall, and time the steps
 * while they do (each against the full step on the same batches).
 *
 * Part 3, the switch at the end of TDLRT's default full-model warm-up, a one-off cost: the
 * conversion straight to the settled ranks, against the exact conversion and settleRanks.
 *
 *   npx tsx bench/method-steps.ts          Writes bench/results/method-steps.md.
 * To compare two versions of the code, run the same file in a checkout of each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { factorize } from '../src/lowrank/factorize.js';
import { RankAdaptiveIntegrator, type StepTimes } from '../src/lowrank/integrator.js';
import { settleRankRule } from '../src/lowrank/settle-rule.js';
import { crossEntropy } from '../src/ops/loss.js';
import { SGD } from '../src/optim/sgd.js';
import { lenet5 } from '../src/nn/models.js';
import { createMethod, type MethodOptions } from '../src/lowrank/methods/registry.js';
import { Generator, manualSeed } from '../src/tensor/random.js';
import { randn } from '../src/tensor/creation.js';
import { arena } from '../src/tensor/storage.js';
import { Tensor } from '../src/tensor/tensor.js';
import { loadMnistEmbedded } from '../src/data/mnist-embedded.js';
import { DEMO_RANKS, demoRankCaps } from './demo-ranks.js';
import { medians } from './timing.js';

const batch = 64;
const fc1Cap = (layer: string, _mode: number, size: number) => (layer === '7' ? Math.min(size, 100) : size);

/** The embedded MNIST digits (8,000 training images), loaded on first use. */
let digitSet: ReturnType<typeof loadMnistEmbedded>['train'] | null = null;

/** Batch `s` of the data: one random batch every step, or consecutive batches of real digits. */
function batchOf(data: 'random' | 'digits', s: number, random: { x: Tensor; y: Int32Array }): { x: Tensor; y: Int32Array } {
  if (data === 'random') return random;
  digitSet ??= loadMnistEmbedded({ trainSize: 8000, testSize: 0 }).train;
  const n = digitSet.labels.length;
  const from = (s * batch) % (n - batch);
  return { x: new Tensor(digitSet.images.slice(from * 784, (from + batch) * 784), [batch, 1, 28, 28]), y: digitSet.labels.slice(from, from + batch) };
}

/** Mean step time over each window [from, to) of step indices, and the ranks at the end. */
function stepTimes(
  name: string,
  options: Omit<MethodOptions, 'lr'>,
  steps: number,
  windows: Record<string, [number, number]>,
  data: 'random' | 'digits' = 'random',
): { times: Record<string, number>; ranks: string } {
  manualSeed(0);
  const model = lenet5({ generator: new Generator(0) });
  const method = createMethod(name, { lr: 0.05, ...options });
  method.setup(model, { stepsPerEpoch: 100, epochs: 1, generator: new Generator(0) });
  const random = { x: randn([batch, 1, 28, 28]), y: Int32Array.from({ length: batch }, (_, i) => i % 10) };
  const t: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { x, y } = batchOf(data, s, random);
    const t0 = performance.now();
    arena(() => {
      method.step(x, y);
    });
    t.push(performance.now() - t0);
  }
  const times: Record<string, number> = {};
  for (const [k, [a, b]] of Object.entries(windows)) times[k] = t.slice(a, b).reduce((p, q) => p + q, 0) / (b - a);
  const ranks = method.progress?.().ranks;
  return { times, ranks: typeof ranks === 'string' ? ranks : '' };
}

/**
 * Part 1: median step times of interleaved rounds, at the demo's final ranks, and per TDLRT row the
 * median over rounds of each part of its step (the integrator's lastTimes).
 */
function atFinalRanks(rounds: number): { times: Record<string, number>; parts: Record<string, StepTimes> } {
  manualSeed(0);
  const x = randn([batch, 1, 28, 28]);
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const ranks = DEMO_RANKS;
  const caps = demoRankCaps;
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
  const integrators: Record<string, RankAdaptiveIntegrator> = {};
  for (const integrator of ['parallel', 'bug'] as const) {
    const m = factorize(lenet5({ generator: new Generator(0) }), { ranks, init: 'random', generator: new Generator(1) });
    const it = new RankAdaptiveIntegrator(m, { integrator, lr: 0.01, tau: 0, maxRank: caps, momentum: 0.9, weightDecay: 5e-4 });
    integrators[`tdlrt ${integrator}`] = it;
    steps[`tdlrt ${integrator}`] = () => {
      it.step(() => crossEntropy(m.forward(x), y));
    };
  }
  const parts: Record<string, Record<string, number[]>> = {};
  const times: Record<string, number[]> = {};
  for (const [k, f] of Object.entries(steps)) {
    times[k] = [];
    for (let i = 0; i < 3; i++) arena(f);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [k, f] of Object.entries(steps)) {
      const t0 = performance.now();
      const sums: Record<string, number> = {};
      for (let i = 0; i < 4; i++) {
        arena(f);
        for (const [part, ms] of Object.entries(integrators[k]?.lastTimes ?? {})) sums[part] = (sums[part] ?? 0) + ms / 4;
      }
      times[k].push((performance.now() - t0) / 4);
      for (const [part, ms] of Object.entries(sums)) ((parts[k] ??= {})[part] ??= []).push(ms);
    }
  }
  return {
    times: medians(times),
    parts: Object.fromEntries(Object.entries(parts).map(([k, byPart]) => [k, medians(byPart) as unknown as StepTimes])),
  };
}

/**
 * Part 3: the switch from the full warm-up on a LeNet-5 (τ = 0.1): as TDLRT runs it, one truncated
 * HOSVD per kernel at the settled ranks (settle-rule.ts), against the exact full-rank conversion
 * followed by settleRanks, which it replaced and which lands on the same ranks.
 */
function switchCost(): { direct: number; convert: number; settle: number; ranks: string; same: boolean } {
  const ranksOf = (it: RankAdaptiveIntegrator) =>
    Object.entries(it.ranks())
      .map(([n, r]) => `${n}: ${r.slice(0, 2).join('×')}`)
      .join(', ');
  const a = lenet5({ generator: new Generator(0) });
  let t0 = performance.now();
  factorize(a, { init: 'weights', rankRule: settleRankRule({ tau: 0.1 }) });
  const direct = performance.now() - t0;
  const b = lenet5({ generator: new Generator(0) });
  t0 = performance.now();
  factorize(b, { rankRatio: 1, init: 'weights' });
  const convert = performance.now() - t0;
  const it = new RankAdaptiveIntegrator(b, { lr: 0.05, tau: 0.1, momentum: 0.9 });
  t0 = performance.now();
  it.settleRanks();
  const settle = performance.now() - t0;
  const ranks = ranksOf(it);
  return { direct, convert, settle, ranks, same: ranksOf(new RankAdaptiveIntegrator(a, { lr: 0.05, tau: 0.1 })) === ranks };
}

const load0 = loadavg()[0];
const { times: part1, parts: part1Parts } = atFinalRanks(8);
process.stderr.write(`part 1: ${JSON.stringify(part1)}\n`);
const adaptive = { tau: 0.1, warmupEpochs: 0.2, maxRank: fc1Cap };
const budget = 0.133;
const rows: [string, string, Record<string, number>][] = [];
const endRanks: Record<string, string> = {};
const run = (
  label: string,
  name: string,
  options: Omit<MethodOptions, 'lr'>,
  steps: number,
  windows: Record<string, [number, number]>,
  data: 'random' | 'digits' = 'random',
) => {
  const { times: r, ranks } = stepTimes(name, options, steps, windows, data);
  rows.push([label, name, r]);
  if (ranks) endRanks[label] = ranks;
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
  'the switch step (conversion at the settled ranks)': [19, 20],
  'first steps after the switch': [20, 25],
  'after the warm-up': [25, 50],
};
const capWarmup: Record<string, [number, number]> = { 'warm-up (τ = 0, ranks at their caps)': [3, 20], 'after the warm-up': [25, 50] };
for (const integrator of ['parallel', 'bug'] as const) {
  run(`tdlrt (τ = 0.1, ${integrator})`, 'tdlrt', { ...adaptive, integrator }, 50, fullWarmup);
  run(`dlrt-matrix (τ = 0.1, ${integrator})`, 'dlrt-matrix', { ...adaptive, integrator }, 50, fullWarmup);
}
run("tdlrt (τ = 0.1, parallel, warmup 'integrator')", 'tdlrt', { ...adaptive, warmup: 'integrator' }, 50, capWarmup);
// On real digits the ranks do fall after the switch (random images and labels hold them near full):
// the full step on the same batches, then TDLRT's windows while they fall.
const fallWindows: Record<string, [number, number]> = {
  'the switch step (conversion at the settled ranks)': [19, 20],
  'steps 21–25 (the first after the switch)': [20, 25],
  'steps 26–50': [25, 50],
  'steps 51–150': [50, 150],
  'steps 21–150, all': [20, 150],
};
run('full, MNIST digits', 'full', {}, 60, { step: [10, 60] }, 'digits');
run('tdlrt (τ = 0.1, parallel), MNIST digits', 'tdlrt', adaptive, 150, fallWindows, 'digits');
run('trp (e = 0.95, m = 20)', 'trp', { trpEnergy: 0.95, trpInterval: 20 }, 63, { 'step, truncation amortised': [3, 63] });
run('lra (S_D = 200)', 'lra', { budget, lraInterval: 200 }, 30, { step: [5, 30] });
run('tucker-fixed', 'tucker-fixed', { budget }, 30, { step: [5, 30] });
run('elrt', 'elrt', { budget }, 30, { step: [5, 30] });

const part3 = switchCost();
const load1 = loadavg()[0];
const full = rows[0][2].step;
const digitsFull = rows.find(([label]) => label === 'full, MNIST digits')![2].step;
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
  "Where a TDLRT step's time goes (the integrator's `lastTimes`, medians over the same rounds, ms): the forward/backward passes, and the integrator's own float64 work around them (reading the point, the K-step directions from the gradients, the update and truncation), and the SGD step of conv1 and fc2.",
  '',
  '| step | passes | reading the point | K-step directions | update + truncation | SGD of the rest | total |',
  '|---|---|---|---|---|---|---|',
  ...Object.entries(part1Parts).map(
    ([k, t]) =>
      `| ${k} | ${t.passes.toFixed(1)} | ${t.prepare.toFixed(1)} | ${t.gradients.toFixed(1)} | ${t.update.toFixed(1)} | ${t.others.toFixed(1)} | ${t.total.toFixed(1)} |`,
  ),
  '',
  ((t) =>
    `So the parallel step is its passes, ${t.passes.toFixed(1)} ms (a tucker-fixed step, passes and SGD, is ${part1['tucker-fixed'].toFixed(1)}), plus ${(t.total - t.passes).toFixed(1)} ms of its own. At 0.6× the full step (${(0.6 * part1.full).toFixed(1)} ms) the step would leave ${(0.6 * part1.full - t.passes).toFixed(1)} ms beside its passes for that work (docs/integrator.md §8, "The floor under LeNet-5's 0.6× target").`)(
    part1Parts['tdlrt parallel'],
  ),
  '',
  "## 2. At the methods bench's settings (mean step time over the window)",
  '',
  '| method | window | step (ms) | × full step |',
  '|---|---|---|---|',
  ...rows.flatMap(([label, , r]) =>
    Object.entries(r).map(([k, v]) => {
      const ref = label.endsWith('MNIST digits') ? digitsFull : full;
      return `| ${label} | ${k} | ${v.toFixed(0)} | ${(v / ref).toFixed(2)} |`;
    }),
  ),
  '',
  `Rows on MNIST digits compare with the full step on the same batches (${digitsFull.toFixed(0)} ms); the others with the full step on random data. Ranks (conv2, fc1) at the end: ${Object.entries(
    endRanks,
  )
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ')}.`,
  '',
  '## 3. The switch after the default full-model warm-up (once per run)',
  '',
  `τ = 0.1 on an untrained LeNet-5 (its ranks fall further than after training). The switch as TDLRT runs it, one truncated HOSVD per kernel at the settled ranks: ${part3.direct.toFixed(0)} ms. The exact conversion at full rank and settleRanks after it, which it replaced: ${part3.convert.toFixed(0)} + ${part3.settle.toFixed(0)} ms. Both land on ${part3.ranks}${part3.same ? '' : ' (NOT the same ranks: see settle-rule.test.ts)'}.`,
  '',
];
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/method-steps.md', lines.join('\n'));
process.stderr.write('wrote bench/results/method-steps.md\n');
