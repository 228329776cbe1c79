/**
 * The jobs a thread of the pool runs (runJob), and the worker's main loop (workerMain). Both also
 * run in the workers from their source text (see threads.ts): they use only their parameters,
 * globals and the other worker functions.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { GemmArgs, WindowGeometry } from '../backend.js';
import * as elementwise from './elementwise-kernels.js';
import * as blocked from './gemm-blocked.js';
import * as wasmGemm from './gemm-wasm.js';
import * as batchnorm from './batchnorm.js';
import * as convLayout from './conv-layout.js';
import * as optimKernels from './optim-kernels.js';
import * as stateModule from './state.js';
import type { KernelState } from './state.js';
import * as windowKernels from './window-kernels.js';

const gemmRangeJs = blocked.gemmRangeJs;
const gemmRangeWasm = wasmGemm.gemmRangeWasm;
const gemmRangeWasmDot = wasmGemm.gemmRangeWasmDot;
const createKernelState = stateModule.createKernelState;
const im2colRows = windowKernels.im2colRows;
const col2imPart = windowKernels.col2imPart;
const im2colRowsW = windowKernels.im2colRowsW;
const col2imPartW = windowKernels.col2imPartW;
const maxPoolPlanes = windowKernels.maxPoolPlanes;
const maxPoolPlanesW = windowKernels.maxPoolPlanesW;
const maxPoolBackwardRange = windowKernels.maxPoolBackwardRange;
const sgdRange = optimKernels.sgdRange;
const bnStatsRange = batchnorm.bnStatsRange;
const bnApplyRange = batchnorm.bnApplyRange;
const bnBackwardRange = batchnorm.bnBackwardRange;
const swapRows = convLayout.swapRows;
const swapRowsW = convLayout.swapRowsW;
const unaryRange = elementwise.unaryRange;
const binaryRange = elementwise.binaryRange;
const unaryRangeW = elementwise.unaryRangeW;
const binaryRangeW = elementwise.binaryRangeW;

/** One thread's block of a GEMM (see gemmRangeJs for the meaning of the fields). */
export interface GemmJob {
  kind: 'gemm';
  /**
   * Which kernel: plain JS, the wasm SIMD outer-product kernel (float32), the wasm dot-product
   * kernel (float32 A·Bᵀ), or the wasm f64x2 outer-product kernel (float64).
   */
  path: GemmPath;
  g: GemmArgs;
  i0: number;
  i1: number;
  j0: number;
  j1: number;
  p0: number;
  p1: number;
  out: TypedArray;
  outOffset: number;
  ldo: number;
  alpha: number;
  beta: number;
}

/** What both batch-norm passes read: x as [N, C, P], the channel statistics and γ, and their channels [c0, c1). */
interface BnChannels {
  x: TypedArray;
  N: number;
  C: number;
  P: number;
  mean: Float64Array;
  invstd: Float64Array;
  weight: TypedArray | null;
  c0: number;
  c1: number;
}

export type GemmPath = 'js' | 'wasm' | 'dot' | 'wasm64';

export type Job =
  | GemmJob
  | { kind: 'im2col'; simd: boolean; x: TypedArray; g: WindowGeometry; cols: TypedArray; r0: number; r1: number }
  | { kind: 'col2im'; simd: boolean; cols: TypedArray; g: WindowGeometry; dx: TypedArray; c0: number; c1: number; n0: number; n1: number }
  | { kind: 'maxPool'; simd: boolean; x: TypedArray; g: WindowGeometry; out: TypedArray; argmax: Int32Array; p0: number; p1: number }
  | {
      kind: 'sgd';
      w: TypedArray;
      g: TypedArray;
      v: TypedArray;
      lr: number;
      wd: number;
      mu: number;
      damp: number;
      nesterov: boolean;
      first: boolean;
      lo: number;
      hi: number;
    }
  | {
      kind: 'swapRows';
      simd: boolean;
      x: TypedArray;
      A: number;
      B: number;
      P: number;
      bias: TypedArray | null;
      out: TypedArray;
      rowSums: Float64Array | null;
      r0: number;
      r1: number;
    }
  | { kind: 'maxPoolBack'; gy: TypedArray; argmax: Int32Array | Float64Array; dx: TypedArray; o0: number; o1: number; z0: number; z1: number }
  | { kind: 'bnStats'; x: TypedArray; N: number; C: number; P: number; mean: Float64Array; variance: Float64Array; c0: number; c1: number }
  | (BnChannels & { kind: 'bnApply'; bias: TypedArray | null; out: TypedArray })
  | (BnChannels & { kind: 'bnBackward'; gy: TypedArray; training: boolean; dx: TypedArray | null; sums: Float64Array })
  | { kind: 'unary'; simd: boolean; op: string; x: TypedArray; out: TypedArray; lo: number; hi: number }
  | { kind: 'binary'; simd: boolean; op: string; a: TypedArray; sa: number; b: TypedArray; sb: number; out: TypedArray; lo: number; hi: number };

