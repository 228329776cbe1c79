/**
 * Batch normalisation on the host as two fused kernels (docs/design.md §3.5.3): x is [N, C, P]
 * (P = H·W), every statistic per channel c over its N·P values. Written out as the composition of
 * ops it took some twenty passes over x with broadcasting loops, forward and backward, more time
 * than the convolutions' GEMMs of a VGG-style net; here the forward reads x twice for the
 * statistics and once for y, the backward reads gy and x once for the sums and once for dx.
 * Sums run in doubles. The range functions take channels [c0, c1) so the pool can split them;
 * they also run in the workers from their source text (see threads.ts).
 */
import type { TypedArray } from '../../tensor/dtype.js';

/** Per-channel mean and biased variance, in doubles: a pass for the mean, one for Σ(x − mean)². */
export function bnStatsRange(x: TypedArray, N: number, C: number, P: number, mean: Float64Array, variance: Float64Array, c0: number, c1: number): void {
  const M = N * P;
  for (let c = c0; c < c1; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * P;
      for (let p = base; p < base + P; p++) s += x[p];
    }
    const m = s / M;
    let q = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * P;
      for (let p = base; p < base + P; p++) {
        const d = x[p] - m;
        q += d * d;
      }
    }
    mean[c] = m;
    variance[c] = q / M;
  }
}

/** out = (x − mean_c)·invstd_c·γ_c + β_c (γ = 1 and β = 0 where absent), in doubles, rounded once. */
export function bnApplyRange(
  x: TypedArray,
  N: number,
  C: number,
  P: number,
  mean: Float64Array,
  invstd: Float64Array,
  weight: TypedArray | null,
  bias: TypedArray | null,
  out: TypedArray,
  c0: number,
  c1: number,
): void {
  for (let c = c0; c < c1; c++) {
    const m = mean[c];
    const scale = invstd[c] * (weight === null ? 1 : weight[c]);
    const shift = bias === null ? 0 : bias[c];
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * P;
      for (let p = base; p < base + P; p++) out[p] = (x[p] - m) * scale + shift;
    }
  }
}

/**
 * The backward pass per channel, x̂ = (x − mean)·invstd: sums[2c] = Σ gy (β's gradient) and
 * sums[2c + 1] = Σ gy·x̂ (γ's), then dx = γ·invstd·(gy − Σgy/M − x̂·Σgy·x̂/M) with batch statistics
 * (training), or γ·invstd·gy with fixed ones (eval).
 */
export function bnBackwardRange(
  gy: TypedArray,
  x: TypedArray,
  N: number,
  C: number,
  P: number,
  mean: Float64Array,
  invstd: Float64Array,
  weight: TypedArray | null,
  training: boolean,
  dx: TypedArray | null,
  sums: Float64Array,
  c0: number,
  c1: number,
): void {
  const M = N * P;
  for (let c = c0; c < c1; c++) {
    const m = mean[c];
    const is = invstd[c];
    let sg = 0;
    let sgx = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * P;
      for (let p = base; p < base + P; p++) {
        const g = gy[p];
        sg += g;
        sgx += g * (x[p] - m);
      }
    }
    sgx *= is;
    sums[2 * c] = sg;
    sums[2 * c + 1] = sgx;
    if (dx === null) continue;
    const k = is * (weight === null ? 1 : weight[c]);
    if (training) {
      const a = sg / M;
      const b = (sgx / M) * is;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * P;
        for (let p = base; p < base + P; p++) dx[p] = k * (gy[p] - a - (x[p] - m) * b);
      }
    } else {
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * P;
        for (let p = base; p < base + P; p++) dx[p] = k * gy[p];
      }
    }
  }
}
