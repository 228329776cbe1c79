import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { BatchNorm2d, Conv2d, Dropout, Flatten, Linear, ReLU, Sequential } from '../../src/nn/layers.js';
import { lenet5, resnet20, smallVgg } from '../../src/nn/models.js';
import { summary } from '../../src/nn/summary.js';
import { kaimingUniform_, xavierNormal_ } from '../../src/nn/init.js';
import { randn, zeros } from '../../src/tensor/creation.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

describe('nn modules', () => {
  it('lenet5 has the layers of the papers and its parameter count', () => {
    const m = lenet5({ generator: new Generator(0) });
    const names = m.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`);
    expect(names).toEqual([
      '0.weight:20x1x5x5',
      '0.bias:20',
      '3.weight:50x20x5x5',
      '3.bias:50',
      '7.weight:500x800',
      '7.bias:500',
      '9.weight:10x500',
      '9.bias:10',
    ]);
    expect(m.parameters().reduce((n, p) => n + p.size, 0)).toBe(431080);
    expect(m.forward(zeros([2, 1, 28, 28])).shape).toEqual([2, 10]);
  });
  it('summary gives output shapes, parameters and FLOPs per layer', () => {
    const s = summary(lenet5(), [1, 28, 28]);
    const conv2 = s.layers.find((l) => l.name === '3');
    expect(conv2?.outputShape).toEqual([50, 8, 8]);
    expect(conv2?.params).toBe(25050);
    expect(conv2?.flops).toBe(2 * 50 * 64 * 20 * 25);
    expect(s.totalParams).toBe(431080);
    expect(s.table).toContain('Conv2d');
  });
  it('smallVgg and resnet20 run forward and backward', () => {
    const v = smallVgg({ width: 4 });
    expect(v.forward(randn([2, 1, 28, 28])).shape).toEqual([2, 10]);
    const r = resnet20();
    const y = r.forward(randn([2, 3, 32, 32]));
    expect(y.shape).toEqual([2, 10]);
    y.sum().backward();
    expect(r.parameters().every((p) => p.grad !== null)).toBe(true);
    expect(r.parameters().reduce((n, p) => n + p.size, 0)).toBeGreaterThan(250_000);
  });
  it('stateDict → loadStateDict gives a fresh model identical outputs (buffers included)', () => {
    const a = new Sequential(
      new Conv2d(1, 3, 3, { generator: new Generator(1) }),
      new BatchNorm2d(3),
      new ReLU(),
      new Flatten(),
      new Linear(3 * 4 * 4, 5, { generator: new Generator(2) }),
    );
    const x = randn([4, 1, 6, 6], { generator: new Generator(3) });
    a.forward(x); // updates the running statistics
    a.eval();
    const b = new Sequential(
      new Conv2d(1, 3, 3, { generator: new Generator(9) }),
      new BatchNorm2d(3),
      new ReLU(),
      new Flatten(),
      new Linear(3 * 4 * 4, 5, { generator: new Generator(8) }),
    );
    b.loadStateDict(a.stateDict());
    b.eval();
    const ya = noGrad(() => a.forward(x));
    const yb = noGrad(() => b.forward(x));
    expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
  });
  it('loadStateDict checks every shape first and changes nothing on a mismatch', () => {
    const a = new Sequential(new Linear(3, 2));
    const before = Array.from(a.parameters()[0].data);
    const sd = a.stateDict();
    sd['0.bias'] = new Tensor(new Float32Array(3), [3]);
    sd['0.weight'] = new Tensor(new Float32Array(6).fill(7), [2, 3]);
    expect(() => a.loadStateDict(sd)).toThrow(/loadStateDict: '0.bias': expected shape \[2\], got \[3\]/);
    expect(Array.from(a.parameters()[0].data)).toEqual(before);
    expect(() => a.loadStateDict({})).toThrow(/missing key '0.weight'/);
  });
  it('train()/eval() switch dropout; init is seeded and has the right scale', () => {
    const m = new Sequential(new Dropout(0.5));
    const x = randn([1000]);
    expect(m.eval().forward(x)).toBe(x);
    expect(m.train().forward(x)).not.toBe(x);
    const w1 = kaimingUniform_(zeros([64, 32]), { gen: new Generator(5) });
    const w2 = kaimingUniform_(zeros([64, 32]), { gen: new Generator(5) });
    expect(Array.from(w1.data)).toEqual(Array.from(w2.data));
    const bound = Math.sqrt(2) * Math.sqrt(3 / 32);
    expect(Math.max(...Array.from(w1.data).map(Math.abs))).toBeLessThanOrEqual(bound);
    const w3 = xavierNormal_(zeros([200, 300]), { gen: new Generator(6) });
    const std = Math.sqrt(Array.from(w3.data).reduce((s, v) => s + v * v, 0) / w3.size);
    expect(std).toBeCloseTo(Math.sqrt(2 / 500), 2);
  });
  it("Linear and Conv2d default to PyTorch's init: weight and bias U(±1/√fan_in), fan_in = in/groups·kH·kW", () => {
    // PyTorch: kaiming_uniform_(w, a=√5) → bound √(2/(1+5))·√(3/fan_in) = 1/√fan_in; bias U(±1/√fan_in).
    const cases: [string, { weight: Tensor; bias: Tensor | null }, number][] = [
      ['Linear(800, 500)', new Linear(800, 500, { generator: new Generator(1) }), 800],
      ['Conv2d(20, 50, 5)', new Conv2d(20, 50, 5, { generator: new Generator(2) }), 20 * 25],
      ['Conv2d(1, 20, 5)', new Conv2d(1, 20, 5, { generator: new Generator(3) }), 25],
      ['Conv2d(8, 16, [3, 2], groups 4)', new Conv2d(8, 16, [3, 2], { groups: 4, generator: new Generator(4) }), 2 * 3 * 2],
    ];
    for (const [what, layer, fanIn] of cases) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const [name, t] of [
        ['weight', layer.weight],
        ['bias', layer.bias as Tensor],
      ] as const) {
        const v = Array.from(t.data);
        const maxAbs = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        expect(maxAbs, `${what} ${name}`).toBeLessThanOrEqual(bound);
        if (v.length >= 500) {
          // Uniform on [−b, b]: fills the interval, mean 0, std b/√3.
          expect(maxAbs, `${what} ${name}`).toBeGreaterThan(0.99 * bound);
          const mean = v.reduce((s, x) => s + x, 0) / v.length;
          const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
          expect(Math.abs(mean), `${what} ${name}`).toBeLessThan((4 * bound) / Math.sqrt(3 * v.length));
          expect(std / (bound / Math.sqrt(3)), `${what} ${name}`).toBeCloseTo(1, 1);
        }
      }
    }
    // The explicit kaiming_uniform_ with a = √5 gives the same bound.
    const w = kaimingUniform_(zeros([50, 20, 5, 5]), { a: Math.sqrt(5), gen: new Generator(7) });
    expect(Math.max(...Array.from(w.data).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(500));
    expect(Math.max(...Array.from(w.data).map(Math.abs))).toBeGreaterThan(0.99 / Math.sqrt(500));
  });
  it('layer constructors reject bad sizes with the argument named', () => {
    expect(() => new Linear(0, 3)).toThrow(/Linear: inFeatures must be a positive integer, got 0/);
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/must be divisible by groups/);
  });
});
