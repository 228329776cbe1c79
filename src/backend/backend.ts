import type { TypedArray } from '../tensor/dtype.js';
import type { DeviceKernels } from './device.js';

/**
 * The kernels a backend provides. Backends know nothing about autograd or Tensor objects: they
 * run on raw, contiguous, row-major typed arrays. Adding an op means one kernel here per backend
 * and one vjp in ops/.
 */

/** C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major with explicit leading dimensions. */
export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  /** op(A) is m×k. Stored as m×k (lda ≥ k) or, if transA, as k×m (lda ≥ m). */
  a: TypedArray;
  aOffset: number;
  lda: number;
  /** op(B) is k×n. Stored as k×n (ldb ≥ n) or, if transB, as n×k (ldb ≥ k). */
  b: TypedArray;
  bOffset: number;
  ldb: number;
  beta: number;
  c: TypedArray;
  cOffset: number;
  ldc: number;
}

/**
 * Geometry of a 2-D sliding window over an NCHW batch (convolution or pooling).
 * `channels` is the number of channels the window covers (per group for a grouped conv),
 * starting at channel `channelOffset` of an input that has `totalChannels` channels.
 */
export interface WindowGeometry {
  batch: number;
  totalChannels: number;
  channelOffset: number;
  channels: number;
  inH: number;
  inW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilH: number;
  dilW: number;
  outH: number;
  outW: number;
}

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu' | 'sigmoid' | 'tanh' | 'gelu' | 'square'
  | 'sign' | 'reciprocal'
  /** 1 where x > 0, else 0 (the derivative mask of relu). */
  | 'step'
  /** d/dx of the exact gelu: Φ(x) + x·φ(x). */
  | 'geluGrad';

/** Arithmetic, elementwise max/min, and comparisons that return 1 or 0. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'gt' | 'ge' | 'lt' | 'le' | 'eq';

export interface Backend {
  readonly name: string;
  /**
   * Present on backends whose tensors can live on a device (the GPU): float32 ops then run these
   * kernels on device buffers and read back only when asked. The raw kernels below still serve
   * float64 and the ops without a device kernel.
   */
  readonly device?: DeviceKernels;

  gemm(args: GemmArgs): void;

  /**
   * Lowers a batch to columns: cols has shape [channels·kH·kW, batch·outH·outW], row index
   * (c·kH + i)·kW + j, column index (n·outH + oh)·outW + ow. Padding reads as 0.
   */
  im2col(x: TypedArray, g: WindowGeometry, cols: TypedArray): void;
  /** Adjoint of im2col: accumulates (+=) the columns back into dx (NCHW, totalChannels). */
  col2im(cols: TypedArray, g: WindowGeometry, dx: TypedArray): void;

  /** Max pooling over all channels (channelOffset 0). argmax gets the flat index into x per output. */
  maxPool2d(x: TypedArray, g: WindowGeometry, out: TypedArray, argmax: Int32Array): void;
  /** Scatter-adds gy into dx at argmax. */
  maxPool2dBackward(gy: TypedArray, argmax: Int32Array, dx: TypedArray): void;
  /** Average pooling; countIncludePad selects the divisor (PyTorch's default is true). */
  avgPool2d(x: TypedArray, g: WindowGeometry, countIncludePad: boolean, out: TypedArray): void;
  avgPool2dBackward(gy: TypedArray, g: WindowGeometry, countIncludePad: boolean, dx: TypedArray): void;

  /** out[i] = f(x[i]). */
  unary(op: UnaryOp, x: TypedArray, out: TypedArray): void;
  /** out = a ∘ b with NumPy broadcasting; shapes are already aligned to out's rank. */
  binary(op: BinaryOp, a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[]): void;
  /** Sums x (shape) over one axis into out (shape with that axis removed). */
  sumAxis(x: TypedArray, shape: readonly number[], axis: number, out: TypedArray): void;
  /** Max (or min) over one axis; argIdx gets the index along the axis of the first extreme. */
  extremeAxis(kind: 'max' | 'min', x: TypedArray, shape: readonly number[], axis: number, out: TypedArray, argIdx: Int32Array): void;
  /** Copies x into out with its axes permuted (out axis i = x axis perm[i]). */
  permute(x: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): void;
}
