/**
 * The CPU backend: kernels on typed arrays. Each kernel lives in its own file; kernels.ts wraps
 * them into the Kernels table every op runs on (`host`), and this class also keeps the in-place
 * entry points (gemm, im2col, ...) for the kernel tests and benchmarks.
 *
 * - GEMM: a packed, cache-blocked GEMM; float32 runs on WebAssembly SIMD micro-kernels emitted by
 *   the project itself (wasm/: a 4×8 f32x4 outer-product kernel, a 2×4 dot-product kernel for
 *   A·Bᵀ with long k), float64 (or a runtime without SIMD, or setSimd(false)) on a 4×4 plain-JS
 *   kernel. Large products are split across a pool of worker threads (threads.ts).
 * - im2col/col2im, max pooling, and large unary/binary ops are split across the pool too; float32
 *   im2col/col2im and the common elementwise ops run through wasm (copies in and out are memcpys).
 * - Threads: the core count, or TUCKERGRAD_THREADS, or setNumThreads(); TUCKERGRAD_SIMD=0 turns the
 *   wasm kernels off. Tensors of 4096+ elements live on SharedArrayBuffers (src/tensor/dtype.ts)
 *   so the workers read and write them in place.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { Backend, BinaryOp, GemmArgs, UnaryOp, WindowGeometry } from '../backend.js';
import type { Kernels } from '../kernels.js';
import { cpuKernels } from './kernels.js';
import { binary } from './binary.js';
import { gemm } from './gemm.js';
import { col2im, im2col } from './im2col.js';
import { permute } from './permute.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './pool.js';
import { extremeAxis, sumAxis } from './reduce.js';
import { unary } from './unary.js';

export class CpuBackend implements Backend {
  readonly name: string = 'cpu';
  readonly host: Kernels<TypedArray> = cpuKernels;

  gemm(args: GemmArgs): void {
    gemm(args);
  }

  im2col(x: TypedArray, g: WindowGeometry, cols: TypedArray): void {
    im2col(x, g, cols);
  }

  col2im(cols: TypedArray, g: WindowGeometry, dx: TypedArray): void {
    col2im(cols, g, dx);
  }

  maxPool2d(x: TypedArray, g: WindowGeometry, out: TypedArray, argmax: Int32Array): void {
    maxPool2d(x, g, out, argmax);
  }

  maxPool2dBackward(gy: TypedArray, argmax: Int32Array, dx: TypedArray): void {
    maxPool2dBackward(gy, argmax, dx);
  }

  avgPool2d(x: TypedArray, g: WindowGeometry, countIncludePad: boolean, out: TypedArray): void {
    avgPool2d(x, g, countIncludePad, out);
  }

  avgPool2dBackward(gy: TypedArray, g: WindowGeometry, countIncludePad: boolean, dx: TypedArray): void {
    avgPool2dBackward(gy, g, countIncludePad, dx);
  }

  unary(op: UnaryOp, x: TypedArray, out: TypedArray): void {
    unary(op, x, out);
  }

  binary(op: BinaryOp, a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[]): void {
    binary(op, a, aShape, b, bShape, out, outShape);
  }

  sumAxis(x: TypedArray, shape: readonly number[], axis: number, out: TypedArray): void {
    sumAxis(x, shape, axis, out);
  }

  extremeAxis(kind: 'max' | 'min', x: TypedArray, shape: readonly number[], axis: number, out: TypedArray, argIdx: Int32Array): void {
    extremeAxis(kind, x, shape, axis, out, argIdx);
  }

  permute(x: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): void {
    permute(x, shape, perm, out);
  }
}

export { cpuKernels } from './kernels.js';
export { erf, erfc } from './erf.js';
export { gelu, geluGrad } from './unary.js';
export { getNumThreads, setNumThreads, simdEnabled, setSimd, startWorkers } from './threads.js';
