/**
 * Packing of A and B blocks into micro-panels, in the order the micro-kernel reads them.
 * Panels are always Float64Array: float32 → float64 is exact, the kernel accumulates in doubles
 * anyway, and one element type keeps the hot loop monomorphic (no per-load conversion, no
 * polymorphic inline caches). Edge panels are zero-padded so the kernel never branches.
 *
 * These functions also run in the worker threads, which get their source text (see threads.ts):
 * they may use only their parameters, globals, and the other worker functions, so MR = NR = 4 is
 * written out as a literal.
 */
import type { TypedArray } from '../../tensor/dtype.js';

/**
 * Packs op(A)[i0 : i0+mc, p0 : p0+kc] as ceil(mc/MR) panels; panel q holds, for each k step,
 * the MR values of rows i0 + q·MR … in consecutive slots.
 */
export function packA(a: TypedArray, aOffset: number, lda: number, transA: boolean, i0: number, mc: number, p0: number, kc: number, ap: Float64Array): void {
  const MR = 4;
  let dst = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    if (transA) {
      // op(A)(i, p) = a[p·lda + i]: the MR values of one k step are contiguous.
      let src = aOffset + p0 * lda + i0 + ir;
      for (let p = 0; p < kc; p++, src += lda, dst += MR) {
        for (let r = 0; r < rows; r++) ap[dst + r] = a[src + r];
        for (let r = rows; r < MR; r++) ap[dst + r] = 0;
      }
    } else {
      // op(A)(i, p) = a[i·lda + p]: walk each row contiguously, writing with stride MR.
      for (let r = 0; r < MR; r++) {
        let d = dst + r;
        if (r < rows) {
          let src = aOffset + (i0 + ir + r) * lda + p0;
          for (let p = 0; p < kc; p++, d += MR) ap[d] = a[src++];
        } else {
          for (let p = 0; p < kc; p++, d += MR) ap[d] = 0;
        }
      }
      dst += kc * MR;
    }
  }
}

/**
 * Packs op(B)[p0 : p0+kc, j0 : j0+nc] as ceil(nc/NR) panels; panel q holds, for each k step,
 * the NR values of columns j0 + q·NR … in consecutive slots.
 */
export function packB(b: TypedArray, bOffset: number, ldb: number, transB: boolean, p0: number, kc: number, j0: number, nc: number, bp: Float64Array): void {
  const NR = 4;
  let dst = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    if (!transB) {
      // op(B)(p, j) = b[p·ldb + j]: the NR values of one k step are contiguous.
      let src = bOffset + p0 * ldb + j0 + jr;
      for (let p = 0; p < kc; p++, src += ldb, dst += NR) {
        for (let c = 0; c < cols; c++) bp[dst + c] = b[src + c];
        for (let c = cols; c < NR; c++) bp[dst + c] = 0;
      }
    } else {
      // op(B)(p, j) = b[j·ldb + p]: walk each stored row contiguously, writing with stride NR.
      for (let c = 0; c < NR; c++) {
        let d = dst + c;
        if (c < cols) {
          let src = bOffset + (j0 + jr + c) * ldb + p0;
          for (let p = 0; p < kc; p++, d += NR) bp[d] = b[src++];
        } else {
          for (let p = 0; p < kc; p++, d += NR) bp[d] = 0;
        }
      }
      dst += kc * NR;
    }
  }
}
