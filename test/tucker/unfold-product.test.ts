import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold, modeProduct, multiModeProduct, unfold } from '../../src/tucker/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { diffFro, fro, gaussian, mm, opts, tr } from '../linalg/helpers.js';

const arbShape = (minD = 1, maxD = 4, maxDim = 4) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minD, maxLength: maxD });
const arbSeed = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Kronecker product of row-major matrices A (p×q) and B (r×s). */
function kron(a: ArrayLike<number>, p: number, q: number, b: ArrayLike<number>, r: number, s: number): Float64Array {
  const out = new Float64Array(p * r * q * s);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < q; j++)
      for (let k = 0; k < r; k++)
        for (let l = 0; l < s; l++) {
          out[(i * r + k) * (q * s) + j * s + l] = a[i * q + j] * b[k * s + l];
        }
  return out;
}

describe('tucker.unfold / fold (Kolda–Bader)', () => {
  it('matches the worked example of Kolda & Bader (2009), X ∈ R^{3×4×2}', () => {
    // X[i, j, k] = 1 + i + 3j + 12k (frontal slices [[1 4 7 10], [2 5 8 11], [3 6 9 12]] and +12)
    const d = new Float64Array(24);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 2; k++) d[(i * 4 + j) * 2 + k] = 1 + i + 3 * j + 12 * k;
    const x = Tensor.fromData(d, [3, 4, 2]);
    expect(unfold(x, 0).toArray()).toEqual([
      [1, 4, 7, 10, 13, 16, 19, 22],
      [2, 5, 8, 11, 14, 17, 20, 23],
      [3, 6, 9, 12, 15, 18, 21, 24],
    ]);
    expect(unfold(x, 1).toArray()).toEqual([
      [1, 2, 3, 13, 14, 15],
      [4, 5, 6, 16, 17, 18],
      [7, 8, 9, 19, 20, 21],
      [10, 11, 12, 22, 23, 24],
    ]);
    expect(unfold(x, 2).toArray()).toEqual([
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24],
    ]);
    expect(unfold(x, -1).toArray()).toEqual(unfold(x, 2).toArray());
  });

  it('places entry (i_0..i_{d-1}) at row i_n, column Σ_{k≠n} i_k Π_{m<k, m≠n} I_m; fold inverts unfold', () => {
    fc.assert(
      fc.property(arbShape(1, 5), arbSeed, (shape, seed) => {
        const t = gaussian(shape, seed);
        for (let n = 0; n < shape.length; n++) {
          const m = unfold(t, n);
          const cols = t.data.length / shape[n];
          expect(m.shape).toEqual([shape[n], cols]);
          const idx = new Array(shape.length).fill(0);
          for (let f = 0; f < t.data.length; f++) {
            let col = 0;
            let stride = 1;
            for (let k = 0; k < shape.length; k++) {
              if (k === n) continue;
              col += idx[k] * stride;
              stride *= shape[k];
            }
            expect(m.data[idx[n] * cols + col]).toBe(t.data[f]);
            for (let k = shape.length - 1; k >= 0; k--) {
              if (++idx[k] < shape[k]) break;
              idx[k] = 0;
            }
          }
          expect(Array.from(fold(m, n, shape).data)).toEqual(Array.from(t.data));
        }
      }),
      opts(60),
    );
  });

  it('Mat_n(C ×_0 U_0 ⋯ ×_{d-1} U_{d-1}) = U_n Mat_n(C) (U_{d-1} ⊗ ⋯ ⊗ U_{n+1} ⊗ U_{n-1} ⊗ ⋯ ⊗ U_0)ᵀ', () => {
    const core = gaussian([2, 3, 2], 1);
    const us = [gaussian([3, 2], 2), gaussian([4, 3], 3), gaussian([2, 2], 4)];
    const t = multiModeProduct(core, us);
    for (let n = 0; n < 3; n++) {
      let k: Float64Array = Float64Array.from([1]);
      let kr = 1;
      let kc = 1;
      for (let j = 2; j >= 0; j--) {
        if (j === n) continue;
        k = kron(k, kr, kc, us[j].data, us[j].shape[0], us[j].shape[1]);
        kr *= us[j].shape[0];
        kc *= us[j].shape[1];
      }
      const un = us[n];
      const mc = unfold(core, n);
      const want = mm(mm(un.data, un.shape[0], un.shape[1], mc.data, mc.shape[1]), un.shape[0], kc, tr(k, kr, kc), kr);
      expect(diffFro(unfold(t, n).data, want)).toBeLessThan(1e-12 * fro(want));
    }
  });

  it('rejects bad modes and shapes', () => {
    const t = gaussian([2, 3, 4], 0);
    expect(() => unfold(t, 3)).toThrow(/unfold: mode must be an integer in \[0, 2\] \(or \[-3, -1\]\) for a 3-D tensor, got 3/);
    expect(() => unfold(t, 1.5)).toThrow(/unfold: mode must be an integer .* got 1.5/);
    expect(() => fold(unfold(t, 1), 1, [2, 3, 5])).toThrow(/fold: m must be 2-D \[3, 10\] \(the mode-1 unfolding of shape \[2, 3, 5\]\), got \[3, 8\]/);
    expect(() => unfold(Tensor.fromData(Float64Array.from([1, NaN]), [2]), 0)).toThrow(/unfold: t must hold finite values, got NaN/);
    expect(() => unfold(Tensor.fromData(Float64Array.from([1]), []), 0)).toThrow(/unfold: t must have at least 1 dimension, got shape \[\]/);
  });
});

