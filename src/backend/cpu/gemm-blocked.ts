/**
 * Cache-blocked GEMM in plain JavaScript (the GotoBLAS loop nest), on one block of the output:
 * for each NC-wide slab of B and KC-deep slice of k, pack the B block once (it stays in L2/L3), then
 * for each MC-tall block of A pack it (L2) and sweep the 4×4 micro-kernel over it.
 *
 * gemmRangeJs computes out[i, j] = alpha · Σ_{p0 ≤ p < p1} op(A)(i, p)·op(B)(p, j) + beta · out[i, j]
 * for i0 ≤ i < i1, j0 ≤ j < j1, where out[i, j] is out[outOffset + (i − i0)·ldo + (j − j0)]: the whole
 * product on one thread, or one thread's share of it (a block of rows, of columns, or of k).
 *
 * These functions also run in the worker threads from their source text (see threads.ts): they use
 * only their parameters, globals and other worker functions, which this module binds to local
 * names equal to their own (a namespace import read through a getter would also cost a call per tile).
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { GemmArgs } from '../backend.js';
import * as kernelModule from './gemm-kernel.js';
import * as packModule from './gemm-pack.js';
import * as stateModule from './state.js';
import type { KernelState } from './state.js';

const microKernel4x4 = kernelModule.microKernel4x4;
const packA = packModule.packA;
const packB = packModule.packB;
const growF64 = stateModule.growF64;

/** out[i, j] = beta · out[i, j] over an m×n block; beta = 0 overwrites, so NaN already there does not leak. */
export function scaleBlock(out: TypedArray, outOffset: number, ldo: number, m: number, n: number, beta: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const row = outOffset + i * ldo;
    if (beta === 0) out.fill(0, row, row + n);
    else for (let j = row; j < row + n; j++) out[j] *= beta;
  }
}

export function gemmRangeJs(
  st: KernelState,
  g: GemmArgs,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  p0: number,
  p1: number,
  out: TypedArray,
  outOffset: number,
  ldo: number,
  alpha: number,
  beta: number,
): void {
  const m = i1 - i0;
  const n = j1 - j0;
  const k = p1 - p0;
  scaleBlock(out, outOffset, ldo, m, n, beta);
  if (m <= 0 || n <= 0 || k <= 0 || alpha === 0) return;
  const a = g.a,
    aOffset = g.aOffset,
    lda = g.lda,
    transA = g.transA;
  const b = g.b,
    bOffset = g.bOffset,
    ldb = g.ldb,
    transB = g.transB;
  const KC = st.jsKc,
    MC = st.jsMc,
    NC = st.jsNc;
  st.ap = growF64(st.ap, Math.ceil(Math.min(MC, m) / 4) * 4 * Math.min(KC, k));
  st.bp = growF64(st.bp, Math.ceil(Math.min(NC, n) / 4) * 4 * Math.min(KC, k));
  const ap = st.ap,
    bp = st.bp,
    tile = st.tile;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(b, bOffset, ldb, transB, p0 + pc, kc, j0 + jc, nc, bp);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(a, aOffset, lda, transA, i0 + ic, mc, p0 + pc, kc, ap);
        for (let jr = 0; jr < nc; jr += 4) {
          const nr = Math.min(4, nc - jr);
          const bi = jr * kc;
          for (let ir = 0; ir < mc; ir += 4) {
            const mr = Math.min(4, mc - ir);
            microKernel4x4(kc, ap, ir * kc, bp, bi, tile);
            let ci = outOffset + (ic + ir) * ldo + jc + jr;
            if (mr === 4 && nr === 4) {
              out[ci] += alpha * tile[0];
              out[ci + 1] += alpha * tile[1];
              out[ci + 2] += alpha * tile[2];
              out[ci + 3] += alpha * tile[3];
              ci += ldo;
              out[ci] += alpha * tile[4];
              out[ci + 1] += alpha * tile[5];
              out[ci + 2] += alpha * tile[6];
              out[ci + 3] += alpha * tile[7];
              ci += ldo;
              out[ci] += alpha * tile[8];
              out[ci + 1] += alpha * tile[9];
              out[ci + 2] += alpha * tile[10];
              out[ci + 3] += alpha * tile[11];
              ci += ldo;
              out[ci] += alpha * tile[12];
              out[ci + 1] += alpha * tile[13];
              out[ci + 2] += alpha * tile[14];
              out[ci + 3] += alpha * tile[15];
            } else {
              for (let r = 0; r < mr; r++, ci += ldo) {
                for (let s = 0; s < nr; s++) out[ci + s] += alpha * tile[r * 4 + s];
              }
            }
          }
        }
      }
    }
  }
}
