/**
 * The raw float64 products of linalg/matrix.ts and tucker's modeProductRaw: above
 * BLOCKED_GEMM_MACS they run on the CPU backend's blocked GEMM, below on plain loops; both must
 * agree with the definition to float64 round-off on either side of the switch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCKED_GEMM_MACS, matmul, matmulTA, matmulTB } from '../../src/linalg/matrix.js';
import { modeProductRaw } from '../../src/tucker/product.js';
import { Generator } from '../../src/tensor/random.js';
import { fcOptions } from '../helpers.js';

function rand(n: number, seed: number): Float64Array {
  const g = new Generator(seed);
  return Float64Array.from({ length: n }, () => g.normal());
}

/** (i, j) of op(A)·op(B) by the definition. */
function reference(m: number, n: number, k: number, at: (i: number, p: number) => number, bt: (p: number, j: number) => number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += at(i, p) * bt(p, j);
      c[i * n + j] = s;
    }
  return c;
}

function expectClose(got: Float64Array, want: Float64Array, k: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-12 * k * (1 + Math.abs(want[i])));
}

// Sizes straddle the switch: m·n·k from a few hundred to ~4× BLOCKED_GEMM_MACS.
const dims = fc.tuple(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 130 }), fc.integer({ min: 0, max: 1e6 }));

describe('float64 products on both sides of the blocked-GEMM switch', () => {
  it('the switch is crossed by the generated sizes', () => {
    expect(90 * 90 * 130).toBeGreaterThan(BLOCKED_GEMM_MACS);
  });

  it('matmul, matmulTA, matmulTB equal their definitions', () => {
    fc.assert(
      fc.property(dims, ([m, n, k, seed]) => {
        const a = rand(m * k, seed);
        const b = rand(k * n, seed + 1);
        expectClose(
          matmul(a, m, k, b, n),
          reference(
            m,
            n,
            k,
            (i, p) => a[i * k + p],
            (p, j) => b[p * n + j],
          ),
          k,
        );
        // a stored k×m (Aᵀ), b stored k×n.
        expectClose(
          matmulTA(a, k, m, b, n),
          reference(
            m,
            n,
            k,
            (i, p) => a[p * m + i],
            (p, j) => b[p * n + j],
          ),
          k,
        );
        // a stored m×k, b stored n×k (Bᵀ).
        expectClose(
          matmulTB(a, m, k, b, n),
          reference(
            m,
            n,
            k,
            (i, p) => a[i * k + p],
            (p, j) => b[j * k + p],
          ),
          k,
        );
      }),
      fcOptions(20),
    );
  });

  it('modeProductRaw equals Σ_i M[j, i]·T[…, i, …] on every mode, large and small', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 24 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        fc.integer({ min: 0, max: 1e6 }),
        (shape, J, pick, seed) => {
          const mode = pick % shape.length;
          const I = shape[mode];
          const t = rand(
            shape.reduce((x, y) => x * y, 1),
            seed,
          );
          const mat = rand(J * I, seed + 7);
          const { data, shape: outShape } = modeProductRaw(t, shape, mat, J, mode);
          expect(outShape).toEqual(shape.map((d, i) => (i === mode ? J : d)));
          const P = shape.slice(0, mode).reduce((x, y) => x * y, 1);
          const Q = shape.slice(mode + 1).reduce((x, y) => x * y, 1);
          const want = new Float64Array(P * J * Q);
          for (let p = 0; p < P; p++)
            for (let j = 0; j < J; j++)
              for (let q = 0; q < Q; q++) {
                let s = 0;
                for (let i = 0; i < I; i++) s += mat[j * I + i] * t[(p * I + i) * Q + q];
                want[(p * J + j) * Q + q] = s;
              }
          expectClose(data, want, I);
        },
      ),
      fcOptions(30),
    );
  });
});
