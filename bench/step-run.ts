/**
 * The LeNet-5 training step that bench/profile-step.ts profiles (run by it under `node --cpu-prof`):
 * warm-up steps, then `--steps` timed steps between two marks of the monotonic clock, written to
 * `--marks` so the profiler keeps only the samples of the timed window (no JIT warm-up, no start-up).
 * Each step runs inside arena() (its buffers are reused by the next step) unless --no-arena; the
 * buffers allocated fresh per timed step are printed.
 * --method picks the step: the full model (default), a fixed-rank Tucker model ('tucker-fixed'), or
 * TDLRT's rank-adaptive step ('tdlrt', the default integrator step), both at the ranks the demo's
 * TDLRT ends at (conv2 16×11, fc1 20; bench/method-steps.ts times the same three).
 * Run alone: npx tsx bench/step-run.ts [--steps 40] [--warm 10] [--batch 64] [--threads 2] [--method full|tucker-fixed|tdlrt] [--no-arena]
 */
import { writeFileSync } from 'node:fs';
import { setNumThreads, startWorkers } from '../src/backend/cpu/index.js';
import { stats as poolStats } from '../src/backend/cpu/threads.js';
import { allocationStats } from '../src/tensor/dtype.js';
import { arena } from '../src/tensor/storage.js';
import { lenetStep } from './lenet-step.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const steps = Number(arg('steps', '40'));
const warm = Number(arg('warm', '10'));
const batch = Number(arg('batch', '64'));
const threads = Number(arg('threads', '2'));
const marks = arg('marks', '');
const useArena = !args.includes('--no-arena');
const method = arg('method', 'full');

setNumThreads(threads);
if (threads > 1) startWorkers();
const body = lenetStep(method, batch);
const step = (): void => (useArena ? arena(body) : body());
for (let i = 0; i < warm; i++) step();
// process.hrtime and V8's profiler timestamps both read CLOCK_MONOTONIC (µs in the profile).
const fresh0 = allocationStats.fresh;
const batches0 = poolStats.batches;
const counters0 = poolStats.countersAllocated;
const t0 = process.hrtime.bigint();
for (let i = 0; i < steps; i++) step();
const t1 = process.hrtime.bigint();
const ms = Number(t1 - t0) / 1e6 / steps;
const fresh = (allocationStats.fresh - fresh0) / steps;
const batches = (poolStats.batches - batches0) / steps;
const counters = (poolStats.countersAllocated - counters0) / steps;
console.log(
  `${method}: ${ms.toFixed(2)} ms/step (${steps} steps, batch ${batch}, ${threads} thread${threads > 1 ? 's' : ''}, ${useArena ? 'arena' : 'no arena'}); ${fresh} buffers allocated per step, ${batches} batches handed to the pool per step (${counters} batch counters allocated per step)`,
);
if (marks) writeFileSync(marks, JSON.stringify({ t0: Number(t0 / 1000n), t1: Number(t1 / 1000n), ms, steps, threads, fresh, arena: useArena, method }));
