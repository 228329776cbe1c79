/**
 * The SGD range kernel runs one branch-free loop per case (first step or not, Nesterov or not):
 * each case against PyTorch's update written out here element by element, bit for bit in float32
 * and float64 (the stored velocity is read back, so a float32 v rounds where PyTorch's does).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sgdRange } from '../../src/backend/cpu/optim-kernels.js';
import { fcOptions } from '../helpers.js';

type Arr = Float32Array | Float64Array;

/** PyTorch's SGD over [lo, hi): d = g + wd·w; v = first ? d : mu·v + (1 − damp)·d; w −= lr·(nesterov ? d + mu·v : v). */
function reference(w: Arr, g: Arr, v: Arr, lr: number, wd: number, mu: number, damp: number, nesterov: boolean, first: boolean, lo: number, hi: number): void {
  for (let i = lo; i < hi; i++) {
    const d = g[i] + wd * w[i];
    if (mu === 0) {
      w[i] = w[i] - lr * d;
      continue;
    }
    v[i] = first ? d : mu * v[i] + (1 - damp) * d;
    w[i] = w[i] - lr * (nesterov ? d + mu * v[i] : v[i]);
  }
}

describe('sgdRange', () => {
  it('matches the written-out update in every case, float32 and float64, on any sub-range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Float32Array, Float64Array),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.constantFrom(0, 0.5, 0.9),
        fc.constantFrom(0, 0.1),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(0, 5e-4),
        (Type, n, seed, mu, damp, nesterov, first, wd) => {
          let s = seed;
          const rand = () => {
            s = (s * 1103515245 + 12345) % 2147483648;
            return s / 2147483648 - 0.5;
          };
          const make = (): Arr => {
            const a = new Type(n);
            for (let i = 0; i < n; i++) a[i] = rand();
            return a;
          };
          const w = make();
          const g = make();
          const v = make();
          const lo = Math.floor(n / 3);
          const hi = n - Math.floor(n / 4);
          const [w2, v2] = [w.slice(), v.slice()];
          sgdRange(w, g, v, 0.05, wd, mu, damp, nesterov, first, lo, hi);
          reference(w2, g, v2, 0.05, wd, mu, damp, nesterov, first, lo, hi);
          expect(Array.from(w)).toEqual(Array.from(w2));
          expect(Array.from(v)).toEqual(Array.from(v2));
        },
      ),
      fcOptions(200),
    );
  });
});
