import type { TypedArray } from '../tensor/dtype.js';
import type { DeviceKernels } from './device.js';
import type { Kernels } from './kernels.js';

/**
 * The backend's public types. Backends know nothing about autograd or Tensor objects: their
 * kernels run on raw, contiguous, row-major buffers.
 */

/** The CPU GEMM entry point's arguments: C[m×n] = alpha · op(A) · op(B) + beta · C, all row-major with explicit leading dimensions. */
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
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'gelu'
  | 'square'
  | 'sign'
  | 'reciprocal'
  /** 1 where x > 0, else 0 (the derivative mask of relu). */
  | 'step'
  /** d/dx of the exact gelu: Φ(x) + x·φ(x). */
  | 'geluGrad';

/** Arithmetic, elementwise max/min, and comparisons that return 1 or 0. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'gt' | 'ge' | 'lt' | 'le' | 'eq';

/**
 * A backend: a name and the kernels it registers (docs/design.md §3). `host` is the complete kernel
 * table on typed arrays; a backend whose tensors can live on a device (the GPU) adds `device`, which
 * implements the kernels it has. Which of the two runs a kernel is decided in one place,
 * dispatch.ts; ops never look at the backend.
 */
export interface Backend {
  readonly name: string;
  readonly host: Kernels<TypedArray>;
  readonly device?: DeviceKernels;
}
