/**
 * The training side of the page, free of DOM and worker APIs so that it runs in the Web Worker
 * and under vitest alike: one LeNet-5, one training method from the registry, one step at a time,
 * (driven by the library's training loop, loopSteps of src/train/loop.ts, which hands control back
 * after every step), and snapshots of what the page draws (ranks, compression, spectra of the core unfoldings,
 * test accuracy, predictions) plus the safetensors checkpoint of model.stateDict().
 *
 * Imports reach into src/ module by module (never src/index.ts or src/data/index.ts, which pull
 * in node:fs readers): everything below is pure TypeScript.
 */
import { DataLoader } from '../../src/data/loader.js';
import type { Dataset } from '../../src/data/dataset.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { tidy } from '../../src/tensor/storage.js';
import { freshProgress, loopSteps } from '../../src/train/loop.js';
import { ProgressLine } from '../../src/train/progress.js';
import { encodeSafetensors, type SafetensorsTensors } from '../../src/io/safetensors-codec.js';
import { fromTensor } from '../../src/io/safetensors-tensor.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { createMethod, METHOD_NAMES } from '../../src/lowrank/methods/registry.js';
import { reportOf } from '../../src/lowrank/methods/report.js';
import type { TrainingMethod } from '../../src/lowrank/methods/types.js';
import { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { lenet5 } from '../../src/nn/models.js';
import type { Module } from '../../src/nn/module.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';

/** The methods the page offers, in this order, where the registry has them. */
export const PAGE_METHODS = ['full', 'tdlrt', 'tucker-fixed'] as const;

/** The page's methods that this build of the library provides (tucker-fixed arrives separately). */
export function availableMethods(): string[] {
  const known = new Set<string>(METHOD_NAMES as readonly string[]);
  return PAGE_METHODS.filter((m) => known.has(m));
}

export interface TrainConfig {
  method: string;
  /** Relative tolerance of TDLRT (ignored by the other methods). */
  tau: number;
  lr: number;
  batchSize: number;
  /** Steps with tau held at 0 before pruning starts (docs/design.md §5.1.2). */
  warmupSteps: number;
  /** Evaluate (accuracy, spectra, predictions) every this many steps. */
  evalEvery: number;
  /** Test digits used for the accuracy (the first evalSize of the 2,000 test digits). */
  evalSize: number;
  /** Stop after this many steps (0: run until paused). */
  maxSteps: number;
  /** TDLRT: cap on the adapted ranks (as the demo's --max-rank; warm-up at tau 0 grows them up to it). */
  maxRank: number;
  seed: number;
  momentum: number;
  weightDecay: number;
}

export const DEFAULT_CONFIG: TrainConfig = {
  method: 'tdlrt',
  tau: 0.1,
  lr: 0.05,
  batchSize: 32,
  warmupSteps: 50,
  evalEvery: 25,
  evalSize: 1000,
  maxSteps: 0,
  maxRank: 64,
  seed: 0,
  momentum: 0.9,
  weightDecay: 5e-4,
};

/** One weight layer as the page shows it. Ranks are per mode of the full kernel (n_i where a mode is full). */
export interface LayerView {
  /** Module path in the model (e.g. '3'). */
  path: string;
  /** Friendly name: conv1, conv2, fc1, fc2. */
  name: string;
  kind: string;
  fullShape: number[];
  ranks: number[];
  /** The modes whose rank the method adapts (empty for a full or fixed layer). */
  adaptModes: number[];
  params: number;
  fullParams: number;
  /** 1 − params/fullParams. */
  compression: number;
}

/** Singular values of one unfolding: Mat_mode(core) for a low-rank layer, Mat_mode(weight) for a full one. */
export interface Spectrum {
  layer: string;
  mode: number;
  /** Descending. */
  sigma: number[];
  /** The current rank in that mode. */
  rank: number;
}

export interface StepReport {
  step: number;
  epoch: number;
  loss: number;
  /** Wall-clock milliseconds of this step. */
  ms: number;
  /** Relative tolerance this step truncated with (0 during warm-up; null for methods without one). */
  tau: number | null;
  /** Per layer (friendly name): ranks of the two channel modes. */
  ranks: Record<string, number[]>;
}

export interface EvalReport {
  step: number;
  accuracy: number;
  loss: number;
  count: number;
  ms: number;
  layers: LayerView[];
  /** Parameters of the whole network now and held full. */
  networkParams: number;
  fullNetworkParams: number;
  spectra: Spectrum[];
  /** Predicted classes of the first gridSize test digits. */
  predictions: number[];
}

/** Unfoldings larger than this (min side) are skipped for full layers: a Jacobi SVD of fc1 (500×800) costs seconds. */
const MAX_SPECTRUM_SIDE = 128;

export class WebTrainer {
  readonly config: TrainConfig;
  readonly method: TrainingMethod;
  readonly model: Module;
  readonly stepsPerEpoch: number;
  step = 0;
  private readonly loader: DataLoader;
  /** The library's loop over this run, one step per next(); no test pass, log or checkpoint of its own (the page asks for those). */
  private readonly steps: ReturnType<typeof loopSteps>;
  private readonly names = new Map<string, string>();

  constructor(
    readonly train: Dataset,
    readonly test: Dataset,
    config: Partial<TrainConfig> = {},
    readonly gridSize = 24,
  ) {
    const c = { ...DEFAULT_CONFIG, ...config };
    for (const k of ['tau', 'lr', 'batchSize', 'warmupSteps', 'evalEvery', 'evalSize', 'maxSteps', 'maxRank', 'seed', 'momentum', 'weightDecay'] as const) {
      if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || c[k] < 0) throw new Error(`WebTrainer: ${k} must be a finite number ≥ 0, got ${String(c[k])}`);
    }
    if (!(c.lr > 0)) throw new Error(`WebTrainer: lr must be > 0, got ${c.lr}`);
    if (!Number.isInteger(c.batchSize) || c.batchSize < 1) throw new Error(`WebTrainer: batchSize must be a positive integer, got ${c.batchSize}`);
    if (!Number.isInteger(c.evalEvery) || c.evalEvery < 1) throw new Error(`WebTrainer: evalEvery must be a positive integer, got ${c.evalEvery}`);
    const methods = availableMethods();
    if (!methods.includes(c.method)) throw new Error(`WebTrainer: method must be one of ${methods.join(', ')}, got '${c.method}'`);
    this.config = c;
    manualSeed(c.seed);
    this.loader = new DataLoader(train, { batchSize: c.batchSize, shuffle: true, seed: c.seed });
    this.stepsPerEpoch = this.loader.length;
    // The registry takes warm-up in epochs; the page counts steps (set exactly on the integrator below).
    this.method = createMethod(c.method, {
      lr: c.lr,
      tau: c.tau,
      maxRank: c.maxRank || undefined,
      momentum: c.momentum,
      weightDecay: c.weightDecay,
      warmupEpochs: c.warmupSteps / this.stepsPerEpoch,
      // The page shows the ranks grow to maxRank at tau 0 and then fall: the integrator's own
      // warm-up, not the library's default full-model one (docs/integrator.md §7).
      warmup: 'integrator',
    });
    this.model = this.method.setup(lenet5({ generator: new Generator(c.seed + 1) }), {
      stepsPerEpoch: this.stepsPerEpoch,
      epochs: 1,
      generator: new Generator(c.seed + 2),
    });
    const integ = this.integrator();
    if (integ) integ.warmupSteps = c.warmupSteps;
    this.steps = loopSteps({
      method: this.method,
      model: this.model,
      loader: this.loader,
      testLoader: null,
      epochs: Number.POSITIVE_INFINITY,
      progress: freshProgress(),
      maxSteps: c.maxSteps > 0 ? c.maxSteps : undefined,
      checkpointEvery: 0,
      logEvery: Number.POSITIVE_INFINITY,
      checkpoint: () => {},
      log: () => {},
      bar: new ProgressLine(null),
      where: 'WebTrainer: ',
    });
    let conv = 0;
    let fc = 0;
    for (const [path, m] of this.model.namedModules()) {
      if (m instanceof Conv2d || (m instanceof TuckerLayer && m.fullShape.length === 4)) this.names.set(path, `conv${++conv}`);
      else if (m instanceof Linear || m instanceof TuckerLayer) this.names.set(path, `fc${++fc}`);
    }
  }

  /** The rank-adaptive integrator of the method, where it has one (tdlrt). */
  integrator(): RankAdaptiveIntegrator | null {
    const s = (this.method as { state?: unknown }).state;
    return s instanceof RankAdaptiveIntegrator ? s : null;
  }

  get done(): boolean {
    return this.config.maxSteps > 0 && this.step >= this.config.maxSteps;
  }

  /**
   * One training step of the loop. A loss that is not finite throws (the loop's message says
   * whether the data, a parameter or the learning rate is to blame); the run is then over.
   */
  trainStep(): StepReport {
    if (this.done) throw new Error(`WebTrainer: the run is over (maxSteps ${this.config.maxSteps} reached)`);
    const t0 = performance.now();
    const integ = this.integrator();
    // The tolerance this step truncates with (read before the step advances the warm-up counter).
    const tau = integ ? integ.currentTau : null;
    const r = this.steps.next();
    if (r.done) throw new Error('WebTrainer: the training loop has ended');
    this.step = r.value.step;
    return { step: this.step, epoch: r.value.epoch, loss: r.value.loss, ms: performance.now() - t0, tau, ranks: this.channelRanks() };
  }

  /** Ranks of the channel modes (out, in) of every weight layer, by friendly name. */
  channelRanks(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const l of this.layers()) out[l.name] = l.ranks.slice(0, 2);
    return out;
  }

  /** Every weight layer with its ranks and parameters. */
  layers(): LayerView[] {
    const out: LayerView[] = [];
    for (const [path, m] of this.model.namedModules()) {
      const name = this.names.get(path);
      if (!name) continue;
      if (m instanceof TuckerLayer) {
        const params = m.paramCount();
        const fullParams = m.fullParamCount();
        out.push({
          path,
          name,
          kind: m.kind,
          fullShape: [...m.fullShape],
          ranks: m.ranks,
          adaptModes: this.integrator() ? [...m.adaptModes] : [],
          params,
          fullParams,
          compression: 1 - params / fullParams,
        });
      } else if (m instanceof Conv2d || m instanceof Linear) {
        const params = m.weight.size + (m.bias?.size ?? 0);
        out.push({
          path,
          name,
          kind: m instanceof Conv2d ? 'Conv2d' : 'Linear',
          fullShape: [...m.weight.shape],
          ranks: [...m.weight.shape],
          adaptModes: [],
          params,
          fullParams: params,
          compression: 0,
        });
      }
    }
    return out;
  }

  /** Singular values of the channel-mode unfoldings of every layer's core (or weight, when full and small enough). */
  spectra(): Spectrum[] {
    const out: Spectrum[] = [];
    for (const [path, m] of this.model.namedModules()) {
      const name = this.names.get(path);
      if (!name) continue;
      let t: Tensor | null = null;
      let modes: number[] = [];
      if (m instanceof TuckerLayer) {
        t = m.core;
        // A matrix core has one spectrum (both unfoldings share it).
        modes = t.ndim === 2 ? [0] : [0, 1];
      } else if (m instanceof Conv2d || m instanceof Linear) {
        t = m.weight;
        modes = t.ndim === 2 ? [0] : [0, 1];
      }
      if (!t) continue;
      for (const mode of modes) {
        const rows = t.shape[mode];
        const cols = t.size / rows;
        if (!(m instanceof TuckerLayer) && Math.min(rows, cols) > MAX_SPECTRUM_SIDE) continue;
        const mat = unfoldRaw(t.data, t.shape, mode);
        const { s } = svdRaw(mat, rows, cols, { wantU: false, wantV: false });
        out.push({ layer: name, mode, sigma: Array.from(s), rank: t.shape[mode] });
      }
    }
    return out;
  }

  /** Test accuracy and loss on the first evalSize test digits, with everything the page draws. */
  evaluate(): EvalReport {
    const t0 = performance.now();
    const n = Math.min(this.config.evalSize || this.test.labels.length, this.test.labels.length);
    const per = 28 * 28;
    const chunk = 250;
    let correct = 0;
    let lossSum = 0;
    const predictions: number[] = [];
    const model = this.method.finalize();
    const wasTraining = model.training;
    model.eval();
    try {
      tidy(() =>
        noGrad(() => {
          for (let start = 0; start < n; start += chunk) {
            const b = Math.min(chunk, n - start);
            const x = new Tensor(this.test.images.slice(start * per, (start + b) * per), [b, 1, 28, 28]);
            const y = this.test.labels.slice(start, start + b);
            const logits = model.forward(x);
            lossSum += crossEntropy(logits, y).item() * b;
            const pred = logits.argmax(1);
            for (let i = 0; i < b; i++) {
              if (pred[i] === y[i]) correct++;
              if (start + i < this.gridSize) predictions.push(pred[i]);
            }
          }
          // Grid digits beyond the evaluated subset still get a prediction.
          if (predictions.length < this.gridSize) {
            const from = predictions.length;
            const b = Math.min(this.gridSize, this.test.labels.length) - from;
            if (b > 0) {
              const x = new Tensor(this.test.images.slice(from * per, (from + b) * per), [b, 1, 28, 28]);
              predictions.push(...model.forward(x).argmax(1));
            }
          }
        }),
      );
    } finally {
      model.train(wasTraining);
    }
    const rep = reportOf(model);
    return {
      step: this.step,
      accuracy: n ? correct / n : NaN,
      loss: n ? lossSum / n : NaN,
      count: n,
      ms: performance.now() - t0,
      layers: this.layers(),
      networkParams: rep.networkParams,
      fullNetworkParams: rep.fullNetworkParams,
      spectra: this.spectra(),
      predictions,
    };
  }

  /** safetensors bytes of model.stateDict(), with the run's settings and ranks as metadata. */
  checkpoint(): Uint8Array {
    const tensors: SafetensorsTensors = {};
    for (const [k, t] of Object.entries(this.method.finalize().stateDict())) tensors[k] = fromTensor(t);
    const c = this.config;
    return encodeSafetensors(tensors, {
      format: 'tuckergrad',
      model: 'lenet5',
      method: c.method,
      step: String(this.step),
      tau: String(c.tau),
      lr: String(c.lr),
      batchSize: String(c.batchSize),
      seed: String(c.seed),
      ranks: JSON.stringify(Object.fromEntries(this.layers().map((l) => [l.path, l.ranks]))),
    });
  }
}
