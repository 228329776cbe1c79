/**
 * Direct tests of src/tucker/product.ts against plain multi-index loops written here: every route of
 * `modeProductRaw` (scalar loops over short and long fibres, the Kronecker-factor GEMM, the GEMM on
 * the last and on a middle mode), the transpose option of `multiModeProduct`, `reconstruct` as the
 * sum Σ_r C[r] Π_k U_k[i_k, r_k], the copies (no result shares the input's buffer) and the argument
 * checks of each public function.
 */
import { describe, expect, it } from 'vitest';
import { modeProductRaw, multiModeProductRaw } from '../../src/tucker/product.js';
import { modeProduct, multiModeProduct, reconstruct } from '../../src/tucker/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { diffFro, fro, gaussian } from '../linalg/helpers.js';

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1] * shape[k + 1];
  return s;
}

/** The multi-index of flat position f in a row-major tensor of `shape`. */
function multiIndex(f: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = f % shape[k];
    f = Math.floor(f / shape[k]);
  }
  return idx;
}

/** (T ×_mode M)[…, j, …] = Σ_i M[j, i] T[…, i, …] by the definition, one output entry at a time. */
function modeProductRef(data: ArrayLike<number>, shape: readonly number[], m: ArrayLike<number>, J: number, mode: number): Float64Array {
  const I = shape[mode];
  const outShape = [...shape];
  outShape[mode] = J;
  const st = strides(shape);
  const size = outShape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  for (let f = 0; f < size; f++) {
    const idx = multiIndex(f, outShape);
    const j = idx[mode];
    let s = 0;
    for (let i = 0; i < I; i++) {
      idx[mode] = i;
      let src = 0;
      for (let k = 0; k < shape.length; k++) src += idx[k] * st[k];
      s += m[j * I + i] * data[src];
    }
    out[f] = s;
  }
  return out;
}

