import { run } from '../backend/dispatch.js';
import { record } from '../autograd/record.js';
import { allocate } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { shapeStr } from '../tensor/shape.js';
import { add, mul, neg, square, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { logSoftmax } from './softmax.js';
import { checkSameDtype, checkTensor } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

/** Integer class labels: a number array, an Int32Array, or an integer-valued tensor. */
export type Labels = readonly number[] | Int32Array | Tensor;

function labelArray(labels: Labels, n: number, classes: number, op: string): Int32Array {
  const raw: ArrayLike<number> = labels instanceof Tensor ? labels.data : labels;
  if (raw === null || raw === undefined || typeof (raw as ArrayLike<number>).length !== 'number')
    throw new Error(`${op}: labels must be a number[], Int32Array or Tensor`);
  if (raw.length !== n) throw new Error(`${op}: labels must hold one label per row (${n}), got ${raw.length}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) throw new Error(`${op}: label ${v} at position ${i} is out of range [0, ${classes})`);
    out[i] = v;
  }
  return out;
}

function reduce(x: Tensor, reduction: Reduction, op: string): Tensor {
  if (reduction === 'mean') return mean(x);
  if (reduction === 'sum') return sum(x);
  if (reduction === 'none') return x;
  throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
}

/** Negative log-likelihood of log-probabilities [N, C] at integer labels. */
export function nllLoss(logProbs: Tensor, labels: Labels, options: { reduction?: Reduction } = {}): Tensor {
  checkTensor(logProbs, 'nllLoss', 'logProbs');
  if (logProbs.ndim !== 2) throw new Error(`nllLoss: logProbs must be 2-D [batch, classes], got ${shapeStr(logProbs.shape)}`);
  const [n, c] = logProbs.shape;
  const idx = labelArray(labels, n, c, 'nllLoss');
  // The labels as a tensor of logProbs' dtype (exact: they are below the class count).
  const at = new Tensor(allocate(logProbs.dtype, n), [n]);
  at.data.set(idx);
  const picked = run('pickRows', [logProbs, at], [n], (k, [lp, i]) => k.pickRows(lp, i, n, c));
  const pickedRecorded = record(picked, 'nllLoss', [logProbs], (g) => [run('scatterRows', [g, at], [n, c], (k, [gb, i]) => k.scatterRows(gb, i, n, c))]);
  return reduce(neg(pickedRecorded), options.reduction ?? 'mean', 'nllLoss');
}

/**
 * Cross-entropy of logits [N, C] against integer labels, with optional label smoothing ε:
 * (1 − ε)·nll + ε·mean over classes of −log p (PyTorch's definition).
 */
export function crossEntropy(logits: Tensor, labels: Labels, options: { reduction?: Reduction; labelSmoothing?: number } = {}): Tensor {
  checkTensor(logits, 'crossEntropy', 'logits');
  if (logits.ndim !== 2) throw new Error(`crossEntropy: logits must be 2-D [batch, classes], got ${shapeStr(logits.shape)}`);
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const reduction = options.reduction ?? 'mean';
  const logp = logSoftmax(logits, 1);
  const nll = nllLoss(logp, labels, { reduction: 'none' });
  if (eps === 0) return reduce(nll, reduction, 'crossEntropy');
  const smooth = neg(mean(logp, 1));
  return reduce(add(mul(nll, 1 - eps), mul(smooth, eps)), reduction, 'crossEntropy');
}

/** Mean squared error (or sum / elementwise with `reduction`). */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkTensor(input, 'mseLoss', 'input');
  checkTensor(target, 'mseLoss', 'target');
  checkSameDtype(input, target, 'mseLoss', ['input', 'target']);
  if (input.size !== target.size || input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(`mseLoss: input ${shapeStr(input.shape)} and target ${shapeStr(target.shape)} must have the same shape`);
  }
  return reduce(square(sub(input, target)), options.reduction ?? 'mean', 'mseLoss');
}
