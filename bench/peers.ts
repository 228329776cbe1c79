/**
 * This project against TensorFlow.js (CPU and WASM backends, devDependencies) in one run, float32:
 * GEMM n = 128…1024, the LeNet conv stack (conv 1→20 5×5, relu, maxpool 2, conv 20→50 5×5, relu,
 * maxpool 2; batch 32) forward and forward+backward, and a LeNet-5 training step (batch 64, SGD
 * momentum). Prints a table of times and ratios and writes bench/results/peers.md.
 *
 * tuckergrad runs as: plain JS on 1 thread, WebAssembly SIMD on 1 thread, and SIMD on every thread
 * (the default: TUCKERGRAD_THREADS or the core count). TensorFlow.js 4.22: the CPU backend, and the
 * WASM backend (XNNPACK, SIMD; single-threaded in Node: its threaded build is not used there).
 * The WASM backend has no Conv2DBackpropFilter kernel and its Conv2DBackpropInput is a plain loop,
 * so TF.js convs train here through a custom gradient (input gradient as a convolution of the padded
 * output gradient with the flipped kernel, filter gradient as a convolution of the transposed
 * input with the transposed output gradient; nothing for an input that needs no gradient); the CPU
 * backend is timed both so and as shipped (its own backprop kernels; one run, it is slow).
 *
 * Times are the best of several runs after warm-up (the machine may be shared: best-of is the
 * least disturbed figure; the load average is recorded with the results).
 * PyTorch (the system's /usr/bin/python3 with torch, e.g. Debian's python3-torch on OpenBLAS) runs the
 * same LeNet-5 step in a subprocess (bench/pytorch-step.py) on 1 thread and on every thread, timed
 * the same way; where `/usr/bin/python3 -c 'import torch'` fails the rows are skipped, with a line
 * saying why.
 * Run: npx tsx bench/peers.ts [--quick] [--step-only]
 *   --quick: fewer repetitions, no TF.js as-shipped runs;
 *   --step-only: only the LeNet-5 step (tuckergrad SIMD on 1 and every thread, PyTorch, TF.js WASM),
 *   written to bench/results/peers-step.md instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { GemmArgs } from '../src/backend/backend.js';
import { CpuBackend, getNumThreads, setNumThreads, setSimd, simdEnabled, startWorkers } from '../src/backend/cpu/index.js';
import { manualSeed, nn, optim, randn, type TypedArray } from '../src/index.js';
import { crossEntropy } from '../src/ops/loss.js';
import { allocate } from '../src/tensor/dtype.js';
import { arena } from '../src/tensor/storage.js';
import { bestMs as best, systemBlas } from './timing.js';

const quick = process.argv.includes('--quick');
const stepOnly = process.argv.includes('--step-only');
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);

const ALL_THREADS = getNumThreads();
const loadBefore = os.loadavg();

/** Best of `reps` runs after `warm` runs and at least 150 ms of warm-up (the JIT must optimise the JS kernels). */
const bestMs = (run: () => void, reps = quick ? 3 : 8, warm = 2, budget = 4000): number =>
  best(run, { reps, warm, budgetMs: budget, minWarmMs: warm > 1 ? 150 : 0 });

// ---------------------------------------------------------------------------------------------
// The contenders

interface Contender {
  name: string;
  /** Prepares the runtime (backend, threads); returns false when unavailable. */
  setup(): Promise<boolean>;
  gemm(n: number): () => void;
  convStack(batch: number, backward: boolean): () => void;
  trainStep(batch: number): () => void;
}

