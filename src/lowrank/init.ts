import { qrRaw } from '../linalg/qr.js';
import { allocate, type DType } from '../tensor/dtype.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';

/** An n×r matrix with orthonormal columns: the Q of a Gaussian matrix (seeded). */
export function randomOrthonormal(n: number, r: number, dtype: DType, gen: Generator = defaultGenerator): Tensor {
  if (!Number.isInteger(r) || r < 1 || r > n) throw new Error(`randomOrthonormal: rank must be in [1, ${n}], got ${r}`);
  const g = new Float64Array(n * r);
  for (let i = 0; i < g.length; i++) g[i] = gen.normal();
  const { q } = qrRaw(g, n, r, 'reduced');
  const out = allocate(dtype, n * r);
  out.set(q);
  return new Tensor(out, [n, r]);
}

/**
 * A random core whose rebuilt kernel has, in expectation, the variance of PyTorch's default
 * layer init (U(±1/√fanIn): variance 1/(3·fanIn)). With orthonormal factors, E‖W‖² = E‖C‖², so
 * the core entries get variance Var(W)·Πn_i / Πr_i.
 */
export function randomCore(ranks: readonly number[], fullShape: readonly number[], fanIn: number, dtype: DType, gen: Generator = defaultGenerator): Tensor {
  const size = ranks.reduce((a, b) => a * b, 1);
  const full = fullShape.reduce((a, b) => a * b, 1);
  const std = Math.sqrt((1 / (3 * fanIn)) * (full / size));
  const d = allocate(dtype, size);
  for (let i = 0; i < size; i++) d[i] = std * gen.normal();
  return new Tensor(d, ranks);
}
