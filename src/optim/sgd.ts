import type { Parameter } from '../nn/parameter.js';
import { update } from '../backend/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** Stochastic gradient descent with PyTorch's momentum, Nesterov and (coupled) weight decay. */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  constructor(params: Iterable<Parameter>, options: SgdOptions) {
    super(params, options.lr, 'SGD');
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (this.momentum < 0 || this.weightDecay < 0) throw new Error(`SGD: momentum and weightDecay must be ≥ 0, got ${this.momentum} and ${this.weightDecay}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('SGD: nesterov needs momentum > 0 and dampening = 0');
  }
  protected update(p: Parameter, grad: Tensor, state: Record<string, Tensor>): void {
    const s = { lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
    const v = state.momentum ?? null;
    const [, momentum] = update('sgdStep', [p, grad, v], [p, v], p.shape, (k, [w, g, m]) => {
      const r = k.sgdStep(w!, g!, m, s);
      return [r.w, r.v];
    });
    if (momentum) state.momentum = momentum;
  }
}
