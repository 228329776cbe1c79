/**
 * What the operands' crossing into the kernels' wasm memory costs at the float32 products of a
 * LeNet-5 training step (issue 22, docs/design.md §3.5.3): each product timed as the backend runs
 * it (gemmRangeWasm: every block of A and B copied in by TypedArray.set, then packed by wasm) and
 * with A and B already resident in the wasm memory (packed straight from there, as they would be if
 * tensors were stored in it). The difference is the most that resident tensor storage could save
 * on these products; the packing itself stays. One thread, median of 7 rounds of 10 calls.
 * Run: npx tsx bench/gemm-copies.ts
 */
import os from 'node:os';
import type { GemmArgs } from '../src/backend/backend.js';
import { gemmRangeWasm, wasmStoreC } from '../src/backend/cpu/gemm-wasm.js';
import type { KernelState } from '../src/backend/cpu/state.js';
import { wasmReserve } from '../src/backend/cpu/state.js';
import { mainState } from '../src/backend/cpu/threads.js';

interface Shape {
  name: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

// The products of conv.ts and matmul at batch 64 that take the packed route (the A·Bᵀ weight
// gradients take the dot-product kernel, whose copies are the same kind).
const SHAPES: Shape[] = [
  { name: 'conv2 forward W·cols', m: 50, n: 4096, k: 500, transA: false, transB: false },
  { name: 'conv2 input grad Wᵀ·gy', m: 500, n: 4096, k: 50, transA: true, transB: false },
  { name: 'conv1 forward W·cols', m: 20, n: 36864, k: 25, transA: false, transB: false },
  { name: 'fc1 forward x·Wᵀ', m: 64, n: 500, k: 800, transA: false, transB: true },
  { name: 'fc1 input grad gy·W', m: 64, n: 800, k: 500, transA: false, transB: false },
];

/**
 * gemmRangeWasm's loop nest (float32, alpha 1, beta 0, the whole of A packed at once) with A and B
 * read in place from the wasm memory at byte addresses aAt and bAt: the copies in are gone, the
 * packing and the copy of C out remain.
 */
function residentGemm(st: KernelState, s: Shape, aAt: number, bAt: number, out: Float32Array): void {
  const w = st.wasm!;
  const { m, n, k } = s;
  const lda = s.transA ? m : k;
  const ldb = s.transB ? k : n;
  const KC = Math.min(st.wKc, k);
  const MC = Math.min(st.wMc, m);
  const NC = Math.min(n, st.wNc, Math.max(8, Math.floor(st.wPackBudget / (k * 4 * 8)) * 8));
  const mcPadMax = Math.ceil(MC / 4) * 4;
  const aBlockBytes = mcPadMax * k * 4;
  const packedA = 0;
  const packedB = packedA + Math.ceil(m / MC) * aBlockBytes;
  const cAt = packedB + Math.ceil(NC / 8) * 8 * k * 4;
  for (let ic = 0; ic < m; ic += MC) {
    const mc = Math.min(MC, m - ic);
    const mcPad = Math.ceil(mc / 4) * 4;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const dst = packedA + (ic / MC) * aBlockBytes + mcPad * pc * 4;
      if (s.transA) w.packRows4(aAt + (pc * lda + ic) * 4, lda * 4, kc, mcPad >> 2, dst);
      else w.packCols4(aAt + (ic * lda + pc) * 4, lda * 4, kc, mcPad >> 2, dst);
    }
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const ncPad = Math.ceil(nc / 8) * 8;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      if (s.transB) w.packCols8(bAt + (jc * ldb + pc) * 4, ldb * 4, kc, ncPad >> 3, packedB + ncPad * pc * 4);
      else w.packRows8(bAt + (pc * ldb + jc) * 4, ldb * 4, kc, ncPad >> 3, packedB + ncPad * pc * 4);
    }
    for (let ic = 0; ic < m; ic += MC) {
      const mc = Math.min(MC, m - ic);
      const mcPad = Math.ceil(mc / 4) * 4;
      const aBlock = packedA + (ic / MC) * aBlockBytes;
      for (let pc = 0; pc < k; pc += KC) {
        w.sgemm(aBlock + mcPad * pc * 4, packedB + ncPad * pc * 4, cAt, mcPad >> 2, ncPad >> 3, Math.min(KC, k - pc), ncPad * 4, pc > 0 ? 1 : 0);
      }
      wasmStoreC(w, cAt, cAt, ncPad, mc, nc, out, ic * n + jc, n, 1, 0, false);
    }
  }
}

