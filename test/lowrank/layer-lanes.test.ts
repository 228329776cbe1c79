/**
 * The parallel step's layers side by side (src/lowrank/layer-lanes.ts): the lane a layer runs on
 * changes nothing in the step's result, the heaviest-first assignment, the work estimate behind
 * 'auto', and a failure on a worker lane reported without spoiling the next step.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads } from '../../src/backend/index.js';
import { RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { assignLanes, LANES_MIN_WORK, lanesDisabled, lanesFor, layerWork, updateLayers } from '../../src/lowrank/layer-lanes.js';
import { arraysOf, type ParallelLayerJob, parallelLayerUpdate, parallelLayerUpdatePooled } from '../../src/lowrank/layer-update.js';
import { allocationStats } from '../../src/tensor/dtype.js';
import { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import type { mseLoss } from '../../src/ops/loss.js';
import { inFreshWorker } from '../linalg/fresh-worker.js';
import { problem, snapshot } from './lane-problems.js';

const threadsBefore = getNumThreads();
afterAll(() => setNumThreads(threadsBefore));

describe('layers side by side (layer-lanes.ts)', () => {
  it('gives every step the result of the calling thread alone, bit for bit, whatever the lanes (τ > 0, momentum, weight decay)', () => {
    setNumThreads(1);
    const runs = [1, 2, 3].map((lanes) => {
      const p = problem(5);
      const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.05, tau: 0.2, momentum: 0.9, weightDecay: 1e-3, layerThreads: lanes });
      const losses: number[] = [];
      const info: number[][] = [];
      for (let s = 0; s < 4; s++) {
        losses.push(integ.step(p.loss));
        info.push(integ.lastInfo.flatMap((l) => [l.truncationError, l.galerkinGradNorm, l.tailBound, ...l.ranks, ...l.augmentedRanks, ...l.thresholds]));
        // ϑ_i = τ‖Ĉ1‖ on the adapted (channel) modes, 0 on the spatial modes kept whole.
        for (const l of integ.lastInfo) l.thresholds.forEach((t, i) => expect(t > 0).toBe(i < 2));
      }
      const layers = p.model.namedModules().filter(([, m]) => m instanceof TuckerLayer).length;
      return { losses, info, params: snapshot(p.model), ranks: integ.ranks(), layers };
    });
    expect(runs[0].layers).toBe(3);
    // The workers ran (a fallback to the calling thread would make the comparison empty).
    expect(lanesDisabled()).toBe(false);
    // The ranks moved (τ = 0.2), so the lanes saw different shapes from step to step.
    expect(runs[0].info[0]).not.toEqual(runs[0].info[3]);
    for (const r of runs.slice(1)) {
      expect(r.losses).toEqual(runs[0].losses);
      expect(r.info).toEqual(runs[0].info);
      expect(r.ranks).toEqual(runs[0].ranks);
      expect(r.params).toEqual(runs[0].params);
    }
  });

  it('starts its workers and uses them when asked (a fixed count), and keeps small steps on the calling thread under auto', () => {
    setNumThreads(2);
    const p = problem(7);
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.05, tau: 0, layerThreads: 1 });
    integ.step(p.loss);
    const jobs = captureJobs(integ, p.loss);
    expect(lanesFor(jobs, 2)).toBe(2);
    expect(lanesFor(jobs, 1)).toBe(1);
    // Far below LANES_MIN_WORK: the hand-off would cost more than it saves.
    expect(jobs.reduce((s, j) => s + layerWork(j), 0)).toBeLessThan(LANES_MIN_WORK);
    expect(lanesFor(jobs, 'auto')).toBe(1);
    expect(() => lanesFor(jobs, 0)).toThrow(/setting must be 'auto' or a positive integer, got 0/);
    // One job never needs a second lane; wide layers under auto take one lane per thread.
    expect(lanesFor(jobs.slice(0, 1), 2)).toBe(1);
    const wide = (n: number) => syntheticJob([n / 2, n / 2, 3, 3], [n, n, 3, 3], [true, true, false, false]);
    expect(layerWork(wide(64))).toBeLessThan(LANES_MIN_WORK);
    expect(lanesFor([wide(64), wide(64)], 'auto')).toBe(1);
    expect(layerWork(wide(128))).toBeGreaterThanOrEqual(LANES_MIN_WORK);
    expect(lanesFor([wide(128), wide(128)], 'auto')).toBe(2);
    // The heaviest stays on the calling thread: only what the other lanes take counts.
    expect(lanesFor([wide(128), wide(64)], 'auto')).toBe(1);
    setNumThreads(1);
    expect(lanesFor([wide(128), wide(128)], 'auto')).toBe(1);
    expect(lanesFor([wide(128), wide(128)], 2)).toBe(2);
  });

  it('in a fresh thread: starts its workers, and without worker threads or without tsx runs every layer on the calling thread, with the same result', async () => {
    setNumThreads(1);
    const p = problem(17);
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.05, tau: 0.2, momentum: 0.9, layerThreads: 1 });
    for (let s = 0; s < 3; s++) integ.step(p.loss);
    const here = snapshot(p.model);
    // Nothing hidden: the lanes start in that fresh module state and give the same result.
    const started = await inFreshWorker<{ params: Float32Array[]; disabled: boolean }>(
      new URL('./lane-problems.ts', import.meta.url),
      'stepsWithout',
      '',
      17,
      3,
    );
    expect(started.disabled).toBe(false);
    expect(started.params).toEqual(here);
    for (const hidden of ['node:worker_threads', 'node:module']) {
      const there = await inFreshWorker<{ params: Float32Array[]; disabled: boolean }>(
        new URL('./lane-problems.ts', import.meta.url),
        'stepsWithout',
        hidden,
        17,
        3,
      );
      expect(there.disabled).toBe(true);
      expect(there.params).toEqual(here);
    }
  });

  it('reports a failure on a worker lane with its message, and answers the next step correctly', () => {
    const p = problem(11);
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.05, tau: 0, layerThreads: 1 });
    const jobs = captureJobs(integ, p.loss);
    const light = jobs.reduce((a, b) => (layerWork(a) <= layerWork(b) ? a : b));
    const heavy = jobs.find((j) => j !== light) as ParallelLayerJob;
    // Directions without arrays: the worker throws a TypeError inside the augmentation.
    const bad: ParallelLayerJob = { ...light, modes: light.modes.map((m) => (m ? { kind: 'explicit', d: null, e: null, w: 1 } : null)) as never };
    expect(bad.modes.some((m) => m !== null)).toBe(true);
    expect(() => updateLayers([heavy, bad], 2)).toThrow(/updateLayers: a layer worker failed: .*TypeError/s);
    const good = updateLayers([heavy, light], 2);
    const alone = updateLayers([heavy, light], 1);
    expect(good.map((u) => u.coreShape)).toEqual(alone.map((u) => u.coreShape));
    expect(good.map((u) => Array.from(u.core))).toEqual(alone.map((u) => Array.from(u.core)));
    // A failure on the calling thread's lane is thrown once the worker's batch has answered.
    const badHeavy: ParallelLayerJob = { ...heavy, modes: heavy.modes.map((m) => (m ? { kind: 'explicit', d: null, e: null, w: 1 } : null)) as never };
    expect(() => updateLayers([badHeavy, light], 2)).toThrow(TypeError);
    const again = updateLayers([heavy, light], 2);
    expect(again.map((u) => Array.from(u.core))).toEqual(alone.map((u) => Array.from(u.core)));
    for (const bad of [0, 1.5]) expect(() => updateLayers(jobs, bad)).toThrow(new RegExp(`updateLayers: lanes must be a positive integer, got ${bad}`));
  });

  it("pools the update's temporaries: the same result, and a repeat of the same shapes takes its buffers from the pool", () => {
    const p = problem(13);
    const integ = new RankAdaptiveIntegrator(p.model, { lr: 0.05, tau: 0.1, momentum: 0.5, layerThreads: 1 });
    const jobs = captureJobs(integ, p.loss);
    for (const job of jobs) {
      const plain = parallelLayerUpdate(structuredClone(job));
      const first = parallelLayerUpdatePooled(structuredClone(job));
      const input = structuredClone(job);
      const before = allocationStats.fresh;
      const second = parallelLayerUpdatePooled(input);
      const fresh = allocationStats.fresh - before;
      for (const u of [first, second]) {
        expect(u.coreShape).toEqual(plain.coreShape);
        expect(arraysOf(u).map((a) => (a ? Array.from(a) : null))).toEqual(arraysOf(plain).map((a) => (a ? Array.from(a) : null)));
      }
      // Only the result's own buffers are new on the repeat (at most one per array it holds).
      expect(fresh).toBeLessThanOrEqual(arraysOf(second).filter((a) => a !== null).length);
    }
  });

  it('assigns the heaviest layer first, each to the least loaded lane (the calling thread on ties), deterministically', () => {
    expect(assignLanes([5, 3, 2, 2], 2)).toEqual([0, 1, 1, 0]);
    expect(assignLanes([1, 1, 1], 3)).toEqual([0, 1, 2]);
    expect(assignLanes([2, 9, 4], 2)).toEqual([1, 0, 1]);
    expect(assignLanes([7], 4)).toEqual([0]);
    expect(assignLanes([3, 1, 2], 1)).toEqual([0, 0, 0]);
    // Ties go in the order given, each to the lowest free lane.
    expect(assignLanes([1, 1, 1, 1, 1], 5)).toEqual([0, 1, 2, 3, 4]);
    expect(assignLanes([2, 2, 1, 1, 2, 1], 3)).toEqual([0, 1, 0, 1, 2, 2]);
    expect(assignLanes([], 2)).toEqual([]);
    expect(() => assignLanes([1], 0)).toThrow(/lanes must be a positive integer, got 0/);
  });

  it('estimates more work for wider layers, counting only the stored modes', () => {
    const job = syntheticJob;
    // Ranks 4 × 3 of 10 × 5, 3 × 3 kept: grown to 8 × 5 × 3 × 3, 360 entries × 19 + 10·64 + 5·25.
    expect(layerWork(job([4, 3, 3, 3], [10, 5, 3, 3], [true, true, false, false]))).toBe(360 * 19 + 640 + 125);
    expect(layerWork(job([8, 6, 3, 3], [20, 10, 3, 3], [true, true, false, false]))).toBeGreaterThan(
      layerWork(job([4, 3, 3, 3], [10, 5, 3, 3], [true, true, false, false])),
    );
    // At full rank (no room to grow) with τ = 0 no spectrum is taken: the core update alone.
    const full = job([10, 5, 3, 3], [10, 5, 3, 3], [false, false, false, false]);
    expect(layerWork(full)).toBe(450 * 21);
    expect(layerWork({ ...full, settings: { ...full.settings, tauNow: 0 } })).toBe(450);
    // A growing layer at τ = 0 still truncates its augmented modes back: the full estimate.
    const growing = job([4, 3, 3, 3], [10, 5, 3, 3], [true, true, false, false]);
    expect(layerWork({ ...growing, settings: { ...growing.settings, tauNow: 0 } })).toBe(360 * 19 + 640 + 125);
    expect(layerWork({ ...full, settings: { ...full.settings, tauNow: 0, theta: 0.5 } })).toBe(450 * 21);
  });

  it('rejects a layerThreads that is neither auto nor a positive integer, naming it', () => {
    const p = problem(3);
    for (const bad of [0, 1.5, -2, 'two'])
      expect(() => new RankAdaptiveIntegrator(p.model, { lr: 0.1, layerThreads: bad as never })).toThrow(
        new RegExp(`layerThreads must be 'auto' or a positive integer, got ${String(bad)}`),
      );
  });
});

/** A job with the shapes of a layer and no arrays: enough for layerWork and lanesFor, not for an update. */
function syntheticJob(shape: number[], full: number[], stored: boolean[]): ParallelLayerJob {
  return {
    point: { shape, core: new Float64Array(0), factors: stored.map((s) => (s ? new Float64Array(0) : null)) },
    fullShape: full,
    coreGrad: new Float64Array(0),
    modes: stored.map((s) => (s ? ({} as never) : null)),
    velocity: null,
    settings: { tauNow: 0.1, theta: null } as ParallelLayerJob['settings'],
  };
}

/** The jobs the integrator would hand to the lanes at its current point (one more step, recorded). */
function captureJobs(integ: RankAdaptiveIntegrator, loss: () => ReturnType<typeof mseLoss>): ParallelLayerJob[] {
  let jobs: ParallelLayerJob[] = [];
  integ.onLayerJobs = (j) => {
    jobs = j.map((x) => structuredClone(x));
  };
  integ.step(loss);
  integ.onLayerJobs = null;
  return jobs;
}
