import { Conv2d, Linear } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { crossEntropy } from '../../ops/loss.js';
import { SGD } from '../../optim/sgd.js';
import { Tensor } from '../../tensor/tensor.js';
import { optimizerBytes, paramBytes, sgdStepFlops, svdFlops } from './accounting.js';
import { compressedLayers, type CompressedLayer } from './budget.js';
import { requireModuleAt, setModuleAt } from '../../nn/model-structure.js';
import { loweredShape, lowerWeight, nuclearSubgradient, raiseWeight, truncatedSvd, type Reshaping } from './lowered.js';
import { reportOf } from './report.js';
import { sgdSettings, type SgdSettings } from './sgd-split.js';
import { twoStageFrom } from './two-stage.js';
import type { MethodContext, MethodLayerReport, MethodReport, TrainingMethod } from './types.js';
import { optimizerStateOf, stepCountOf, versionedState } from './versioned-state.js';

export interface TrpOptions extends SgdSettings {
  /** Energy e kept by each truncation: the smallest rank with Σ_{j≤k} σ_j² ≥ e·Σσ² (default 0.9). */
  energy?: number;
  /** m: truncate every m steps (default 1, as in the paper; an SVD of a large layer per step is costly). */
  interval?: number;
  /** λ_nuc of the nuclear-norm regulariser (default 3e-4). */
  nuclear?: number;
  /** How a conv kernel is lowered: 'channel' (out × in·kh·kw, default) or 'spatial' (in·kh × out·kw). */
  reshaping?: Reshaping;
}

/**
 * Trained Rank Pruning (docs/design.md §5.3): full weights trained by SGD; every m steps each compressed
 * layer's weight (a conv kernel lowered channel- or spatial-wise) is replaced by its truncated SVD
 * at energy e; between truncations the gradient carries the nuclear-norm subgradient λ_nuc·U_kV_kᵀ
 * of the last truncation (exact right after it; the SVD that would refresh it every step is what
 * m saves). finalize() decomposes each layer at the energy-e rank of its final weights into two
 * layers (k×k conv to r channels then 1×1, or kh×1 then 1×kw; two thin Linear layers), without
 * fine-tuning. The ranks are wherever e takes them: report them.
 */
export class TrpMethod implements TrainingMethod {
  readonly name = 'trp';
  readonly settings: Required<SgdSettings>;
  readonly energy: number;
  readonly interval: number;
  readonly nuclear: number;
  readonly reshaping: Reshaping;
  stepCount = 0;
  /** Ranks of the last truncation, per layer. */
  ranks: Record<string, number> = {};
  private model: Module | null = null;
  private optimizer: SGD | null = null;
  private layers: CompressedLayer[] = [];
  /** U_kV_kᵀ of the last truncation per layer, in the weight's dtype (memory counts). */
  private readonly subgradients = new Map<string, Float32Array | Float64Array>();
  private deployed: Module | null = null;

  constructor(readonly options: TrpOptions) {
    this.settings = sgdSettings(options, 'trp');
    this.energy = options.energy ?? 0.9;
    this.interval = options.interval ?? 1;
    this.nuclear = options.nuclear ?? 3e-4;
    this.reshaping = options.reshaping ?? 'channel';
    if (!(this.energy > 0 && this.energy <= 1)) throw new Error(`trp: energy must be in (0, 1], got ${options.energy}`);
    if (!Number.isInteger(this.interval) || this.interval < 1) throw new Error(`trp: interval (m) must be a positive integer, got ${options.interval}`);
    if (!(this.nuclear >= 0 && Number.isFinite(this.nuclear))) throw new Error(`trp: nuclear (λ_nuc) must be a finite number ≥ 0, got ${options.nuclear}`);
    if (this.reshaping !== 'channel' && this.reshaping !== 'spatial')
      throw new Error(`trp: reshaping must be 'channel' or 'spatial', got ${String(options.reshaping)}`);
  }

  setup(model: Module, _ctx: MethodContext): Module {
    this.model = model;
    this.layers = compressedLayers(model);
    this.optimizer = new SGD(model.parameters(), this.settings);
    return model;
  }

