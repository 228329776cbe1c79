/**
 * Layers side by side (docs/integrator.md §8): the parallel step's per-layer updates of one step,
 * which depend on nothing but their own layer's arrays, split between the calling thread and layer
 * workers. Between the forward/backward passes the kernel pool's workers sit parked while the
 * calling thread does every layer's float64 linear algebra alone; here each lane takes whole
 * layers, the heaviest first to the least loaded lane, and every lane runs its kernels on its own
 * thread, so a layer's result does not depend on the lane it ran on.
 *
 * Node only: a layer worker loads layer-worker.ts through tsx. Where workers or tsx are missing
 * (a browser, a bundle), or a worker fails to start, every layer runs on the calling thread.
 */
import { f64Threads, onCallingThreadOnly } from '../backend/linalg-kernels.js';
import { type LaneBatch, type LaneReply, SLOT } from './layer-worker.js';
import { type LayerUpdate, type ParallelLayerJob, parallelLayerUpdatePooled } from './layer-update.js';

/**
 * Under the default ('auto'), the layers go side by side only when the work the other lanes would
 * take (units of layerWork) reaches this. Measured on 2 threads (bench/results/layer-lanes.md,
 * docs/integrator.md §8), paired step ratios over four to five runs: three 3×3 convolutions of
 * 128 channels at rank ratio ½ (43M units a layer) 0.81–0.98, at ratio ¼ (6.0M) 0.89–0.93, of 256
 * at ½ 0.86–0.97; of 64 at ½ (5.5M) 0.95–1.03, and LeNet-5 at the demo's ranks (conv2's 1.1M
 * beside fc1) 0.97–1.11. The threshold lies between the smallest that gained and the largest that
 * did not: below it, the hand-off (~0.5 ms) and the worker's garbage, collected by V8's background
 * threads during the next forward/backward pass, cost about what the overlap saves.
 */
export const LANES_MIN_WORK = 5_750_000;

/** How long the calling thread waits for a lane's reply, or for a worker to start, before giving up. */
const REPLY_TIMEOUT_MS = 600_000;
const START_TIMEOUT_MS = 60_000;

/**
 * A rough count of a layer update's float64 work: the augmented core's size times its summed
 * ranks (the update, the Gram matrices and projections of the truncation) plus n_i·r̂_i² per mode
 * (the new directions and their orthonormalisation), with r̂_i = min(n_i, 2r_i) where the mode grows.
 * A layer where no mode grows and the tolerance is 0 keeps every mode whole (no spectrum is taken,
 * docs/integrator.md §5): its work is the core update alone, the core's size.
 */
export function layerWork(job: ParallelLayerJob): number {
  const grown = job.point.shape.map((r, i) => (job.modes[i] ? Math.min(job.fullShape[i], 2 * r) : r));
  const size = grown.reduce((p, r) => p * r, 1);
  const grows = grown.some((r, i) => r > job.point.shape[i]);
  const tolerance = job.settings.theta ?? job.settings.tauNow;
  if (!grows && !(tolerance > 0)) return size;
  const sum = grown.reduce((p, r) => p + r, 0);
  let work = size * sum;
  grown.forEach((r, i) => {
    if (job.point.factors[i]) work += job.fullShape[i] * r * r;
  });
  return work;
}

/**
 * Which lane runs each job: the heaviest first, each to the lane with the least work so far (ties:
 * the lowest lane, the calling thread's being 0). Deterministic in the jobs' sizes alone.
 */
export function assignLanes(work: readonly number[], lanes: number): number[] {
  if (!Number.isInteger(lanes) || lanes < 1) throw new Error(`assignLanes: lanes must be a positive integer, got ${lanes}`);
  const load = new Array<number>(lanes).fill(0);
  // Stryker disable next-line ArrayDeclaration: every entry is assigned in the loop below before it is read
  const lane = new Array<number>(work.length).fill(0);
  // Stryker disable next-line ArithmeticOperator: `a + b` makes ties compare as "after", which V8's (stable, insertion-based) sort leaves in the order given: the same order
  const order = work.map((_, k) => k).sort((a, b) => work[b] - work[a] || a - b);
  for (const k of order) {
    let best = 0;
    // Stryker disable next-line EqualityOperator: load[lanes] is undefined, and `undefined < x` is false: the same choice
    for (let l = 1; l < lanes; l++) if (load[l] < load[best]) best = l;
    lane[k] = best;
    load[best] += work[k];
  }
  return lane;
}

