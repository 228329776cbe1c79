/**
 * recycleTemporaries(): the buffers allocate() handed out inside fn come back through the pool,
 * except those the result's arrays lie on; nothing comes back when fn throws; an enclosing arena()
 * is left as it was. (The integrator's pooled per-layer update: test/lowrank/layer-lanes.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { allocate, allocationStats, clearPool } from '../../src/tensor/dtype.js';
import { arena, recycleTemporaries } from '../../src/tensor/storage.js';

afterEach(() => clearPool());

describe('recycleTemporaries', () => {
  it('recycles the temporaries, never an array of the result nor a view into one', () => {
    let temp: Float64Array | null = null;
    let viewed: Float64Array | null = null;
    const out = recycleTemporaries(
      () => {
        temp = allocate('float64', 6000) as Float64Array;
        temp.fill(7);
        viewed = allocate('float64', 6000) as Float64Array;
        const kept = allocate('float64', 6000) as Float64Array;
        kept.fill(2);
        return { kept, view: viewed.subarray(10, 20) };
      },
      (r) => [r.kept, r.view],
    );
    // The temporary comes back (zeroed) on the next allocation of its size; the others do not.
    const next = allocate('float64', 6000);
    expect(next).toBe(temp);
    expect(next.every((v) => v === 0)).toBe(true);
    const after = allocate('float64', 6000);
    expect(after).not.toBe(out.kept);
    expect(after).not.toBe(viewed);
    expect(out.kept.every((v) => v === 2)).toBe(true);
  });

  it('recycles nothing when fn throws, and reports its error', () => {
    let temp: Float64Array | null = null;
    expect(() =>
      recycleTemporaries(
        () => {
          temp = allocate('float64', 5000) as Float64Array;
          throw new Error('inner failure');
        },
        () => [],
      ),
    ).toThrow('inner failure');
    expect(allocate('float64', 5000)).not.toBe(temp);
  });

  it('inside arena() hides its buffers from the arena, which still recycles its own', () => {
    let inner: Float64Array | null = null;
    let outer: Float32Array | null = null;
    let later: Float32Array | null = null;
    arena(() => {
      outer = allocate('float32', 4500) as Float32Array;
      const r = recycleTemporaries(
        () => ({ kept: allocate('float64', 5000) as Float64Array }),
        (x) => [x.kept],
      );
      inner = r.kept;
      // Allocations after the scope are the arena's again.
      later = allocate('float32', 4600) as Float32Array;
    });
    const before = allocationStats.reused;
    expect(allocate('float32', 4500)).toBe(outer);
    expect(allocate('float32', 4600)).toBe(later);
    expect(allocationStats.reused).toBe(before + 2);
    // The kept array was never the arena's to recycle.
    expect(allocate('float64', 5000)).not.toBe(inner);
  });

  it('rejects arguments that are not functions, naming them', () => {
    expect(() => recycleTemporaries(1 as never, () => [])).toThrow(/recycleTemporaries: fn must be a function, got number/);
    expect(() => recycleTemporaries(() => 1, null as never)).toThrow(/recycleTemporaries: kept must be a function, got object/);
  });
});
