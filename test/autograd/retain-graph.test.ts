/** Issue #19, defect 7: a second backward through a freed graph throws, as in PyTorch, unless the graph was retained. */
import { describe, expect, it } from 'vitest';
import { mul, sum } from '../../src/ops/index.js';
import { randT } from '../helpers.js';

describe('backward twice', () => {
  it('throws on a freed graph, naming retainGraph, and leaves the first gradient as it was', () => {
    const x = randT([3], 1);
    const y = sum(mul(x, x));
    y.backward();
    const first = Array.from(x.grad?.data ?? []);
    expect(() => y.backward()).toThrow(/backward: trying to backward through the graph a second time .*pass \{ retainGraph: true \}/);
    expect(Array.from(x.grad?.data ?? [])).toEqual(first);
  });

  it('throws for a new loss built on an intermediate of a freed graph', () => {
    const x = randT([3], 2);
    const h = mul(x, x);
    sum(h).backward();
    expect(() => sum(mul(h, h)).backward()).toThrow(/through the graph a second time/);
  });

  it('with retainGraph the second backward runs and accumulates: twice the gradient', () => {
    const x = randT([3], 3);
    const y = sum(mul(x, x));
    y.backward(undefined, { retainGraph: true });
    const once = Array.from(x.grad?.data ?? []);
    y.backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual(once.map((v) => 2 * v));
    expect(once).toEqual(Array.from(x.data).map((v) => 2 * v));
  });
});
