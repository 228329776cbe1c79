/** Element types. float32 is for training; float64 for linear algebra and gradient checks. */
export type DType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array;

/**
 * Arrays of at least this many elements are allocated on a SharedArrayBuffer where the runtime has
 * one, so the CPU backend's worker threads can read and write them in place (see
 * src/backend/cpu/threads.ts); smaller ones never leave the calling thread.
 */
export const SHARED_MIN_ELEMENTS = 4096;

const canShare = typeof SharedArrayBuffer === 'function';

export function allocate(dtype: DType, size: number): TypedArray {
  if (canShare && size >= SHARED_MIN_ELEMENTS) {
    return dtype === 'float64' ? new Float64Array(new SharedArrayBuffer(size * 8)) : new Float32Array(new SharedArrayBuffer(size * 4));
  }
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64';
}
