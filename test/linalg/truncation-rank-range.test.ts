/**
 * truncationRank over the whole float64 range (a defect found by the mutation pass of issue #18):
 * it summed σ² unscaled, so above ~1.34e154 the threshold's square overflowed and below ~1e-154
 * every σ² underflowed, and every σ was dropped. The rank must not depend on the scale, and a
 * spectrum too wide for any one scale must still keep what its tails need.
 */
import { describe, expect, it } from 'vitest';
import { truncationRank } from '../../src/linalg/index.js';

describe('truncationRank over the whole float64 range', () => {
  it('scaling σ and the threshold by the same power of two leaves the rank unchanged (up to 2^±900)', () => {
    const sigma = [1, 1, 0.5];
    for (const threshold of [0, 0.6, 1.2, 1.6]) {
      const r = truncationRank(sigma, threshold);
      for (const e of [-900, -500, 100, 500, 900]) {
        const s = 2 ** e;
        expect(
          truncationRank(
            sigma.map((v) => v * s),
            threshold * s,
          ),
          `threshold ${threshold}·2^${e}`,
        ).toBe(r);
      }
    }
  });

  it('keeps a σ far below the largest where the threshold is below it (spectra spanning 1e300)', () => {
    // Tails by Math.hypot, which neither under- nor overflows.
    const cases: [number[], number, number][] = [
      [[4e163, 1e-160], 0, 2],
      [[1e150, 1e-150], 1e-151, 2],
      [[1e150, 1e-150], 1e-149, 1],
      [[1.5e-82, 8e-300, 2.5e-300], 8e-300, 2],
      [[1e300, 3e-10, 4e-10], 5e-10, 1],
    ];
    for (const [sigma, threshold, want] of cases) {
      const sorted = [...sigma].sort((a, b) => b - a);
      const r = truncationRank(sorted, threshold);
      expect(r, `${sorted} at ${threshold}`).toBe(want);
      expect(Math.hypot(...sorted.slice(r))).toBeLessThanOrEqual(threshold);
      if (r > 0) expect(Math.hypot(...sorted.slice(r - 1))).toBeGreaterThan(threshold);
    }
  });
  it('a spectrum spanning more than 1e135 with equal values and exact zeros: each tail as Math.hypot', () => {
    // Walked from the end, the running scale meets values equal to it (the sum of squared ratios
    // grows by 1 each) and zeros (nothing to add, nothing to divide by).
    const cases: [number[], number, number][] = [
      [[1e200, 3e-10, 3e-10, 3e-10], 4e-10, 3],
      [[1e200, 3e-10, 3e-10, 3e-10], 5.3e-10, 1],
      [[1e200, 2e-150, 2e-150, 2e-150, 2e-150], 3.9e-150, 2],
      [[1e200, 1e-100, 0], 1e-150, 2],
      [[1e200, 1e-100, 0, 0], 1e-100, 1],
    ];
    for (const [sigma, threshold, want] of cases) {
      const r = truncationRank(sigma, threshold);
      expect(r, `${sigma} at ${threshold}`).toBe(want);
      expect(Math.hypot(...sigma.slice(r))).toBeLessThanOrEqual(threshold);
      if (r > 0) expect(Math.hypot(...sigma.slice(r - 1))).toBeGreaterThan(threshold);
    }
  });
});
