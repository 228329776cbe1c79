/**
 * Where does a TDLRT step get cheaper than a full step? A VGG-style stack of 3×3 convolutions
 * (where Tucker convolutions are meant to pay) trained by SGD at full rank, against the same stack
 * in Tucker form trained by the rank-adaptive integrator at fixed rank ratios (tau = 0 with
 * maxRank = r keeps the ranks at r), with both integrator steps: 'parallel' (one forward/backward)
 * and 'bug' (two). The linear algebra of the step (K-step directions, truncation) is included.
 *
 *   npx tsx bench/tdlrt-step.ts [--channels 128,256] [--layers 3] [--size 16] [--batch 8] [--steps 2] [--rounds 3] [--out F]
 * Writes bench/results/tdlrt-step.md (or F), with the machine load beside the figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Generator, lowrank, manualSeed, nn, optim, randn } from '../src/index.js';
import type { Module } from '../src/nn/module.js';
import { mseLoss } from '../src/ops/loss.js';
import { arena } from '../src/tensor/storage.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { medians } from './timing.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const channelList = arg('channels', '128,256').split(',').map(Number);
const depth = Number(arg('layers', '3'));
const size = Number(arg('size', '16'));
const batch = Number(arg('batch', '8'));
const steps = Number(arg('steps', '2'));
const rounds = Number(arg('rounds', '3'));
const out = arg('out', 'bench/results/tdlrt-step.md');
const ratios = [1, 0.5, 0.25, 0.125];

function stack(C: number): nn.Sequential {
  const g = new Generator(1);
  const layers: Module[] = [];
  for (let i = 0; i < depth; i++) layers.push(new nn.Conv2d(C, C, 3, { padding: 1, generator: g }), new nn.ReLU());
  return new nn.Sequential(...layers);
}

/**
 * Median over `rounds` interleaved rounds of the mean time of `steps` calls, after two untimed
 * calls each, every call inside arena() as the training loop runs it. Interleaving puts a change
 * of machine load (or a slow first round of the thread pool) on every configuration alike.
 */
function timeInterleaved(
  fns: Record<string, () => void>,
  integrators: Record<string, lowrank.RankAdaptiveIntegrator>,
): { ms: Record<string, number>; passes: Record<string, number> } {
  for (const fn of Object.values(fns)) for (let i = 0; i < 2; i++) arena(fn);
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  const passTimes: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [k, fn] of Object.entries(fns)) {
      const t0 = performance.now();
      let passes = 0;
      for (let i = 0; i < steps; i++) {
        arena(fn);
        passes += integrators[k]?.lastTimes?.passes ?? 0;
      }
      times[k].push((performance.now() - t0) / steps);
      if (integrators[k]) (passTimes[k] ??= []).push(passes / steps);
    }
  }
  return { ms: medians(times), passes: medians(passTimes) };
}

const rows: string[] = [];
const say = (s: string) => {
  console.log(s);
  rows.push(s);
};
const load = () => loadavg()[0].toFixed(2);
say('# TDLRT step against the full step');
say('');
say(
  `${depth} conv layers C→C, 3×3, input ${size}×${size}, batch ${batch}, float32, CPU backend; median over ${rounds} interleaved rounds (every configuration of a width in each round) of the mean of ${steps} steps, after two untimed steps. Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Command: \`npx tsx bench/tdlrt-step.ts ${args.join(' ')}\`. Each row's ratio is to the full step of the same width, timed in the same run; the 1-minute load average is given at each row.`,
);
say('');
say(
  "The parallel step's own work is its time outside the forward/backward pass (the integrator's `lastTimes`: reading the point, the K-step directions, the float64 update and truncation), medians over the same rounds; its pass is the rest.",
);
say('');
say('| channels | rank ratio r/n | ranks (out, in) | params vs full | parallel step (ms) | × full | of which own work (ms) | bug step (ms) | × full | load |');
say('|---|---|---|---|---|---|---|---|---|---|');
for (const C of channelList) {
  manualSeed(0);
  const x = randn([batch, C, size, size]);
  const target = randn([batch, C, size, size]);
  const loss = (m: Module): Tensor => mseLoss(m.forward(x), target);
  const full = stack(C);
  const opt = new optim.SGD(full.parameters(), { lr: 1e-3, momentum: 0.9 });
  const fns: Record<string, () => void> = {
    full: () => {
      opt.zeroGrad();
      loss(full).backward();
      opt.step();
    },
  };
  const kept: Record<number, number> = {};
  const integrators: Record<string, lowrank.RankAdaptiveIntegrator> = {};
  for (const ratio of ratios) {
    const r = Math.max(2, Math.round(ratio * C));
    for (const integrator of ['parallel', 'bug'] as const) {
      const model = lowrank.factorize(stack(C), {
        ranks: Object.fromEntries(Array.from({ length: depth }, (_, i) => [String(2 * i), [r, r, 3, 3]])),
        init: 'random',
        skip: [],
        generator: new Generator(2),
      });
      const integ = new lowrank.RankAdaptiveIntegrator(model, { integrator, lr: 1e-3, tau: 0, maxRank: r, momentum: 0.9 });
      fns[`${ratio} ${integrator}`] = () => integ.step(() => loss(model));
      integrators[`${ratio} ${integrator}`] = integ;
      kept[ratio] = 1 - lowrank.rankReport(model).compression;
    }
  }
  const { ms, passes } = timeInterleaved(fns, integrators);
  const fullMs = ms.full;
  say(`| ${C} | full | — | 100% | ${fullMs.toFixed(0)} (full step) | 1.00 | | | | ${load()} |`);
  for (const ratio of ratios) {
    const r = Math.max(2, Math.round(ratio * C));
    const p = ms[`${ratio} parallel`];
    const b = ms[`${ratio} bug`];
    say(
      `| ${C} | ${ratio} | ${r}, ${r} | ${(100 * kept[ratio]).toFixed(1)}% | ${p.toFixed(0)} | ${(p / fullMs).toFixed(2)} | ${(p - passes[`${ratio} parallel`]).toFixed(0)} | ${b.toFixed(0)} | ${(b / fullMs).toFixed(2)} | ${load()} |`,
    );
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, rows.join('\n') + '\n');
console.log(`written: ${out}`);
