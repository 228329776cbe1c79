/**
 * The float64 kernels linalg/ and tucker/ build on, behind one stable door: the blocked, threaded
 * GEMM of the CPU backend and the allocation that lets it share operands with its worker threads
 * without copying them. linalg/ imports GEMM from here only, so that the backend's dispatch layer
 * can change underneath without touching the factorisations.
 */
import { allocate } from '../tensor/dtype.js';
import type { GemmArgs } from './backend.js';
import { gemm } from './cpu/gemm.js';
import { wasmReserve, type WasmKernels } from './cpu/state.js';
import { getNumThreads, linalgKernels, onCallingThread } from './cpu/threads.js';

/** C = alpha·op(A)·op(B) + beta·C on float64 buffers (row-major, BLAS argument conventions; validated). */
export function gemmF64(g: GemmArgs): void {
  if (!(g?.a instanceof Float64Array)) throw new Error(`gemmF64: a must be a Float64Array, got ${g?.a?.constructor?.name ?? String(g?.a)}`);
  gemm(g);
}

/**
 * A zeroed Float64Array of `size` elements, on a SharedArrayBuffer when it is large enough for the
 * threaded GEMM to split a product over it (the workers then read and write it in place instead
 * of staging a copy through scratch).
 */
export function allocF64(size: number): Float64Array {
  if (!Number.isInteger(size) || size < 0) throw new Error(`allocF64: size must be an integer ≥ 0, got ${size}`);
  return allocate('float64', size) as Float64Array;
}

/**
 * The calling thread's instance of the WebAssembly kernels reserved for linalg/ (f64x2 dgemm,
 * dgemvN, dgemvT, drotSeq; see cpu/wasm/kernels-f64.ts), with its memory grown to at least
 * `bytes`; null when SIMD is off or unavailable, or the memory cannot grow that far. Its memory
 * (and the `f64` view) stays put until the next call.
 */
export function linalgWasm(bytes: number): WasmKernels | null {
  if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`linalgWasm: bytes must be an integer ≥ 0, got ${bytes}`);
  const w = linalgKernels();
  if (!w) return null;
  try {
    wasmReserve(w, bytes);
  } catch {
    // Past what the runtime lets a wasm32 memory grow to: the caller's JavaScript route instead.
    return null;
  }
  return w;
}

/** The number of threads the float64 GEMM may split a product over (the calling thread included). */
export function f64Threads(): number {
  return getNumThreads();
}

/** Runs fn with every kernel on the calling thread, as with one thread (the pool left parked). */
export function onCallingThreadOnly<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new Error(`onCallingThreadOnly: fn must be a function, got ${typeof fn}`);
  return onCallingThread(fn);
}

export type { GemmArgs, WasmKernels };
