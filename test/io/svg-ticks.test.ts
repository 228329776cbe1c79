import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { logTicks, niceNumber, niceTicks, formatTick } from '../../src/io/svg-ticks.js';

/** step = m × 10^k with m ∈ {1, 2, 5}. */
function isNiceStep(step: number): boolean {
  const k = Math.floor(Math.log10(step));
  const m = step / 10 ** k;
  return [1, 2, 5, 10].some((n) => Math.abs(m - n) < 1e-9);
}

describe('niceTicks', () => {
  it('gives the classic ticks for simple ranges', () => {
    expect(niceTicks(0, 1).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 100).ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.3, 1.7).labels).toEqual(['0.0', '0.5', '1.0', '1.5', '2.0']);
    expect(niceTicks(-3, 7).ticks).toEqual([-4, -2, 0, 2, 4, 6, 8]);
  });

  it('widens a constant range and a non-finite one', () => {
    const c = niceTicks(0.95, 0.95);
    expect(c.min).toBeLessThan(0.95);
    expect(c.max).toBeGreaterThan(0.95);
    expect(niceTicks(0, 0).ticks).toContain(0);
    expect(niceTicks(NaN, Infinity).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 5e-324).ticks.length).toBeGreaterThan(1);
    const huge = niceTicks(-1.7e308, 1.7e308);
    expect(huge.ticks.every(Number.isFinite)).toBe(true);
    expect(huge.ticks.length).toBeGreaterThan(1);
  });

  it('keeps a fixed domain when not expanding', () => {
    const t = niceTicks(0.13, 0.87, { expand: false });
    expect(t.min).toBe(0.13);
    expect(t.max).toBe(0.87);
    expect(t.ticks.every((v) => v >= 0.13 && v <= 0.87)).toBe(true);
  });

  it('property: nice steps, exact multiples, cover the data, a sensible count', () => {
    const finite = fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(finite, finite, fc.integer({ min: 2, max: 12 }), (a, b, maxTicks) => {
        const lo = Math.min(a, b);
        const hi = Math.max(a, b);
        const t = niceTicks(lo, hi, { maxTicks });
        expect(isNiceStep(t.step)).toBe(true);
        // Covers the data up to float noise (1e-9 of a step, so that 0.1 + 0.2 does not add a tick).
        expect(t.min).toBeLessThanOrEqual(lo + t.step * 1e-9);
        expect(t.max).toBeGreaterThanOrEqual(hi - t.step * 1e-9);
        expect(t.ticks.length).toBeGreaterThanOrEqual(2);
        expect(t.ticks.length).toBeLessThanOrEqual(2 * maxTicks + 3);
        for (let i = 0; i < t.ticks.length; i++) {
          const k = t.ticks[i] / t.step;
          expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-6);
          if (i > 0) expect(t.ticks[i]).toBeGreaterThan(t.ticks[i - 1]);
        }
        expect(new Set(t.labels).size).toBe(t.labels.length);
        for (const l of t.labels) expect(l).not.toMatch(/NaN|Infinity|e\+/);
      }),
      { seed: 20240601, numRuns: 300 },
    );
  });
});

describe('niceNumber / formatTick', () => {
  it('rounds to 1, 2, 5 × 10^k', () => {
    expect(niceNumber(0.7, true)).toBe(0.5);
    expect(niceNumber(0.7, false)).toBe(1);
    expect(niceNumber(230, true)).toBe(200);
    expect(niceNumber(30, false)).toBe(50);
  });
  it('prints plain numbers, exponents for the very large and very small', () => {
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(2000000, 1000000)).toBe('2e6');
    expect(formatTick(3e-8, 1e-8)).toBe('3e-8');
    expect(formatTick(-0, 1)).toBe('0');
    expect(formatTick(0, 0.5)).toBe('0.0');
  });
});

describe('logTicks', () => {
  it('ticks whole decades over many decades', () => {
    const t = logTicks(0.004, 2.3);
    expect(t.min).toBe(0.001);
    expect(t.max).toBe(10);
    expect(t.ticks).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(t.labels).toEqual(['0.001', '0.01', '0.1', '1', '10']);
  });
  it('adds 2 and 5 within two decades, and thins out very long axes', () => {
    expect(logTicks(1.5, 40).ticks).toEqual([1, 2, 5, 10, 20, 50, 100]);
    const long = logTicks(1e-20, 1e20);
    expect(long.ticks.length).toBeLessThanOrEqual(9);
    expect(long.labels[0]).toBe('1e-20');
  });
  it('survives a single value and bad input', () => {
    expect(logTicks(10, 10).ticks).toContain(10);
    expect(logTicks(-1, 0).ticks.length).toBeGreaterThan(1);
    const top = logTicks(9.99e307, 9.99e307);
    expect(top.ticks.every(Number.isFinite) && Number.isFinite(top.max)).toBe(true);
    const bottom = logTicks(5e-324, 5e-324);
    expect(bottom.ticks.every((v) => v > 0) && bottom.min > 0).toBe(true);
  });
});
