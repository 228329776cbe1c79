/**
 * The layout change around a convolution's GEMM, as a range kernel the pool can split (kernels.ts
 * `convSwap`): x is [A, B, P], out is [B, A, P], out[b, a, :] = x[a, b, :] + bias[a]. Forward:
 * the product [outC, N, P] becomes NCHW with the bias added in the same pass; backward: the
 * output gradient [N, outC, P] becomes [outC, N, P], with each output row's sum (for the bias
 * gradient) taken in the same pass. Runs in the workers from its source text (see threads.ts).
 */
import type { TypedArray } from '../../tensor/dtype.js';

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