  private weightOf(name: string): Conv2d | Linear {
    const l = requireModuleAt(this.requireModel(), name, 'trp');
    if (!(l instanceof Conv2d || l instanceof Linear)) throw new Error(`trp: layer '${name}' is no longer a full Conv2d/Linear (finalize was called)`);
    return l;
  }

  /** Replaces every compressed weight by its truncated SVD at energy e and refreshes the subgradients. */
  truncate(): void {
    for (const l of this.layers) {
      const w = this.weightOf(l.name).weight;
      const lowered = lowerWeight(w.data, l.shape, this.reshaping);
      const t = truncatedSvd(lowered, { energy: this.energy });
      w.data.set(raiseWeight(t.approx, l.shape, this.reshaping));
      const sub = raiseWeight(nuclearSubgradient(t, lowered.rows, lowered.cols), l.shape, this.reshaping);
      this.subgradients.set(l.name, w.dtype === 'float64' ? sub : Float32Array.from(sub));
      this.ranks[l.name] = t.rank;
    }
  }

  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    const model = this.requireModel();
    if (this.deployed) throw new Error('trp: the model was decomposed by finalize(); it cannot be trained further');
    const opt = this.optimizer as SGD;
    if (this.stepCount % this.interval === 0) this.truncate();
    opt.zeroGrad();
    const logits = model.forward(x);
    const loss = crossEntropy(logits, y);
    loss.backward();
    if (this.nuclear > 0) {
      for (const l of this.layers) {
        const w = this.weightOf(l.name).weight;
        const sub = this.subgradients.get(l.name);
        if (!w.grad || !sub) continue;
        const g = Float64Array.from(w.grad.data);
        for (let k = 0; k < g.length; k++) g[k] += this.nuclear * sub[k];
        w.grad = new Tensor(w.dtype === 'float64' ? g : Float32Array.from(g), w.shape);
      }
    }
    opt.step();
    this.stepCount++;
    return { loss: loss.item(), logits };
  }

  /**
   * Checkpoint state, version 1: the step count (which decides the next truncation), the optimizer,
   * the ranks of the last truncation and its nuclear-norm subgradients (each the shape of its layer's weight).
   */
  getState(): unknown {
    if (this.deployed) throw new Error('trp.getState: the model was decomposed by finalize(); save it as a model, not a training state');
    const subgradients: Record<string, Float64Array> = {};
    for (const [name, sub] of this.subgradients) subgradients[name] = Float64Array.from(sub);
    return { version: 1, stepCount: this.stepCount, optimizer: (this.optimizer as SGD).stateDict(), ranks: { ...this.ranks }, subgradients };
  }

  setState(state: unknown): void {
    const s = versionedState('trp', state, 1, ['stepCount', 'optimizer', 'ranks', 'subgradients']);
    const stepCount = stepCountOf('trp', s.stepCount);
    const ranks = s.ranks as Record<string, unknown>;
    const subs = s.subgradients as Record<string, unknown>;
    const known = new Map(this.layers.map((l) => [l.name, l]));
    if (ranks === null || typeof ranks !== 'object')
      throw new Error(`trp.setState: ranks must be an object of layer name → rank, got ${JSON.stringify(ranks)}`);
    for (const [name, r] of Object.entries(ranks)) {
      if (!known.has(name)) throw new Error(`trp.setState: ranks names a layer '${name}' the model does not compress (${[...known.keys()].join(', ')})`);
      if (typeof r !== 'number' || !Number.isInteger(r) || r < 1)
        throw new Error(`trp.setState: the rank of '${name}' must be a positive integer, got ${JSON.stringify(r)}`);
    }
    if (subs === null || typeof subs !== 'object') throw new Error('trp.setState: subgradients must be an object of layer name → array');
    const restored = new Map<string, Float32Array | Float64Array>();
    for (const [name, sub] of Object.entries(subs)) {
      const layer = known.get(name);
      if (!layer) throw new Error(`trp.setState: subgradients names a layer '${name}' the model does not compress`);
      const size = layer.shape.reduce((p, n) => p * n, 1);
      if (!(sub instanceof Float64Array || sub instanceof Float32Array) || sub.length !== size)
        throw new Error(
          `trp.setState: the subgradient of '${name}' must be a float array of ${size} values (its weight's size), got ${sub instanceof Object ? (sub as { length?: number }).length : typeof sub}`,
        );
      const dtype = this.weightOf(name).weight.dtype;
      restored.set(name, dtype === 'float64' ? Float64Array.from(sub) : Float32Array.from(sub));
    }
    (this.optimizer as SGD).loadStateDict(optimizerStateOf('trp', s.optimizer));
    this.stepCount = stepCount;
    this.ranks = Object.fromEntries(Object.entries(ranks)) as Record<string, number>;
    this.subgradients.clear();
    for (const [k, v] of restored) this.subgradients.set(k, v);
  }

  /** Decomposes each compressed layer at the energy-e rank of its final weights (once). */
  finalize(): Module {
    const model = this.requireModel();
    if (this.deployed) return this.deployed;
    for (const l of this.layers) {
      const layer = this.weightOf(l.name);
      const t = truncatedSvd(lowerWeight(layer.weight.data, l.shape, this.reshaping), { energy: this.energy });
      const bias = layer.bias ? new Tensor(layer.bias.data.slice(), layer.bias.shape) : null;
      const geometry = layer instanceof Conv2d ? { stride: layer.stride, padding: layer.padding, dilation: layer.dilation } : {};
      if (layer instanceof Conv2d && layer.groups !== 1)
        throw new Error(`trp: '${l.name}' is a grouped conv (groups=${layer.groups}); only groups=1 can be decomposed`);
      setModuleAt(model, l.name, twoStageFrom(t, l.shape, this.reshaping, bias, layer.weight.dtype, geometry));
      this.ranks[l.name] = t.rank;
    }
    this.deployed = model;
    return model;
  }

  /** After finalize: the deployed layers; before: what deploying at the last truncation's ranks would give. */
  report(): MethodReport {
    const model = this.requireModel();
    if (this.deployed) return reportOf(model);
    const extra: MethodLayerReport[] = this.layers.map((l) => {
      const { rows, cols } = loweredShape(l.shape, this.reshaping);
      const r = this.ranks[l.name] ?? Math.min(rows, cols);
      return { name: l.name, ranks: [r], params: r * (rows + cols) + (l.hasBias ? l.shape[0] : 0), fullParams: l.fullParams };
    });
    return reportOf(model, extra, (n) => this.layers.some((l) => l.name === n && l.kind === 'conv'));
  }

  progress(): Record<string, unknown> {
    return { ranks: this.layers.map((l) => `${l.name}:${this.ranks[l.name] ?? '-'}`).join(' ') };
  }

  /** A full SGD step, plus every m steps the SVD, rebuild and subgradient of each layer (amortised). */
  stepFlops(batchSize: number, inputShape: readonly number[]): number {
    let extra = 0;
    for (const l of this.layers) {
      const m = loweredShape(l.shape, this.reshaping);
      const k = this.ranks[l.name] ?? Math.min(m.rows, m.cols);
      extra += (svdFlops(m.rows, m.cols) + 4 * m.rows * m.cols * k) / this.interval + 2 * m.rows * m.cols;
    }
    return sgdStepFlops(this.requireModel(), batchSize, inputShape) + extra;
  }

  memory(): { paramBytes: number; optimizerBytes: number } {
    // The cached subgradients are training state too (one weight-sized buffer per layer).
    let sub = 0;
    for (const s of this.subgradients.values()) sub += s.byteLength;
    return { paramBytes: paramBytes(this.requireModel()), optimizerBytes: (this.optimizer ? optimizerBytes([this.optimizer]) : 0) + sub };
  }

  private requireModel(): Module {
    if (!this.model) throw new Error('trp: call setup(model) before training');
    return this.model;
  }
}