/** Kernel functions of this module's jobs beyond GEMM, for the worker source. */
export const PARALLEL_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [
  windowKernels.firstInside,
  windowKernels.endInside,
  windowKernels.im2colRows,
  windowKernels.col2imPart,
  windowKernels.im2colRowsW,
  windowKernels.col2imPartW,
  windowKernels.maxPoolPlanes,
  windowKernels.maxPoolPlanesW,
  windowKernels.maxPoolBackwardRange,
  optimKernels.sgdRange,
  batchnorm.bnStatsRange,
  batchnorm.bnApplyRange,
  batchnorm.bnBackwardRange,
  convLayout.swapRows,
  convLayout.swapRowsW,
  elementwise.unaryRange,
  elementwise.binaryRange,
  elementwise.unaryRangeW,
  elementwise.binaryRangeW,
];

export function runJob(st: KernelState, job: Job): void {
  switch (job.kind) {
    case 'gemm':
      if (job.path === 'wasm') gemmRangeWasm(st, job.g, job.i0, job.i1, job.j0, job.j1, job.p0, job.p1, job.out, job.outOffset, job.ldo, job.alpha, job.beta);
      else if (job.path === 'wasm64')
        gemmRangeWasm(st, job.g, job.i0, job.i1, job.j0, job.j1, job.p0, job.p1, job.out, job.outOffset, job.ldo, job.alpha, job.beta, true);
      else if (job.path === 'dot')
        gemmRangeWasmDot(st, job.g, job.i0, job.i1, job.j0, job.j1, job.p0, job.p1, job.out, job.outOffset, job.ldo, job.alpha, job.beta);
      else gemmRangeJs(st, job.g, job.i0, job.i1, job.j0, job.j1, job.p0, job.p1, job.out, job.outOffset, job.ldo, job.alpha, job.beta);
      return;
    case 'im2col':
      if (job.simd) return im2colRowsW(st, job.x, job.g, job.cols, job.r0, job.r1);
      return im2colRows(job.x, job.g, job.cols, job.r0, job.r1);
    case 'col2im':
      if (job.simd) return col2imPartW(st, job.cols, job.g, job.dx, job.c0, job.c1, job.n0, job.n1);
      return col2imPart(job.cols, job.g, job.dx, job.c0, job.c1, job.n0, job.n1);
    case 'maxPool':
      if (job.simd) return maxPoolPlanesW(st, job.x, job.g, job.out, job.argmax, job.p0, job.p1);
      return maxPoolPlanes(job.x, job.g, job.out, job.argmax, job.p0, job.p1);
    case 'swapRows':
      if (job.simd) return swapRowsW(st, job.x, job.A, job.B, job.P, job.bias, job.out, job.rowSums, job.r0, job.r1);
      return swapRows(job.x, job.A, job.B, job.P, job.bias, job.out, job.rowSums, job.r0, job.r1);
    case 'sgd':
      return sgdRange(job.w, job.g, job.v, job.lr, job.wd, job.mu, job.damp, job.nesterov, job.first, job.lo, job.hi);
    case 'maxPoolBack':
      // dx[z0, z1): the planes this range scatters into, zeroed first where the caller asked.
      if (job.z1 > job.z0) job.dx.fill(0, job.z0, job.z1);
      return maxPoolBackwardRange(job.gy, job.argmax, job.dx, job.o0, job.o1);
    case 'bnStats':
      return bnStatsRange(job.x, job.N, job.C, job.P, job.mean, job.variance, job.c0, job.c1);
    case 'bnApply':
      return bnApplyRange(job.x, job.N, job.C, job.P, job.mean, job.invstd, job.weight, job.bias, job.out, job.c0, job.c1);
    case 'bnBackward':
      return bnBackwardRange(job.gy, job.x, job.N, job.C, job.P, job.mean, job.invstd, job.weight, job.training, job.dx, job.sums, job.c0, job.c1);
    case 'unary':
      if (job.simd) return unaryRangeW(st, job.op, job.x, job.out, job.lo, job.hi);
      return unaryRange(job.op, job.x, job.out, job.lo, job.hi);
    case 'binary':
      if (job.simd) return binaryRangeW(st, job.op, job.a, job.sa, job.b, job.sb, job.out, job.lo, job.hi);
      return binaryRange(job.op, job.a, job.sa, job.b, job.sb, job.out, job.lo, job.hi);
    default:
      throw new Error(`runJob: unknown job kind ${String((job as { kind: unknown }).kind)}`);
  }
}

