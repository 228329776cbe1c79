/**
 * The symmetric rank-k product G = A·Aᵀ (or AᵀA) on linalg's WebAssembly kernels, packing A once
 * per k-slice for both sides of the product (BLAS dsyrk): the general GEMM, called block row by
 * block row as gramRows did, copies and packs both operands for every call, i.e. the rows of A
 * once as the left operand and again, for every block row below them, as the right one. Here each
 * k-slice of A is copied into the wasm memory and packed into 4-row micro-panels once; since op(A)
 * and op(B) = op(A)ᵀ pack to the same micro-panels, the dgemm macro-kernel takes the left and the
 * right panels from the same buffer, for the block lower triangle only (block rows of SYRK_BLOCK,
 * 53% of the full product's flops at 256 rows against gramRows' 62.5%). Same arithmetic as the
 * GEMM: products and sums over each k-slice in the f64x2 kernel, slices accumulated in order.
 *
 * It runs on the calling thread only (the wasm memory is not shared with the pool); see
 * `gramRows` for where it is used.
 */
import { allocF64, linalgWasm } from '../backend/linalg-kernels.js';

/** Rows of a block row of C: the kernel computes whole 4×4 tiles, so a multiple of 4. */
const SYRK_BLOCK = 16;

/**
 * G (m×m row-major, exactly symmetric) = A·Aᵀ for A the m×k matrix stored row-major from a[off]
 * with row stride lda, or with `trans` = AᵀA for A stored k×m (the m columns of the k rows from
 * a[off], row stride lda). Null when the wasm kernels are unavailable (SIMD off) or their memory
 * cannot hold the slice: the caller's GEMM route then.
 */
export function syrkWasm(a: Float64Array, off: number, lda: number, m: number, k: number, trans: boolean): Float64Array | null {
  if (trans)
    return syrkSlices(m, k, 1, true, (f, raw, pc, kc) => {
      // Rows pc … pc+kc−1 of the stored k×m matrix, m values each (one copy when they are contiguous).
      const s0 = off + pc * lda;
      if (lda === m) f.set(a.subarray(s0, s0 + kc * m), raw);
      else
        for (let r = 0; r < kc; r++) {
          const s = s0 + r * lda;
          if (m >= 16) f.set(a.subarray(s, s + m), raw + r * m);
          else for (let c = 0; c < m; c++) f[raw + r * m + c] = a[s + c];
        }
    });
  return syrkSlices(m, k, 1, false, (f, raw, pc, kc) => {
    // Row r of the slice: a[off + r·lda + pc …], kc values.
    for (let r = 0; r < m; r++) {
      const s = off + r * lda + pc;
      if (kc >= 16) f.set(a.subarray(s, s + kc), raw + r * kc);
      else for (let c = 0; c < kc; c++) f[raw + r * kc + c] = a[s + c];
    }
  });
}

/**
 * G = Mat·Matᵀ (I×I, exactly symmetric) for the unfolding of the [P, I, Q] view of a row-major
 * tensor (row i, column p·Q + q: x[(p·I + i)·Q + q]), gathered slice by slice straight into the
 * wasm memory: no unfolded copy of the tensor is made (tucker/hosvd.ts made one, 590k values for
 * a 256×256×3×3 kernel, before the GEMM copied it again). Null where syrkWasm would be, and when
 * Q is longer than a k-slice (whole fibres make a slice).
 */
export function syrkUnfolding(x: Float64Array, P: number, I: number, Q: number): Float64Array | null {
  return syrkSlices(I, P * Q, Q, false, (f, raw, pc, kc) => {
    const p0 = pc / Q;
    const np = kc / Q;
    // Fibres in source order (contiguous reads); slice row i, fibre p at raw + i·kc + p·Q.
    for (let p = 0; p < np; p++) {
      let src = (p0 + p) * I * Q;
      let dst = raw + p * Q;
      for (let i = 0; i < I; i++, src += Q, dst += kc) for (let q = 0; q < Q; q++) f[dst + q] = x[src + q];
    }
  });
}

/**
 * The product itself: `fill(f, raw, pc, kc)` writes columns pc … pc+kc−1 of op(A) into the view f
 * from index raw (m rows of kc values, or with `trans` kc rows of m values); slices are multiples
 * of `align` columns long (but the last).
 */
function syrkSlices(
  m: number,
  k: number,
  align: number,
  trans: boolean,
  fill: (f: Float64Array, raw: number, pc: number, kc: number) => void,
): Float64Array | null {
  if (m === 0 || k === 0) return allocF64(m * m);
  const mPad = Math.ceil(m / 4) * 4;
  // The k-slice: packed slices of ≈ 512 KiB (L2), longer for few rows (fewer, longer kernel calls).
  const want = Math.min(k, 4096, Math.max(256, Math.floor(65536 / mPad)));
  if (align > want) return null;
  const KC = want < k ? Math.floor(want / align) * align : k;
  const packAt = 0;
  // The raw slice as copied (m rows of kc, or kc rows of m), with room for the reads of the last
  // micro-panel past the edge (up to 3 rows, or 3 values after the last row) and a margin.
  const rawAt = packAt + mPad * KC * 8;
  const cAt = rawAt + (mPad + 4) * KC * 8 + 256;
  const ldc = mPad * 8;
  const w = linalgWasm(cAt + mPad * ldc);
  if (!w) return null;
  const f = w.f64;
  const raw = rawAt >> 3;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = Math.min(KC, k - pc);
    fill(f, raw, pc, kc);
    if (trans) w.packRowsD4(rawAt, m * 8, kc, mPad >> 2, packAt);
    else w.packColsD4(rawAt, kc * 8, kc, mPad >> 2, packAt);
    // Block row ib: its rows' panels against the panels of rows 0 … ib+rows−1 (the lower triangle
    // and the diagonal block), accumulated over the slices in the wasm buffer of C.
    for (let ib = 0; ib < mPad; ib += SYRK_BLOCK) {
      const rows = Math.min(SYRK_BLOCK, mPad - ib);
      w.dgemm(packAt + ib * kc * 8, packAt, cAt + ib * ldc, rows >> 2, (ib + rows) >> 2, kc, ldc, pc > 0 ? 1 : 0);
    }
  }
  const c = cAt >> 3;
  const g = allocF64(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j <= i; j++) {
      const v = f[c + i * mPad + j];
      g[i * m + j] = v;
      g[j * m + i] = v;
    }
  return g;
}
