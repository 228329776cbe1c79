/** Shared helpers for the CPU kernel tests: deterministic data and comparisons. */
import type { TypedArray } from '../../src/tensor/dtype.js';

export type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
export const CTORS: readonly Ctor[] = [Float32Array, Float64Array];

/** Small deterministic PRNG (mulberry32) so data is reproducible from the fast-check seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-1, 1). */
export function randomArray(ctor: Ctor, n: number, seed: number): TypedArray {
  const r = rng(seed);
  const out = new ctor(n);
  for (let i = 0; i < n; i++) out[i] = 2 * r() - 1;
  return out;
}

/** Small integers in [-3, 3]: many ties, for testing first-index rules. */
export function randomInts(ctor: Ctor, n: number, seed: number): TypedArray {
  const r = rng(seed);
  const out = new ctor(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(7 * r()) - 3;
  return out;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, q) => p * q, 1);
}

/** Row-major multi-index of flat index i. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + idx[d];
  return i;
}

/** Exact equality treating NaN as equal to NaN; returns the first mismatch for a readable failure. */
export function firstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 0): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    if (Math.abs(a - e) <= tol * Math.max(1, Math.abs(e))) continue;
    return `index ${i}: got ${a}, expected ${e}`;
  }
  return null;
}
