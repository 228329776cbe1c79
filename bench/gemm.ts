/**
 * GEMM throughput of the CPU backend, single thread: square float32 and float64 products, the
 * conv-shaped products of a LeNet-5 training step, and the speed-up over a naive triple loop.
 * Run: npx tsx bench/gemm.ts
 */
import type { GemmArgs } from '../src/backend/backend.js';
import { CpuBackend } from '../src/backend/cpu/index.js';
import type { TypedArray } from '../src/tensor/dtype.js';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
const backend = new CpuBackend();

function filled(ctor: Ctor, n: number): TypedArray {
  const out = new ctor(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i) * 0.5;
  return out;
}

function args(ctor: Ctor, m: number, n: number, k: number, transA = false, transB = false): GemmArgs {
  return {
    transA,
    transB,
    m,
    n,
    k,
    alpha: 1,
    beta: 0,
    a: filled(ctor, m * k),
    aOffset: 0,
    lda: transA ? m : k,
    b: filled(ctor, k * n),
    bOffset: 0,
    ldb: transB ? k : n,
    c: new ctor(m * n),
    cOffset: 0,
    ldc: n,
  };
}

/** Best time in ms over repetitions after one warm-up call; repeats until ~0.4 s or 20 runs. */
function bestMs(run: () => void): number {
  run();
  let best = Infinity;
  let total = 0;
  for (let r = 0; r < 20 && (r < 3 || total < 400); r++) {
    const t = performance.now();
    run();
    const dt = performance.now() - t;
    best = Math.min(best, dt);
    total += dt;
  }
  return best;
}

const gflops = (m: number, n: number, k: number, ms: number): number => (2 * m * n * k) / ms / 1e6;

/** The textbook i-j-p loop, as a baseline. */
function naiveGemm(g: GemmArgs): void {
  const { m, n, k, a, b, c } = g;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
}

console.log('CPU backend GEMM, one thread (GFLOP/s, best of several runs after a warm-up)\n');
console.log('| n | float32 | float64 |');
console.log('|---|---|---|');
for (const n of [128, 256, 512, 1024]) {
  const row = [Float32Array, Float64Array].map((ctor) => {
    const g = args(ctor, n, n, n);
    return gflops(
      n,
      n,
      n,
      bestMs(() => backend.gemm(g)),
    ).toFixed(2);
  });
  console.log(`| ${n} | ${row[0]} | ${row[1]} |`);
}

const n = 256;
const g32 = args(Float32Array, n, n, n);
const fast = bestMs(() => backend.gemm(g32));
const naive = bestMs(() => naiveGemm(g32));
console.log(
  `\nn = ${n} float32: blocked ${gflops(n, n, n, fast).toFixed(2)} GFLOP/s, naive triple loop ${gflops(n, n, n, naive).toFixed(2)} GFLOP/s → ${(naive / fast).toFixed(1)}× faster`,
);

// LeNet-5 (batch 64) conv GEMMs via im2col: forward W·cols, weight grad gy·colsᵀ, input grad Wᵀ·gy.
console.log('\nConv-shaped float32 GEMMs (LeNet-5, batch 64):\n');
console.log('| layer | product | m×n×k | GFLOP/s |');
console.log('|---|---|---|---|');
const convs: [string, number, number, number][] = [
  ['conv1', 6, 1 * 5 * 5, 64 * 28 * 28],
  ['conv2', 16, 6 * 5 * 5, 64 * 10 * 10],
];
for (const [name, outC, kk, cols] of convs) {
  const shapes: [string, number, number, number, boolean, boolean][] = [
    ['forward W·cols', outC, cols, kk, false, false],
    ['weight grad gy·colsᵀ', outC, kk, cols, false, true],
    ['input grad Wᵀ·gy', kk, cols, outC, true, false],
  ];
  for (const [what, m, nn, k, tA, tB] of shapes) {
    const g = args(Float32Array, m, nn, k, tA, tB);
    console.log(
      `| ${name} | ${what} | ${m}×${nn}×${k} | ${gflops(
        m,
        nn,
        k,
        bestMs(() => backend.gemm(g)),
      ).toFixed(2)} |`,
    );
  }
}
