/**
 * Where a LeNet-5 training step spends its time: runs bench/step-run.ts under `node --cpu-prof`
 * (one .cpuprofile per thread, in artifacts/profile-step/), keeps the samples of the timed steps
 * only, and prints the share of self time per function and per group (GEMM kernels, packing, conv
 * repacks, optimizer, allocation, waiting in the pool, …), for the calling thread and the pool's
 * workers. Reads an existing directory of profiles instead with --dir.
 * --method profiles the fixed-rank Tucker or the TDLRT step instead of the full model's (step-run.ts);
 * the integrator's float64 linear algebra (src/lowrank, src/linalg, src/tucker) is a group of its own.
 * Run: npx tsx bench/profile-step.ts [--threads 2] [--steps 40] [--method full|tucker-fixed|tdlrt] [--top 25] [--dir artifacts/profile-step] [--no-arena]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelFunctionNames } from '../src/backend/cpu/wasm/kernels.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const threads = arg('threads', '2');
const steps = arg('steps', '40');
const method = arg('method', 'full');
const top = Number(arg('top', '25'));
const given = args.includes('--dir');
const dir = path.resolve(root, arg('dir', path.join('artifacts', 'profile-step')));
const marksFile = path.join(dir, 'marks.json');

if (!given) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      '--import',
      'tsx',
      path.join(root, 'bench', 'step-run.ts'),
      '--threads',
      threads,
      '--steps',
      steps,
      '--method',
      method,
      '--marks',
      marksFile,
    ],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, TUCKERGRAD_THREADS: threads } },
  );
  if (r.status !== 0) throw new Error(`profile-step: the profiled run failed (exit ${r.status})`);
}
if (!existsSync(marksFile)) throw new Error(`profile-step: ${marksFile} is missing (was ${dir} written by this script?)`);
const marks = JSON.parse(readFileSync(marksFile, 'utf8')) as {
  t0: number;
  t1: number;
  ms: number;
  steps: number;
  threads: number;
  fresh?: number;
  arena?: boolean;
  method?: string;
};

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The kernel module's functions by index (no imports). */
const WASM_NAMES = kernelFunctionNames();

/** A wasm function's kernel name ('wasm-function[6]' → 'sdot'), or the name itself. */
function wasmName(name: string): string {
  const m = /^wasm-function\[(\d+)\]$/.exec(name);
  return m ? `wasm:${WASM_NAMES[Number(m[1])] ?? name}` : name;
}

