import type { Parameter } from '../nn/parameter.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';
import { dev, deviceFor } from '../ops/util.js';

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
    const device = grad.storage.onDevice || p.storage.onDevice ? deviceFor([p, grad]) : undefined;
    if (device) {
      const mT = this.buffer(state, 'expAvg', p);
      const vT = this.buffer(state, 'expAvgSq', p);
      const wd = this.weightDecay;
      const r = device.adamStep(dev(p, device), dev(grad, device), dev(mT, device), dev(vT, device), {
        lr: this.lr, beta1: b1, beta2: b2, eps: this.eps, c1: 1 - Math.pow(b1, t), c2: 1 - Math.pow(b2, t),
        wdCoupled: this.decoupled ? 0 : wd, wdDecoupled: this.decoupled ? wd : 0,
      });
      mT.adoptDevice(r.m);
      vT.adoptDevice(r.v);
      p.adoptDevice(r.w);
      return;
    }
    const m = this.buffer(state, 'expAvg', p).data;
    const v = this.buffer(state, 'expAvgSq', p).data;
    const w = p.data;
    const g = grad.data;
    const c1 = 1 - Math.pow(b1, t);
    const c2 = 1 - Math.pow(b2, t);
    const lr = this.lr;
    const wd = this.weightDecay;
    for (let i = 0; i < w.length; i++) {
      let gi = g[i];
      if (this.decoupled) w[i] -= lr * wd * w[i];
      else gi += wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.eps);
    }
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter), default weightDecay 0.01 as in PyTorch. */
export class AdamW extends Adam {
  constructor(params: Iterable<Parameter>, options: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...options }, 'AdamW');
    this.decoupled = true;
  }
}
