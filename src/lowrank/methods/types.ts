import type { Module } from '../../nn/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';

/** What every method is told about the run before it starts. */
export interface MethodContext {
  stepsPerEpoch: number;
  epochs: number;
  /** Seeds the method's own randomness (initial factors, projections). */
  generator: Generator;
}

/** Ranks and parameter counts per compressed layer, as each method reports them. */
export interface MethodLayerReport {
  name: string;
  /** 'tucker' ranks per mode, or one matrix rank as [r]. */
  ranks: number[];
  params: number;
  fullParams: number;
}

export interface MethodReport {
  layers: MethodLayerReport[];
  /** Parameters of the compressed layers, and of the same layers held full. */
  params: number;
  fullParams: number;
  /** Parameters of the whole network as deployed, and of the full network. */
  networkParams: number;
  fullNetworkParams: number;
  /** Conv parameters only (the paper's c.r.: 1 − compressed/full over conv layers). */
  convParams: number;
  fullConvParams: number;
}

/**
 * One shape for every training method of the seeds, so that the bench and the CLI run them side
 * by side: set up the model, take steps, hook into epoch ends, and hand over the model to evaluate.
 */
export interface TrainingMethod {
  readonly name: string;
  /** Takes the freshly built full model; returns the model that training updates (possibly factorised). */
  setup(model: Module, ctx: MethodContext): Module;
  /** One training step on a batch: the loss before the update and the logits of that forward pass. */
  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor };
  /** Called after every epoch (1-based). */
  onEpochEnd?(epoch: number): void;
  /** The model to evaluate and deploy after training (TRP/LRA/post-hoc project or decompose here). */
  finalize(): Module;
  /** Ranks and parameters of the compressed layers of the model finalize() returns (or of the current one). */
  report(): MethodReport;
  /** Values to show in the progress line (e.g. current ranks). */
  progress?(): Record<string, unknown>;
  /**
   * Resumable state for checkpoints (optimizer buffers, counters, phase): JSON-like data whose
   * leaves may be Tensors or typed arrays. Without it, lowrank/method-state.ts captures the method's
   * optimizer, integrator, generator and numeric fields, which suffices when they are all there is.
   */
  getState?(): unknown;
  /**
   * Restores getState() output. Called after setup() and after the model has been given the
   * checkpoint's layers and weights (low-rank layers at their saved ranks): re-create here whatever
   * holds on to parameters that the saved run had replaced (e.g. the integrator after a warm-up).
   */
  setState?(state: unknown): void;
  /**
   * Estimated FLOPs of one training step on a batch at the current ranks: forward, backward,
   * update, and the method's own linear algebra (SVDs, QRs) amortised over the steps it runs in.
   */
  stepFlops?(batchSize: number, inputShape: readonly number[]): number;
  /** Bytes held for training now: parameters of the training model and optimizer state. */
  memory?(): { paramBytes: number; optimizerBytes: number };
}
