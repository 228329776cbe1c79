/**
 * One run of the scale bench, in its own process (bench/scale.ts spawns it): train a method (or
 * compress a full run post hoc), evaluate it, and print the result as one JSON line on stdout.
 *
 * Why a process per run: the memory column is the peak resident set a training step adds, as in
 * bench/step-memory.ts, and a process's peak is only its own in a fresh process. The data loading
 * peaks higher than a step of a narrow net, so the peak is reset (Linux: "5" to
 * /proc/self/clear_refs resets VmHWM) once the data, the model and the method are set up and a GC
 * has run; then VmHWM read at each epoch end, less the resident set at that reset, is what that
 * epoch's steps added at their peak (tape activations, gradients, optimizer or integrator state,
 * work arrays; a GC runs after every step, so little garbage). The parent starts the process with
 * --single-threaded-gc: otherwise V8 frees array buffers on a helper thread, lazily, and the data
 * loading's buffers are still resident at the reset. It is reset again after each read, so the
 * last epoch's peak is the one at the ranks training ends with.
 *
 *   node --expose-gc --import tsx bench/scale-run.ts '<RunSpec JSON>'
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { DataLoader } from '../src/data/loader.js';
import { loadSafetensors, saveSafetensors, fromTensor, toTensor } from '../src/io/safetensors.js';
import { compressOnce } from '../src/lowrank/methods/post-hoc.js';
import { createMethod, type MethodOptions } from '../src/lowrank/methods/registry.js';
import { reportOf } from '../src/lowrank/methods/report.js';
import { TdlrtMethod } from '../src/lowrank/methods/tdlrt.js';
import type { MethodReport } from '../src/lowrank/methods/types.js';
import type { StateDict } from '../src/nn/module.js';
import { Generator } from '../src/tensor/random.js';
import { evaluate, fit } from '../src/train/fit.js';
import { convNames, INPUT_SHAPES, scaleData, vggNet, type DataSpec } from './scale-setup.js';

export interface RunSpec extends DataSpec {
  kind: 'train' | 'post-hoc';
  /** Row label (e.g. 'tdlrt', 'tdlrt (bug)', 'post-hoc (Tucker)'). */
  label: string;
  /** Registry name of the method (train runs). */
  method: string;
  /** Method options except lr (JSON: no functions). */
  options: Omit<MethodOptions, 'lr' | 'maxRank'>;
  budgetIndex: number | null;
  setting: string;
  lr: number;
  seed: number;
  width: number;
  epochs: number;
  batchSize: number;
  /** Train: where a full run saves its weights (for post-hoc); post-hoc: the full run's weights. */
  statePath?: string;
  /** Post-hoc: the budget (kept fraction of the compressed layers' parameters). */
  budget?: number;
  /** Live progress to stderr. */
  progress: boolean;
  commit: string;
}

export interface RunMemory {
  /** Resident set (KiB) once data, model and method are set up, after a GC. */
  baselineKiB: number;
  /** Per epoch: peak resident set (KiB) above the baseline during its steps. */
  epochPeakKiB: number[];
  /** How the peak was read: 'VmHWM' (reset per epoch) or 'maxRSS' (no reset: a whole-process peak). */
  source: 'VmHWM' | 'maxRSS';
}

export interface ScaleRun {
  label: string;
  budgetIndex: number | null;
  setting: string;
  lr: number;
  seed: number;
  valAccuracy: number;
  testAccuracy: number;
  report: MethodReport;
  /** Training time per epoch (no evaluation, less the forced GCs), seconds. */
  epochSeconds: number[];
  /** Seconds of forced GC per epoch (taken out of epochSeconds). */
  gcSeconds?: number[];
  secondsPerEpoch: number;
  flopsPerStep: number;
  /** Parameters plus optimizer state of the training model at its peak over epoch ends (bytes). */
  stateBytes: number;
  memory: RunMemory | null;
  /** tdlrt / dlrt-matrix: out and in ranks of every conv after each step ('conv3 out' → ranks). */
  rankTrace?: Record<string, number[]>;
  provenance: { commit: string; started: string; finished: string; load: [number, number]; node: string };
  error?: string;
}

function emptyReport(): MethodReport {
  return { layers: [], params: 0, fullParams: 0, networkParams: 0, fullNetworkParams: 0, convParams: 0, fullConvParams: 0 };
}

/** VmHWM and VmRSS (KiB) of this process, or null off Linux. */
function procMemory(): { hwm: number; rss: number } | null {
  if (!existsSync('/proc/self/status')) return null;
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  const hwm = field('VmHWM');
  const rss = field('VmRSS');
  return Number.isFinite(hwm) && Number.isFinite(rss) ? { hwm, rss } : null;
}

/** Resets VmHWM to the current resident set; false where the kernel does not allow it. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak-memory probe: reset at the start, read (and reset) at each epoch end. */
function memoryProbe(): { epochEnd: () => void; result: () => RunMemory } {
  (globalThis as { gc?: () => void }).gc?.();
  const canReset = resetPeak() && procMemory() !== null;
  const baselineKiB = canReset ? (procMemory() as { rss: number }).rss : process.resourceUsage().maxRSS;
  const epochPeakKiB: number[] = [];
  return {
    epochEnd: () => {
      const peak = canReset ? (procMemory() as { hwm: number }).hwm : process.resourceUsage().maxRSS;
      epochPeakKiB.push(Math.max(0, peak - baselineKiB));
      if (canReset) resetPeak();
    },
    result: () => ({ baselineKiB, epochPeakKiB, source: canReset ? 'VmHWM' : 'maxRSS' }),
  };
}

