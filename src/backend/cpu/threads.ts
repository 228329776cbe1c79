/**
 * The CPU backend's thread pool: worker threads over SharedArrayBuffer tensors, and the kernels'
 * split of large work (GEMM, im2col/col2im, big elementwise ops) across them. The calling thread
 * always takes a share itself and blocks until the workers are done, so every kernel stays
 * synchronous; small work never leaves the calling thread.
 *
 * Size: the number of cores (os.availableParallelism, navigator.hardwareConcurrency), overridden by
 * the environment variable TUCKERGRAD_THREADS or setNumThreads(). TUCKERGRAD_SIMD=0 (or
 * setSimd(false)) keeps float32 on the plain-JS kernels (GEMM, im2col/col2im, pooling, elementwise)
 * and float64 GEMM on the plain-JS kernel.
 *
 * Workers: Node's worker_threads, started on first use, unref'd (they never keep the process alive).
 * Their code is a string (new Worker(code, { eval: true })) built from the source text of the same
 * kernel functions the calling thread runs (WORKER_FUNCTIONS), so it needs no loader and works the
 * same under node, tsx and vitest; a browser port would wrap the same string in a Blob URL for a Web
 * Worker and replace receiveMessageOnPort by a message posted before the wake-up. Those functions may
 * use only their parameters, globals (Math, typed arrays, Atomics, WebAssembly) and each other.
 *
 * Protocol per batch of chunks (runChunks): the calling thread posts the batch (typed arrays on
 * SharedArrayBuffers are shared, not copied) on each worker's MessagePort, bumps the worker's
 * sequence number in a shared Int32Array and notifies it; the worker, spinning briefly then parked
 * in Atomics.wait, takes the message with receiveMessageOnPort. Every thread, the calling one
 * included, then takes chunks from a shared counter until none is left (dynamic scheduling, chunks
 * of decreasing size); the calling thread returns when all are done. Operands not on a
 * SharedArrayBuffer are staged through shared scratch (tensors of 4096+ elements are allocated
 * shared by src/tensor/dtype.ts, so that is rare: it cost 25–55% on LeNet's conv GEMMs).
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { GemmArgs } from '../backend.js';
import * as blocked from './gemm-blocked.js';
import * as kernelModule from './gemm-kernel.js';
import * as packModule from './gemm-pack.js';
import * as wasmGemm from './gemm-wasm.js';
import * as parallelKernels from './parallel-kernels.js';
import * as stateModule from './state.js';
import type { KernelState, WasmKernels } from './state.js';
import { kernelBytes, simdSupported } from './wasm/kernels.js';

const gemmRangeJs = blocked.gemmRangeJs;
const gemmRangeWasm = wasmGemm.gemmRangeWasm;
const gemmRangeWasmDot = wasmGemm.gemmRangeWasmDot;
const claimChunks = parallelKernels.claimChunks;

/** A unit of work for one thread: see runJob in parallel-kernels.ts for the kinds. */
export type Job = parallelKernels.Job;
type GemmPath = parallelKernels.GemmPath;

/**
 * Every function a worker runs, in source order of dependency (declarations are hoisted, so the
 * order does not matter to JavaScript; it is kept readable).
 */
const WORKER_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [
  stateModule.createKernelState,
  stateModule.growF64,
  stateModule.wasmReserve,
  kernelModule.microKernel4x4,
  packModule.packA,
  packModule.packB,
  blocked.scaleBlock,
  blocked.gemmRangeJs,
  wasmGemm.copyBlockIn,
  wasmGemm.copyBlockOut,
  wasmGemm.wasmPackA,
  wasmGemm.wasmPackB,
  wasmGemm.wasmStoreC,
  wasmGemm.gemmRangeWasm,
  wasmGemm.copyRowsPadded,
  wasmGemm.gemmRangeWasmDot,
  ...parallelKernels.PARALLEL_FUNCTIONS,
  parallelKernels.runJob,
  parallelKernels.claimChunks,
  parallelKernels.workerMain,
];

