/**
 * The layout change around a convolution's GEMM, as a range kernel the pool can split (kernels.ts
 * `convSwap`): x is [A, B, P], out is [B, A, P], out[b, a, :] = x[a, b, :] + bias[a]. Forward:
 * the product [outC, N, P] becomes NCHW with the bias added in the same pass; backward: the
 * output gradient [N, outC, P] becomes [outC, N, P], with each output row's sum (for the bias
 * gradient) taken in the same pass. Runs in the workers from its source text (see threads.ts).
 */
import type { TypedArray } from '../../tensor/dtype.js';
import * as stateModule from './state.js';
import type { KernelState } from './state.js';

const wasmReserve = stateModule.wasmReserve;

/** Output rows [r0, r1) of the swap (row r = b·A + a); rowSums[r] = Σ_p x[a, b, p] when given. */
export function swapRows(
  x: TypedArray,
  A: number,
  B: number,
  P: number,
  bias: TypedArray | null,
  out: TypedArray,
  rowSums: Float64Array | null,
  r0: number,
  r1: number,
): void {
  for (let r = r0; r < r1; r++) {
    const b = Math.floor(r / A);
    const a = r - b * A;
    const src = (a * B + b) * P;
    const dst = r * P;
    const add = bias === null ? 0 : bias[a];
    if (rowSums !== null) {
      let s = 0;
      for (let p = 0; p < P; p++) {
        const v = x[src + p];
        out[dst + p] = v + add;
        s += v;
      }
      rowSums[r] = s;
    } else if (bias !== null) {
      for (let p = 0; p < P; p++) out[dst + p] = x[src + p] + add;
    } else {
      // A plain row copy: one memcpy.
      out.set(x.subarray(src, src + P), dst);
    }
  }
}

type RowsFn = (...args: number[]) => void;

/**
 * swapRows for float32 through the wasm row kernels (wasm/rows.ts), where there is a bias to add or
 * a sum to take: the rows are copied in their new order into the module's memory (one memcpy
 * each), the bias added or the sums taken four floats at a time, and the block copied out in one
 * memcpy. The bias gives swapRows' bits; a row's sum is taken in four float32 lanes, then in
 * doubles, in another order than swapRows' (within float32 rounding of it). A plain copy needs no
 * arithmetic and stays with swapRows.
 */
export function swapRowsW(
  st: KernelState,
  x: TypedArray,
  A: number,
  B: number,
  P: number,
  bias: TypedArray | null,
  out: TypedArray,
  rowSums: Float64Array | null,
  r0: number,
  r1: number,
): void {
  const w = st.wasm;
  const addBias = w ? (w.ex.rowsBias as RowsFn | undefined) : undefined;
  const sum4 = w ? (w.ex.rowsSum4 as RowsFn | undefined) : undefined;
  if (!w || !addBias || !sum4 || !(x instanceof Float32Array) || (bias === null && rowSums === null) || P < 4)
    return swapRows(x, A, B, P, bias, out, rowSums, r0, r1);
  // Blocks of about 256 KiB of rows (at least one row), then the bias and four partial sums per row.
  const rowsPer = Math.max(1, Math.floor(65536 / P));
  const biasAt = rowsPer * P * 4;
  const sumsAt = biasAt + A * 4;
  wasmReserve(w, sumsAt + rowsPer * 16);
  const f32 = w.f32;
  if (bias !== null) f32.set(bias, biasAt >> 2);
  const tail = P & ~3;
  for (let s = r0; s < r1; s += rowsPer) {
    const e = Math.min(r1, s + rowsPer);
    for (let r = s; r < e; r++) {
      const b = Math.floor(r / A);
      const src = ((r - b * A) * B + b) * P;
      f32.set(x.subarray(src, src + P), (r - s) * P);
    }
    if (rowSums !== null) {
      sum4(0, e - s, P, sumsAt);
      for (let r = s; r < e; r++) {
        const q = (sumsAt >> 2) + (r - s) * 4;
        let t = f32[q] + f32[q + 1] + (f32[q + 2] + f32[q + 3]);
        for (let p = (r - s) * P + tail, end = (r - s + 1) * P; p < end; p++) t += f32[p];
        rowSums[r] = t;
      }
    }
    if (bias !== null) addBias(0, e - s, P, biasAt, A, s % A);
    out.set(f32.subarray(0, (e - s) * P), s * P);
  }
}