export function runOne(spec: RunSpec): ScaleRun {
  const started = new Date().toISOString();
  const load0 = loadavg()[0];
  const base = { label: spec.label, budgetIndex: spec.budgetIndex, setting: spec.setting, lr: spec.lr, seed: spec.seed };
  const provenance = () => ({
    commit: spec.commit,
    started,
    finished: new Date().toISOString(),
    load: [load0, loadavg()[0]] as [number, number],
    node: process.version,
  });
  try {
    const data = scaleData(spec);
    const input = INPUT_SHAPES[spec.data];
    const build = (seed: number) => vggNet({ width: spec.width, inChannels: input[0], generator: new Generator(seed) });
    const val = new DataLoader(data.val, { batchSize: 500 });
    const test = new DataLoader(data.test, { batchSize: 500 });
    if (spec.kind === 'post-hoc') {
      if (!spec.statePath || spec.budget === undefined) throw new Error('post-hoc runs need statePath and budget');
      const model = build(0);
      const { tensors } = loadSafetensors(spec.statePath);
      const state: StateDict = {};
      for (const [k, v] of Object.entries(tensors)) state[k] = toTensor(v);
      model.loadStateDict(state);
      compressOnce(model, { budget: spec.budget, conv: 'tucker' });
      return {
        ...base,
        valAccuracy: evaluate(model, val).accuracy,
        testAccuracy: evaluate(model, test).accuracy,
        report: reportOf(model),
        epochSeconds: [],
        secondsPerEpoch: NaN,
        flopsPerStep: NaN,
        stateBytes: NaN,
        memory: null,
        provenance: provenance(),
      };
    }
    const model = build(1000 + spec.seed);
    const names = convNames(model);
    const method = createMethod(spec.method, { lr: spec.lr, ...spec.options });
    const loader = new DataLoader(data.train, { batchSize: spec.batchSize, shuffle: true, seed: 3000 + spec.seed });
    const trained = method.setup(model, { stepsPerEpoch: loader.length, epochs: spec.epochs, generator: new Generator(2000 + spec.seed) });
    let stateBytes = 0;
    const sampleState = () => {
      const m = method.memory?.();
      if (m) stateBytes = Math.max(stateBytes, m.paramBytes + m.optimizerBytes);
    };
    sampleState();
    const trace: Record<string, number[]> = {};
    const probe = memoryProbe();
    // A GC after every step (every method alike), so that the peak is the live state plus one step's
    // working set rather than however much garbage V8 lets pile up; its time is taken out of the epoch's.
    const gc = (globalThis as { gc?: () => void }).gc;
    let gcSeconds = 0;
    const gcEpoch: number[] = [];
    const records = fit(trained, loader, {
      epochs: spec.epochs,
      step: (x, y) => method.step(x, y),
      extras: () => method.progress?.() ?? {},
      onStep: () => {
        if (gc) {
          const t = performance.now();
          gc();
          gcSeconds += (performance.now() - t) / 1000;
        }
        const integ = method instanceof TdlrtMethod ? method.state : null;
        if (!integ) return;
        for (const [layer, ranks] of Object.entries(integ.ranks())) {
          ranks.slice(0, 2).forEach((r, mode) => (trace[`${names[layer] ?? layer} ${mode === 0 ? 'out' : 'in'}`] ??= []).push(r));
        }
      },
      onEpochEnd: (rec) => {
        probe.epochEnd();
        gcEpoch.push(gcSeconds);
        gcSeconds = 0;
        method.onEpochEnd?.(rec.epoch);
        sampleState();
      },
      progress: spec.progress ? process.stderr : null,
      label: `${spec.label} ${spec.setting} lr ${spec.lr} seed ${spec.seed}`,
    });
    const flopsPerStep = method.stepFlops?.(spec.batchSize, input) ?? NaN;
    const deployed = method.finalize();
    if (spec.statePath) {
      const tensors: Record<string, ReturnType<typeof fromTensor>> = {};
      for (const [k, v] of Object.entries(deployed.stateDict())) tensors[k] = fromTensor(v);
      saveSafetensors(spec.statePath, tensors, { run: JSON.stringify(base) });
    }
    const epochSeconds = records.map((r, i) => r.seconds - (gcEpoch[i] ?? 0));
    return {
      ...base,
      valAccuracy: evaluate(deployed, val).accuracy,
      testAccuracy: evaluate(deployed, test).accuracy,
      report: method.report(),
      epochSeconds,
      gcSeconds: gcEpoch,
      secondsPerEpoch: epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length,
      flopsPerStep,
      stateBytes,
      memory: probe.result(),
      rankTrace: Object.keys(trace).length ? trace : undefined,
      provenance: provenance(),
    };
  } catch (err) {
    return {
      ...base,
      valAccuracy: NaN,
      testAccuracy: NaN,
      report: emptyReport(),
      epochSeconds: [],
      secondsPerEpoch: NaN,
      flopsPerStep: NaN,
      stateBytes: NaN,
      memory: null,
      provenance: provenance(),
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = process.argv[2];
  if (!arg) throw new Error('bench/scale-run: give the run spec as one JSON argument');
  const run = runOne(JSON.parse(arg) as RunSpec);
  // JSON has no NaN: null stands for it, and the parent reads it back as NaN.
  process.stdout.write(`${JSON.stringify(run)}\n`);
}
