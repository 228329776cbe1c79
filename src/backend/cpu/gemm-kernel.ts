/**
 * The 4×4 register-blocked micro-kernel: C_tile += Ap_panel · Bp_panel over kc steps.
 * The 16 accumulators are locals so TurboFan keeps them in registers; both panels are Float64Array
 * (see gemm-pack.ts), which keeps this function monomorphic for float32 and float64 callers alike.
 */
export const MR = 4;
export const NR = 4;

/**
 * ap: packed A, MR values per k step starting at ai; bp: packed B, NR values per k step from bi.
 * Writes the raw MR×NR products (row-major) into tile; the caller scales and stores them.
 */
export function microKernel4x4(kc: number, ap: Float64Array, ai: number, bp: Float64Array, bi: number, tile: Float64Array): void {
  // Literal 4s rather than MR/NR: this function also runs in the worker threads from its source text.
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  const end = ai + kc * 4;
  for (; ai < end; ai += 4, bi += 4) {
    const a0 = ap[ai],
      a1 = ap[ai + 1],
      a2 = ap[ai + 2],
      a3 = ap[ai + 3];
    const b0 = bp[bi],
      b1 = bp[bi + 1],
      b2 = bp[bi + 2],
      b3 = bp[bi + 3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c02;
  tile[3] = c03;
  tile[4] = c10;
  tile[5] = c11;
  tile[6] = c12;
  tile[7] = c13;
  tile[8] = c20;
  tile[9] = c21;
  tile[10] = c22;
  tile[11] = c23;
  tile[12] = c30;
  tile[13] = c31;
  tile[14] = c32;
  tile[15] = c33;
}
