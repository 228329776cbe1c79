/**
 * Where does a TDLRT step get cheaper than a full step? A VGG-style stack of 3×3 convolutions
 * (DESIGN §4: the gain shows on wide layers) trained by SGD at full rank, against the same stack
 * in Tucker form trained by the rank-adaptive integrator at fixed rank ratios (tau = 0 with
 * maxRank = r keeps the ranks at r: two passes, QR and SVD of the small cores included).
 *
 *   npx tsx bench/tdlrt-step.ts [--channels 128] [--layers 3] [--size 16] [--batch 8] [--steps 3]
 * Writes bench/results/tdlrt-step.md.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { lowrank, nn, optim, randn, manualSeed, Generator } from '../src/index.js';
import { mseLoss } from '../src/ops/loss.js';
import type { Module } from '../src/nn/module.js';
import type { Tensor } from '../src/tensor/tensor.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const C = arg('channels', 128);
const depth = arg('layers', 3);
const size = arg('size', 16);
const batch = arg('batch', 8);
const steps = arg('steps', 3);

function stack(): nn.Sequential {
  const g = new Generator(1);
  const layers: Module[] = [];
  for (let i = 0; i < depth; i++) layers.push(new nn.Conv2d(C, C, 3, { padding: 1, generator: g }), new nn.ReLU());
  return new nn.Sequential(...layers);
}

manualSeed(0);
const x = randn([batch, C, size, size]);
const target = randn([batch, C, size, size]);
const loss = (m: Module): Tensor => mseLoss(m.forward(x), target);

function time(fn: () => void): number {
  fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) fn();
  return (performance.now() - t0) / steps;
}

const full = stack();
const opt = new optim.SGD(full.parameters(), { lr: 1e-3, momentum: 0.9 });
const fullMs = time(() => {
  opt.zeroGrad();
  loss(full).backward();
  opt.step();
});

const rows: string[] = [];
const say = (s: string) => {
  console.log(s);
  rows.push(s);
};
say(`# TDLRT step against the full step`);
say('');
say(`${depth} conv layers ${C}→${C}, 3×3, input ${size}×${size}, batch ${batch}, float32, CPU backend; mean of ${steps} steps after one warm-up.`);
say('');
say('| rank ratio r/n | ranks (out, in) | params vs full | TDLRT step (ms) | ratio to full step |');
say('|---|---|---|---|---|');
say(`| full | — | 100% | ${fullMs.toFixed(0)} | 1.00 |`);
let crossing: number | null = null;
for (const ratio of [1, 0.5, 0.25, 0.125, 0.0625]) {
  const r = Math.max(2, Math.round(ratio * C));
  const model = lowrank.factorize(stack(), { ranks: Object.fromEntries(Array.from({ length: depth }, (_, i) => [String(2 * i), [r, r, 3, 3]])), init: 'random', skip: [], generator: new Generator(2) });
  const integ = new lowrank.RankAdaptiveIntegrator(model, { lr: 1e-3, tau: 0, maxRank: r, momentum: 0.9 });
  const ms = time(() => integ.step(() => loss(model)));
  const params = lowrank.rankReport(model);
  if (crossing === null && ms < fullMs) crossing = ratio;
  say(`| ${ratio} | ${r}, ${r} | ${(100 * (1 - params.compression)).toFixed(1)}% | ${ms.toFixed(0)} | ${(ms / fullMs).toFixed(2)} |`);
}
say('');
say(crossing === null ? 'The TDLRT step stayed above the full step at every ratio measured.' : `The TDLRT step first falls below the full step at rank ratio ${crossing}.`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/tdlrt-step.md', rows.join('\n') + '\n');
