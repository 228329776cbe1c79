/**
 * Issue #19, defect 7: singular values at the ends of the float64 range. svd and svdvals scale A by
 * a power of two before the factorisation (exactly), so that no square of an entry or a column norm
 * over- or underflows, and scale σ back at the end. The example, [[1e308, 1e308], [1e308,
 * 1e308]], has σ₁ = 2e308, above the largest float64 (about 1.8e308): Infinity is its correctly
 * rounded value (PyTorch's svdvals gives inf as well), not a failure to scale; a matrix whose σ₁ is
 * representable gets it.
 */
import { describe, expect, it } from 'vitest';
import { svd, svdvals } from '../../src/linalg/index.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { mm, orthError, tr, withSpectrum } from './helpers.js';

const SIGMA = [4, 3, 2, 1];
const METHODS = ['fast', 'jacobi'] as const;

describe('svd at the ends of the float64 range', () => {
  // 2^1020 ≈ 1.1e307: the entries' squares overflow. 2^-1000 ≈ 9.3e-302: they underflow to zero.
  it.each([
    ['2^1020', 2 ** 1020],
    ['2^-1000', 2 ** -1000],
  ])('a 6×4 matrix scaled by %s has the spectrum scaled by as much, with orthonormal U and V', (_, scale) => {
    const base = withSpectrum(6, 4, SIGMA, new Generator(19));
    const a = base.map((x) => x * scale); // exact: a power of two, and no entry leaves the normal range
    for (const method of METHODS) {
      const r = svd(Tensor.fromData(a, [6, 4]), { method });
      const s = Array.from(r.s.data);
      s.forEach((v, i) => expect(Math.abs(v / scale - SIGMA[i]), `${method} σ${i}`).toBeLessThan(1e-13 * SIGMA[0]));
      expect(orthError(r.u.data, 6, 4), method).toBeLessThan(1e-13);
      expect(orthError(tr(r.vt.data, 4, 4), 4, 4), method).toBeLessThan(1e-13);
      // U·diag(s/scale)·Vᵀ is the unscaled matrix.
      const us = Float64Array.from(r.u.data, (x, i) => x * (s[i % 4] / scale));
      const back = mm(us, 6, 4, r.vt.data, 4);
      back.forEach((x, i) => expect(Math.abs(x - base[i]), `${method} entry ${i}`).toBeLessThan(1e-13 * SIGMA[0]));
    }
    Array.from(svdvals(Tensor.fromData(a, [6, 4])).data).forEach((v, i) => expect(Math.abs(v / scale - SIGMA[i])).toBeLessThan(1e-13 * SIGMA[0]));
  });

  it('[[6e307, 6e307], [6e307, 6e307]] has σ = [1.2e308, 0]; the issue example [[1e308, …]] has σ₁ = 2e308, which rounds to Infinity', () => {
    const fits = Tensor.fromData(Float64Array.from([6e307, 6e307, 6e307, 6e307]), [2, 2]);
    for (const method of METHODS) {
      const s = svd(fits, { method }).s.data;
      expect(Math.abs(s[0] / 1.2e308 - 1), method).toBeLessThan(1e-15);
      expect(s[1], method).toBeLessThan(1e-15 * 1.2e308);
    }
    const over = Tensor.fromData(Float64Array.from([1e308, 1e308, 1e308, 1e308]), [2, 2]);
    const r = svd(over);
    expect(Array.from(r.s.data)).toEqual([Number.POSITIVE_INFINITY, 0]);
    // The vectors do not overflow: they are those of the all-ones matrix.
    expect(orthError(r.u.data, 2, 2)).toBeLessThan(1e-15);
    expect(Math.abs(Math.abs(r.u.data[0]) - Math.SQRT1_2)).toBeLessThan(1e-15);
    expect(svdvals(over).data[0]).toBe(Number.POSITIVE_INFINITY);
  });
});
