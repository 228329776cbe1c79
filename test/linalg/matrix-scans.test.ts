/**
 * The scans of linalg/matrix.ts that every entry point runs over its input: checkFinite (a
 * branch-free pass on typed arrays, the element loop only to name the index) and maxAbs (four
 * running maxima), and frob (the Frobenius norm every integrator step reads), against their
 * definitions at every length and position.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFinite, frob, maxAbs } from '../../src/linalg/matrix.js';
import { opts } from './helpers.js';

const arbValues = fc.array(fc.double({ min: -1e308, max: 1e308, noNaN: true }), { minLength: 0, maxLength: 23 });
const kinds = ['f64', 'f32', 'array'] as const;
const make = (kind: (typeof kinds)[number], v: number[]): ArrayLike<number> =>
  kind === 'f64' ? Float64Array.from(v) : kind === 'f32' ? Float32Array.from(v) : v.slice();

describe('checkFinite and maxAbs', () => {
  it('checkFinite accepts finite entries and names the first non-finite one, in typed arrays and plain arrays', () => {
    fc.assert(
      fc.property(arbValues, fc.constantFrom(...kinds), fc.nat(), fc.constantFrom(Number.NaN, Infinity, -Infinity), (v, kind, at, bad) => {
        const finite = make(kind, v);
        // Float32 rounds large doubles to ±Infinity: the definition decides on the stored values.
        const firstBad = Array.from(finite).findIndex((x) => !Number.isFinite(x));
        if (firstBad < 0) expect(() => checkFinite(finite, 'op', 'arg')).not.toThrow();
        else expect(() => checkFinite(finite, 'op', 'arg')).toThrow(`at flat index ${firstBad}`);
        const w = [...v];
        const pos = w.length === 0 ? 0 : at % (w.length + 1);
        w.splice(pos, 0, bad);
        const withBad = make(kind, w);
        const want = Array.from(withBad).findIndex((x) => !Number.isFinite(x));
        expect(() => checkFinite(withBad, 'op', 'arg', [w.length])).toThrow(
          `op: arg must hold finite values, got ${withBad[want]} at flat index ${want} (shape [${w.length}])`,
        );
      }),
      opts(200),
    );
  });

  it('maxAbs is max |a_i| at every length (NaN entries passed over, 0 for an empty array)', () => {
    fc.assert(
      fc.property(arbValues, fc.constantFrom(...kinds), fc.array(fc.nat(), { maxLength: 3 }), (v, kind, nanAt) => {
        const w = [...v];
        for (const p of nanAt) w.splice(w.length === 0 ? 0 : p % (w.length + 1), 0, Number.NaN);
        const a = make(kind, w);
        let want = 0;
        for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) > want) want = Math.abs(a[i]);
        expect(maxAbs(a)).toBe(want);
      }),
      opts(200),
    );
  });

  it('frob is (Σ a_i²)^½ to rounding at every length and at every scale float64 holds (NaN propagates)', () => {
    // The reference: a running hypot, which neither overflows nor underflows.
    const reference = (a: ArrayLike<number>) => {
      let h = 0;
      for (let i = 0; i < a.length; i++) h = Math.hypot(h, a[i]);
      return h;
    };
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 0, maxLength: 23 }),
        fc.constantFrom(1, 2 ** 470, 2 ** 490, 2 ** 1000, 2 ** -470, 2 ** -490, 2 ** -1000, 2 ** -1070),
        fc.constantFrom(...kinds),
        (v, scale, kind) => {
          const a = make(
            kind === 'f32' ? 'f64' : kind,
            v.map((x) => x * scale),
          );
          const want = reference(a);
          const got = frob(a);
          if (want === 0) expect(got).toBe(0);
          // A subnormal entry carries few bits: the relative bound holds for normal values.
          else if (want > 2 ** -1000) expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-14 * want);
          else expect(Math.abs(got - want)).toBeLessThanOrEqual(2 ** -1074 * 8);
        },
      ),
      opts(300),
    );
    expect(frob(Float64Array.from([3, Number.NaN, 4]))).toBeNaN();
    expect(frob(Float64Array.from([1e308, 1e308, 1e308]))).toBeCloseTo(Math.sqrt(3) * 1e308, -300);
    expect(frob(Float64Array.from([3, -Infinity]))).toBe(Infinity);
  });
});