/**
 * Runs the chunks of a batch that this thread claims from the batch's counter ([0] the next chunk,
 * [1] the chunks done) until none is left, on the calling thread and on every worker alike; a chunk
 * that throws goes to `failed` and counts as done. Whoever finishes the last chunk wakes the thread
 * waiting on counter[1]. Returns how many chunks this thread ran.
 */
export function claimChunks(st: KernelState, chunks: Job[], counter: Int32Array, failed: (e: unknown) => void): number {
  const count = chunks.length;
  let ran = 0;
  for (;;) {
    const i = Atomics.add(counter, 0, 1);
    if (i >= count) break;
    try {
      runJob(st, chunks[i]);
    } catch (e) {
      failed(e);
    }
    ran++;
    if (Atomics.add(counter, 1, 1) + 1 >= count) Atomics.notify(counter, 1);
  }
  return ran;
}

interface WorkerData {
  ctrl: Int32Array;
  base: number;
  port: unknown;
  wasmBytes: Uint8Array | null;
  spin: number;
}

/**
 * The worker's loop. Slots of ctrl from `base`: [0] batch sequence number posted by the calling
 * thread (−1: stop), [1] sequence number of the last batch finished, [3] ready (1) or failed to start (−1).
 * A batch is { chunks, counter }: see runChunks in threads.ts. A failing chunk posts its error on
 * the port and sets counter[2].
 */
export function workerMain(wt: { workerData: unknown; receiveMessageOnPort(port: unknown): { message: unknown } | undefined }): void {
  const d = wt.workerData as WorkerData;
  const ctrl = d.ctrl;
  const base = d.base;
  const port = d.port as { postMessage(m: unknown): void };
  let st: KernelState;
  try {
    st = createKernelState(d.wasmBytes ? new WebAssembly.Module(d.wasmBytes as BufferSource) : null);
  } catch {
    Atomics.store(ctrl, base + 3, -1);
    Atomics.notify(ctrl, base + 3);
    return;
  }
  Atomics.store(ctrl, base + 3, 1);
  Atomics.notify(ctrl, base + 3);
  let seq = 0;
  for (;;) {
    let spins = 0;
    let next = Atomics.load(ctrl, base);
    while (next === seq) {
      if (++spins > d.spin) Atomics.wait(ctrl, base, seq);
      next = Atomics.load(ctrl, base);
    }
    if (next < 0) return;
    seq = next;
    // Batches are posted before the sequence number moves, so they are on the port already; take
    // every one queued (a worker that fell behind finds the old ones exhausted).
    for (;;) {
      const msg = wt.receiveMessageOnPort(port);
      if (!msg) break;
      const batch = msg.message as { chunks: Job[]; counter: Int32Array; seq: number };
      claimChunks(st, batch.chunks, batch.counter, (e) => {
        port.postMessage(e instanceof Error ? (e.stack ?? e.message) : String(e));
        Atomics.store(batch.counter, 2, 1);
      });
      // Done with this batch and every earlier one: its counter may be reused (takeCounter).
      Atomics.store(ctrl, base + 1, batch.seq);
    }
  }
}
