import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/record.js';
import { getBackend } from '../backend/current.js';
import { runMany } from '../backend/dispatch.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, div, mul, sqrt, square, sub } from './elementwise.js';
import { mean } from './reduce.js';
import { reshape } from './shape.js';
import { checkTensor } from './util.js';

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over (N, H, W) per channel. In training the batch statistics normalise
 * (biased variance) and the running statistics are updated in place (unbiased variance), as in
 * PyTorch; in eval the running statistics normalise.
 */
export function batchNorm2d(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  checkTensor(x, 'batchNorm2d', 'input');
  if (x.ndim !== 4) throw new Error(`batchNorm2d: input must be 4-D [batch, C, H, W], got ${shapeStr(x.shape)}`);
  const C = x.shape[1];
  const check = (t: Tensor | null | undefined, name: string): void => {
    if (t === null || t === undefined) return;
    checkTensor(t, 'batchNorm2d', name);
    if (t.ndim !== 1 || t.shape[0] !== C) throw new Error(`batchNorm2d: ${name} must be [${C}], got ${shapeStr(t.shape)}`);
    if (t.dtype !== x.dtype) throw new Error(`batchNorm2d: ${name} dtype must be ${x.dtype}, got ${t.dtype}`);
  };
  check(runningMean, 'runningMean');
  check(runningVar, 'runningVar');
  check(weight, 'weight');
  check(bias, 'bias');
  const training = options.training ?? true;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (!(eps > 0)) throw new Error(`batchNorm2d: eps must be > 0, got ${eps}`);
  if (training) {
    const count = x.shape[0] * x.shape[2] * x.shape[3];
    if (count < 2) throw new Error(`batchNorm2d: training needs more than one value per channel, got input ${shapeStr(x.shape)}`);
  } else if (!runningMean || !runningVar) throw new Error('batchNorm2d: eval mode needs runningMean and runningVar');
  // On the host, two fused kernels (docs/design.md §3.5.3); a device keeps the composition below.
  if (getBackend().device === undefined) return fusedBatchNorm(x, runningMean, runningVar, weight ?? null, bias ?? null, training, momentum, eps);
  const perChannel = (t: Tensor): Tensor => reshape(t, [1, C, 1, 1]);
  let mu: Tensor;
  let v: Tensor;
  if (training) {
    const count = x.shape[0] * x.shape[2] * x.shape[3];
    mu = mean(x, [0, 2, 3], true);
    v = mean(square(sub(x, mu)), [0, 2, 3], true);
    if (runningMean && runningVar) {
      updateRunning(runningMean, runningVar, mu.data, v.data, momentum, count);
    }
  } else {
    // Checked above: eval mode has both running statistics.
    mu = perChannel(runningMean as Tensor);
    v = perChannel(runningVar as Tensor);
  }
  let y = div(sub(x, mu), sqrt(add(v, eps)));
  if (weight) y = mul(y, perChannel(weight));
  if (bias) y = add(y, perChannel(bias));
  return y;
}

/** The running statistics, in place: mean and unbiased variance (count/(count − 1)), as in PyTorch. */
function updateRunning(runningMean: Tensor, runningVar: Tensor, mu: ArrayLike<number>, variance: ArrayLike<number>, momentum: number, count: number): void {
  noGrad(() => {
    const rm = runningMean.data;
    const rv = runningVar.data;
    for (let c = 0; c < rm.length; c++) {
      rm[c] = (1 - momentum) * rm[c] + momentum * mu[c];
      rv[c] = (1 - momentum) * rv[c] + momentum * variance[c] * (count / (count - 1));
    }
  });
}

/**
 * batchNorm2d on the host's fused kernels: the statistics and y in one kernel, and one backward
 * kernel for dx, γ's and β's gradients (the composed ops' result to rounding: sums in doubles).
 */
function fusedBatchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  training: boolean,
  momentum: number,
  eps: number,
): Tensor {
  const [N, C, H, W] = x.shape;
  const P = H * W;
  const stats = training ? [] : [runningMean as Tensor, runningVar as Tensor];
  const params = [weight, bias].filter((t): t is Tensor => t !== null);
  const inputs = [x, ...params, ...stats];
  const [y, mu, invstd, variance] = runMany('batchNorm', inputs, [x.shape, [C], [C], [C]], (k, bufs) => {
    const w = weight ? bufs[1] : null;
    const b = bias ? bufs[weight ? 2 : 1] : null;
    const running = training ? null : { mean: bufs[1 + params.length], variance: bufs[2 + params.length] };
    const r = k.batchNorm(bufs[0], N, C, P, w, b, running, eps);
    return [r.out, r.mean, r.invstd, r.variance];
  });
  if (training && runningMean && runningVar) updateRunning(runningMean, runningVar, mu.data, variance.data, momentum, N * P);
  return record(y, 'batchNorm2d', [x, ...params], (gy) => {
    const saved = weight ? [gy, x, mu, invstd, weight] : [gy, x, mu, invstd];
    const wantDx = x.requiresGrad;
    const outs = runMany('batchNormBackward', saved, wantDx ? [x.shape, [C], [C]] : [[C], [C]], (k, bufs) => {
      const r = k.batchNormBackward(bufs[0], bufs[1], N, C, P, bufs[2], bufs[3], weight ? bufs[4] : null, training, wantDx);
      return r.dx === null ? [r.gWeight, r.gBias] : [r.dx, r.gWeight, r.gBias];
    });
    const [dx, gw, gb] = wantDx ? outs : [null, ...outs];
    const grads: (Tensor | null)[] = [dx];
    if (weight) grads.push(weight.requiresGrad ? gw : null);
    if (bias) grads.push(bias.requiresGrad ? gb : null);
    return grads;
  });
}
