import { Tensor } from '../tensor/tensor.js';
import type { Parameter } from '../nn/parameter.js';
import { allocate } from '../tensor/dtype.js';

export interface OptimizerState {
  lr: number;
  step: number;
  /** Per parameter index, named state buffers (momentum, moments). */
  buffers: Record<string, Record<string, Tensor>>;
}

/**
 * Base of the optimizers: a fixed list of parameters, a mutable learning rate (schedulers set
 * it), per-parameter state buffers that stateDict() exports so training can resume.
 */
export abstract class Optimizer {
  readonly params: Parameter[];
  lr: number;
  stepCount = 0;
  protected state = new Map<number, Record<string, Tensor>>();

  constructor(params: Iterable<Parameter>, lr: number, name: string) {
    this.params = [...params];
    if (this.params.length === 0) throw new Error(`${name}: params must hold at least one parameter`);
    if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`${name}: lr must be a positive number, got ${lr}`);
    this.lr = lr;
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (p.grad === null) return;
      this.update(p, p.grad, this.buffers(i, p), i);
    });
  }

  protected abstract update(p: Parameter, grad: Tensor, state: Record<string, Tensor>, index: number): void;

  protected buffers(i: number, _p: Parameter): Record<string, Tensor> {
    let s = this.state.get(i);
    if (!s) {
      s = {};
      this.state.set(i, s);
    }
    return s;
  }

  /** The state buffer `name` of parameter i, created as zeros on first use. */
  protected buffer(state: Record<string, Tensor>, name: string, like: Tensor): Tensor {
    let b = state[name];
    if (!b || b.size !== like.size) {
      // Zeros of like's size, without reading like back from the device.
      b = new Tensor(allocate(like.dtype, like.size), like.shape);
      b.storage.keep();
      state[name] = b;
    }
    return b;
  }

  stateDict(): OptimizerState {
    const buffers: OptimizerState['buffers'] = {};
    for (const [i, s] of this.state) {
      buffers[i] = {};
      for (const [k, t] of Object.entries(s)) buffers[i][k] = new Tensor(t.data.slice(), t.shape);
    }
    return { lr: this.lr, step: this.stepCount, buffers };
  }

  loadStateDict(sd: OptimizerState): void {
    for (const [i, s] of Object.entries(sd.buffers)) {
      const p = this.params[Number(i)];
      if (!p) throw new Error(`loadStateDict: optimizer state names parameter ${i}, but there are only ${this.params.length}`);
      for (const [k, t] of Object.entries(s)) {
        if (t.size !== p.size) throw new Error(`loadStateDict: state '${k}' of parameter ${i} has ${t.size} values, the parameter has ${p.size}`);
      }
    }
    this.lr = sd.lr;
    this.stepCount = sd.step;
    this.state = new Map(
      Object.entries(sd.buffers).map(([i, s]) => [Number(i), Object.fromEntries(Object.entries(s).map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape)]))]),
    );
  }

  /** Drops the state of parameter i (used when a low-rank layer changes a parameter's shape). */
  resetState(i: number): void {
    this.state.delete(i);
  }
}
