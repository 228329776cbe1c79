/**
 * Float64 GEMM on the WebAssembly SIMD kernels: the float64 range of gemm-wasm.ts (dgemm, the 4×4
 * f64x2 macro-kernel, 8-byte elements), under its own name so that the thread pool's jobs and the
 * tests name the element type they run.
 *
 * This function also runs in the worker threads from its source text (see threads.ts).
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { GemmArgs } from '../backend.js';
import * as wasmGemm from './gemm-wasm.js';
import type { KernelState } from './state.js';

const gemmRangeWasm = wasmGemm.gemmRangeWasm;

export function gemmRangeWasmF64(
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
  gemmRangeWasm(st, g, i0, i1, j0, j1, p0, p1, out, outOffset, ldo, alpha, beta, true);
}
