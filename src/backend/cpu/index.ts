/**
 * The CPU backend: single-threaded kernels on typed arrays. Each kernel lives in its own file;
 * this class only wires them to the Backend interface.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { Backend, BinaryOp, GemmArgs, UnaryOp, WindowGeometry } from '../backend.js';
import { binary } from './binary.js';
import { gemm } from './gemm.js';
import { col2im, im2col } from './im2col.js';
import { permute } from './permute.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './pool.js';
import { extremeAxis, sumAxis } from './reduce.js';
import { unary } from './unary.js';

export class CpuBackend implements Backend {
  readonly name = 'cpu';

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

export { erf, erfc } from './erf.js';
export { gelu, geluGrad } from './unary.js';
