/**
 * Cost accounting shared by the methods for the bench table: training FLOPs per step (an
 * analytic estimate, the same rules for every method) and the bytes held by parameters and
 * optimizer state. Measured time per epoch is the bench's other, empirical, cost column.
 */
import type { Module } from '../../nn/module.js';
import { traceLeaves } from '../../nn/trace.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { IntegratorKind, RankAdaptiveIntegrator } from '../integrator.js';
import { TuckerLayer } from '../tucker-layer.js';

/** Thin SVD with both singular-vector sets (Golub & Van Loan, R-SVD: 6·m·n² + 20·n³ for m ≥ n). */
export function svdFlops(m: number, n: number): number {
  const [a, b] = m >= n ? [m, n] : [n, m];
  return 6 * a * b * b + 20 * b * b * b;
}

/** Householder QR of an m×n matrix with the thin Q formed (m ≥ n): 4·m·n² − 4n³/3. */
export function qrFlops(m: number, n: number): number {
  const k = Math.min(m, n);
  return 4 * Math.max(m, n) * k * k - (4 * k * k * k) / 3;
}

interface LeafShape {
  input: number[];
  output: number[];
}

/** Input and output shape (one sample) of every leaf layer, found by one zero sample through the model. */
export function leafShapes(model: Module, inputShape: readonly number[]): Map<Module, LeafShape> {
  if (!Array.isArray(inputShape) || inputShape.some((d) => !Number.isInteger(d) || d < 1))
    throw new Error(`leafShapes: inputShape must be positive integers (one sample, e.g. [1, 28, 28]), got [${String(inputShape)}]`);
  const out = new Map<Module, LeafShape>();
  traceLeaves(model, inputShape, (_, m, x, y) => out.set(m, { input: x.shape.slice(1), output: y.shape.slice(1) }));
  return out;
}

/** Forward FLOPs of one sample through the whole model. */
export function forwardFlops(model: Module, inputShape: readonly number[]): number {
  let total = 0;
  for (const [m, s] of leafShapes(model, inputShape)) total += m.flops(s.input, s.output);
  return total;
}

/**
 * One ordinary SGD step on a batch: forward, backward (≈ 2× forward: gradients for inputs and
 * for weights) and the momentum update (≈ 4 FLOPs per parameter).
 */
export function sgdStepFlops(model: Module, batchSize: number, inputShape: readonly number[]): number {
  checkBatch(batchSize, 'sgdStepFlops');
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  return 3 * batchSize * forwardFlops(model, inputShape) + 4 * params;
}

/**
 * One rank-adaptive integrator step: a forward/backward at the current ranks; for the two-pass
 * 'bug' step a second one at the augmented ranks min(2r_i, n_i) (the S-step runs in the augmented
 * bases); and per low-rank layer the small linear algebra: the Gram matrix and Cholesky check of
 * Mat_i(C), the residual projection and QR of the new directions (n_i × r_i), the SVDs of the
 * augmented core's unfoldings and the mode products of the truncation.
 */
export function integratorStepFlops(model: Module, batchSize: number, inputShape: readonly number[], kind: IntegratorKind = 'parallel'): number {
  checkBatch(batchSize, 'integratorStepFlops');
  const shapes = leafShapes(model, inputShape);
  let pass1 = 0;
  let pass2 = 0;
  let algebra = 0;
  for (const [m, s] of shapes) {
    const f = m.flops(s.input, s.output);
    pass1 += f;
    if (!(m instanceof TuckerLayer)) {
      pass2 += f;
      continue;
    }
    const r = m.ranks;
    const aug = r.map((ri, i) => (m.factors[i] ? Math.min(2 * ri, m.fullShape[i]) : ri));
    // The layer's own FLOPs formula at the augmented ranks: a view whose `ranks` shadows the getter.
    const view = Object.create(m, { ranks: { value: aug } }) as TuckerLayer;
    pass2 += m.flops.call(view, s.input, s.output);
    const size = r.reduce((p, x) => p * x, 1);
    const augSize = aug.reduce((p, x) => p * x, 1);
    m.factors.forEach((u, i) => {
      if (!u) return;
      const n = m.fullShape[i];
      algebra += 2 * r[i] * r[i] * (size / r[i]) + r[i] ** 3 / 3 + 8 * n * r[i] * r[i] + qrFlops(n, r[i]);
      algebra += svdFlops(aug[i], augSize / aug[i]) / 2; // U only
      algebra += 3 * 2 * augSize * aug[i] + 2 * n * aug[i] * r[i];
    });
  }
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  return 3 * batchSize * (pass1 + (kind === 'bug' ? pass2 : 0)) + algebra + 4 * params;
}

/** Bytes of a list of tensors' buffers. */
export function tensorBytes(tensors: Iterable<Tensor>): number {
  let n = 0;
  for (const t of tensors) n += t.data.byteLength;
  return n;
}

/** Bytes held by the model's parameters. */
export function paramBytes(model: Module): number {
  return tensorBytes(model.parameters());
}

/** Bytes held by optimizers' state (momentum buffers, moments). */
export function optimizerBytes(optimizers: readonly Optimizer[]): number {
  let n = 0;
  for (const o of optimizers) for (const b of Object.values(o.stateDict().buffers)) n += tensorBytes(Object.values(b));
  return n;
}

/** Bytes held by the integrator: core velocities (float64) and the state of the other parameters' SGD. */
export function integratorBytes(integrator: RankAdaptiveIntegrator): number {
  const s = integrator.getState();
  let n = 0;
  for (const v of Object.values(s.velocity)) n += v.byteLength;
  if (s.others) for (const b of Object.values(s.others.buffers)) n += tensorBytes(Object.values(b));
  return n;
}

function checkBatch(batchSize: number, fn: string): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${fn}: batchSize must be a positive integer, got ${batchSize}`);
}
