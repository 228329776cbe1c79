import { describe, expect, it } from 'vitest';
import { Parameter } from '../../src/nn/parameter.js';
import { Adam, AdamW } from '../../src/optim/adam.js';
import { CosineAnnealingLR, LinearWarmup, StepLR } from '../../src/optim/schedulers.js';
import { SGD } from '../../src/optim/sgd.js';
import { Tensor } from '../../src/tensor/tensor.js';

const param = (values: number[]) => new Parameter(new Tensor(Float64Array.from(values), [values.length]));
const withGrad = (p: Parameter, g: number[]) => {
  p.grad = new Tensor(Float64Array.from(g), [g.length]);
};

describe('optimizers follow PyTorch update rules', () => {
  it('SGD with momentum, dampening 0 and weight decay', () => {
    const p = param([1, -2]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    withGrad(p, [0.5, 1]);
    opt.step(); // v = g + wd·w; w -= lr·v
    const v1 = [0.5 + 0.01, 1 - 0.02];
    expect(p.data[0]).toBeCloseTo(1 - 0.1 * v1[0], 14);
    withGrad(p, [0.5, 1]);
    const w1 = [p.data[0], p.data[1]];
    opt.step();
    const v2 = [0.9 * v1[0] + 0.5 + 0.01 * w1[0], 0.9 * v1[1] + 1 + 0.01 * w1[1]];
    expect(p.data[1]).toBeCloseTo(w1[1] - 0.1 * v2[1], 14);
  });
  it('SGD nesterov', () => {
    const p = param([1]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5, nesterov: true });
    withGrad(p, [2]);
    opt.step(); // v = 2, step = g + μv = 3
    expect(p.data[0]).toBeCloseTo(1 - 0.3, 14);
  });
  it('Adam and AdamW match the bias-corrected formulas', () => {
    const p = param([1]);
    const opt = new Adam([p], { lr: 0.01 });
    withGrad(p, [0.3]);
    opt.step();
    // First step: m̂ = g, v̂ = g², update = lr·g/(|g| + eps).
    expect(p.data[0]).toBeCloseTo(1 - 0.01 * (0.3 / (0.3 + 1e-8)), 12);
    const q = param([2]);
    const w = new AdamW([q], { lr: 0.01, weightDecay: 0.1 });
    withGrad(q, [0]);
    w.step();
    expect(q.data[0]).toBeCloseTo(2 - 0.01 * 0.1 * 2, 12);
  });
  it('state round-trips through stateDict, so training can resume identically', () => {
    const run = (resumeAt: number | null): number[] => {
      let p = param([1, 2, 3]);
      let opt = new SGD([p], { lr: 0.05, momentum: 0.9 });
      for (let i = 0; i < 6; i++) {
        if (i === resumeAt) {
          const sd = opt.stateDict();
          const values = Array.from(p.data);
          p = param(values);
          opt = new SGD([p], { lr: 0.05, momentum: 0.9 });
          opt.loadStateDict(sd);
        }
        withGrad(
          p,
          Array.from(p.data).map((v) => 2 * v + 1),
        );
        opt.step();
      }
      return Array.from(p.data);
    };
    expect(run(3)).toEqual(run(null));
  });
  it('schedulers: step, cosine, warm-up', () => {
    const opt = new SGD([param([1])], { lr: 1 });
    const s = new StepLR(opt, 2, 0.5);
    const lrs = [opt.lr];
    for (let i = 0; i < 4; i++) {
      s.step();
      lrs.push(opt.lr);
    }
    expect(lrs).toEqual([1, 1, 0.5, 0.5, 0.25]);
    const o2 = new SGD([param([1])], { lr: 1 });
    const c = new CosineAnnealingLR(o2, 4);
    for (let i = 0; i < 2; i++) c.step();
    expect(o2.lr).toBeCloseTo(0.5, 12);
    const o3 = new SGD([param([1])], { lr: 1 });
    const w = new LinearWarmup(o3, 2, 0.5);
    expect(o3.lr).toBeCloseTo(0.5, 12);
    w.step();
    expect(o3.lr).toBeCloseTo(0.75, 12);
    w.step();
    expect(o3.lr).toBe(1);
  });
  it('rejects bad settings', () => {
    expect(() => new SGD([param([1])], { lr: -1 })).toThrow(/SGD: lr must be a positive number, got -1/);
    expect(() => new SGD([], { lr: 1 })).toThrow(/at least one parameter/);
    expect(() => new Adam([param([1])], { betas: [1, 0.9] })).toThrow(/betas must lie in \[0, 1\)/);
  });
});