interface LaneWorker {
  worker: import('node:worker_threads').Worker;
  port: import('node:worker_threads').MessagePort;
  ctrl: Int32Array;
  seq: number;
}

let laneWorkers: LaneWorker[] = [];
let lanesBroken = false;

type NodeProcess = { getBuiltinModule?: (id: string) => unknown };

function builtin<T>(id: string): T | null {
  const proc = (globalThis as { process?: NodeProcess }).process;
  // getBuiltinModule throws only for an id that is not a built-in: these ids all are.
  return (proc?.getBuiltinModule?.(id) as T | undefined) ?? null;
}

// The worker's bootstrap: tsx's ESM API loads the TypeScript entry, whose serve() never returns.
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  const { tsImport } = await import(workerData.tsx);
  const mod = await tsImport(workerData.entry, workerData.entry);
  mod.serve(workerData.ctrl, workerData.port);
})().catch(() => {
  Atomics.store(workerData.ctrl, ${SLOT.ready}, -1);
  Atomics.notify(workerData.ctrl, ${SLOT.ready});
});
`;

/** tsx's ESM API as a file URL, or null where it cannot be found. */
function tsxUrl(): string | null {
  const mod = builtin<typeof import('node:module')>('node:module');
  const url = builtin<typeof import('node:url')>('node:url');
  // Stryker disable next-line ConditionalExpression,LogicalOperator: a missing module makes the call below throw inside the try, which returns null too
  if (!mod || !url) return null;
  // Stryker disable all: the resolution of tsx: its absence is tested in a fresh thread (hiding node:module), whose coverage a mutation run does not see; and the resolved path ends in its only `.cjs`
  try {
    // require.resolve finds its CommonJS twin, beside it.
    const api = mod.createRequire(import.meta.url).resolve('tsx/esm/api');
    return url.pathToFileURL(api.replace(/\.cjs$/, '.mjs')).href;
  } catch {
    return null;
  }
  // Stryker restore all
}

// Stryker disable all: stopLane runs only for a worker that failed to start or to answer (not reproducible in a test)
function stopLane(w: LaneWorker): void {
  Atomics.store(w.ctrl, SLOT.posted, -1);
  Atomics.notify(w.ctrl, SLOT.posted);
  w.port.close();
  void w.worker.terminate();
}
// Stryker restore all

/**
 * Layer workers ready for use, starting them up to `count` (blocking until they listen). On any
 * failure to start, none is used again and the layers run on the calling thread.
 */
function startLanes(count: number): number {
  // Stryker disable next-line EqualityOperator: with exactly `count` workers the loop below starts none and returns the same count
  if (lanesBroken || laneWorkers.length >= count) return Math.min(count, laneWorkers.length);
  const wt = builtin<typeof import('node:worker_threads')>('node:worker_threads');
  const tsx = tsxUrl();
  // Stryker disable all: without worker threads or tsx the start below fails inside its try and takes the same fallback (tested in a fresh thread, whose coverage a mutation run does not see)
  if (!wt || !tsx || typeof SharedArrayBuffer !== 'function') {
    lanesBroken = true;
    return 0;
  }
  // Stryker restore all
  // Stryker disable all: the workers start once per process, and a mutation run reuses its process, so only the test in a fresh
  // thread (layer-lanes.test.ts: the lanes start there, lanes = 2) reaches this code, and a mutation run does not see its coverage.
  const entry = new URL('./layer-worker.ts', import.meta.url).href;
  const started: LaneWorker[] = [];
  try {
    while (laneWorkers.length + started.length < count) {
      const ctrl = new Int32Array(new SharedArrayBuffer(16));
      const channel = new wt.MessageChannel();
      const worker = new wt.Worker(BOOT, { eval: true, workerData: { tsx, entry, ctrl, port: channel.port2 }, transferList: [channel.port2] });
      // Stryker disable next-line CallExpression: unref only lets the process exit while the worker is parked; no result depends on it
      worker.unref();
      // Stryker disable next-line OptionalChaining,CallExpression: unref only lets the process exit while the worker is parked; no result depends on it
      (channel.port1 as unknown as { unref?: () => void }).unref?.();
      started.push({ worker, port: channel.port1, ctrl, seq: 0 });
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const w of started) {
      for (;;) {
        const r = Atomics.load(w.ctrl, SLOT.ready);
        if (r === 1) break;
        // Stryker disable next-line all: a worker whose module fails to load: not reproducible in a test (the fallback it leads to is tested by hiding worker_threads or tsx)
        if (r === -1) throw new Error('a layer worker failed to start');
        // Stryker disable next-line ArithmeticOperator: a worker not listening within 60 s is not reproducible in a test
        const left = deadline - Date.now();
        // Stryker disable next-line all: a worker not listening within 60 s is not reproducible in a test
        if (left <= 0) throw new Error('layer workers did not start in time');
        // Stryker disable next-line MethodExpression: only how long each wait for the ready word lasts
        Atomics.wait(w.ctrl, SLOT.ready, 0, Math.min(left, 50));
      }
    }
    // (The catch below is reached only by a worker that fails to start.)
  } catch {
    for (const w of started) stopLane(w);
    lanesBroken = true;
    return laneWorkers.length;
  }
  // Stryker restore all
  laneWorkers = laneWorkers.concat(started);
  return laneWorkers.length;
}

/** How many lanes the per-layer updates may use: 'auto' (the kernels' thread count, where it pays) or a fixed count. */
export type LayerThreads = number | 'auto';

/**
 * The lanes a step of these jobs uses: at most one per job; under 'auto' at most the kernels'
 * thread count, and 1 (the calling thread) unless the other lanes' share reaches LANES_MIN_WORK.
 * Starts the layer workers it needs; fewer lanes where they cannot start.
 */
export function lanesFor(jobs: readonly ParallelLayerJob[], setting: LayerThreads): number {
  if (setting !== 'auto' && (!Number.isInteger(setting) || setting < 1))
    throw new Error(`lanesFor: setting must be 'auto' or a positive integer, got ${String(setting)}`);
  const wanted = Math.min(setting === 'auto' ? f64Threads() : setting, jobs.length);
  // Stryker disable next-line ConditionalExpression: a shortcut: with one lane wanted, auto finds no work away and a fixed count starts no worker
  if (wanted < 2) return 1;
  if (setting === 'auto') {
    const work = jobs.map(layerWork);
    const lane = assignLanes(work, wanted);
    const away = work.reduce((p, w, k) => p + (lane[k] === 0 ? 0 : w), 0);
    // Stryker disable next-line EqualityOperator: differs only at exactly LANES_MIN_WORK units away
    if (away < LANES_MIN_WORK) return 1;
  }
  return 1 + startLanes(wanted - 1);
}

/** Whether layer workers could not be started here (the layers then run on the calling thread). */
export function lanesDisabled(): boolean {
  return lanesBroken;
}

/** Blocks until lane `w` answers its batch (the jobs `ks` of the step), and returns its results. */
function awaitReply(w: LaneWorker, ks: readonly number[]): LayerUpdate[] {
  const wt = builtin<typeof import('node:worker_threads')>('node:worker_threads') as typeof import('node:worker_threads');
  const deadline = Date.now() + REPLY_TIMEOUT_MS;
  while (Atomics.load(w.ctrl, SLOT.done) !== w.seq) {
    // Stryker disable all: a worker silent for ten minutes (REPLY_TIMEOUT_MS) is not reproducible in a test
    const left = deadline - Date.now();
    if (left <= 0) {
      // The worker may still answer later: it is not to be trusted with another batch.
      laneWorkers = laneWorkers.filter((x) => x !== w);
      stopLane(w);
      throw new Error(`updateLayers: a layer worker gave no reply in ${REPLY_TIMEOUT_MS / 1000} s (layers ${ks.join(', ')} of the step)`);
    }
    // Stryker restore all
    // Stryker disable next-line MethodExpression: only how long each wait for the reply word lasts
    Atomics.wait(w.ctrl, SLOT.done, Atomics.load(w.ctrl, SLOT.done), Math.min(left, 1000));
  }
  const reply = wt.receiveMessageOnPort(w.port)?.message as LaneReply | undefined;
  // Stryker disable next-line all: the worker posts its reply before it sets the word, so a signalled reply is always in the port
  if (!reply) throw new Error('updateLayers: a layer worker signalled a reply but none arrived');
  if ('error' in reply) throw new Error(`updateLayers: a layer worker failed: ${reply.error}`);
  return reply.results;
}

/**
 * parallelLayerUpdate of every job, in order: on `lanes` threads side by side (the calling thread
 * one of them), or all on the calling thread when lanes is 1. Side by side, every lane runs its
 * kernels on its own thread alone.
 */
export function updateLayers(jobs: readonly ParallelLayerJob[], lanes: number): LayerUpdate[] {
  if (!Number.isInteger(lanes) || lanes < 1) throw new Error(`updateLayers: lanes must be a positive integer, got ${lanes}`);
  // Stryker disable next-line ConditionalExpression,LogicalOperator: a shortcut: with one lane (or one job) the code below assigns every job to the calling thread and posts nothing; it would run them with one kernel thread instead of all, which changes no result at the tests' sizes (no product there is split by k)
  if (lanes === 1 || jobs.length < 2) return jobs.map(parallelLayerUpdatePooled);
  // Stryker disable next-line ArithmeticOperator,MethodExpression: more lanes give the same results (each lane runs on one thread); only which thread computes a layer changes
  const ready = Math.min(lanes - 1, startLanes(lanes - 1));
  // Stryker disable next-line ConditionalExpression: with no worker ready the code below assigns every job to the calling thread, which would run them with one kernel thread instead of all: no result changes at the tests' sizes (no product there is split by k)
  if (ready === 0) return jobs.map(parallelLayerUpdatePooled);
  const lane = assignLanes(jobs.map(layerWork), ready + 1);
  // Stryker disable next-line OptionalChaining: __stryker__ exists in every mutation run, and outside one the mutant is unreachable
  const mutant = (globalThis as { __stryker__?: { activeMutant?: unknown } }).__stryker__?.activeMutant;
  const posted: { w: LaneWorker; ks: number[] }[] = [];
  for (let l = 1; l <= ready; l++) {
    // Stryker disable next-line ConditionalExpression: a worker given every job returns the same results the others (and the calling thread) compute
    const ks = lane.flatMap((x, k) => (x === l ? [k] : []));
    // Stryker disable next-line ConditionalExpression: an empty batch is answered with no results
    if (ks.length === 0) continue;
    const w = laneWorkers[l - 1];
    const batch: LaneBatch = { jobs: ks.map((k) => jobs[k]), mutant };
    w.port.postMessage(batch);
    // Stryker disable next-line ArithmeticOperator: any sequence number different from the last one posted signals the batch
    w.seq = (w.seq + 1) & 0x3fffffff || 1;
    Atomics.store(w.ctrl, SLOT.posted, w.seq);
    Atomics.notify(w.ctrl, SLOT.posted);
    posted.push({ w, ks });
  }
  // Stryker disable next-line ArrayDeclaration: every entry is assigned before the array is returned
  const results = new Array<LayerUpdate>(jobs.length);
  let failure: unknown = null;
  try {
    onCallingThreadOnly(() => {
      lane.forEach((x, k) => {
        if (x === 0) results[k] = parallelLayerUpdatePooled(jobs[k]);
      });
    });
  } catch (e) {
    failure = e;
  }
  // Every posted batch is answered before anything is thrown: a reply left in a port would be
  // taken for the next step's.
  for (const { w, ks } of posted) {
    try {
      const reply = awaitReply(w, ks);
      ks.forEach((k, i) => {
        results[k] = reply[i];
      });
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure !== null) throw failure;
  return results;
}