/** The group of a function, from its name and file (the kernels are named in src/backend/cpu/). */
function group(f: CallFrame): string {
  const name = f.functionName;
  const file = path.basename(f.url);
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)') return 'program (V8, outside JS)';
  if (f.url.startsWith('wasm://') || /^wasm-function/.test(name)) {
    const w = wasmName(name);
    if (w === 'wasm:sgemm' || w === 'wasm:sdot') return 'GEMM kernels (wasm)';
    if (w === 'wasm:dgemm') return 'GEMM kernel, float64 (wasm)';
    if (/^wasm:(pack|axpby)/.test(w)) return 'GEMM packing copies';
    if (/^wasm:(im2col|col2im)/.test(w)) return 'im2col / col2im';
    if (w === 'wasm:maxPool2x2') return 'pooling';
    return 'elementwise (bias, ReLU, …)';
  }
  if (/^(wasmPack[AB]|pack[AB]|copyBlockIn|copyBlockOut|copyRowsPadded)$/.test(name)) return 'GEMM packing copies';
  if (/^(gemmRange|microKernel|scaleBlock|reducePartials)/.test(name) || /^gemm/.test(file)) return 'GEMM driver (JS)';
  if (name === 'runChunks' || name === 'workerMain' || name === 'wait' || /^Atomics/.test(name)) return 'pool: hand-off and waiting';
  if (file === 'permute.ts' || file === 'conv-layout.ts' || name === 'swapRows') return 'conv layout repacks (+ bias, bias grad)';
  if (/^(im2col|col2im)/.test(name) || file === 'im2col.ts') return 'im2col / col2im';
  if (/^(maxPool|avgPool)/.test(name) || file === 'pool.ts' || file === 'window-kernels.ts') return 'pooling';
  if (name === 'indexBuffer' || name === 'int32') return 'pooling';
  if (/^(sgdStep|adamStep|sgdRange)$/.test(name) || f.url.includes('/optim/') || file === 'optim-kernels.ts') return 'optimizer update';
  if (name === 'allocate' || name === 'SharedArrayBuffer' || name === 'ArrayBuffer' || /^(Float32Array|Float64Array|Int32Array)$/.test(name))
    return 'allocation';
  if (file === 'binary.ts' || file === 'unary.ts' || file === 'elementwise-kernels.ts') return 'elementwise (bias, ReLU, …)';
  if (file === 'reduce.ts' || file === 'select.ts' || file === 'loss.ts') return 'reductions, loss, softmax';
  if (/\/src\/(lowrank|linalg|tucker)\//.test(f.url)) return 'integrator linear algebra (float64, JS)';
  if (f.url.includes('/autograd/')) return 'autograd bookkeeping';
  if (f.url.includes('/tensor/')) return 'tensor bookkeeping (data getter, views)';
  if (f.url.includes('node_modules') || f.url.startsWith('node:') || f.url === '') return 'runtime / other builtins';
  return 'other project code';
}

interface ThreadReport {
  file: string;
  role: string;
  total: number;
  byGroup: Map<string, number>;
  byFunction: Map<string, number>;
}

function analyse(file: string): ThreadReport | null {
  const p = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const names = new Set(p.nodes.map((n) => n.callFrame.functionName));
  const urls = p.nodes.map((n) => n.callFrame.url);
  const role =
    names.has('workerMain') && !urls.some((u) => u.endsWith('step-run.ts'))
      ? 'pool worker'
      : urls.some((u) => u.endsWith('step-run.ts'))
        ? 'calling thread'
        : '';
  if (!role) return null; // tsx's loader thread
  const byGroup = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    if (t < marks.t0 || t > marks.t1) continue;
    // A sample's time is the gap to the next one (the last takes its own delta).
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : p.timeDeltas[i];
    const cf = byId.get(p.samples[i])!.callFrame;
    const g = group(cf);
    const key = `${wasmName(cf.functionName) || '(anonymous)'} ${cf.url ? path.basename(cf.url) : ''}`.trim();
    byGroup.set(g, (byGroup.get(g) ?? 0) + dt);
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
    total += dt;
  }
  return { file, role, total, byGroup, byFunction };
}

const reports = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()
  .map(analyse)
  .filter((r): r is ThreadReport => r !== null && r.total > 0);
const pct = (v: number, total: number): string => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);

const load = os
  .loadavg()
  .map((x) => x.toFixed(2))
  .join(' / ');
console.log(
  `\nLeNet-5 ${marks.method ?? 'full'} step, batch 64, ${marks.threads} thread(s): ${marks.ms.toFixed(2)} ms/step over ${marks.steps} steps (under the profiler); load ${load}`,
);
for (const r of reports) {
  console.log(
    `\n== ${r.role} (${r.file}): ${(r.total / 1000).toFixed(0)} ms of samples in the timed window, ${(r.total / 1000 / marks.steps).toFixed(2)} ms/step`,
  );
  console.log('  by group (self time):');
  for (const [g, v] of sorted(r.byGroup)) console.log(`    ${pct(v, r.total)}  ${(v / 1000 / marks.steps).toFixed(2).padStart(6)} ms/step  ${g}`);
  console.log(`  top ${top} functions (self time):`);
  for (const [f, v] of sorted(r.byFunction).slice(0, top)) console.log(`    ${pct(v, r.total)}  ${f}`);
}
