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
 * take (units of layerWork) reaches this. Measured on 2 threads (docs/integrator.md §8): three
 * 128-channel 3×3 layers at rank ratio ½ (~43M units each) gained 5–8% of the whole step, while
 * LeNet-5 at the demo's ranks (conv2 ~1.2M units beside fc1's ~2.2M) lost 0–7%: the hand-off
 * (~0.5 ms) and the worker's garbage, collected by V8's background threads during the next
 * forward/backward pass, cost what the overlap saved.
 */
export const LANES_MIN_WORK = 8_000_000;

/** How long the calling thread waits for a lane's reply, or for a worker to start, before giving up. */
const REPLY_TIMEOUT_MS = 600_000;
const START_TIMEOUT_MS = 60_000;

/**
 * A rough count of a layer update's float64 work: the augmented core's size times its summed
 * ranks (the update, the Gram matrices and projections of the truncation) plus n_i·r̂_i² per mode
 * (the new directions and their orthonormalisation), with r̂_i = min(n_i, 2r_i) where the mode grows.
 */
export function layerWork(job: ParallelLayerJob): number {
  const grown = job.point.shape.map((r, i) => (job.modes[i] ? Math.min(job.fullShape[i], 2 * r) : r));
  const size = grown.reduce((p, r) => p * r, 1);
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
  const lane = new Array<number>(work.length).fill(0);
  const order = work.map((_, k) => k).sort((a, b) => work[b] - work[a] || a - b);
  for (const k of order) {
    let best = 0;
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

type NodeProcess = { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } };

function builtin<T>(id: string): T | null {
  const proc = (globalThis as { process?: NodeProcess }).process;
  try {
    return (proc?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
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
  if (!mod || !url) return null;
  try {
    // require.resolve finds its CommonJS twin, beside it.
    return url.pathToFileURL(
      mod
        .createRequire(import.meta.url)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href;
  } catch {
    return null;
  }
}

function stopLane(w: LaneWorker): void {
  Atomics.store(w.ctrl, SLOT.posted, -1);
  Atomics.notify(w.ctrl, SLOT.posted);
  w.port.close();
  void w.worker.terminate();
}

/**
 * Layer workers ready for use, starting them up to `count` (blocking until they listen). On any
 * failure to start, none is used again and the layers run on the calling thread.
 */
function startLanes(count: number): number {
  if (lanesBroken || laneWorkers.length >= count) return Math.min(count, laneWorkers.length);
  const wt = builtin<typeof import('node:worker_threads')>('node:worker_threads');
  const tsx = tsxUrl();
  if (!wt || !tsx || typeof SharedArrayBuffer !== 'function') {
    lanesBroken = true;
    return 0;
  }
  const entry = new URL('./layer-worker.ts', import.meta.url).href;
  const started: LaneWorker[] = [];
  try {
    while (laneWorkers.length + started.length < count) {
      const ctrl = new Int32Array(new SharedArrayBuffer(16));
      const channel = new wt.MessageChannel();
      const worker = new wt.Worker(BOOT, { eval: true, workerData: { tsx, entry, ctrl, port: channel.port2 }, transferList: [channel.port2] });
      worker.unref();
      (channel.port1 as unknown as { unref?: () => void }).unref?.();
      started.push({ worker, port: channel.port1, ctrl, seq: 0 });
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const w of started) {
      for (;;) {
        const r = Atomics.load(w.ctrl, SLOT.ready);
        if (r === 1) break;
        if (r === -1) throw new Error('a layer worker failed to start');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('layer workers did not start in time');
        Atomics.wait(w.ctrl, SLOT.ready, 0, Math.min(left, 50));
      }
    }
  } catch {
    for (const w of started) stopLane(w);
    lanesBroken = true;
    return laneWorkers.length;
  }
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
  if (wanted < 2) return 1;
  if (setting === 'auto') {
    const work = jobs.map(layerWork);
    const lane = assignLanes(work, wanted);
    const away = work.reduce((p, w, k) => p + (lane[k] === 0 ? 0 : w), 0);
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
    const left = deadline - Date.now();
    if (left <= 0) {
      // The worker may still answer later: it is not to be trusted with another batch.
      laneWorkers = laneWorkers.filter((x) => x !== w);
      stopLane(w);
      throw new Error(`updateLayers: a layer worker gave no reply in ${REPLY_TIMEOUT_MS / 1000} s (layers ${ks.join(', ')} of the step)`);
    }
    Atomics.wait(w.ctrl, SLOT.done, Atomics.load(w.ctrl, SLOT.done), Math.min(left, 1000));
  }
  const reply = wt.receiveMessageOnPort(w.port)?.message as LaneReply | undefined;
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
  if (lanes === 1 || jobs.length < 2) return jobs.map(parallelLayerUpdatePooled);
  const ready = Math.min(lanes - 1, startLanes(lanes - 1));
  if (ready === 0) return jobs.map(parallelLayerUpdatePooled);
  const lane = assignLanes(jobs.map(layerWork), ready + 1);
  const mutant = (globalThis as { __stryker__?: { activeMutant?: unknown } }).__stryker__?.activeMutant;
  const posted: { w: LaneWorker; ks: number[] }[] = [];
  for (let l = 1; l <= ready; l++) {
    const ks = lane.flatMap((x, k) => (x === l ? [k] : []));
    if (ks.length === 0) continue;
    const w = laneWorkers[l - 1];
    const batch: LaneBatch = { jobs: ks.map((k) => jobs[k]), mutant };
    w.port.postMessage(batch);
    w.seq = (w.seq + 1) & 0x3fffffff || 1;
    Atomics.store(w.ctrl, SLOT.posted, w.seq);
    Atomics.notify(w.ctrl, SLOT.posted);
    posted.push({ w, ks });
  }
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