function ours(name: string, simd: boolean, threads: number): Contender {
  const backend = new CpuBackend();
  return {
    name,
    async setup() {
      setSimd(simd);
      setNumThreads(threads);
      if (threads > 1) startWorkers();
      return !simd || simdEnabled();
    },
    gemm(n) {
      const fill = (size: number): TypedArray => {
        const a = allocate('float32', size);
        for (let i = 0; i < size; i++) a[i] = Math.sin(i) * 0.5;
        return a;
      };
      const g: GemmArgs = {
        transA: false,
        transB: false,
        m: n,
        n,
        k: n,
        alpha: 1,
        a: fill(n * n),
        aOffset: 0,
        lda: n,
        b: fill(n * n),
        bOffset: 0,
        ldb: n,
        beta: 0,
        c: allocate('float32', n * n),
        cOffset: 0,
        ldc: n,
      };
      return () => backend.gemm(g);
    },
    convStack(batch, backward) {
      manualSeed(1);
      const stack = new nn.Sequential(
        new nn.Conv2d(1, 20, 5),
        new nn.MaxPool2d(2),
        new nn.ReLU(),
        new nn.Conv2d(20, 50, 5),
        new nn.MaxPool2d(2),
        new nn.ReLU(),
      );
      const x = randn([batch, 1, 28, 28]);
      return () => {
        for (const p of stack.parameters()) p.grad = null;
        const y = stack.forward(x);
        if (backward) y.sum().backward();
      };
    },
    trainStep(batch) {
      manualSeed(2);
      const model = nn.lenet5();
      const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      const x = randn([batch, 1, 28, 28]);
      const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
      // In an arena, as TF.js runs in tf.tidy: the step's buffers serve the next step.
      return () =>
        arena(() => {
          opt.zeroGrad();
          crossEntropy(model.forward(x), labels).backward();
          opt.step();
        });
    },
  };
}

