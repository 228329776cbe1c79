/**
 * Least-squares problems for the integrator checks (checks.ts): each gives a model, the closure the
 * integrator runs, and the same loss written on the full kernels (float64) for the checks' gradients.
 */
import { noGrad } from '../../src/autograd/grad-mode.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { randomCore, randomOrthonormal } from '../../src/lowrank/init.js';
import { LowRankLinear } from '../../src/lowrank/low-rank-linear.js';
import { TuckerConv2d } from '../../src/lowrank/tucker-conv2d.js';
import type { Module } from '../../src/nn/module.js';
import { Flatten, Sequential, Tanh } from '../../src/nn/layers.js';
import { conv2d } from '../../src/ops/conv.js';
import { mul, square, sub, tanh } from '../../src/ops/elementwise.js';
import { matmul } from '../../src/ops/matmul.js';
import { reshape } from '../../src/ops/shape.js';
import { sum } from '../../src/ops/reduce.js';
import type { DType } from '../../src/tensor/dtype.js';
import type { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

export interface Problem {
  model: Module;
  closure: () => Tensor;
  /** The loss of the full kernels of the model's low-rank layers, in their order, float64. */
  lossOfWeights: (ws: Tensor[]) => Tensor;
  /** σ_max² of the data matrix (the smoothness of a one-layer least squares; 0 where not known). */
  beta: number;
}

const halfSq = (a: Tensor, b: Tensor) => mul(sum(square(sub(a, b))), 0.5);

function gaussian(n: number, gen: Generator, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * gen.normal());
}

function asDtype(t: Tensor, dtype: DType): Tensor {
  return dtype === 'float64' ? t : t.to(dtype);
}

/** A low-rank linear layer W = U S Vᵀ [out, in] at the given ranks (random orthonormal factors). */
export function lowRankLinear(out: number, inp: number, ranks: [number, number], gen: Generator, dtype: DType = 'float64', coreScale = 4): LowRankLinear {
  const core = randomCore(ranks, [out, inp], inp, dtype, gen);
  for (let i = 0; i < core.size; i++) core.data[i] *= coreScale;
  return new LowRankLinear([out, inp], core, [randomOrthonormal(out, ranks[0], dtype, gen), randomOrthonormal(inp, ranks[1], dtype, gen)], null);
}

/** ½‖X·Wᵀ − Y‖² through a low-rank linear layer, Y from a planted matrix plus noise. */
export function linearProblem(
  out: number,
  inp: number,
  ranks: [number, number],
  batch: number,
  gen: Generator,
  dtype: DType = 'float64',
): Problem & { layer: LowRankLinear } {
  const x = new Tensor(gaussian(batch * inp, gen), [batch, inp]);
  const planted = new Tensor(gaussian(out * inp, gen, 1 / Math.sqrt(inp)), [out, inp]);
  const y = noGrad(() => matmul(x, planted.T));
  for (let i = 0; i < y.size; i++) y.data[i] += 0.1 * gen.normal();
  const layer = lowRankLinear(out, inp, ranks, gen, dtype);
  const xd = asDtype(x, dtype);
  const yd = asDtype(y, dtype);
  const beta = svdRaw(Float64Array.from(x.data), batch, inp, { wantU: false, wantV: false }).s[0] ** 2;
  return { model: layer, layer, beta, closure: () => halfSq(layer.forward(xd), yd), lossOfWeights: (ws) => halfSq(matmul(x, ws[0].T), y) };
}

/** A Tucker conv [out, in, k, k] with stored factors on the given modes (all four: 'all'). */
export function tuckerConvStored(
  shape: [number, number, number, number],
  ranks: number[],
  gen: Generator,
  adapt: 'channels' | 'all',
  padding: number,
  dtype: DType = 'float64',
): TuckerConv2d {
  const stored = adapt === 'all' ? [0, 1, 2, 3] : [0, 1];
  const coreShape = shape.map((n, i) => (stored.includes(i) ? ranks[i] : n));
  const core = randomCore(coreShape, shape, shape[1] * shape[2] * shape[3], dtype, gen);
  for (let i = 0; i < core.size; i++) core.data[i] *= 4;
  const factors = shape.map((n, i) => (stored.includes(i) ? randomOrthonormal(n, ranks[i], dtype, gen) : null));
  return new TuckerConv2d(shape, core, factors, null, stored, { padding });
}

/** ½‖conv(X, W) − Y‖² through one Tucker conv (targets from a planted kernel plus noise). */
export function convProblem(
  shape: [number, number, number, number],
  ranks: number[],
  gen: Generator,
  adapt: 'channels' | 'all',
  dtype: DType = 'float64',
): Problem & { layer: TuckerConv2d } {
  const [outC, inC, k] = shape;
  const padding = (k - 1) / 2;
  const x = new Tensor(gaussian(2 * inC * 25, gen), [2, inC, 5, 5]);
  const planted = new Tensor(gaussian(outC * inC * k * k, gen, 1 / Math.sqrt(inC * k * k)), [...shape]);
  const y = noGrad(() => conv2d(x, planted, null, { padding }));
  for (let i = 0; i < y.size; i++) y.data[i] += 0.1 * gen.normal();
  const layer = tuckerConvStored(shape, ranks, gen, adapt, padding, dtype);
  const xd = asDtype(x, dtype);
  const yd = asDtype(y, dtype);
  return { model: layer, layer, beta: 0, closure: () => halfSq(layer.forward(xd), yd), lossOfWeights: (ws) => halfSq(conv2d(x, ws[0], null, { padding }), y) };
}

/**
 * Three low-rank layers at once: Tucker conv (3→6) → tanh → Tucker conv (6→5) → flatten →
 * low-rank linear (80 → 7), on a 4×4 input; ½‖f(X) − Y‖² with random targets.
 */
export function threeLayerProblem(gen: Generator, ranks: { conv1: [number, number]; conv2: [number, number]; fc: [number, number] }): Problem {
  const x = new Tensor(gaussian(3 * 3 * 16, gen), [3, 3, 4, 4]);
  const y = new Tensor(gaussian(3 * 7, gen), [3, 7]);
  const c1 = tuckerConvStored([6, 3, 3, 3], [...ranks.conv1, 3, 3], gen, 'channels', 1);
  const c2 = tuckerConvStored([5, 6, 3, 3], [...ranks.conv2, 3, 3], gen, 'channels', 1);
  const fc = lowRankLinear(7, 80, ranks.fc, gen, 'float64', 1);
  const model = new Sequential(c1, new Tanh(), c2, new Flatten(), fc);
  const lossOfWeights = (ws: Tensor[]) => {
    const h = tanh(conv2d(x, ws[0], null, { padding: 1 }));
    const z = reshape(conv2d(h, ws[1], null, { padding: 1 }), [3, 80]);
    return halfSq(matmul(z, ws[2].T), y);
  };
  return { model, beta: 0, closure: () => halfSq(model.forward(x), y), lossOfWeights };
}