describe('tucker.modeProduct / multiModeProduct', () => {
  const arbProductCase = fc
    .tuple(arbShape(1, 4), fc.nat(), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), arbSeed)
    .map(([shape, mode, j, l, seed]) => ({ shape, mode: mode % shape.length, j, l, seed }));

  it('Mat_n(T ×_n A) = A·Mat_n(T), and the transpose option applies Aᵀ', () => {
    fc.assert(
      fc.property(arbProductCase, ({ shape, mode, j, seed }) => {
        const t = gaussian(shape, seed);
        const a = gaussian([j, shape[mode]], seed + 1);
        const y = modeProduct(t, a, mode);
        const want = [...shape];
        want[mode] = j;
        expect(y.shape).toEqual(want);
        const mt = unfold(t, mode);
        const expected = mm(a.data, j, shape[mode], mt.data, mt.shape[1]);
        expect(diffFro(unfold(y, mode).data, expected)).toBeLessThanOrEqual(1e-13 * (fro(expected) + 1));
        const at = Tensor.fromData(tr(a.data, j, shape[mode]), [shape[mode], j]);
        expect(diffFro(modeProduct(t, at, mode, { transpose: true }).data, y.data)).toBeLessThanOrEqual(1e-14 * (fro(y.data) + 1));
      }),
      opts(60),
    );
  });

  it('Mat_n(T ×_n A) = A·Mat_n(T) on the GEMM paths: short fibres (Kronecker factor), long fibres, the last mode', () => {
    // Large enough for the blocked routes of modeProductRaw: a 3×3 kernel's spatial modes (I·Q ≤ 48),
    // a channel mode with long fibres, the last mode.
    const cases: { shape: number[]; mode: number; j: number }[] = [
      { shape: [96, 64, 3, 3], mode: 2, j: 2 },
      { shape: [96, 64, 3, 3], mode: 2, j: 3 },
      { shape: [48, 40, 5, 4], mode: 2, j: 5 },
      { shape: [40, 64, 3, 3], mode: 1, j: 16 },
      { shape: [128, 64, 3, 3], mode: 3, j: 3 },
    ];
    for (const [c, { shape, mode, j }] of cases.entries()) {
      const t = gaussian(shape, 500 + c);
      const a = gaussian([j, shape[mode]], 600 + c);
      const y = modeProduct(t, a, mode);
      const mt = unfold(t, mode);
      const expected = mm(a.data, j, shape[mode], mt.data, mt.shape[1]);
      expect(diffFro(unfold(y, mode).data, expected)).toBeLessThanOrEqual(1e-13 * fro(expected));
    }
  });

  it('(T ×_n A) ×_n B = T ×_n (B·A)', () => {
    fc.assert(
      fc.property(arbProductCase, ({ shape, mode, j, l, seed }) => {
        const t = gaussian(shape, seed);
        const a = gaussian([j, shape[mode]], seed + 1);
        const b = gaussian([l, j], seed + 2);
        const lhs = modeProduct(modeProduct(t, a, mode), b, mode);
        const ba = Tensor.fromData(mm(b.data, l, j, a.data, shape[mode]), [l, shape[mode]]);
        const rhs = modeProduct(t, ba, mode);
        expect(lhs.shape).toEqual(rhs.shape);
        expect(diffFro(lhs.data, rhs.data)).toBeLessThanOrEqual(1e-12 * (fro(rhs.data) + 1));
      }),
      opts(80),
    );
  });

  it('products on distinct modes commute; multiModeProduct equals the sequential products', () => {
    fc.assert(
      fc.property(arbShape(2, 4), arbSeed, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (shape, seed, use) => {
        const t = gaussian(shape, seed);
        const mats = shape.map((n, k) => (use[k] ? gaussian([1 + ((seed + k) % 4), n], seed + 10 + k) : null));
        let fwd = t;
        for (let k = 0; k < shape.length; k++) if (mats[k]) fwd = modeProduct(fwd, mats[k]!, k);
        let bwd = t;
        for (let k = shape.length - 1; k >= 0; k--) if (mats[k]) bwd = modeProduct(bwd, mats[k]!, k);
        const multi = multiModeProduct(t, mats);
        expect(multi.shape).toEqual(fwd.shape);
        expect(diffFro(fwd.data, bwd.data)).toBeLessThanOrEqual(1e-12 * (fro(fwd.data) + 1));
        expect(diffFro(fwd.data, multi.data)).toBeLessThanOrEqual(1e-12 * (fro(fwd.data) + 1));
        expect(multi.data).not.toBe(t.data);
      }),
      opts(60),
    );
  });

  it('rejects mismatched matrices, bad modes and non-finite input', () => {
    const t = gaussian([3, 4, 5], 0);
    expect(() => modeProduct(t, gaussian([2, 5], 1), 1)).toThrow(
      /modeProduct: matrix must be 2-D \[J, 4\] to act on mode 1 of size 4 \(tensor shape \[3, 4, 5\]\), got \[2, 5\]/,
    );
    expect(() => modeProduct(t, gaussian([2, 5], 1), 1, { transpose: true })).toThrow(
      /modeProduct: matrix must be 2-D \[4, J\] \(transpose: true\) to act on mode 1 of size 4/,
    );
    expect(() => modeProduct(t, gaussian([2, 4, 1], 1), 1)).toThrow(/modeProduct: matrix must be 2-D \[rows, cols\], got shape \[2, 4, 1\]/);
    expect(() => modeProduct(t, gaussian([2, 4], 1), 3)).toThrow(/modeProduct: mode must be an integer in \[0, 2\]/);
    expect(() => modeProduct(t, Tensor.fromData(Float64Array.from([NaN, 0, 0, 0]), [1, 4]), 1)).toThrow(/modeProduct: matrix must hold finite values, got NaN/);
    expect(() => multiModeProduct(t, [null, null])).toThrow(
      /multiModeProduct: matrices must have 3 entries \(one per mode of t, shape \[3, 4, 5\]; null to skip a mode\), got 2/,
    );
    expect(() => multiModeProduct(t, [null, gaussian([2, 3], 0), null])).toThrow(/multiModeProduct: matrices\[1\] must be 2-D \[J, 4\]/);
  });
});
