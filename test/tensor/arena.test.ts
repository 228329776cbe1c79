/**
 * arena(): the buffers a scope allocated come back through the pool for the next allocations of
 * the same size; what the scope returns or keep()s (parameters, gradients, optimizer state) is
 * never recycled, so no live tensor shares a buffer with a new one; a training step repeated inside
 * arena() allocates nothing once warmed up and computes exactly what it computes without.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { crossEntropy } from '../../src/ops/loss.js';
import { manualSeed, nn, optim, randn } from '../../src/index.js';
import { allocate, allocationStats, clearPool, recycle } from '../../src/tensor/dtype.js';
import { arena, keep, outsideArena } from '../../src/tensor/storage.js';
import { Tensor } from '../../src/tensor/tensor.js';

afterEach(() => clearPool());

const fresh = <T>(f: () => T): { value: T; fresh: number } => {
  const before = allocationStats.fresh;
  const value = f();
  return { value, fresh: allocationStats.fresh - before };
};

describe('the buffer pool', () => {
  it('reuses a recycled buffer of the same dtype and length, zeroed; never one of another size', () => {
    const a = allocate('float32', 5000);
    a.fill(3);
    recycle(a);
    expect(allocate('float32', 4999)).not.toBe(a);
    expect(allocate('float64', 5000)).not.toBe(a);
    const b = allocate('float32', 5000);
    expect(b).toBe(a);
    expect(Array.from(b).every((v) => v === 0)).toBe(true);
    // Recycled twice by mistake, it is still handed out once.
    recycle(b);
    recycle(b);
    expect(allocate('float32', 5000)).toBe(b);
    expect(allocate('float32', 5000)).not.toBe(b);
  });

  it('keeps old values only when asked not to zero (kernels that overwrite every element)', () => {
    const a = allocate('float32', 10);
    a.fill(7);
    recycle(a);
    const b = allocate('float32', 10, false);
    expect(b).toBe(a);
    expect(b[0]).toBe(7);
  });

  it('never pools a view into a larger buffer', () => {
    const big = allocate('float32', 20);
    recycle(big.subarray(0, 10) as Float32Array);
    expect(allocate('float32', 10).buffer).not.toBe(big.buffer);
  });
});

describe('arena()', () => {
  it('recycles the scope’s temporaries, not what it returns nor what is kept', () => {
    let temp: Float32Array | null = null;
    let kept: Tensor | null = null;
    const out = arena(() => {
      const t = new Tensor(allocate('float32', 64), [64]);
      temp = t.data as Float32Array;
      kept = keep(new Tensor(allocate('float32', 64), [64]));
      const r = new Tensor(allocate('float32', 64), [64]);
      r.data.fill(2);
      return { r };
    });
    // Three buffers of 64 were live in the scope: only the temporary comes back.
    const next = [allocate('float32', 64), allocate('float32', 64)];
    expect(next[0]).toBe(temp);
    expect(next[1]).not.toBe(out.r.data);
    expect(next[1]).not.toBe(kept!.data);
    expect(Array.from(out.r.data).every((v) => v === 2)).toBe(true);
  });

  it('nests: an inner scope’s result lives until the outer scope ends', () => {
    let inner: Tensor | null = null;
    arena(() => {
      inner = arena(() => new Tensor(allocate('float32', 32), [32]));
      inner.data.fill(5);
      // Still live in the outer scope: not handed out again.
      expect(allocate('float32', 32)).not.toBe(inner.data);
    });
    expect([allocate('float32', 32), allocate('float32', 32)]).toContain(inner!.data);
  });

  it('outsideArena: what is allocated inside it survives the scope (never handed out again); what follows it is recycled', () => {
    let kept: Float64Array | null = null;
    let temp: Float64Array | null = null;
    arena(() => {
      kept = outsideArena(() => allocate('float64', 777) as Float64Array);
      temp = allocate('float64', 777) as Float64Array;
    });
    const next = allocate('float64', 777);
    expect(next).toBe(temp);
    expect(next).not.toBe(kept);
    expect(allocate('float64', 777)).not.toBe(kept);
    // Outside any arena it just runs.
    expect(outsideArena(() => 5)).toBe(5);
  });

  it('recycles nothing when the scope throws', () => {
    let temp: Float32Array | null = null;
    expect(() =>
      arena(() => {
        temp = allocate('float32', 48) as Float32Array;
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(allocate('float32', 48)).not.toBe(temp);
  });

  it('zeroGrad gives the old gradient back inside an arena only', () => {
    const w = new nn.Parameter(randn([70, 70]));
    w.mul(3).sum().backward();
    const outside = w.grad!.data;
    w.zeroGrad();
    expect(allocate('float32', 4900)).not.toBe(outside);
    w.mul(3).sum().backward();
    const inside = w.grad!.data;
    arena(() => {
      w.zeroGrad();
      expect(allocate('float32', 4900)).toBe(inside);
    });
  });

  it('returns tensors detached from their graph (its saved buffers are gone)', () => {
    const w = new nn.Parameter(randn([3, 3]));
    const y = arena(() => w.mul(2).sum());
    expect(y.node).toBeNull();
    // A tensor from before the scope, returned through it, keeps its graph.
    const outer = w.mul(3).sum();
    expect(arena(() => outer).node).not.toBeNull();
  });

  it('runs a LeNet-5 step with no fresh buffer after warm-up, with the losses and weights of plain steps', () => {
    const run = (useArena: boolean): { losses: number[]; fresh: number[]; weights: number[] } => {
      manualSeed(3);
      const model = nn.lenet5();
      const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      const x = randn([4, 1, 28, 28]);
      const labels = Int32Array.from([1, 2, 3, 4]);
      const step = (): number => {
        opt.zeroGrad();
        const loss = crossEntropy(model.forward(x), labels);
        loss.backward();
        opt.step();
        return loss.item();
      };
      const losses: number[] = [];
      const counts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = fresh(() => (useArena ? arena(step) : step()));
        losses.push(r.value);
        counts.push(r.fresh);
      }
      return { losses, fresh: counts, weights: Array.from(model.parameters()[0].data) };
    };
    const plain = run(false);
    const pooled = run(true);
    expect(pooled.losses).toEqual(plain.losses);
    expect(pooled.weights).toEqual(plain.weights);
    // The plain step allocates every step; in the arena only the first does.
    expect(plain.fresh.slice(1).every((n) => n > 0)).toBe(true);
    expect(pooled.fresh.slice(1)).toEqual([0, 0, 0]);
  });
});
