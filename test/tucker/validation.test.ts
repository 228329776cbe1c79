import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { compressionRatio, fold, hooi, hosvd, tuckerParams, unfold } from '../../src/tucker/index.js';

/**
 * Every guard of the tucker functions, branch by branch, with the message naming the argument, the
 * expected and the actual value (mutation survivors of issue #18: a guard could be removed or its
 * message emptied without a failing test), and the edge cases the guards let through.
 */
const t = Tensor.fromData(
  Float64Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)),
  [2, 3, 4],
);

describe('tucker argument checks', () => {
  it('mode: integer in [−d, d−1]', () => {
    expect(() => unfold(t, 3)).toThrow(/unfold: mode must be an integer in \[0, 2\] \(or \[-3, -1\]\) for a 3-D tensor, got 3/);
    expect(() => unfold(t, -4)).toThrow(/unfold: mode must be an integer in \[0, 2\] .*got -4/);
    expect(() => unfold(t, 1.5)).toThrow(/got 1.5/);
    expect(() => unfold(t, '1' as never)).toThrow(/got 1$/);
    expect(unfold(t, -3).shape).toEqual([2, 12]);
    expect(unfold(t, -1).shape).toEqual([4, 6]);
    expect(() => unfold(Tensor.fromData(new Float64Array(1), []), 0)).toThrow(/unfold: t must have at least 1 dimension, got shape \[\]/);
  });

  it('options.modes: an array of distinct modes, returned sorted', () => {
    expect(() => hosvd(t, { tol: 0 }, { modes: 1 as never })).toThrow(/hosvd: options.modes must be an array of mode indices, got number/);
    expect(() => hosvd(t, { tol: 0 }, { modes: [0, 5] })).toThrow(/hosvd: options.modes\[1\] must be an integer/);
    const r = hosvd(t, { ranks: [1, null, 2] }, { modes: [2, 0] });
    expect(r.factors[1]).toBeNull();
    expect(r.factors[0]?.shape).toEqual([2, 1]);
    expect(r.factors[2]?.shape).toEqual([4, 2]);
    expect(hosvd(t, { tol: 0 }, { modes: null as never }).factors.every((f) => f !== null)).toBe(true);
  });

  it('ranks: one per mode, integers in [1, n_i], null or n_i on unfactorised modes', () => {
    expect(() => hosvd(t, { ranks: 3 as never })).toThrow(/hosvd: spec.ranks must be an array with one entry per mode \(3\), got number/);
    expect(() => hosvd(t, { ranks: null as never })).toThrow(/hosvd: spec.ranks must be an array with one entry per mode \(3\), got null/);
    expect(() => hosvd(t, { ranks: [1, 1] })).toThrow(
      /hosvd: spec.ranks must have 3 entries \(one per mode of a 3-D tensor of shape \[2, 3, 4\]\), got 2: \[1, 1\]/,
    );
    expect(() => hosvd(t, { ranks: [1, 0, 1] })).toThrow(/hosvd: spec.ranks\[1\] must be an integer in \[1, 3\] \(the size of mode 1\), got 0/);
    expect(() => hosvd(t, { ranks: [1, 1.5, 1] })).toThrow(/got 1.5/);
    expect(() => hosvd(t, { ranks: [1, '1', 1] as never })).toThrow(/spec.ranks\[1\] must be an integer/);
    expect(() => hosvd(t, { ranks: [1, 2, 2] }, { modes: [0, 2] })).toThrow(/hosvd: spec.ranks\[1\] must be null or 3 \(mode 1 is not factorised\), got 2/);
    expect(hosvd(t, { ranks: [1, 3, 2] }, { modes: [0, 2] }).ranks).toEqual([1, 3, 2]);
    expect(hosvd(t, { ranks: [1, undefined as never, 2] }, { modes: [0, 2] }).ranks).toEqual([1, 3, 2]);
    expect(hosvd(t, { ranks: Int32Array.from([2, 3, 4]) as never }).ranks).toEqual([2, 3, 4]);
  });

  it('spec: exactly one rule, each value in range; options.minRank ≥ 1; no empty tensor', () => {
    expect(() => hosvd(t, null as never)).toThrow(/hosvd: spec must be one of \{ ranks \} \| \{ tol \} .*got null/);
    expect(() => hosvd(t, 'tol' as never)).toThrow(/hosvd: spec must be one of .*got tol/);
    expect(() => hosvd(t, {} as never)).toThrow(/hosvd: spec must have exactly one of ranks, tol, relTol, modeTol, rankRatio, rankRule; got keys \[\]/);
    expect(() => hosvd(t, { rankRatio: 0 })).toThrow(/hosvd: spec.rankRatio must be a number in \(0, 1\], got 0/);
    expect(() => hosvd(t, { rankRatio: 1.5 })).toThrow(/got 1.5/);
    expect(() => hosvd(t, { rankRatio: '1' as never })).toThrow(/spec.rankRatio must be a number/);
    expect(hosvd(t, { rankRatio: 1 }).ranks).toEqual([2, 3, 4]);
    expect(hosvd(t, { rankRatio: 0.5 }).ranks).toEqual([1, 2, 2]);
    expect(() => hosvd(t, { relTol: Infinity })).toThrow(/hosvd: spec.relTol must be a finite number ≥ 0, got Infinity/);
    expect(() => hosvd(t, { modeTol: '1' as never })).toThrow(/hosvd: spec.modeTol must be a finite number ≥ 0, got 1/);
    expect(() => hosvd(t, { tol: 0 }, { minRank: 0 })).toThrow(/hosvd: options.minRank must be an integer ≥ 1, got 0/);
    expect(() => hosvd(t, { tol: 0 }, { minRank: 1.5 })).toThrow(/got 1.5/);
    expect(() => hosvd(t, { tol: 0 }, { minRank: '2' as never })).toThrow(/options.minRank must be an integer/);
    expect(() => hosvd(Tensor.fromData(new Float64Array(0), [2, 0]), { tol: 0 })).toThrow(/hosvd: t must not be empty, got shape \[2, 0\]/);
  });

  it('the tolerance rules: tol is total (ϑ/√d per mode), relTol is relative to ‖T‖, modeTol is per mode', () => {
    // A diagonal 3×3×3 tensor with σ = 3, 2, 1 in every mode: ‖T‖ = √14.
    const diag = new Float64Array(27);
    [3, 2, 1].forEach((v, i) => {
      diag[i * 9 + i * 3 + i] = v;
    });
    const d3 = Tensor.fromData(diag, [3, 3, 3]);
    // Per mode the tail after rank 2 is 1, after rank 1 is √5.
    expect(hosvd(d3, { modeTol: 1.01 }).ranks).toEqual([2, 2, 2]);
    expect(hosvd(d3, { modeTol: 0.99 }).ranks).toEqual([3, 3, 3]);
    expect(hosvd(d3, { tol: 1.01 * Math.sqrt(3) }).ranks).toEqual([2, 2, 2]);
    expect(hosvd(d3, { tol: 0.99 * Math.sqrt(3) }).ranks).toEqual([3, 3, 3]);
    expect(hosvd(d3, { tol: 1.01 * Math.sqrt(15) }).ranks).toEqual([1, 1, 1]);
    expect(hosvd(d3, { relTol: 1.01 * Math.sqrt(3 / 14) }).ranks).toEqual([2, 2, 2]);
    expect(hosvd(d3, { relTol: 0.99 * Math.sqrt(3 / 14) }).ranks).toEqual([3, 3, 3]);
  });

  it('fold: shape of non-negative integers, m of the unfolding shape; tuckerParams: shape of positive integers', () => {
    const m = unfold(t, 1);
    expect(fold(m, 1, [2, 3, 4]).data).toEqual(t.data);
    expect(() => fold(m, 1, 5 as never)).toThrow(/fold: shape must be a non-empty array of non-negative integers, got 5/);
    expect(() => fold(m, 1, [])).toThrow(/fold: shape must be a non-empty array of non-negative integers, got \[\]/);
    expect(() => fold(m, 1, [2, -3, 4])).toThrow(/got \[2, -3, 4\]/);
    expect(() => fold(m, 1, [2, 3.5, 4])).toThrow(/got \[2, 3.5, 4\]/);
    expect(() => fold(m, 1, [2, 3, 5])).toThrow(/fold: m must be 2-D \[3, 10\] \(the mode-1 unfolding of shape \[2, 3, 5\]\), got \[3, 8\]/);
    const empty = fold(Tensor.fromData(new Float64Array(0), [0, 6]), 1, [2, 0, 3]);
    expect(empty.shape).toEqual([2, 0, 3]);
    expect(unfold(Tensor.fromData(new Float64Array(0), [2, 0, 3]), 1).shape).toEqual([0, 6]);
    expect(() => fold(Tensor.fromData(new Float64Array(0), [0, 5]), 1, [2, 0, 3])).toThrow(/fold: m must be 2-D \[0, 6\]/);
    expect(() => tuckerParams([], [])).toThrow(/tuckerParams: shape must be a non-empty array of positive integers, got \[\]/);
    expect(() => tuckerParams(7 as never, [])).toThrow(/got 7/);
    expect(() => tuckerParams([4, 0], [1, 1])).toThrow(/got \[4, 0\]/);
    expect(() => compressionRatio([4, 2.5], [1, 1])).toThrow(/got \[4, 2.5\]/);
    expect(() => tuckerParams([4, '3' as never], [1, 1])).toThrow(/shape must be a non-empty array of positive integers/);
  });

  it('fold: each check of m and mode on its own, naming fold and m', () => {
    const m = unfold(t, 1); // [3, 8]
    expect(() => fold([1, 2] as never, 1, [2, 3, 4])).toThrow(/^fold: m must be a Tensor, got an array$/);
    expect(() => fold(m, 3, [2, 3, 4])).toThrow(/^fold: mode must be an integer in \[0, 2\] \(or \[-3, -1\]\) for a 3-D tensor, got 3$/);
    // Right rows and columns but not 2-D; then rows alone wrong, columns alone wrong.
    expect(() => fold(Tensor.fromData(new Float64Array(24), [3, 8, 1]), 1, [2, 3, 4])).toThrow(/^fold: m must be 2-D \[3, 8\] .*got \[3, 8, 1\]$/);
    expect(() => fold(Tensor.fromData(new Float64Array(32), [4, 8]), 1, [2, 3, 4])).toThrow(/^fold: m must be 2-D \[3, 8\] .*got \[4, 8\]$/);
    expect(() => fold(Tensor.fromData(new Float64Array(27), [3, 9]), 1, [2, 3, 4])).toThrow(/^fold: m must be 2-D \[3, 8\] .*got \[3, 9\]$/);
    const bad = Float64Array.from(m.data);
    bad[5] = Number.NaN;
    expect(() => fold(Tensor.fromData(bad, [3, 8]), 1, [2, 3, 4])).toThrow(/^fold: m must hold finite values, got NaN at flat index 5 \(shape \[3, 8\]\)$/);
  });

  it('hooi: maxIter an integer ≥ 0', () => {
    expect(() => hooi(t, [1, 1, 1], { maxIter: 1.5 })).toThrow(/hooi: options.maxIter must be an integer ≥ 0, got 1.5/);
    expect(() => hooi(t, [1, 1, 1], { maxIter: '3' as never })).toThrow(/got 3/);
    expect(hooi(t, [1, 1, 1], { maxIter: 0 }).iterations).toBe(0);
    const none = hooi(t, [2, 3, 4], { modes: [] });
    expect(none.iterations).toBe(0);
    expect(none.converged).toBe(true);
  });
});
