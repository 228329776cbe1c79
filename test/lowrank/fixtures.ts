import { noGrad } from '../../src/autograd/grad-mode.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { getBackend } from '../../src/backend/index.js';
import { TuckerConv2d } from '../../src/lowrank/tucker-conv2d.js';
import { randomCore, randomOrthonormal } from '../../src/lowrank/init.js';
import { conv2d } from '../../src/ops/conv.js';
import { mul, square, sub } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import type { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** A float64 Tucker conv with random orthonormal factors on the channel modes. */
export function tuckerConv(shape: [number, number, number, number], ranks: [number, number], gen: Generator, padding = 1): TuckerConv2d {
  const core = randomCore([ranks[0], ranks[1], shape[2], shape[3]], shape, shape[1] * shape[2] * shape[3], 'float64', gen);
  // A larger core than the init scale keeps the problems away from the trivial zero solution.
  for (let i = 0; i < core.size; i++) core.data[i] *= 4;
  return new TuckerConv2d(
    shape,
    core,
    [randomOrthonormal(shape[0], ranks[0], 'float64', gen), randomOrthonormal(shape[1], ranks[1], 'float64', gen), null, null],
    null,
    [0, 1],
    { padding },
  );
}

/**
 * Least squares through a conv layer, L(W) = ½‖conv(X, W) − Y‖², with its smoothness
 * β = σ_max(cols)² computed exactly from the im2col matrix of X.
 */
export function leastSquares(inC: number, k: number, gen: Generator, n = 2, hw = 5, padding = 1) {
  const x = new Tensor(
    Float64Array.from({ length: n * inC * hw * hw }, () => gen.normal()),
    [n, inC, hw, hw],
  );
  const outHW = hw + 2 * padding - k + 1;
  const colsRows = inC * k * k;
  const colsCount = n * outHW * outHW;
  const cols = new Float64Array(colsRows * colsCount);
  cols.set(
    getBackend().host.im2col(x.data, {
      batch: n,
      totalChannels: inC,
      channelOffset: 0,
      channels: inC,
      inH: hw,
      inW: hw,
      kH: k,
      kW: k,
      strideH: 1,
      strideW: 1,
      padH: padding,
      padW: padding,
      dilH: 1,
      dilW: 1,
      outH: outHW,
      outW: outHW,
    }),
  );
  const sigma = svdRaw(cols, colsRows, colsCount, { wantU: false, wantV: false }).s[0];
  const beta = sigma * sigma;
  return {
    x,
    beta,
    /** Targets from a planted kernel plus noise. */
    targets(outC: number): Tensor {
      const w = new Tensor(
        Float64Array.from({ length: outC * colsRows }, () => gen.normal() / Math.sqrt(colsRows)),
        [outC, inC, k, k],
      );
      const y = noGrad(() => conv2d(x, w, null, { padding }));
      for (let i = 0; i < y.size; i++) y.data[i] += 0.1 * gen.normal();
      return y;
    },
    lossOfWeight(w: Tensor, y: Tensor): Tensor {
      return mul(sum(square(sub(conv2d(x, w, null, { padding }), y))), 0.5);
    },
  };
}

export function frobDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

export function frobNorm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** max |UᵀU − I| of an n×r factor. */
export function orthoError(u: Tensor): number {
  const [n, r] = u.shape;
  let worst = 0;
  for (let a = 0; a < r; a++)
    for (let b = 0; b < r; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += u.data[i * r + a] * u.data[i * r + b];
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  return worst;
}
