import type { DeviceArray, Uploader } from '../tensor/storage.js';
import type { BinaryOp, UnaryOp, WindowGeometry } from './backend.js';

/**
 * Device kernels index in float32 (see gpu/sources.ts), exact below this many elements per
 * buffer; ops keep larger tensors on the host path.
 */
export const MAX_DEVICE_ELEMENTS = 1 << 22;

/** Batched GEMM on device buffers: C_t = op(A_t)·op(B_t) for t < batch, C packed as [batch, m, n]. */
export interface DeviceGemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  batch: number;
  /** Leading dimensions as in GemmArgs (row-major). */
  lda: number;
  ldb: number;
  aOffset: number;
  bOffset: number;
  /** Elements between consecutive batch entries of A and B (0 broadcasts one matrix). */
  aBatchStride: number;
  bBatchStride: number;
}

export interface AdamScalars {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − β₁ᵗ and 1 − β₂ᵗ. */
  c1: number;
  c2: number;
  wdCoupled: number;
  wdDecoupled: number;
}

/**
 * The kernels a device backend runs on buffers that stay on the device between ops. Every kernel
 * returns a fresh float32 buffer (device buffers are never written in place), so ops stay pure and
 * autograd can hold on to anything it saved. Shapes are row-major, as on the host.
 */
export interface DeviceKernels extends Uploader {
  /** The gpu.js mode that actually runs the kernels ('headlessgl', 'webgl2', ...). */
  readonly mode: string;
  /** Device buffers currently alive (for leak checks). */
  liveBuffers(): number;
  unary(op: UnaryOp, x: DeviceArray): DeviceArray;
  /** a ∘ b with NumPy broadcasting; aShape and bShape are padded to outShape's rank. */
  binary(op: BinaryOp, a: DeviceArray, aShape: readonly number[], b: DeviceArray, bShape: readonly number[], outShape: readonly number[]): DeviceArray;
  /** α·a + β·b, same size (the optimizers' update). */
  axpby(a: DeviceArray, alpha: number, b: DeviceArray, beta: number): DeviceArray;
  /**
   * One Adam step (PyTorch's update): gᵢ = g + wdCoupled·w; m' = β₁m + (1 − β₁)gᵢ; v' = β₂v + (1 − β₂)gᵢ²;
   * w' = w(1 − lr·wdDecoupled) − lr·(m'/c₁)/(√(v'/c₂) + ε), with c₁, c₂ the bias corrections.
   */
  adamStep(w: DeviceArray, g: DeviceArray, m: DeviceArray, v: DeviceArray, s: AdamScalars): { w: DeviceArray; m: DeviceArray; v: DeviceArray };
  sumAxis(x: DeviceArray, shape: readonly number[], axis: number): DeviceArray;
  /** Max or min of each row of an [outer, inner] buffer, and the index of the first extreme. */
  extremeRows(kind: 'max' | 'min', x: DeviceArray, outer: number, inner: number): { values: DeviceArray; index: DeviceArray };
  /** Inverse of extremeRows for gradients: an [outer, inner] buffer of zeros with g[r] at index[r]. */
  scatterRows(g: DeviceArray, index: DeviceArray, outer: number, inner: number): DeviceArray;
  permute(x: DeviceArray, shape: readonly number[], perm: readonly number[]): DeviceArray;
  gemm(a: DeviceArray, b: DeviceArray, args: DeviceGemmArgs): DeviceArray;
  /** Columns [channels·kH·kW, batch·outH·outW] of the channels the geometry names. */
  im2col(x: DeviceArray, g: WindowGeometry): DeviceArray;
  /** Adjoint of im2col, as a fresh NCHW buffer of g.totalChannels (channels outside the window are 0). */
  col2im(cols: DeviceArray, g: WindowGeometry): DeviceArray;
  maxPool2d(x: DeviceArray, g: WindowGeometry): { out: DeviceArray; index: DeviceArray };
  maxPool2dBackward(gy: DeviceArray, index: DeviceArray, g: WindowGeometry): DeviceArray;
  avgPool2d(x: DeviceArray, g: WindowGeometry, countIncludePad: boolean): DeviceArray;
  avgPool2dBackward(gy: DeviceArray, g: WindowGeometry, countIncludePad: boolean): DeviceArray;
  /** One-hot rows [n, classes] of integer labels, built on the host and uploaded. */
  oneHot(labels: Int32Array, classes: number): DeviceArray;
}