function median(f: () => void): number {
  for (let i = 0; i < 5; i++) f();
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) f();
    times.push((performance.now() - t0) / 10);
  }
  times.sort((a, b) => a - b);
  return times[3];
}

const st = mainState();
if (!st.wasm) throw new Error('gemm-copies: the WebAssembly kernels are not available here');
const w = st.wasm;
const load0 = os.loadavg()[0];
console.log(`# The operands' copies into wasm memory, LeNet-5 step products (float32, one thread)\n`);
console.log(
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Command: \`npx tsx bench/gemm-copies.ts\`. 1-minute load ${load0.toFixed(2)} at the start.\n`,
);
console.log('| product | m × n × k | as shipped (ms) | A, B resident (ms) | saved | GFLOP/s shipped → resident | max diff |');
console.log('|---|---|---|---|---|---|---|');
let shipped = 0;
let resident = 0;
for (const s of SHAPES) {
  const a = Float32Array.from({ length: s.m * s.k }, (_, i) => Math.sin(i) * 0.5);
  const b = Float32Array.from({ length: s.k * s.n }, (_, i) => Math.cos(i) * 0.5);
  const g: GemmArgs = {
    transA: s.transA,
    transB: s.transB,
    m: s.m,
    n: s.n,
    k: s.k,
    alpha: 1,
    beta: 0,
    a,
    aOffset: 0,
    lda: s.transA ? s.m : s.k,
    b,
    bOffset: 0,
    ldb: s.transB ? s.k : s.n,
    c: new Float32Array(s.m * s.n),
    cOffset: 0,
    ldc: s.n,
  };
  // The resident operands sit 64 MiB up, above the GEMM's own scratch, with slack for the panels'
  // reads past the last row.
  const aAt = 64 << 20;
  const bAt = aAt + a.length * 4 + 4096;
  wasmReserve(w, bAt + b.length * 4 + 4096);
  new Float32Array(w.mem.buffer).set(a, aAt >> 2);
  new Float32Array(w.mem.buffer).set(b, bAt >> 2);
  const ref = new Float32Array(s.m * s.n);
  const out = new Float32Array(s.m * s.n);
  gemmRangeWasm(st, g, 0, s.m, 0, s.n, 0, s.k, ref, 0, s.n, 1, 0);
  residentGemm(st, s, aAt, bAt, out);
  let diff = 0;
  for (let i = 0; i < out.length; i++) diff = Math.max(diff, Math.abs(out[i] - ref[i]));
  const t0 = median(() => gemmRangeWasm(st, g, 0, s.m, 0, s.n, 0, s.k, out, 0, s.n, 1, 0));
  const t1 = median(() => residentGemm(st, s, aAt, bAt, out));
  shipped += t0;
  resident += t1;
  const gf = (t: number) => ((2 * s.m * s.n * s.k) / t / 1e6).toFixed(1);
  console.log(
    `| ${s.name} | ${s.m} × ${s.n} × ${s.k} | ${t0.toFixed(3)} | ${t1.toFixed(3)} | ${(100 * (1 - t1 / t0)).toFixed(0)}% | ${gf(t0)} → ${gf(t1)} | ${diff} |`,
  );
}
console.log(`| all five | | ${shipped.toFixed(2)} | ${resident.toFixed(2)} | ${(100 * (1 - resident / shipped)).toFixed(0)}% | | |`);
console.log(`\n1-minute load ${os.loadavg()[0].toFixed(2)} at the end. 'max diff' compares the two routes' outputs (0: the same sums in the same order).`);
