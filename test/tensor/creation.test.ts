import { describe, expect, it } from 'vitest';
import { arange, eye, fromArray, full, ones, rand, randint, randn, zeros } from '../../src/tensor/creation.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { tensor } from '../../src/tensor/tensor.js';

describe('tensor creation', () => {
  it('builds tensors from nested arrays, typed arrays and numbers', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(tensor(7).item()).toBe(7);
    expect(tensor(Float64Array.from([1, 2, 3, 4]), { shape: [2, 2] }).dtype).toBe('float64');
    expect(fromArray([1, 2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array at values\[1\]: expected length 2, got 1/);
    expect(() => tensor([1, 2]).item()).toThrow(/item: tensor must hold exactly one element, got shape \[2\]/);
  });
  it('zeros, ones, full, arange, eye', () => {
    expect(zeros([2, 2]).toList()).toEqual([0, 0, 0, 0]);
    expect(ones([3], { dtype: 'float64' }).toList()).toEqual([1, 1, 1]);
    expect(full([2], 3.5).toList()).toEqual([3.5, 3.5]);
    expect(arange(5).toList()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(1, 2, 0.25).toList()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(() => zeros([2, -1])).toThrow(/zeros: shape must hold non-negative integers, got \[2, -1\]/);
    expect(() => arange(0, 1, 0)).toThrow(/step non-zero/);
  });
  it('random creation is seeded and replayable, with the right moments', () => {
    manualSeed(42);
    const a = randn([1000]);
    manualSeed(42);
    const b = randn([1000]);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    const g = new Generator(1);
    const n = randn([20000], { dtype: 'float64', generator: g });
    const mean = n.toList().reduce((s, v) => s + v, 0) / n.size;
    const std = Math.sqrt(n.toList().reduce((s, v) => s + (v - mean) ** 2, 0) / n.size);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(std - 1)).toBeLessThan(0.03);
    const u = rand([1000], { low: 2, high: 3, generator: g });
    expect(Math.min(...u.toList())).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u.toList())).toBeLessThan(3);
    const ints = randint(0, 4, [1000], { generator: g }).toList();
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3]));
    const state = g.getState();
    const x1 = g.uniform();
    g.setState(state);
    expect(g.uniform()).toBe(x1);
  });
});
