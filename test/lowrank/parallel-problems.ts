/**
 * Float64 least-squares problems through the three kinds of low-rank layer, for the theory tests of
 * the single-pass step: L(W) = ½‖f(X; W) − Y‖² with f linear in W, so L is β-smooth with β the
 * squared largest singular value of the lowered input (computed exactly).
 */
import { noGrad } from '../../src/autograd/grad-mode.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { randomCore, randomOrthonormal } from '../../src/lowrank/init.js';
import { LowRankLinear } from '../../src/lowrank/low-rank-linear.js';
import { TuckerConv2d } from '../../src/lowrank/tucker-conv2d.js';
import type { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { mul, square, sub } from '../../src/ops/elementwise.js';
import { linear } from '../../src/ops/matmul.js';
import { sum } from '../../src/ops/reduce.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { leastSquares } from './fixtures.js';

export type LayerKind = 'tucker2' | 'tucker4' | 'matrix';

export interface Problem {
  layer: TuckerLayer;
  beta: number;
  /** The loss through the layer's own forward (what the integrator's closure runs). */
  loss: () => Tensor;
  /** The same loss as a function of a full weight of shape layer.fullShape. */
  lossOfWeight: (w: Tensor) => Tensor;
}

/** ∇L(W) and L(W) at a full weight. */
export function gradAt(p: Problem, w: ArrayLike<number>): { loss: number; grad: Float64Array } {
  const leaf = new Tensor(Float64Array.from(w), [...p.layer.fullShape], true);
  const l = p.lossOfWeight(leaf);
  l.backward();
  return { loss: l.item(), grad: Float64Array.from(leaf.grad?.data ?? []) };
}

export function lossAt(p: Problem, w: ArrayLike<number>): number {
  return noGrad(() => p.lossOfWeight(new Tensor(Float64Array.from(w), [...p.layer.fullShape]))).item();
}

/**
 * A problem of the given kind with ranks r (channel modes; for 'tucker4' the spatial modes 3×3
 * are stored too, at rank `spatial`). Factors random orthonormal, the core scaled up ×4 so that
 * the start is away from the zero solution.
 */
export function makeProblem(kind: LayerKind, out: number, inC: number, r: [number, number], seed: number, spatial = 2): Problem {
  const gen = new Generator(seed);
  if (kind === 'matrix') {
    const x = new Tensor(
      Float64Array.from({ length: 12 * inC }, () => gen.normal()),
      [12, inC],
    );
    const y = new Tensor(
      Float64Array.from({ length: 12 * out }, () => gen.normal()),
      [12, out],
    );
    const core = randomCore(r, [out, inC], inC, 'float64', gen);
    for (let i = 0; i < core.size; i++) core.data[i] *= 4;
    const layer = new LowRankLinear([out, inC], core, [randomOrthonormal(out, r[0], 'float64', gen), randomOrthonormal(inC, r[1], 'float64', gen)], null);
    const s = svdRaw(Float64Array.from(x.data), 12, inC, { wantU: false, wantV: false }).s[0];
    const lossOfWeight = (w: Tensor) => mul(sum(square(sub(linear(x, w), y))), 0.5);
    return { layer, beta: s * s, lossOfWeight, loss: () => mul(sum(square(sub(layer.forward(x), y))), 0.5) };
  }
  const ls = leastSquares(inC, 3, gen);
  const y = ls.targets(out);
  const shape = [out, inC, 3, 3];
  const ranks = kind === 'tucker4' ? [r[0], r[1], spatial, spatial] : [r[0], r[1], 3, 3];
  const core = randomCore(ranks, shape, inC * 9, 'float64', gen);
  for (let i = 0; i < core.size; i++) core.data[i] *= 4;
  const factors = [randomOrthonormal(out, r[0], 'float64', gen), randomOrthonormal(inC, r[1], 'float64', gen)] as (Tensor | null)[];
  if (kind === 'tucker4') factors.push(randomOrthonormal(3, spatial, 'float64', gen), randomOrthonormal(3, spatial, 'float64', gen));
  else factors.push(null, null);
  const adapt = kind === 'tucker4' ? [0, 1, 2, 3] : [0, 1];
  const layer = new TuckerConv2d(shape, core, factors, null, adapt, { padding: 1 });
  return { layer, beta: ls.beta, lossOfWeight: (w) => ls.lossOfWeight(w, y), loss: () => mul(sum(square(sub(layer.forward(ls.x), y))), 0.5) };
}
