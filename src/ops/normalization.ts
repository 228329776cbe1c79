import { noGrad } from '../autograd/grad-mode.js';
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
  const perChannel = (t: Tensor): Tensor => reshape(t, [1, C, 1, 1]);
  let mu: Tensor;
  let v: Tensor;
  if (training) {
    const count = x.shape[0] * x.shape[2] * x.shape[3];
    if (count < 2) throw new Error(`batchNorm2d: training needs more than one value per channel, got input ${shapeStr(x.shape)}`);
    mu = mean(x, [0, 2, 3], true);
    v = mean(square(sub(x, mu)), [0, 2, 3], true);
    if (runningMean && runningVar) {
      noGrad(() => {
        const rm = runningMean.data;
        const rv = runningVar.data;
        for (let c = 0; c < C; c++) {
          rm[c] = (1 - momentum) * rm[c] + momentum * mu.data[c];
          rv[c] = (1 - momentum) * rv[c] + momentum * v.data[c] * (count / (count - 1));
        }
      });
    }
  } else {
    if (!runningMean || !runningVar) throw new Error('batchNorm2d: eval mode needs runningMean and runningVar');
    mu = perChannel(runningMean);
    v = perChannel(runningVar);
  }
  let y = div(sub(x, mu), sqrt(add(v, eps)));
  if (weight) y = mul(y, perChannel(weight));
  if (bias) y = add(y, perChannel(bias));
  return y;
}