/** The transpose of a row-major rows × cols matrix. */
function transposed(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** A J × I matrix with some exact zeros (the long-fibre loop skips zero entries). */
function sparseish(J: number, I: number, seed: number): Float64Array {
  const m = Float64Array.from(gaussian([J, I], seed).data);
  for (let k = 0; k < m.length; k += 3) m[k] = 0;
  return m;
}

describe('tucker.product: modeProductRaw on each route against the definition', () => {
  // (shape, mode, J): which route of modeProductRaw each case takes, with P·I·Q the tensor size
  // split around the mode.
  const cases: { what: string; shape: number[]; mode: number; J: number }[] = [
    { what: 'short fibres, scalar loops (Q < 16)', shape: [3, 4, 5], mode: 1, J: 2 },
    { what: 'long fibres, scalar loops (Q ≥ 16, mode 1)', shape: [2, 3, 20], mode: 1, J: 2 },
    { what: 'long fibres, scalar loops (Q ≥ 16, mode 0, J > I)', shape: [3, 17], mode: 0, J: 4 },
    { what: 'last mode, scalar loops (Q = 1)', shape: [5, 6], mode: 1, J: 3 },
    { what: 'Kronecker-factor GEMM (I·Q, J·Q ≤ 48)', shape: [64, 3, 3], mode: 1, J: 3 },
    { what: 'GEMM on the last mode (Q = 1)', shape: [64, 8], mode: 1, J: 8 },
    { what: 'GEMM per leading index (long fibres)', shape: [4, 16, 64], mode: 1, J: 8 },
    { what: 'GEMM per leading index (Q = 32, the first long fibre)', shape: [3, 48, 32], mode: 1, J: 4 },
    { what: 'one GEMM on the transposed slices (short fibres, Q = 31)', shape: [3, 48, 31], mode: 1, J: 4 },
    { what: "one GEMM on the transposed slices (a 3×3 kernel's mode 1)", shape: [8, 64, 3, 3], mode: 1, J: 16 },
    { what: 'GEMM per leading index (mode 0)', shape: [32, 160], mode: 0, J: 3 },
  ];
  for (const [c, { what, shape, mode, J }] of cases.entries()) {
    it(`${what}: shape [${shape}], mode ${mode}, J = ${J}`, () => {
      const t = gaussian(shape, 40 + c);
      const m = sparseish(J, shape[mode], 80 + c);
      const want = modeProductRef(t.data, shape, m, J, mode);
      const wantShape = [...shape];
      wantShape[mode] = J;
      for (const input of [t.data, Float32Array.from(t.data), Array.from(t.data)]) {
        // A float32 input is rounded once on the way in: the reference uses the same rounded values.
        const ref = input instanceof Float32Array ? modeProductRef(input, shape, m, J, mode) : want;
        const r = modeProductRaw(input, shape, m, J, mode);
        expect(r.shape).toEqual(wantShape);
        expect(r.data).toBeInstanceOf(Float64Array);
        expect(diffFro(r.data, ref)).toBeLessThanOrEqual(1e-13 * fro(ref));
      }
      // The public wrapper: same product, and the input is left as it was.
      const before = Float64Array.from(t.data);
      const y = modeProduct(t, Tensor.fromData(Float64Array.from(m), [J, shape[mode]]), mode);
      expect(y.shape).toEqual(wantShape);
      expect(diffFro(y.data, want)).toBeLessThanOrEqual(1e-13 * fro(want));
      expect(Array.from(t.data)).toEqual(Array.from(before));
    });
  }
});

describe('tucker.product: multi-mode products and reconstruct against the definition', () => {
  const shape = [3, 4, 5];
  const t = gaussian(shape, 7);

  it('multiModeProduct with transpose applies each A_kᵀ (A_k of size n_k × J_k); null and undefined skip a mode', () => {
    const a0 = gaussian([3, 2], 8);
    const a2 = gaussian([5, 3], 9);
    let want: Float64Array = Float64Array.from(t.data);
    let cur = [...shape];
    for (const [k, a] of [
      [0, a0],
      [2, a2],
    ] as const) {
      const J = a.shape[1];
      want = modeProductRef(want, cur, transposed(a.data, a.shape[0], J), J, k);
      cur = [...cur];
      cur[k] = J;
    }
    for (const skip of [null, undefined]) {
      const y = multiModeProduct(t, [a0, skip as unknown as null, a2], { transpose: true });
      expect(y.shape).toEqual([2, 4, 3]);
      expect(diffFro(y.data, want)).toBeLessThanOrEqual(1e-13 * fro(want));
    }
  });

  it('multiModeProductRaw applies M_k itself unless asked to transpose', () => {
    const m1 = { data: Float64Array.from(gaussian([2, 4], 10).data), rows: 2, cols: 4 };
    const m2 = { data: Float64Array.from(gaussian([6, 5], 11).data), rows: 6, cols: 5 };
    const want = modeProductRef(modeProductRef(t.data, shape, m1.data, 2, 1), [3, 2, 5], m2.data, 6, 2);
    const r = multiModeProductRaw(t.data, shape, [null, m1, m2]);
    expect(r.shape).toEqual([3, 2, 6]);
    expect(diffFro(r.data, want)).toBeLessThanOrEqual(1e-13 * fro(want));
  });

  it('reconstruct(C, U) = Σ_r C[r_0, r_1, r_2] U_0[i_0, r_0] U_1[i_1, r_1] U_2[i_2, r_2], unfactorised modes skipped', () => {
    const core = gaussian([2, 3, 2], 12);
    const u0 = gaussian([4, 2], 13);
    const u2 = gaussian([5, 2], 14);
    // Mode 1 is not factorised: U_1 = I_3.
    const want = new Float64Array(4 * 3 * 5);
    for (let r0 = 0; r0 < 2; r0++)
      for (let r1 = 0; r1 < 3; r1++)
        for (let r2 = 0; r2 < 2; r2++) {
          const c = core.data[(r0 * 3 + r1) * 2 + r2];
          for (let i0 = 0; i0 < 4; i0++) for (let i2 = 0; i2 < 5; i2++) want[(i0 * 3 + r1) * 5 + i2] += c * u0.data[i0 * 2 + r0] * u2.data[i2 * 2 + r2];
        }
    for (const skip of [null, undefined]) {
      const y = reconstruct(core, [u0, skip as unknown as null, u2]);
      expect(y.shape).toEqual([4, 3, 5]);
      expect(diffFro(y.data, want)).toBeLessThanOrEqual(1e-13 * fro(want));
    }
  });

  it('with every mode skipped the result holds the input values in a buffer of its own', () => {
    const core = gaussian([2, 3, 2], 15);
    const pairs: [Tensor, Tensor][] = [
      [t, multiModeProduct(t, [null, null, null])],
      [core, reconstruct(core, [null, null, null])],
    ];
    for (const [src, y] of pairs) {
      expect(y.shape).toEqual(src.shape);
      const before = Array.from(src.data);
      expect(Array.from(y.data)).toEqual(before);
      expect(y.data).not.toBe(src.data);
      y.data[0] += 1;
      expect(Array.from(src.data)).toEqual(before);
    }
  });
});

describe('tucker.product: argument checks name the function and the argument', () => {
  const core = gaussian([2, 3, 2], 16);
  const nan = Tensor.fromData(Float64Array.from([1, Number.NaN]), [2]);

  it('modeProduct and multiModeProduct reject a bad tensor', () => {
    expect(() => modeProduct('x' as unknown as Tensor, gaussian([2, 2], 0), 0)).toThrow(/^modeProduct: t must be a Tensor, got string$/);
    expect(() => modeProduct(nan, gaussian([2, 2], 0), 0)).toThrow(/^modeProduct: t must hold finite values, got NaN at flat index 1/);
    expect(() => multiModeProduct(null as unknown as Tensor, [])).toThrow(/^multiModeProduct: t must be a Tensor, got null$/);
    expect(() => multiModeProduct(nan, [null])).toThrow(/^multiModeProduct: t must hold finite values, got NaN/);
  });

  it('reconstruct rejects a bad core, a wrong number of factors and a factor of the wrong shape', () => {
    expect(() => reconstruct(5 as unknown as Tensor, [])).toThrow(/^reconstruct: core must be a Tensor, got number$/);
    expect(() => reconstruct(nan, [null])).toThrow(/^reconstruct: core must hold finite values, got NaN/);
    expect(() => reconstruct(core, [null])).toThrow(
      /^reconstruct: factors must have 3 entries \(one per mode of the core, shape \[2, 3, 2\]; null for an unfactorised mode\), got 1$/,
    );
    expect(() => reconstruct(core, 'abc' as unknown as null[])).toThrow(/^reconstruct: factors must have 3 entries .* got string$/);
    expect(() => reconstruct(core, [gaussian([4, 3], 1), null, null])).toThrow(
      /^reconstruct: factors\[0\] must be 2-D \[n_0, 2\] \(its columns match mode 0 of the core, shape \[2, 3, 2\]\), got \[4, 3\]$/,
    );
    expect(() => reconstruct(core, [null, gaussian([2, 3, 1], 1), null])).toThrow(
      /^reconstruct: factors\[1\] must be 2-D \[rows, cols\], got shape \[2, 3, 1\]$/,
    );
  });
});
