import type { Parameter } from '../nn/parameter.js';
import { Tensor } from '../tensor/tensor.js';
import { Storage } from '../tensor/storage.js';
import type { DeviceKernels } from '../backend/device.js';
import { dev, deviceFor } from '../ops/util.js';
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
    const device = grad.storage.onDevice || p.storage.onDevice ? deviceFor([p, grad]) : undefined;
    if (device) return this.updateOnDevice(device, p, grad, state);
    const w = p.data;
    const g = grad.data;
    const wd = this.weightDecay;
    const lr = this.lr;
    if (this.momentum === 0) {
      for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + wd * w[i]);
      return;
    }
    const first = state.momentum === undefined;
    const v = this.buffer(state, 'momentum', p).data;
    const mu = this.momentum;
    const damp = first ? 0 : this.dampening;
    for (let i = 0; i < w.length; i++) {
      const d = g[i] + wd * w[i];
      v[i] = first ? d : mu * v[i] + (1 - damp) * d;
      w[i] -= lr * (this.nesterov ? d + mu * v[i] : v[i]);
    }
  }

  /** The same update as axpby kernels on device buffers; p and the momentum get fresh storages. */
  private updateOnDevice(device: DeviceKernels, p: Parameter, grad: Tensor, state: Record<string, Tensor>): void {
    const w = dev(p, device);
    const g = dev(grad, device);
    const d = this.weightDecay !== 0 ? device.axpby(g, 1, w, this.weightDecay) : g;
    let step = d;
    if (this.momentum !== 0) {
      const prev = state.momentum;
      const v = prev === undefined ? device.axpby(d, 1, d, 0) : device.axpby(dev(prev, device), this.momentum, d, 1 - this.dampening);
      if (prev === undefined) state.momentum = new Tensor(Storage.fromDevice(v).keep(), p.shape);
      else prev.adoptDevice(v);
      step = this.nesterov ? device.axpby(d, 1, v, this.momentum) : v;
    }
    p.adoptDevice(device.axpby(w, 1, step, -this.lr));
    if (this.momentum !== 0 && this.nesterov) step.release();
    if (d !== g) d.release();
  }
}
