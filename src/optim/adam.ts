import type { Parameter } from '../nn/parameter.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';
import { update } from '../backend/dispatch.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba) with bias correction; weight decay coupled into the gradient as in
 * PyTorch's Adam. AdamW below decouples it.
 */
export class Adam extends Optimizer {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  protected decoupled = false;
  constructor(params: Iterable<Parameter>, options: AdamOptions = {}, name = 'Adam') {
    super(params, options.lr ?? 1e-3, name);
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`${name}: betas must lie in [0, 1), got [${b1}, ${b2}]`);
  }
  protected update(p: Parameter, grad: Tensor, state: Record<string, Tensor>): void {
    const [b1, b2] = this.betas;
    // Adam counts steps per parameter so a parameter reset by a low-rank layer restarts its bias correction.
    if (!state.step) state.step = new Tensor(new Float64Array(1), [1]);
    const t = ++state.step.data[0];
    const wd = this.weightDecay;
    const scalars = {
      lr: this.lr,
      beta1: b1,
      beta2: b2,
      eps: this.eps,
      c1: 1 - Math.pow(b1, t),
      c2: 1 - Math.pow(b2, t),
      wdCoupled: this.decoupled ? 0 : wd,
      wdDecoupled: this.decoupled ? wd : 0,
    };
    const m = this.buffer(state, 'expAvg', p);
    const v = this.buffer(state, 'expAvgSq', p);
    update('adamStep', [p, grad, m, v], [p, m, v], p.shape, (k, [w, g, mb, vb]) => {
      const r = k.adamStep(w!, g!, mb!, vb!, scalars);
      return [r.w, r.m, r.v];
    });
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter), default weightDecay 0.01 as in PyTorch. */
export class AdamW extends Adam {
  constructor(params: Iterable<Parameter>, options: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...options }, 'AdamW');
    this.decoupled = true;
  }
}
