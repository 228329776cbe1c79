/**
 * The optimizer updates as range kernels, so the large parameters' updates split across the pool
 * (kernels.ts). They also run in the workers from their source text (see threads.ts): parameters,
 * globals and nothing else. Each element's arithmetic is the serial loop's, so any split gives the
 * same bits.
 */
import type { TypedArray } from '../../tensor/dtype.js';

/**
 * One SGD step (PyTorch's) over [lo, hi): d = g + wd·w; v = first ? d : mu·v + (1 − damp)·d;
 * w −= lr·(nesterov ? d + mu·v : v). With mu = 0, v is not touched (it may be any array).
 */
export function sgdRange(
  w: TypedArray,
  g: TypedArray,
  v: TypedArray,
  lr: number,
  wd: number,
  mu: number,
  damp: number,
  nesterov: boolean,
  first: boolean,
  lo: number,
  hi: number,
): void {
  if (mu === 0) {
    for (let i = lo; i < hi; i++) w[i] -= lr * (g[i] + wd * w[i]);
    return;
  }
  // One loop per case: V8 does not hoist the loop-invariant branches, and the branch-free loops
  // run twice as fast. v[i] is read back after the store so that a float32 v rounds as it did.
  const keep = 1 - damp;
  if (first && nesterov) {
    for (let i = lo; i < hi; i++) {
      const d = g[i] + wd * w[i];
      v[i] = d;
      w[i] -= lr * (d + mu * v[i]);
    }
  } else if (first) {
    for (let i = lo; i < hi; i++) {
      v[i] = g[i] + wd * w[i];
      w[i] -= lr * v[i];
    }
  } else if (nesterov) {
    for (let i = lo; i < hi; i++) {
      const d = g[i] + wd * w[i];
      v[i] = mu * v[i] + keep * d;
      w[i] -= lr * (d + mu * v[i]);
    }
  } else {
    for (let i = lo; i < hi; i++) {
      v[i] = mu * v[i] + keep * (g[i] + wd * w[i]);
      w[i] -= lr * v[i];
    }
  }
}
