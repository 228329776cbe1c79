/**
 * The program of a layer worker (layer-lanes.ts starts it, loading this module through tsx): parked
 * on a shared word until the calling thread posts a batch of layers' parallel-step jobs, then each
 * job's parallelLayerUpdate with every kernel on this thread, and the results posted back with
 * their buffers transferred, not copied (docs/integrator.md §8, "Layers side by side").
 */
import type { MessagePort } from 'node:worker_threads';
import { setNumThreads } from '../backend/index.js';
import { arraysOf, type LayerUpdate, type ParallelLayerJob, parallelLayerUpdatePooled } from './layer-update.js';

/** Slots of the control words a lane shares with the calling thread. */
export const SLOT = {
  /** The sequence number of the last batch posted (−1: stop). */
  posted: 0,
  /** 1 once the worker listens, −1 if it failed to start. */
  ready: 1,
  /** The sequence number of the last batch answered. */
  done: 2,
} as const;

/** A batch of jobs; `mutant` is the mutation run's active mutant, if any (see serve). */
export interface LaneBatch {
  jobs: ParallelLayerJob[];
  mutant?: unknown;
}

export type LaneReply = { results: LayerUpdate[] } | { error: string };

/** The ArrayBuffers behind the arrays of `results`, each once; shared memory is shared, not transferred. */
export function transferables(results: readonly LayerUpdate[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const r of results) for (const a of arraysOf(r)) if (a && a.buffer instanceof ArrayBuffer) out.add(a.buffer);
  return [...out];
}

/** The worker's loop; never returns while the lane lives. */
export function serve(ctrl: Int32Array, port: MessagePort): void {
  // The results must be those of the calling thread's lane, which runs with one thread too.
  setNumThreads(1);
  const proc = globalThis.process as typeof process;
  const wt = proc.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
  Atomics.store(ctrl, SLOT.ready, 1);
  Atomics.notify(ctrl, SLOT.ready);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, SLOT.posted, seen);
    const posted = Atomics.load(ctrl, SLOT.posted);
    if (posted < 0) return;
    if (posted === seen) continue;
    seen = posted;
    let reply: LaneReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const batch = wt.receiveMessageOnPort(port)?.message as LaneBatch | undefined;
      if (!batch) throw new Error('a batch was signalled but none arrived');
      // A mutation run (StrykerJS) switches its active mutant between test runs: run the same one.
      if (batch.mutant !== undefined) {
        const g = globalThis as { __stryker__?: Record<string, unknown> };
        g.__stryker__ = { ...(g.__stryker__ ?? {}), activeMutant: batch.mutant };
      }
      const results = batch.jobs.map(parallelLayerUpdatePooled);
      reply = { results };
      transfer = transferables(results);
    } catch (e) {
      reply = { error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    port.postMessage(reply, transfer);
    Atomics.store(ctrl, SLOT.done, seen);
    Atomics.notify(ctrl, SLOT.done);
  }
}
