/**
 * Cache-blocked GEMM (the GotoBLAS loop nest): for each NC-wide slab of B and KC-deep slice of k,
 * pack the B block once (it stays in L2/L3), then for each MC-tall block of A pack it (L2) and sweep
 * the 4×4 micro-kernel over it. C must already hold beta·C; this adds alpha·op(A)·op(B).
 */
import type { GemmArgs } from '../backend.js';
import * as kernel from './gemm-kernel.js';
import { packA, packB } from './gemm-pack.js';
import { Scratch } from './scratch.js';

// Copied into module constants: some loaders (tsx, vitest) turn imported bindings into getters that
// V8 does not always inline; read per tile they cost more than the tile (3.5× on thin GEMMs).
const MR = kernel.MR;
const NR = kernel.NR;
const microKernel4x4 = kernel.microKernel4x4;

export const KC = 256;
export const MC = 64;
export const NC = 1024;

const aPanel = new Scratch();
const bPanel = new Scratch();
const tile = new Float64Array(MR * NR);

export function gemmBlocked(g: GemmArgs): void {
  const { m, n, k, alpha, a, aOffset, lda, transA, b, bOffset, ldb, transB, c, cOffset, ldc } = g;
  const ap = aPanel.get(Math.ceil(Math.min(MC, m) / MR) * MR * Math.min(KC, k));
  const bp = bPanel.get(Math.ceil(Math.min(NC, n) / NR) * NR * Math.min(KC, k));
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(b, bOffset, ldb, transB, pc, kc, jc, nc, bp);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(a, aOffset, lda, transA, ic, mc, pc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          const bi = jr * kc;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            microKernel4x4(kc, ap, ir * kc, bp, bi, tile);
            let ci = cOffset + (ic + ir) * ldc + jc + jr;
            if (mr === MR && nr === NR) {
              c[ci] += alpha * tile[0]; c[ci + 1] += alpha * tile[1]; c[ci + 2] += alpha * tile[2]; c[ci + 3] += alpha * tile[3];
              ci += ldc;
              c[ci] += alpha * tile[4]; c[ci + 1] += alpha * tile[5]; c[ci + 2] += alpha * tile[6]; c[ci + 3] += alpha * tile[7];
              ci += ldc;
              c[ci] += alpha * tile[8]; c[ci + 1] += alpha * tile[9]; c[ci + 2] += alpha * tile[10]; c[ci + 3] += alpha * tile[11];
              ci += ldc;
              c[ci] += alpha * tile[12]; c[ci + 1] += alpha * tile[13]; c[ci + 2] += alpha * tile[14]; c[ci + 3] += alpha * tile[15];
            } else {
              for (let r = 0; r < mr; r++, ci += ldc) {
                for (let s = 0; s < nr; s++) c[ci + s] += alpha * tile[r * NR + s];
              }
            }
          }
        }
      }
    }
  }
}
