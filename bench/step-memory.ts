/**
 * Peak memory of a training step: the full model's SGD step against a TDLRT step (both integrator
 * steps) at fixed ranks, on the workloads of bench/method-steps.ts (LeNet-5 at the demo's final
 * ranks) and bench/tdlrt-step.ts (3 convs C→C, 3×3, at rank ratios 1, 1/2, 1/4).
 *
 * What is measured: each configuration runs in a fresh child process; its peak resident set
 * (process.resourceUsage().maxRSS) after building the model and the batch, and again after 5
 * training steps. The difference is what the steps add at their peak: the tape's activations, the
 * gradients, the optimizer or integrator state and its work arrays. A live-array count after a
 * forced GC was tried first and is not usable: V8 frees array buffers lazily.
 *
 * A process's peak RSS moves by ±15% between identical runs (when V8 frees array buffers varies),
 * so each configuration runs in `--reps` fresh processes (default 5) and the table gives the
 * median, with the range beside it; the ratio is of medians.
 *
 *   npx tsx bench/step-memory.ts [--reps 5]      Writes bench/results/step-memory.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Generator, lowrank, manualSeed, nn, optim, randn } from '../src/index.js';
import type { Module } from '../src/nn/module.js';
import { lenet5 } from '../src/nn/models.js';
import { crossEntropy, mseLoss } from '../src/ops/loss.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { DEMO_RANKS, demoRankCaps } from './demo-ranks.js';

interface Config {
  workload: 'lenet' | 'stack128';
  model: 'full' | 'parallel' | 'bug';
  ratio?: number;
  /** The parallel step's layerThreads (default 1: every layer on the calling thread). */
  lanes?: 'auto';
}

const CONFIGS: Config[] = [
  { workload: 'lenet', model: 'full' },
  { workload: 'lenet', model: 'parallel' },
  { workload: 'lenet', model: 'bug' },
  { workload: 'stack128', model: 'full' },
  ...[1, 0.5, 0.25].flatMap((ratio) => (['parallel', 'bug'] as const).map((model) => ({ workload: 'stack128' as const, model, ratio }))),
  // Layers side by side: what the lane worker adds (docs/integrator.md §8).
  { workload: 'stack128', model: 'parallel', ratio: 0.5, lanes: 'auto' },
];

/** In the child: build, record the peak RSS, take 5 steps, record it again (KiB). */
function child(c: Config): { setup: number; steps: number } {
  manualSeed(0);
  let model: Module;
  let lossFn: () => Tensor;
  if (c.workload === 'lenet') {
    const x = randn([64, 1, 28, 28]);
    const y = Int32Array.from({ length: 64 }, (_, i) => i % 10);
    model = lenet5({ generator: new Generator(0) });
    if (c.model !== 'full') model = lowrank.factorize(model, { ranks: DEMO_RANKS, init: 'random', generator: new Generator(1) });
    const m = model;
    lossFn = () => crossEntropy(m.forward(x), y);
  } else {
    const C = 128;
    const g = new Generator(1);
    const layers: Module[] = [];
    for (let i = 0; i < 3; i++) layers.push(new nn.Conv2d(C, C, 3, { padding: 1, generator: g }), new nn.ReLU());
    model = new nn.Sequential(...layers);
    const r = Math.round((c.ratio ?? 1) * C);
    if (c.model !== 'full')
      model = lowrank.factorize(model, {
        ranks: { '0': [r, r, 3, 3], '2': [r, r, 3, 3], '4': [r, r, 3, 3] },
        init: 'random',
        skip: [],
        generator: new Generator(2),
      });
    const x = randn([8, C, 16, 16]);
    const target = randn([8, C, 16, 16]);
    const m = model;
    lossFn = () => mseLoss(m.forward(x), target);
  }
  let step: () => void;
  if (c.model === 'full') {
    const opt = new optim.SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
    step = () => {
      opt.zeroGrad();
      lossFn().backward();
      opt.step();
    };
  } else {
    const caps = c.workload === 'lenet' ? demoRankCaps : Math.round((c.ratio ?? 1) * 128);
    const it = new lowrank.RankAdaptiveIntegrator(model, { integrator: c.model, lr: 1e-3, tau: 0, maxRank: caps, momentum: 0.9, layerThreads: c.lanes ?? 1 });
    step = () => {
      it.step(lossFn);
    };
  }
  const setup = process.resourceUsage().maxRSS;
  for (let i = 0; i < 5; i++) step();
  return { setup, steps: process.resourceUsage().maxRSS };
}

const arg = process.argv.indexOf('--child');
const repsAt = process.argv.indexOf('--reps');
const reps = repsAt >= 0 ? Number(process.argv[repsAt + 1]) : 5;
if (!Number.isInteger(reps) || reps < 1) throw new Error(`step-memory: --reps must be a positive integer, got ${process.argv[repsAt + 1]}`);
if (arg >= 0) {
  process.stdout.write(JSON.stringify(child(JSON.parse(process.argv[arg + 1]) as Config)));
} else {
  const rows: string[] = [];
  const say = (s: string) => {
    console.log(s);
    rows.push(s);
  };
  say('# Peak memory of a training step');
  say('');
  say(
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, float32, CPU backend. Command: \`npx tsx bench/step-memory.ts --reps ${reps}\`. Each row is ${reps} fresh processes: "steps add" is a process's peak RSS after 5 training steps minus its peak RSS once the model and the batch are built (activations on the tape, gradients, optimizer or integrator state and work arrays), the median of the ${reps} with their range; peak RSS is the median too. The ratio is to the full model's median on the same workload.`,
  );
  say('');
  say('| workload | model | steps add (MiB), median (range) | × full | peak RSS (MiB) | load |');
  say('|---|---|---|---|---|---|');
  const full: Record<string, number> = {};
  for (const c of CONFIGS) {
    const added: number[] = [];
    const peaks: number[] = [];
    for (let r = 0; r < reps; r++) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/step-memory.ts', '--child', JSON.stringify(c)], { encoding: 'utf8' });
      const { setup, steps } = JSON.parse(out) as { setup: number; steps: number };
      added.push((steps - setup) / 1024);
      peaks.push(steps / 1024);
    }
    added.sort((a, b) => a - b);
    const med = added[added.length >> 1];
    const peak = [...peaks].sort((a, b) => a - b)[peaks.length >> 1];
    if (c.model === 'full') full[c.workload] = med;
    const label = c.workload === 'lenet' ? 'LeNet-5, batch 64' : '3 convs 128→128, 16×16, batch 8';
    const model =
      c.model === 'full'
        ? 'full'
        : c.workload === 'lenet'
          ? `TDLRT ${c.model}, conv2 16×11, fc1 20`
          : `TDLRT ${c.model}, rank ratio ${c.ratio}${c.lanes ? ", layerThreads 'auto' (2 lanes)" : ''}`;
    say(
      `| ${label} | ${model} | ${med.toFixed(1)} (${added[0].toFixed(0)}–${added[added.length - 1].toFixed(0)}) | ${(med / full[c.workload]).toFixed(2)} | ${peak.toFixed(0)} | ${loadavg()[0].toFixed(2)} |`,
    );
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/step-memory.md', rows.join('\n') + '\n');
}
