import { linear, matmul } from '../ops/matmul.js';
import type { Tensor } from '../tensor/tensor.js';
import { TuckerLayer } from './tucker-layer.js';

/**
 * A fully connected weight W [out, in] = U S Vᵀ (factors.0 = U, factors.1 = V, core = S),
 * applied as three thin products x·V·Sᵀ·Uᵀ: the matrix case (two modes) of the Tucker layer.
 */
export class LowRankLinear extends TuckerLayer {
  constructor(fullShape: readonly number[], core: Tensor, factors: (Tensor | null)[], bias: Tensor | null, adaptModes: readonly number[] = [0, 1]) {
    super(fullShape, core, factors, bias, adaptModes, 'LowRankLinear');
    if (fullShape.length !== 2) throw new Error(`LowRankLinear: fullShape must be [out, in], got [${fullShape.join(', ')}]`);
  }

  protected forwardFactored(x: Tensor): Tensor {
    const [u, v] = this.factors;
    let z = v ? matmul(x, v) : x;
    z = linear(z, this.core, u ? null : this.bias);
    return u ? linear(z, u, this.bias) : z;
  }

  protected forwardFull(x: Tensor, w: Tensor): Tensor {
    return linear(x, w, this.bias);
  }

  /** Per row of x: x·V, ·Sᵀ, ·Uᵀ against x·Wᵀ, W reconstructed once per forward. */
  factoredCostRatio(x: Tensor): number {
    const [o, i] = this.fullShape;
    const [r1, r2] = this.ranks;
    const rows = x.ndim >= 1 && x.shape[x.ndim - 1] === i ? x.size / i : 1;
    return (rows * ((this.factors[1] ? i * r2 : 0) + r1 * r2 + (this.factors[0] ? r1 * o : 0))) / (rows * i * o + this.reconstructMacs());
  }

  fullParamCount(): number {
    const [o, i] = this.fullShape;
    return o * i + (this.bias ? o : 0);
  }

  override flops(): number {
    const [o, i] = this.fullShape;
    const [r1, r2] = this.ranks;
    return 2 * ((this.factors[1] ? i * r2 : 0) + r1 * r2 + (this.factors[0] ? r1 * o : 0));
  }
}
