import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import * as E from '../../src/ops/elementwise.js';
import { tensor } from '../../src/tensor/tensor.js';
import { arbBroadcastPair, arbShape, fcOptions, randPositive, randT } from '../helpers.js';

describe('elementwise binary ops: gradients with broadcasting', () => {
  const ops = { add: E.add, sub: E.sub, mul: E.mul, div: E.div, maximum: E.maximum, minimum: E.minimum };
  for (const [name, op] of Object.entries(ops)) {
    it(`${name} matches finite differences over broadcast shapes`, () => {
      fc.assert(
        fc.property(arbBroadcastPair(), fc.integer({ min: 0, max: 1e6 }), ([sa, sb], seed) => {
          const a = randT(sa, seed);
          const b = name === 'div' ? randPositive(sb, seed + 1) : randT(sb, seed + 1);
          gradcheck(op, [a, b]);
        }),
        fcOptions(20),
      );
    });
  }
  it('pow matches finite differences for positive bases (both operands)', () => {
    fc.assert(
      fc.property(arbBroadcastPair(2, 3), fc.integer({ min: 0, max: 1e6 }), ([sa, sb], seed) => {
        gradcheck(E.pow, [randPositive(sa, seed), randT(sb, seed + 1)]);
      }),
      fcOptions(15),
    );
  });
  it('accepts numbers on either side', () => {
    const x = tensor([1, 2, 3]);
    expect(E.sub(10, x).toList()).toEqual([9, 8, 7]);
    expect(E.div(x, 2).toList()).toEqual([0.5, 1, 1.5]);
  });
});

describe('elementwise unary ops', () => {
  const smooth: Record<string, (x: any) => any> = {
    neg: E.neg,
    exp: E.exp,
    square: E.square,
    sigmoid: E.sigmoid,
    tanh: E.tanh,
    gelu: E.gelu,
    relu: E.relu,
    abs: E.abs,
    leakyRelu: (x) => E.leakyRelu(x, 0.1),
    clamp: (x) => E.clamp(x, -0.5, 0.7),
  };
  for (const [name, op] of Object.entries(smooth)) {
    it(`${name} matches finite differences`, () => {
      fc.assert(
        fc.property(arbShape(), fc.integer({ min: 0, max: 1e6 }), (shape, seed) => {
          const x = randT(shape, seed);
          // Kinks (relu, abs, clamp) are not differentiable: keep samples away from them.
          for (let i = 0; i < x.size; i++) {
            for (const k of [0, -0.5, 0.7]) if (Math.abs(x.data[i] - k) < 1e-3) x.data[i] = k + 0.01;
          }
          gradcheck(op, [x]);
        }),
        fcOptions(15),
      );
    });
  }
  for (const [name, op] of Object.entries({ log: E.log, sqrt: E.sqrt })) {
    it(`${name} matches finite differences on positive inputs`, () => {
      fc.assert(
        fc.property(arbShape(), fc.integer({ min: 0, max: 1e6 }), (shape, seed) => {
          gradcheck(op, [randPositive(shape, seed)]);
        }),
        fcOptions(15),
      );
    });
  }
  it('values match their definitions', () => {
    const x = tensor([-2, -0.5, 0, 0.5, 2], { dtype: 'float64' });
    expect(E.relu(x).toList()).toEqual([0, 0, 0, 0.5, 2]);
    expect(E.leakyRelu(x, 0.1).toList()).toEqual([-0.2, -0.05, 0, 0.5, 2]);
    expect(E.clamp(x, -1, 1).toList()).toEqual([-1, -0.5, 0, 0.5, 1]);
    E.sigmoid(x)
      .toList()
      .forEach((v, i) => expect(v).toBeCloseTo(1 / (1 + Math.exp(-x.data[i])), 14));
    // gelu(x) = x·Φ(x): Φ(2) = 0.9772498680518208, Φ(-0.5) = 0.3085375387259869.
    expect(E.gelu(x).data[4]).toBeCloseTo(2 * 0.9772498680518208, 13);
    expect(E.gelu(x).data[1]).toBeCloseTo(-0.5 * 0.3085375387259869, 13);
  });
  it('rejects mixed dtypes and non-broadcastable shapes with the shapes named', () => {
    const a = tensor([[1, 2, 3]]);
    expect(() => E.add(a, tensor([1, 2], { dtype: 'float32' }))).toThrow(/add: shapes \[1, 3\] and \[2\] are not broadcastable/);
    expect(() => E.mul(a, tensor([1, 2, 3], { dtype: 'float64' }))).toThrow(/mul: dtypes must match, got a float32 and b float64/);
    expect(() => E.clamp(a, 2, 1)).toThrow(/clamp: min must be ≤ max/);
  });
});
