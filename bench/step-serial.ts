/**
 * How much of a LeNet-5 training step the second thread can help with: each call into the host's
 * kernel table (backend/cpu/kernels.ts) is timed and sorted by whether it handed work to the pool
 * (the pool's batch counter moved during the call) or ran on the calling thread alone; what is
 * left of the step's wall time ran outside the kernel table (autograd, the optimizers, and the
 * integrator's float64 linear algebra, whose products call the GEMM directly and split across the
 * pool only when large). Serial GEMMs are listed by shape, since their threshold decides them.
 * The full step, a fixed-rank Tucker step and TDLRT's step (bench/lenet-step.ts), one process.
 *
 *   npx tsx bench/step-serial.ts [--threads 2] [--steps 40] [--out bench/results/step-serial.md]
 *
 * The wrappers cost a few µs per call (about 60 calls a step), so the step times here run a
 * little above bench/step-run.ts's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setNumThreads, startWorkers } from '../src/backend/cpu/index.js';
import { stats as poolStats } from '../src/backend/cpu/threads.js';
import { getBackend } from '../src/backend/current.js';
import type { BatchedGemmArgs } from '../src/backend/kernels.js';
import { arena } from '../src/tensor/storage.js';
import { STEP_METHODS, lenetStep } from './lenet-step.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const threads = Number(arg('threads', '2'));
const steps = Number(arg('steps', '40'));
const out = arg('out', 'bench/results/step-serial.md');
if (!Number.isInteger(threads) || threads < 1) throw new Error(`step-serial: --threads must be a positive integer, got ${arg('threads', '2')}`);
if (!Number.isInteger(steps) || steps < 1) throw new Error(`step-serial: --steps must be a positive integer, got ${arg('steps', '40')}`);

setNumThreads(threads);
if (threads > 1) startWorkers();

interface Tally {
  serial: number;
  parallel: number;
  calls: number;
}
const tallies = new Map<string, Tally>();
const tally = (key: string): Tally => {
  let t = tallies.get(key);
  if (!t) {
    t = { serial: 0, parallel: 0, calls: 0 };
    tallies.set(key, t);
  }
  return t;
};

// Wrap every kernel of the host table once: a kernel that calls another counts as one call.
const host = getBackend().host as unknown as Record<string, unknown>;
let inside = 0;
for (const [name, fn] of Object.entries(host)) {
  if (typeof fn !== 'function') continue;
  host[name] = function (this: unknown, ...callArgs: unknown[]) {
    if (inside > 0) return fn.apply(this, callArgs);
    inside++;
    const batches0 = poolStats.batches;
    const t0 = performance.now();
    try {
      return fn.apply(this, callArgs);
    } finally {
      const dt = performance.now() - t0;
      inside--;
      const g = name === 'gemm' ? (callArgs[2] as BatchedGemmArgs) : null;
      const key = g ? `gemm ${g.transA ? 'Aᵀ' : 'A'}·${g.transB ? 'Bᵀ' : 'B'} ${g.batch > 1 ? `${g.batch} × ` : ''}${g.m} × ${g.k} × ${g.n}` : name;
      const t = tally(key);
      t.calls++;
      if (poolStats.batches === batches0) t.serial += dt;
      else t.parallel += dt;
    }
  };
}

const lines: string[] = [
  '# Where the second thread can help: the serial part of a LeNet-5 step',
  '',
  `Node ${process.version}, ${new Date().toISOString().slice(0, 16)} UTC, CPU backend, ${threads} thread${threads > 1 ? 's' : ''}, batch 64, ${steps} steps after 10 untimed. Command: \`npx tsx bench/step-serial.ts ${args.join(' ')}\`. Low-rank steps at the demo's final ranks (conv2 16 × 11, fc1 20). "Parallel": host kernel calls that handed work to the pool; "serial": those that ran on the calling thread alone; "outside": the rest of the wall time (autograd, optimizers, the integrator's float64 linear algebra). Times are per step.`,
  '',
];
for (const method of STEP_METHODS) {
  const body = lenetStep(method, 64);
  for (let i = 0; i < 10; i++) arena(body);
  tallies.clear();
  const load = loadavg()[0];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) arena(body);
  const wall = (performance.now() - t0) / steps;
  const rows = [...tallies.entries()].map(([k, t]) => ({ k, serial: t.serial / steps, parallel: t.parallel / steps, calls: t.calls / steps }));
  const serial = rows.reduce((s, r) => s + r.serial, 0);
  const parallel = rows.reduce((s, r) => s + r.parallel, 0);
  const outside = wall - serial - parallel;
  const pct = (v: number) => `${((100 * v) / wall).toFixed(0)}%`;
  lines.push(`## ${method}: ${wall.toFixed(1)} ms a step (1-minute load ${load.toFixed(2)})`, '');
  lines.push('| part | ms | share |', '|---|---|---|');
  lines.push(`| kernels split across the pool | ${parallel.toFixed(2)} | ${pct(parallel)} |`);
  lines.push(`| kernels on the calling thread alone | ${serial.toFixed(2)} | ${pct(serial)} |`);
  lines.push(`| outside the kernel table | ${outside.toFixed(2)} | ${pct(outside)} |`, '');
  const top = rows.filter((r) => r.serial >= 0.05).sort((a, b) => b.serial - a.serial);
  if (top.length > 0) {
    lines.push('Serial kernel calls of at least 0.05 ms a step:', '', '| kernel | serial ms | calls |', '|---|---|---|');
    for (const r of top) lines.push(`| ${r.k} | ${r.serial.toFixed(2)} | ${r.calls} |`);
    lines.push('');
  }
  console.log(`${method}: ${wall.toFixed(1)} ms/step; parallel ${parallel.toFixed(2)}, serial ${serial.toFixed(2)}, outside ${outside.toFixed(2)} ms`);
}
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`written: ${out}`);
