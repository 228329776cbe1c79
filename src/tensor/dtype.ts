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

/**
 * Counters of allocate(): `fresh` buffers created, `reused` ones taken back from the pool. A step
 * run inside arena() (src/tensor/storage.ts) should reach fresh = 0 once warmed up.
 */
export const allocationStats = { fresh: 0, reused: 0 };

/** Free buffers by dtype and length, filled by recycle() (arena() scopes), emptied by allocate(). */
const pool = new Map<string, TypedArray[]>();
let pooledBytes = 0;
/** At most this many bytes wait in the pool; beyond, recycled buffers are left to the GC. */
export const POOL_MAX_BYTES = 256 * 1024 * 1024;

/** Where allocate() reports each buffer it hands out (the innermost open arena(), if any). */
let onAllocate: ((a: TypedArray) => void) | null = null;

/** The hook allocate() reports to now (null: none). */
export function allocationHook(): ((a: TypedArray) => void) | null {
  return onAllocate;
}

/** Installs the hook arena() uses to learn the buffers allocated in its scope (null: none). */
export function setAllocationHook(hook: ((a: TypedArray) => void) | null): void {
  onAllocate = hook;
}

const poolKey = (dtype: DType, size: number): string => `${dtype}:${size}`;

/**
 * A zero-filled buffer: a recycled one of the same dtype and length where the pool has one. With
 * zero = false a recycled buffer keeps its old values: only for kernels that write every element.
 */
export function allocate(dtype: DType, size: number, zero = true): TypedArray {
  let a: TypedArray;
  const free = size > 0 ? pool.get(poolKey(dtype, size)) : undefined;
  if (free !== undefined && free.length > 0) {
    a = free.pop()!;
    pooledBytes -= a.byteLength;
    if (zero) a.fill(0);
    allocationStats.reused++;
  } else {
    allocationStats.fresh++;
    if (canShare && size >= SHARED_MIN_ELEMENTS) {
      a = dtype === 'float64' ? new Float64Array(new SharedArrayBuffer(size * 8)) : new Float32Array(new SharedArrayBuffer(size * 4));
    } else a = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  }
  onAllocate?.(a);
  return a;
}

/**
 * Gives a buffer from allocate() back for reuse. The caller guarantees nothing reads or writes it
 * any more (arena() decides that); the next allocate() of its dtype and length zeroes and returns it.
 */
export function recycle(a: TypedArray): void {
  if (a.length === 0 || pooledBytes + a.byteLength > POOL_MAX_BYTES) return;
  // Only whole buffers: a view into a larger one would alias its neighbours.
  if (a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
  const key = poolKey(dtypeOf(a), a.length);
  let free = pool.get(key);
  if (free === undefined) {
    free = [];
    pool.set(key, free);
  }
  if (free.includes(a)) return;
  free.push(a);
  pooledBytes += a.byteLength;
}

/** Empties the pool (tests; or to give the memory back to the GC). */
export function clearPool(): void {
  pool.clear();
  pooledBytes = 0;
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64';
}
