import { describe, expect, it } from 'vitest';
import { noGrad, setDetectAnomaly } from '../../src/autograd/grad-mode.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { tensor } from '../../src/tensor/tensor.js';
// The chainable Tensor methods (x.mul, x.sum, x.backward) are installed by the ops layer.
import '../../src/ops/index.js';
import { randT } from '../helpers.js';

describe('autograd engine', () => {
  it('accumulates gradients over backward calls and through shared subexpressions', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(x).add(x).sum(); // d/dx = 2x + 1
    y.backward();
    expect(x.grad?.toList()).toEqual([3, 5, 7]);
    x.mul(2).sum().backward();
    expect(x.grad?.toList()).toEqual([5, 7, 9]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });
  it('the example of docs/design.md §4 works', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const y = x.matmul(x).relu().sum();
    y.backward();
    expect(x.grad?.shape).toEqual([2, 2]);
    // d/dX sum(X·X) = 1·Xᵀ + Xᵀ·1 (all entries of X·X are positive here).
    expect(x.grad?.toArray()).toEqual([
      [7, 11],
      [9, 13],
    ]);
  });
  it('backward from a non-scalar needs an explicit gradient', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(/backward: gradient must be given for a non-scalar output, got shape \[2\]/);
    x.mul(2).backward(tensor([1, 10]));
    expect(x.grad?.toList()).toEqual([2, 20]);
  });
  it('frees the graph after backward unless retainGraph', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    expect(y.node).toBeNull();
    const z = x.exp().sum();
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(x.grad?.data[0]).toBeCloseTo(3 * Math.E, 5);
  });
  it('noGrad records nothing; detach cuts history; requiresGrad propagates', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => x.mul(3));
    expect(y.requiresGrad).toBe(false);
    expect(x.mul(3).detach().requiresGrad).toBe(false);
    expect(x.mul(3).requiresGrad).toBe(true);
    expect(tensor([1]).mul(3).requiresGrad).toBe(false);
    expect(() => tensor([1]).mul(3).backward()).toThrow(/does not require grad/);
  });
  it('the opt-in anomaly check reports NaN with the op named', () => {
    const x = tensor([-1, 1], { requiresGrad: true });
    setDetectAnomaly(true);
    try {
      expect(() => x.log()).toThrow(/anomaly: log produced a non-finite output \(NaN\) at flat index 0/);
    } finally {
      setDetectAnomaly(false);
    }
    expect(() => x.log()).not.toThrow();
  });
  it('gradcheck catches a wrong gradient', () => {
    const x = randT([3], 1);
    // sqrt(x²) = |x|, but use a wrong custom function: the check must fail on detach.
    expect(() => gradcheck((t) => t.mul(t.detach()), [x])).toThrow(/gradcheck: gradient of input 0/);
  });
  it('deep chains do not overflow the stack', () => {
    let x = tensor([1], { dtype: 'float64', requiresGrad: true });
    const leaf = x;
    for (let i = 0; i < 20000; i++) x = x.mul(1);
    x.sum().backward();
    expect(leaf.grad?.item()).toBe(1);
  });
});