/** The worker's program: the kernel functions, then the loop. Exported for the tests. */
export function workerSource(): string {
  // tsx compiles with keepNames, which wraps nested functions in __name(); the kernels have none, but
  // a harmless definition keeps a stray one from failing at run time.
  return [
    '"use strict";',
    'var __name = function (f) { return f; };',
    ...WORKER_FUNCTIONS.map((f) => f.toString()),
    'workerMain(require("node:worker_threads"));',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Configuration

type WorkerThreads = typeof import('node:worker_threads');

function nodeModule<T>(id: string): T | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (proc?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

function envVar(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}

function defaultThreads(): number {
  const env = envVar('TUCKERGRAD_THREADS');
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  const os = nodeModule<typeof import('node:os')>('node:os');
  if (os) return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

let numThreads = defaultThreads();
let simdOn = envVar('TUCKERGRAD_SIMD') !== '0';

/** Threads the kernels split large work across (the calling thread included). */
export function getNumThreads(): number {
  return numThreads;
}

/**
 * Sets the number of threads (≥ 1; 1 keeps everything on the calling thread). Workers beyond the
 * new count are stopped; missing ones start on the next large kernel.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: n must be a positive integer, got ${String(n)}`);
  numThreads = n;
  if (workers.length > n - 1) counters.length = 0;
  while (workers.length > n - 1) stopWorker(workers.pop()!);
}

/**
 * Runs fn as if with one thread: every kernel on the calling thread, the pool's workers left
 * running (parked) for after. For work that runs beside a thread of its own (the integrator's
 * layers side by side, docs/integrator.md §8): the kernels then take the routes they take on one
 * thread, so the results are those of a worker running with one thread.
 */
export function onCallingThread<T>(fn: () => T): T {
  const saved = numThreads;
  numThreads = 1;
  try {
    return fn();
  } finally {
    numThreads = saved;
  }
}

/** Whether float32 and float64 GEMM run on the WebAssembly SIMD kernels (when the runtime supports them). */
export function simdEnabled(): boolean {
  return simdOn && simdSupported() && mainState().wasm !== null;
}

/** Turns the WebAssembly SIMD GEMM on or off (off: the plain-JS kernel, for comparison and tests). */
export function setSimd(on: boolean): void {
  simdOn = on;
}

let main: KernelState | null = null;

/** The calling thread's kernel state. */
export function mainState(): KernelState {
  if (!main) {
    let mod: WebAssembly.Module | null = null;
    try {
      // Synchronous compilation can be refused (a browser's main thread limits it): then no SIMD.
      if (simdSupported()) mod = new WebAssembly.Module(kernelBytes() as BufferSource);
    } catch {
      mod = null;
    }
    main = stateModule.createKernelState(mod);
    if (!mod) simdOn = false;
  }
  return main;
}

let linalgInstance: WasmKernels | null | undefined;

/**
 * A second instance of the kernel module on the calling thread, for linalg/'s Level-2 kernels: its
 * memory holds a matrix across many kernel calls (a factorisation's whole reduction), which the
 * GEMM's instance cannot offer since every GEMM reuses its memory from address 0. Null when the
 * SIMD kernels are off or unavailable (the callers then run their JavaScript loops).
 */
export function linalgKernels(): WasmKernels | null {
  if (!simdEnabled()) return null;
  if (linalgInstance === undefined) {
    try {
      linalgInstance = stateModule.createKernelState(new WebAssembly.Module(kernelBytes() as BufferSource)).wasm;
    } catch {
      linalgInstance = null;
    }
  }
  return linalgInstance;
}

// ---------------------------------------------------------------------------------------------
// Workers

interface PoolWorker {
  worker: { unref(): void; terminate(): Promise<number> };
  port: { postMessage(m: unknown): void; close(): void };
  /** Index of this worker's slots in ctrl: [seq, done, status, ready]. */
  base: number;
  seq: number;
}

const SLOTS = 16; // ints per worker: the 4 used, padded to a cache line
const MAX_WORKERS = 64;
/** Spins (Atomics.load) before parking in Atomics.wait, on both sides: ~20 µs. */
const SPIN = 2000;

let ctrl: Int32Array | null = null;
let workers: PoolWorker[] = [];
let poolBroken = false;
let wt: WorkerThreads | null | undefined;

function workerThreads(): WorkerThreads | null {
  if (wt === undefined) wt = typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object' ? nodeModule<WorkerThreads>('node:worker_threads') : null;
  return wt;
}

function stopWorker(w: PoolWorker): void {
  if (!ctrl) return;
  Atomics.store(ctrl, w.base, -1);
  Atomics.notify(ctrl, w.base);
  w.port.close();
  void w.worker.terminate();
}

/**
 * Starts the workers up to numThreads − 1 and waits (up to timeoutMs) until they are ready. Returns
 * the number of workers ready; on a failure the pool is disabled and kernels run on one thread.
 */
export function startWorkers(timeoutMs = 10_000): number {
  const want = Math.min(MAX_WORKERS, numThreads - 1);
  if (want <= 0 || poolBroken) return 0;
  const mod = workerThreads();
  if (!mod) return 0;
  if (!ctrl) ctrl = new Int32Array(new SharedArrayBuffer(MAX_WORKERS * SLOTS * 4));
  const started: PoolWorker[] = [];
  const src = workerSource();
  const wasmBytes = simdSupported() ? kernelBytes() : null;
  try {
    for (let i = workers.length; i < want; i++) {
      // A free slot: workers keep their slot for life, so take the first not in use.
      let base = 0;
      while (workers.some((w) => w.base === base) || started.some((w) => w.base === base)) base += SLOTS;
      for (let s = 0; s < SLOTS; s++) Atomics.store(ctrl, base + s, 0);
      const channel = new mod.MessageChannel();
      const worker = new mod.Worker(src, {
        eval: true,
        workerData: { ctrl, base, port: channel.port2, wasmBytes, spin: SPIN },
        transferList: [channel.port2],
      });
      worker.unref();
      // The main side of the port must not keep the process alive either.
      (channel.port1 as unknown as { unref?: () => void }).unref?.();
      started.push({ worker, port: channel.port1, base, seq: 0 });
    }
    const deadline = Date.now() + timeoutMs;
    for (const w of started) {
      for (;;) {
        const r = Atomics.load(ctrl, w.base + 3);
        if (r === 1) break;
        if (r === -1) throw new Error('a worker failed to start');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('workers did not start in time');
        Atomics.wait(ctrl, w.base + 3, 0, Math.min(left, 50));
      }
    }
  } catch {
    for (const w of started) stopWorker(w);
    poolBroken = true;
    return workers.length;
  }
  workers = workers.concat(started);
  return workers.length;
}

/** Whether the worker pool could not start here (kernels then run on the calling thread only). */
export function poolDisabled(): boolean {
  return poolBroken || !workerThreads();
}

/** Workers available now for a job split `parts` ways (starting them on first use). */
function availableWorkers(parts: number): number {
  if (parts <= 1) return 0;
  if (workers.length < Math.min(parts, numThreads) - 1 && !poolBroken) startWorkers();
  return Math.min(workers.length, parts - 1);
}

/**
 * Counters for tests and benches: chunks run by workers so far, batches handed to the pool, and
 * the batch counters allocated (a fresh one only when no recycled one is free, see takeCounter).
 */
export const stats = { workerJobs: 0, batches: 0, countersAllocated: 0 };

interface BatchCounter {
  arr: Int32Array;
  /** The sequence number each worker was posted this counter's last batch at (−1: not posted). */
  posted: number[];
}

/** Counters of past batches, reused once every worker they were posted to is past them. */
const counters: BatchCounter[] = [];
const MAX_COUNTERS = 64;

/**
 * A zeroed batch counter nobody can touch any more. Each batch carries the worker's sequence number
 * and the worker records it in slot 1 once done with the batch; batches arrive in order, so a worker
 * whose slot 1 is at or past a batch's number has run (or skipped) all of it and will not touch its
 * counter again (sequence numbers wrap at 2³⁰ and are compared modulo that). Counters posted to
 * a worker that was stopped are dropped (setNumThreads), never reused.
 */
function takeCounter(): BatchCounter {
  const c = ctrl!;
  for (const bc of counters) {
    let free = true;
    for (let w = 0; w < bc.posted.length && free; w++) {
      const p = bc.posted[w];
      if (p < 0) continue;
      const wk = workers[w];
      // done − p modulo 2³⁰, below 2²⁹: done is at or past p, across a wrap too.
      free = wk !== undefined && ((Atomics.load(c, wk.base + 1) - p) & 0x3fffffff) < 0x20000000;
    }
    if (free) {
      Atomics.store(bc.arr, 0, 0);
      Atomics.store(bc.arr, 1, 0);
      Atomics.store(bc.arr, 2, 0);
      bc.posted.fill(-1);
      return bc;
    }
  }
  stats.countersAllocated++;
  const bc: BatchCounter = { arr: new Int32Array(new SharedArrayBuffer(16)), posted: [] };
  if (counters.length < MAX_COUNTERS) counters.push(bc);
  return bc;
}

/**
 * Runs the chunks on the calling thread and up to `helpers` workers. Scheduling is dynamic: every
 * thread takes the next chunk from a shared counter until none is left, so a worker that is slow
 * to wake (or descheduled on a busy machine) costs nothing: the calling thread takes its chunks,
 * and returns as soon as every chunk is done, without waiting for a worker that never started one.
 * Every typed array a worker may write must be on a SharedArrayBuffer (a copy would lose its writes).
 */
export function runChunks(chunks: Job[], helpers: number): void {
  const c = ctrl!;
  const count = chunks.length;
  // [next chunk, chunks completed, a chunk failed on a worker], not shared with any batch a worker
  // may still be in (takeCounter), so a worker that reaches an old batch late finds it exhausted.
  const bc = takeCounter();
  const counter = bc.arr;
  stats.batches++;
  const used = Math.min(helpers, workers.length);
  for (let w = 0; w < used; w++) {
    const pw = workers[w];
    pw.seq = (pw.seq + 1) & 0x3fffffff;
    pw.port.postMessage({ chunks, counter, seq: pw.seq });
    bc.posted[w] = pw.seq;
    Atomics.store(c, pw.base, pw.seq);
    Atomics.notify(c, pw.base);
  }
  let error: unknown = null;
  let mine = 0;
  if (tuning.mainShare || used === 0) {
    mine = claimChunks(mainState(), chunks, counter, (e) => {
      error ??= e;
    });
  }
  let spins = 0;
  for (;;) {
    const done = Atomics.load(counter, 1);
    if (done >= count) break;
    if (++spins > SPIN) Atomics.wait(counter, 1, done, 100);
  }
  stats.workerJobs += count - mine;
  if (error) throw error;
  if (Atomics.load(counter, 2) !== 0) {
    let text = 'unknown error';
    for (let w = 0; w < used; w++) {
      const msg = workerThreads()!.receiveMessageOnPort(workers[w].port as never) as { message: unknown } | undefined;
      if (msg) text = String(msg.message);
    }
    throw new Error(`worker thread: ${text}`);
  }
}

/**
 * Runs `total` independent items split into contiguous ranges across the threads, each range at
 * least `grain` items: makeJob(lo, hi) describes one range. Runs whole() on the calling thread
 * instead when the work is too small to split, there is one thread, or an array is not shared.
 */
export function parallelFor(
  total: number,
  grain: number,
  arrays: readonly (TypedArray | Int32Array)[],
  makeJob: (lo: number, hi: number) => Job,
  whole: () => void,
): void {
  const T = Math.min(numThreads, Math.floor(total / Math.max(1, grain)));
  if (T <= 1 || !arrays.every((x) => isSharedBuffer(x))) return whole();
  const helpers = availableWorkers(T);
  if (helpers === 0) return whole();
  // A few chunks per thread, decreasing in size, so the dynamic schedule can balance them.
  const threadsUsed = helpers + 1;
  const bounds = Math.floor(total / Math.max(1, grain)) >= 3 * threadsUsed ? splitGuided(total, threadsUsed, 1) : splitRange(total, threadsUsed, 1);
  const jobs: Job[] = [];
  for (let t = 0; t + 1 < bounds.length; t++) if (bounds[t + 1] > bounds[t]) jobs.push(makeJob(bounds[t], bounds[t + 1]));
  runChunks(jobs, helpers);
}

function isSharedBuffer(x: { buffer: ArrayBufferLike }): boolean {
  return typeof SharedArrayBuffer === 'function' && x.buffer instanceof SharedArrayBuffer;
}

// ---------------------------------------------------------------------------------------------
// Shared staging for operands that are not on a SharedArrayBuffer

export function isShared(x: TypedArray): boolean {
  return isSharedBuffer(x);
}

const staging: { f32: Float32Array[]; f64: Float64Array[] } = { f32: [], f64: [] };

/** Shared scratch slot `slot` of x's element type with at least `size` elements (grow-only). */
export function sharedScratch(like: TypedArray, slot: number, size: number): TypedArray {
  const isF32 = like instanceof Float32Array;
  const list: TypedArray[] = isF32 ? staging.f32 : staging.f64;
  const cur = list[slot];
  if (cur && cur.length >= size) return cur;
  const len = Math.max(size, Math.ceil((cur?.length ?? 0) * 1.5));
  const bytes = len * (isF32 ? 4 : 8);
  const next = isF32 ? new Float32Array(new SharedArrayBuffer(bytes)) : new Float64Array(new SharedArrayBuffer(bytes));
  list[slot] = next;
  return next;
}

export function isSharedInt(x: Int32Array): boolean {
  return isSharedBuffer(x);
}

const intScratch: (Int32Array | null)[] = [];

/** Shared Int32Array scratch slot `slot` (0: kernels' staging, 1 and 2: the host kernel table) of at least `size` elements (grow-only). */
export function sharedIntScratch(size: number, slot = 0): Int32Array {
  const cur = intScratch[slot] ?? null;
  if (cur && cur.length >= size) return cur;
  const next = new Int32Array(new SharedArrayBuffer(Math.max(size, Math.ceil((cur?.length ?? 0) * 1.5)) * 4));
  intScratch[slot] = next;
  return next;
}

/** x itself when shared, else a shared copy of x[offset, offset + span) (the job then reads from 0). */
function stage(x: TypedArray, offset: number, span: number, slot: number): { data: TypedArray; offset: number } {
  if (isShared(x)) return { data: x, offset };
  const s = sharedScratch(x, slot, span);
  s.set(x.subarray(offset, offset + span), 0);
  return { data: s, offset: 0 };
}

// ---------------------------------------------------------------------------------------------
// GEMM split

/**
 * Thresholds of the splits (exported so the tests can force small work through every path).
 * parMinMacs*: multiply-adds per thread below which a product is not split (~100 µs of work: thread
 * hand-off costs 10–50 µs); dotMax: largest m and n for the dot-product kernel.
 */
export const tuning = {
  parMinMacsWasm: 1 << 22,
  parMinMacsJs: 1 << 19,
  /** The f64x2 kernel does half the f32x4 kernel's multiply-adds per second: half its threshold. */
  parMinMacsWasmF64: 1 << 21,
  dotMax: 512,
  /** Elements (of cols) below which im2col/col2im stay on the calling thread. */
  windowMin: 1 << 16,
  /** Output elements below which max pooling stays on the calling thread. */
  poolMin: 1 << 15,
  /** Elements below which a unary or binary op stays on the calling thread (~50 µs of work). */
  elementwiseMin: 1 << 17,
  /** Whether the calling thread takes chunks itself (off: the workers do all, for the tests). */
  mainShare: true,
};

/** The contract every GEMM range shares (gemmRangeJs's; the wasm ranges take the same arguments). */
type GemmRange = typeof blocked.gemmRangeJs;

/** Splits [0, total) into `parts` contiguous chunks, each boundary a multiple of `align`. */
export function splitRange(total: number, parts: number, align: number): number[] {
  const units = Math.ceil(total / align);
  const bounds = [0];
  for (let t = 1; t < parts; t++) bounds.push(Math.min(total, Math.round((units * t) / parts) * align));
  bounds.push(total);
  return bounds;
}

/**
 * Splits [0, total) into levels·threads chunks of decreasing size (weights levels, …, 2, 1, each for
 * `threads` chunks), each boundary a multiple of `align`: large chunks first keep the hand-offs few,
 * small ones last keep the wait for the slowest thread short (guided self-scheduling).
 */
export function splitGuided(total: number, threads: number, align: number, levels = 3): number[] {
  const weights: number[] = [];
  for (let w = levels; w >= 1; w--) for (let t = 0; t < threads; t++) weights.push(w);
  const sum = ((levels * (levels + 1)) / 2) * threads;
  const units = Math.ceil(total / align);
  const bounds = [0];
  let acc = 0;
  for (let i = 0; i < weights.length - 1; i++) {
    acc += weights[i];
    bounds.push(Math.min(total, Math.max(bounds[bounds.length - 1], Math.round((units * acc) / sum) * align)));
  }
  bounds.push(total);
  return bounds;
}

/** The float64 range on the calling thread (a job names its element type instead: runJob). */
const gemmRangeF64: GemmRange = (st, g, i0, i1, j0, j1, p0, p1, out, outOffset, ldo, alpha, beta) =>
  gemmRangeWasm(st, g, i0, i1, j0, j1, p0, p1, out, outOffset, ldo, alpha, beta, true);

/** The kernel a product runs on (by element type, SIMD and shape) and its split threshold. */
function gemmPathOf(g: GemmArgs): { path: GemmPath; range: GemmRange; parMin: number } {
  const isF64 = g.a instanceof Float64Array;
  const useWasm = (isF64 || g.a instanceof Float32Array) && simdEnabled();
  const path: GemmPath = !useWasm ? 'js' : isF64 ? 'wasm64' : !g.transA && g.transB && g.m <= tuning.dotMax && g.n <= tuning.dotMax ? 'dot' : 'wasm';
  const range: GemmRange = path === 'js' ? gemmRangeJs : path === 'dot' ? gemmRangeWasmDot : path === 'wasm64' ? gemmRangeF64 : gemmRangeWasm;
  const parMin = path === 'js' ? tuning.parMinMacsJs : path === 'wasm64' ? tuning.parMinMacsWasmF64 : tuning.parMinMacsWasm;
  return { path, range, parMin };
}

/**
 * C = alpha·op(A)·op(B) + beta·C for a product already validated and past the small/degenerate cases:
 * one thread below the threshold, else split by columns, rows or (for thin outputs) k.
 */
export function gemmParallel(g: GemmArgs): void {
  const { m, n, k, alpha, beta, c, cOffset, ldc } = g;
  const { path, range, parMin } = gemmPathOf(g);
  const useWasm = path !== 'js';
  const macs = m * n * k;
  const T = Math.min(numThreads, Math.max(1, Math.floor(macs / Math.max(1, parMin))));
  const tilesN = Math.ceil(n / 8);
  const tilesM = Math.ceil(m / 4);
  // Each column (row) split packs all of A (B) on every thread: duplicate the smaller operand.
  let mode: 'n' | 'm' | 'k' | 'none' = 'none';
  if (T > 1) {
    const nOk = tilesN >= 2 * T;
    const mOk = tilesM >= 2 * T;
    if (nOk && (m <= n || !mOk)) mode = 'n';
    else if (mOk) mode = 'm';
    else if (k >= 64 * T) mode = 'k';
  }
  const helpers = mode === 'none' ? 0 : availableWorkers(T);
  if (helpers === 0) {
    range(mainState(), g, 0, m, 0, n, 0, k, c, cOffset, ldc, alpha, beta);
    return;
  }
  // A few chunks per thread for the dynamic schedule, each worth a thread hand-off.
  const threadsUsed = helpers + 1;
  const units = mode === 'n' ? tilesN : mode === 'm' ? tilesM : Math.floor(k / 64);
  const minMacs = Math.max(1, parMin / 4);
  // The plain-JS kernel is ~10× slower per flop, so its chunks can be finer for the same overhead.
  const levels = useWasm ? 3 : 5;
  const guided = units >= levels * threadsUsed && macs >= levels * threadsUsed * minMacs;
  const chunks = guided ? levels * threadsUsed : threadsUsed;
  const split = (total: number, align: number): number[] => (guided ? splitGuided(total, threadsUsed, align, levels) : splitRange(total, threadsUsed, align));
  // Any chunk may run on any thread: operands not on a SharedArrayBuffer go through shared scratch.
  const aSpan = (g.transA ? k - 1 : m - 1) * g.lda + (g.transA ? m : k);
  const bSpan = (g.transB ? n - 1 : k - 1) * g.ldb + (g.transB ? k : n);
  const sa = stage(g.a, g.aOffset, aSpan, 0);
  const sb = stage(g.b, g.bOffset, bSpan, 1);
  const jobs: Job[] = [];
  if (mode === 'k') {
    // Partial products over k-slices into shared scratch (m×n each), reduced here.
    const bounds = split(k, 64);
    const partial = sharedScratch(c, 2, chunks * m * n);
    // (g.c is never read by a chunk; it points at shared memory so that posting the job copies nothing.)
    const wg: GemmArgs = { ...g, a: sa.data, aOffset: sa.offset, b: sb.data, bOffset: sb.offset, c: partial, cOffset: 0 };
    for (let t = 0; t < chunks; t++) {
      jobs.push({
        kind: 'gemm',
        path,
        g: wg,
        i0: 0,
        i1: m,
        j0: 0,
        j1: n,
        p0: bounds[t],
        p1: bounds[t + 1],
        out: partial,
        outOffset: t * m * n,
        ldo: n,
        alpha: 1,
        beta: 0,
      });
    }
    runChunks(jobs, helpers);
    reducePartials(partial, chunks, m, n, c, cOffset, ldc, alpha, beta);
    return;
  }
  // Disjoint blocks of C, written in place when C is shared, else in shared scratch copied back.
  const cShared = isShared(c);
  const bounds = mode === 'n' ? split(n, 8) : split(m, 4);
  let out: TypedArray = c;
  let outBase = cOffset;
  let ldo = ldc;
  if (!cShared) {
    out = sharedScratch(c, 2, m * n);
    outBase = 0;
    ldo = n;
    if (beta !== 0) for (let i = 0; i < m; i++) out.set(c.subarray(cOffset + i * ldc, cOffset + i * ldc + n), i * n);
  }
  const wg: GemmArgs = { ...g, a: sa.data, aOffset: sa.offset, b: sb.data, bOffset: sb.offset, c: out, cOffset: outBase };
  for (let t = 0; t < chunks; t++) {
    const lo = bounds[t];
    const hi = bounds[t + 1];
    if (hi <= lo) continue;
    const [i0, i1, j0, j1] = mode === 'n' ? [0, m, lo, hi] : [lo, hi, 0, n];
    jobs.push({ kind: 'gemm', path, g: wg, i0, i1, j0, j1, p0: 0, p1: k, out, outOffset: outBase + i0 * ldo + j0, ldo, alpha, beta });
  }
  runChunks(jobs, helpers);
  if (!cShared) for (let i = 0; i < m; i++) c.set(out.subarray(i * n, i * n + n), cOffset + i * ldc);
}

/**
 * A batch of products C_t = op(A_t)·op(B_t) (alpha 1, beta 0; item t at offsets + t·stride), each
 * too small to be split across every thread but large enough in all: whole items are handed out
 * to the threads, one chunk each. Returns false, having done nothing, where the batch is better run
 * item by item (an item that splits across all threads on its own, too little work in all, no
 * workers).
 * A batch of per-image products (a 1×1 conv, docs/design.md §3.5.2) thus keeps both threads busy
 * as the single large GEMM of the im2col route did.
 */
export function gemmBatchParallel(g: GemmArgs, batch: number, aStride: number, bStride: number, cStride: number): boolean {
  const { m, n, k } = g;
  const { path, parMin } = gemmPathOf(g);
  const macs = m * n * k;
  // An item that splits across every thread on its own runs as gemm() runs it; one that would get
  // fewer threads than the pool has (an item between one and two thresholds gets one) is better
  // run whole beside the others.
  if (batch < 2 || Math.floor(macs / Math.max(1, parMin)) >= numThreads || g.alpha !== 1 || g.beta !== 0) return false;
  const T = Math.min(numThreads, batch, Math.floor((macs * batch) / Math.max(1, parMin)));
  const helpers = T > 1 ? availableWorkers(T) : 0;
  if (helpers === 0) return false;
  const aItem = (g.transA ? k - 1 : m - 1) * g.lda + (g.transA ? m : k);
  const bItem = (g.transB ? n - 1 : k - 1) * g.ldb + (g.transB ? k : n);
  const sa = stage(g.a, g.aOffset, aStride * (batch - 1) + aItem, 0);
  const sb = stage(g.b, g.bOffset, bStride * (batch - 1) + bItem, 1);
  const cSpan = cStride * (batch - 1) + (m - 1) * g.ldc + n;
  const cShared = isShared(g.c);
  const out = cShared ? g.c : sharedScratch(g.c, 2, cSpan);
  const outBase = cShared ? g.cOffset : 0;
  const jobs: Job[] = [];
  for (let t = 0; t < batch; t++) {
    const wg: GemmArgs = {
      ...g,
      a: sa.data,
      aOffset: sa.offset + t * aStride,
      b: sb.data,
      bOffset: sb.offset + t * bStride,
      c: out,
      cOffset: outBase + t * cStride,
    };
    jobs.push({ kind: 'gemm', path, g: wg, i0: 0, i1: m, j0: 0, j1: n, p0: 0, p1: k, out, outOffset: outBase + t * cStride, ldo: g.ldc, alpha: 1, beta: 0 });
  }
  runChunks(jobs, helpers);
  if (!cShared) g.c.set(out.subarray(0, cSpan), g.cOffset);
  return true;
}

/** C = alpha·Σ_t P_t + beta·C, the partials m×n each, back to back. */
function reducePartials(p: TypedArray, parts: number, m: number, n: number, c: TypedArray, cOffset: number, ldc: number, alpha: number, beta: number): void {
  const size = m * n;
  for (let i = 0; i < m; i++) {
    const row = cOffset + i * ldc;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0, q = i * n + j; t < parts; t++, q += size) s += p[q];
      c[row + j] = beta === 0 ? alpha * s : alpha * s + beta * c[row + j];
    }
  }
}