/** Conv2d (NHWC, stride 1, valid) with gradients by convolutions only (see the header). */
function tfConv(needInputGrad: boolean) {
  const f = (x: tf.Tensor4D, w: tf.Tensor4D, save: (t: tf.Tensor[]) => void) => {
    save([x, w]);
    return {
      value: tf.conv2d(x, w, 1, 'valid'),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [kh, kw] = ws.shape;
        const dx = needInputGrad
          ? tf.conv2d(
              tf.pad(dy, [
                [0, 0],
                [kh - 1, kh - 1],
                [kw - 1, kw - 1],
                [0, 0],
              ]),
              tf.transpose(tf.reverse(ws, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D,
              1,
              'valid',
            )
          : tf.zerosLike(xs);
        const dw = tf.transpose(
          tf.conv2d(tf.transpose(xs, [3, 1, 2, 0]) as tf.Tensor4D, tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D, 1, 'valid'),
          [1, 2, 0, 3],
        );
        return [dx, dw];
      },
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
}

function tfjs(name: string, backend: 'cpu' | 'wasm', shipped: boolean): Contender {
  const conv1 = shipped ? (x: tf.Tensor4D, w: tf.Tensor4D) => tf.conv2d(x, w, 1, 'valid') : tfConv(false);
  const conv2 = shipped ? (x: tf.Tensor4D, w: tf.Tensor4D) => tf.conv2d(x, w, 1, 'valid') : tfConv(true);
  const v = (shape: number[], scale: number) => tf.variable(tf.randomUniform(shape, -scale, scale, 'float32', 3));
  const convParams = () => [v([5, 5, 1, 20], 0.2), v([20], 0.2), v([5, 5, 20, 50], 0.045), v([50], 0.045)] as const;
  const stack = (x: tf.Tensor4D, [w1, b1, w2, b2]: readonly tf.Variable[]) => {
    // Pool, then ReLU, as nn.lenet5 (the same function).
    let h = tf.relu(tf.maxPool(tf.add(conv1(x, w1 as tf.Tensor4D), b1) as tf.Tensor4D, 2, 2, 'valid')) as tf.Tensor4D;
    h = tf.add(conv2(h, w2 as tf.Tensor4D), b2) as tf.Tensor4D;
    return tf.relu(tf.maxPool(h, 2, 2, 'valid')) as tf.Tensor4D;
  };
  return {
    name,
    async setup() {
      try {
        if (!(await tf.setBackend(backend))) return false;
        await tf.ready();
        return tf.getBackend() === backend;
      } catch {
        return false;
      }
    },
    gemm(n) {
      const a = tf.randomNormal([n, n]);
      const b = tf.randomNormal([n, n]);
      return () =>
        tf.tidy(() => {
          tf.matMul(a, b).dataSync();
        });
    },
    convStack(batch, backward) {
      const params = convParams();
      const x = tf.randomNormal([batch, 28, 28, 1]) as tf.Tensor4D;
      return () =>
        tf.tidy(() => {
          if (!backward) {
            stack(x, params).dataSync();
            return;
          }
          const { grads } = tf.variableGrads(() => tf.sum(stack(x, params)) as tf.Scalar, [...params]);
          for (const g of Object.values(grads)) g.dataSync();
        });
    },
    trainStep(batch) {
      const [w1, b1, w2, b2] = convParams();
      const w3 = v([800, 500], 0.035),
        b3 = v([500], 0.035),
        w4 = v([500, 10], 0.045),
        b4 = v([10], 0.045);
      const x = tf.randomNormal([batch, 28, 28, 1]) as tf.Tensor4D;
      const y = tf.oneHot(
        tf.tensor1d(
          Array.from({ length: batch }, (_, i) => i % 10),
          'int32',
        ),
        10,
      );
      const opt = tf.train.momentum(0.01, 0.9);
      const loss = () => {
        let h = stack(x, [w1, b1, w2, b2]).reshape([batch, 800]);
        h = tf.relu(tf.add(tf.matMul(h, w3), b3));
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(h, w4), b4)) as tf.Scalar;
      };
      return () =>
        tf.tidy(() => {
          opt.minimize(loss, true)!.dataSync();
        });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Run

interface Row {
  what: string;
  unit: 'ms' | 'GFLOP/s';
  values: Map<string, number>;
}
const rows: Row[] = [];
const row = (what: string, unit: Row['unit']): Row => {
  let r = rows.find((x) => x.what === what);
  if (!r) {
    r = { what, unit, values: new Map() };
    rows.push(r);
  }
  return r;
};

const contenders: Contender[] = stepOnly
  ? [
      ours('tuckergrad SIMD, 1 thread', true, 1),
      ...(ALL_THREADS > 1 ? [ours(`tuckergrad SIMD, ${ALL_THREADS} threads`, true, ALL_THREADS)] : []),
      tfjs('TF.js WASM', 'wasm', false),
    ]
  : [
      ours('tuckergrad JS, 1 thread', false, 1),
      ours('tuckergrad SIMD, 1 thread', true, 1),
      ...(ALL_THREADS > 1
        ? [ours(`tuckergrad JS, ${ALL_THREADS} threads`, false, ALL_THREADS), ours(`tuckergrad SIMD, ${ALL_THREADS} threads`, true, ALL_THREADS)]
        : []),
      tfjs('TF.js CPU', 'cpu', false),
      tfjs('TF.js WASM', 'wasm', false),
    ];
const GEMM_SIZES = [128, 256, 512, 1024];
const OURS_BEST = `tuckergrad SIMD, ${ALL_THREADS} thread${ALL_THREADS > 1 ? 's' : ''}`;
const STEP_ROW = 'LeNet-5 training step, batch 64';
const PYTHON = '/usr/bin/python3';

for (const c of contenders) {
  if (!(await c.setup())) {
    console.log(`${c.name}: not available here, skipped`);
    continue;
  }
  process.stdout.write(`${c.name}:`);
  if (stepOnly) {
    row(STEP_ROW, 'ms').values.set(c.name, bestMs(c.trainStep(64)));
    console.log(' step');
    continue;
  }
  for (const n of GEMM_SIZES) {
    const ms = bestMs(c.gemm(n), quick ? 3 : 15, 3, 3000);
    row(`GEMM n = ${n}`, 'GFLOP/s').values.set(c.name, (2 * n ** 3) / ms / 1e6);
    process.stdout.write(` gemm${n}`);
  }
  row('LeNet conv stack forward, batch 32', 'ms').values.set(c.name, bestMs(c.convStack(32, false)));
  process.stdout.write(' conv-f');
  row('LeNet conv stack forward+backward, batch 32', 'ms').values.set(c.name, bestMs(c.convStack(32, true)));
  process.stdout.write(' conv-fb');
  row(STEP_ROW, 'ms').values.set(c.name, bestMs(c.trainStep(64)));
  console.log(' step');
}

// PyTorch: the same step in a Python subprocess, on 1 thread and on every thread (torch.set_num_threads).
let torchNote = '';
const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
  torchNote = `PyTorch rows skipped: \`${PYTHON} -c 'import torch'\` failed (${why}).`;
  console.log(torchNote);
} else {
  for (const threads of ALL_THREADS > 1 ? [1, ALL_THREADS] : [1]) {
    const name = `PyTorch, ${threads} thread${threads > 1 ? 's' : ''}`;
    const r = spawnSync(PYTHON, [path.join(here, 'pytorch-step.py'), String(threads), String(quick ? 3 : 8), '64'], { encoding: 'utf8' });
    const out = r.status === 0 ? (JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; torch: string }) : null;
    if (!out) {
      console.log(`${name}: failed (${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}), skipped`);
      continue;
    }
    torchNote = `PyTorch ${out.torch} through ${PYTHON} (bench/pytorch-step.py, same layers, SGD momentum, best of several runs; BLAS: ${systemBlas()}).`;
    row(STEP_ROW, 'ms').values.set(name, out.ms);
    console.log(`${name}: step`);
  }
}

// TF.js CPU as shipped (its own conv backprop kernels): one timed run after one warm-up.
if (!quick && !stepOnly) {
  const c = tfjs('TF.js CPU, conv backprop as shipped', 'cpu', true);
  if (await c.setup()) {
    process.stdout.write(`${c.name}:`);
    row('LeNet conv stack forward+backward, batch 32', 'ms').values.set(c.name, bestMs(c.convStack(32, true), 1, 1));
    process.stdout.write(' conv-fb');
    row('LeNet-5 training step, batch 64', 'ms').values.set(c.name, bestMs(c.trainStep(64), 1, 1));
    console.log(' step');
  }
}
setNumThreads(ALL_THREADS);
setSimd(true);
const loadAfter = os.loadavg();

// ---------------------------------------------------------------------------------------------
// Report

const names = [...new Set(rows.flatMap((r) => [...r.values.keys()]))];
const fmt = (v: number | undefined, unit: Row['unit']): string =>
  v === undefined ? '–' : unit === 'ms' ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : v.toFixed(2);
/** How many times faster OURS_BEST is than `name` (> 1: faster). */
const ratio = (r: Row, name: string): string => {
  const a = r.values.get(OURS_BEST);
  const b = r.values.get(name);
  if (a === undefined || b === undefined) return '–';
  return `${(r.unit === 'ms' ? b / a : a / b).toFixed(1)}×`;
};
const peers = names.filter((n) => n.startsWith('TF.js') || n.startsWith('PyTorch'));
const lines: string[] = [];
lines.push(`| benchmark | unit | ${names.join(' | ')} | ${peers.map((p) => `${OURS_BEST.replace('tuckergrad ', '')} vs ${p}`).join(' | ')} |`);
lines.push(`|---|---|${names.map(() => '---:').join('|')}|${peers.map(() => '---:').join('|')}|`);
for (const r of rows)
  lines.push(`| ${r.what} | ${r.unit} | ${names.map((n) => fmt(r.values.get(n), r.unit)).join(' | ')} | ${peers.map((p) => ratio(r, p)).join(' | ')} |`);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# tuckergrad vs TensorFlow.js (CPU and WASM backends), float32',
  '',
  `Written by \`npx tsx bench/peers.ts${quick ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}: ${cpu}, ${os.cpus().length} cores, Node ${process.versions.node} (V8 ${process.versions.v8}), TensorFlow.js ${tf.version.tfjs}.`,
  `Load average at start ${loadBefore.map((x) => x.toFixed(1)).join(' / ')}, at end ${loadAfter.map((x) => x.toFixed(1)).join(' / ')} (1/5/15 min: any load beyond this run's own means other processes shared the cores; the multi-thread figures suffer first).`,
  '',
  'Times are the best of several runs after warm-up; GFLOP/s = 2n³ / time. Ratios: how many times faster the default configuration',
  `(${OURS_BEST}) is than each TF.js backend and PyTorch (> 1× = faster).`,
  'TF.js WASM runs single-threaded (its threaded build is not used in Node); it has no Conv2DBackpropFilter kernel, so TF.js',
  'convs train through a custom gradient made of convolutions (see bench/peers.ts); "as shipped" uses TF.js CPU\'s own backprop kernels.',
  torchNote,
  '',
];
// The issue's targets, read off this run (n = 1024 for the GEMM figures).
const get = (what: string, name: string): number | undefined => rows.find((r) => r.what === what)?.values.get(name);
const g1024 = 'GEMM n = 1024';
const js1 = get(g1024, 'tuckergrad JS, 1 thread');
const jsN = get(g1024, `tuckergrad JS, ${ALL_THREADS} threads`);
const simdN = get(g1024, OURS_BEST);
const step = get(STEP_ROW, OURS_BEST);
const step1 = get(STEP_ROW, 'tuckergrad SIMD, 1 thread');
const stepCpu = get(STEP_ROW, 'TF.js CPU');
const stepWasm = get(STEP_ROW, 'TF.js WASM');
const stepTorch = get(STEP_ROW, `PyTorch, ${ALL_THREADS} thread${ALL_THREADS > 1 ? 's' : ''}`);
const f = (v: number | undefined, d = 1): string => (v === undefined ? '–' : v.toFixed(d));
const gemmTargets = [
  `- Plain-JS GEMM on one core: ${f(js1, 2)} GFLOP/s at n = 1024 (target ≥ 4, 70% of the ≈ 5.7 scalar ceiling).`,
  ALL_THREADS > 1
    ? `- Plain-JS GEMM on ${ALL_THREADS} cores: ${f(jsN, 2)} GFLOP/s, ${f(jsN !== undefined && js1 !== undefined ? jsN / js1 : undefined, 2)}× one core (target ≥ 1.8×).`
    : '- One core only: no thread scaling measured.',
  `- SIMD GEMM on every core: ${f(simdN, 1)} GFLOP/s, ${f(simdN !== undefined && (jsN ?? js1) !== undefined ? simdN / (jsN ?? js1)! : undefined, 1)}× plain JS on the same cores (target ≥ 3×).`,
];
const targets = [
  '',
  '## Targets, from this run',
  '',
  ...(stepOnly ? [] : gemmTargets),
  `- LeNet-5 training step: ${f(step)} ms, ${f(stepCpu !== undefined && step ? stepCpu / step : undefined)}× faster than TF.js CPU (target ≥ 5×), ${f(stepWasm !== undefined && step ? stepWasm / step : undefined, 2)}× TF.js WASM (target ≥ 3×).`,
  `- LeNet-5 training step against PyTorch on ${ALL_THREADS} thread(s): tuckergrad's time / PyTorch's = ${f(step !== undefined && stepTorch !== undefined ? step / stepTorch : undefined, 2)} (target ≤ 1.2)${stepTorch === undefined ? ' (no PyTorch here)' : ''}.`,
  `- LeNet-5 training step, ${ALL_THREADS} threads against 1: ${f(step !== undefined && step1 !== undefined ? step1 / step : undefined, 2)}× faster (target ≥ 1.6×).`,
];
const text = [...header, ...lines, ...targets, ''].join('\n');
console.log(`\n${lines.join('\n')}\n${targets.join('\n')}`);
mkdirSync(path.join(here, 'results'), { recursive: true });
const outName = stepOnly ? 'peers-step.md' : 'peers.md';
writeFileSync(path.join(here, 'results', outName), text);
console.log(`\nwritten: bench/results/${outName}`);
