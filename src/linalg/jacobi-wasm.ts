/**
 * The rows a one-sided Jacobi round works on (svd.ts: X and the accumulated rotations W, n×n
 * row-major), copied into linalg's wasm memory so that the round's dot products and plane
 * rotations run on the f64x2 kernels: a dot product is a one-row dgemvN, a rotation of rows
 * p < q one drotSeq step with the row stride set to q − p rows (drotSeq rotates row t and the row
 * one stride after it: row p ← c·p − s·q, row q ← s·p + c·q, the rotation of svd.ts's `rotate`).
 * Worth its two copies for long lists of pairs (the first round after preconditioning rotates a
 * tenth of all pairs); the rows go back to the caller's buffers in `finish`.
 */
import { linalgWasm } from '../backend/linalg-kernels.js';

export interface RowPairKernels {
  /** x_p · x_q. */
  dot(p: number, q: number): number;
  /** Rows p < q of X (and of W, if given) ← the rotation (c, s). */
  rotate(p: number, q: number, c: number, s: number): void;
  /** Copies the rows back into the caller's X and W. */
  finish(): void;
}

/** The kernels on rows of x (and wt, if not null), n×n row-major; null without wasm kernels. */
export function wasmRowPairs(x: Float64Array, wt: Float64Array | null, n: number): RowPairKernels | null {
  // Rows padded to a multiple of 8 doubles with zeros (drotSeq works eight columns at a time;
  // dgemvN wants an even length), then (c, s) and the dot product's output.
  const ld = Math.ceil(n / 8) * 8;
  const xo = 0;
  const wo = n * ld;
  const cs = (wt ? 2 : 1) * n * ld;
  const yo = cs + 2;
  const w = linalgWasm((yo + 2) * 8);
  if (!w) return null;
  const f = w.f64;
  f.fill(0, 0, yo + 2);
  for (let i = 0; i < n; i++) {
    f.set(x.subarray(i * n, i * n + n), xo + i * ld);
    if (wt) f.set(wt.subarray(i * n, i * n + n), wo + i * ld);
  }
  return {
    dot(p, q) {
      w.dgemvN((xo + p * ld) * 8, ld * 8, 1, ld, (xo + q * ld) * 8, yo * 8, 0);
      return f[yo];
    },
    rotate(p, q, c, s) {
      f[cs] = c;
      f[cs + 1] = s;
      w.drotSeq((xo + p * ld) * 8, (q - p) * ld * 8, 1, cs * 8, ld);
      if (wt) w.drotSeq((wo + p * ld) * 8, (q - p) * ld * 8, 1, cs * 8, ld);
    },
    finish() {
      for (let i = 0; i < n; i++) {
        x.set(f.subarray(xo + i * ld, xo + i * ld + n), i * n);
        if (wt) wt.set(f.subarray(wo + i * ld, wo + i * ld + n), i * n);
      }
    },
  };
}
