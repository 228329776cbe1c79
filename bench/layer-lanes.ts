/**
 * Does running the parallel step's per-layer updates side by side pay (src/lowrank/layer-lanes.ts,
 * docs/integrator.md §8)? The same integrator steps with layerThreads 1 (every layer's float64
 * work on the calling thread, its products split across the kernel pool where large) and with one
 * lane per thread, in alternating rounds inside one process, on LeNet-5 at the demo's final ranks
 * and on three C→C 3×3 convolutions (bench/tdlrt-step.ts's stack) at fixed rank ratios. Also says
 * how many lanes 'auto', the default, takes for each.
 *
 *   npx tsx bench/layer-lanes.ts [--threads 2] [--rounds 8] [--out bench/results/layer-lanes.md]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setNumThreads } from '../src/backend/cpu/index.js';
import { Generator, lowrank, manualSeed, nn, randn } from '../src/index.js';
import { assignLanes, lanesFor, layerWork } from '../src/lowrank/layer-lanes.js';
import type { ParallelLayerJob } from '../src/lowrank/layer-update.js';
import type { Module } from '../src/nn/module.js';
import { crossEntropy, mseLoss } from '../src/ops/loss.js';
import { arena } from '../src/tensor/storage.js';
import { DEMO_RANKS, demoRankCaps } from './demo-ranks.js';
import { median } from './timing.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const threads = Number(arg('threads', '2'));
const rounds = Number(arg('rounds', '8'));
const out = arg('out', 'bench/results/layer-lanes.md');
if (!Number.isInteger(threads) || threads < 2) throw new Error(`layer-lanes: --threads must be an integer ≥ 2, got ${arg('threads', '2')}`);
if (!Number.isInteger(rounds) || rounds < 2) throw new Error(`layer-lanes: --rounds must be an integer ≥ 2, got ${arg('rounds', '8')}`);
setNumThreads(threads);

interface Case {
  name: string;
  integ: lowrank.RankAdaptiveIntegrator;
  step: () => void;
  /** Steps timed per round. */
  steps: number;
}

function lenetCase(): Case {
  manualSeed(0);
  const model = lowrank.factorize(nn.lenet5(), { ranks: DEMO_RANKS, init: 'random', generator: new Generator(1) });
  const x = randn([64, 1, 28, 28]);
  const y = Int32Array.from({ length: 64 }, (_, i) => i % 10);
  const integ = new lowrank.RankAdaptiveIntegrator(model, { lr: 0.01, tau: 0, maxRank: demoRankCaps, momentum: 0.9 });
  return { name: 'LeNet-5, batch 64, conv2 16×11, fc1 20', integ, step: () => integ.step(() => crossEntropy(model.forward(x), y)), steps: 8 };
}

function stackCase(C: number, ratio: number): Case {
  manualSeed(0);
  const x = randn([8, C, 16, 16]);
  const target = randn([8, C, 16, 16]);
  const g = new Generator(1);
  const layers: Module[] = [];
  for (let i = 0; i < 3; i++) layers.push(new nn.Conv2d(C, C, 3, { padding: 1, generator: g }), new nn.ReLU());
  const r = Math.max(2, Math.round(ratio * C));
  const model = lowrank.factorize(new nn.Sequential(...layers), {
    ranks: { '0': [r, r, 3, 3], '2': [r, r, 3, 3], '4': [r, r, 3, 3] },
    init: 'random',
    skip: [],
    generator: new Generator(2),
  });
  const integ = new lowrank.RankAdaptiveIntegrator(model, { lr: 1e-3, tau: 0, maxRank: r, momentum: 0.9 });
  return {
    name: `3 convs ${C}→${C} 3×3, batch 8, 16×16, rank ratio ${ratio}`,
    integ,
    step: () => integ.step(() => mseLoss(model.forward(x), target)),
    steps: C >= 256 ? 1 : 2,
  };
}

const rows: string[] = [];
const say = (s: string) => {
  console.log(s);
  rows.push(s);
};
say('# Layers side by side: the parallel step with one lane against one lane per thread');
say('');
say(
  `Node ${process.version}, ${new Date().toISOString().slice(0, 16)} UTC, CPU backend, ${threads} threads. Command: \`npx tsx bench/layer-lanes.ts ${args.join(' ')}\`. For each model, ${rounds} rounds alternating which goes first, each one untimed step then the mean of a few timed ones per setting; the ratio is the median over rounds of (side by side) / (one lane) within a round. "work away": the layerWork units the other lanes take (LANES_MIN_WORK decides 'auto'). Load: the 1-minute load average after the row.`,
);
say('');
say(`| model | one lane (ms) | ${threads} lanes (ms) | paired ratio | work away | 'auto' takes | load |`);
say('|---|---|---|---|---|---|---|');
for (const make of [lenetCase, () => stackCase(64, 0.5), () => stackCase(128, 0.25), () => stackCase(128, 0.5), () => stackCase(256, 0.5)]) {
  const c = make();
  let jobs: readonly ParallelLayerJob[] = [];
  c.integ.onLayerJobs = (j) => {
    jobs = j;
  };
  for (const lanes of [1, threads]) {
    c.integ.layerThreads = lanes;
    arena(c.step);
    arena(c.step);
  }
  c.integ.onLayerJobs = null;
  const times: Record<number, number[]> = { 1: [], [threads]: [] };
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const got: Record<number, number> = {};
    for (const lanes of r % 2 === 0 ? [1, threads] : [threads, 1]) {
      c.integ.layerThreads = lanes;
      arena(c.step);
      const t0 = performance.now();
      for (let i = 0; i < c.steps; i++) arena(c.step);
      got[lanes] = (performance.now() - t0) / c.steps;
      times[lanes].push(got[lanes]);
    }
    ratios.push(got[threads] / got[1]);
  }
  const work = jobs.map(layerWork);
  const lane = assignLanes(work, Math.min(threads, work.length));
  const away = work.reduce((p, w, k) => p + (lane[k] === 0 ? 0 : w), 0);
  say(
    `| ${c.name} | ${median(times[1]).toFixed(1)} | ${median(times[threads]).toFixed(1)} | ${median(ratios).toFixed(3)} | ${(away / 1e6).toFixed(1)}M | ${lanesFor(jobs, 'auto')} | ${loadavg()[0].toFixed(2)} |`,
  );
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, `${rows.join('\n')}\n`);
console.log(`written: ${out}`);
