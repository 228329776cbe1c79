import type { BinaryOp, UnaryOp, WindowGeometry } from './backend.js';

/**
 * The one kernel interface every op is written against (docs/design.md §3). It is generic over
 * the buffer type B: the host implementation (backend/cpu/kernels.ts) runs it on typed arrays,
 * a device implementation (backend/gpu/device.ts) on device buffers. Every kernel returns fresh
 * buffers and never writes into its inputs, except the update kernels (`accumulate`, `sgdStep`,
 * `adamStep`), which may write their state arguments in place and return them: the dispatcher
 * (dispatch.ts) adopts whatever comes back. Shapes are row-major.
 *
 * Index outputs (`extremeRows`, `maxPool2d`) are buffers of the same kind holding integers: the host
 * writes them in float64 (exact for any size), a device in its own float format.
 *
 * A new kernel's signature may live here or beside its op, merged in with
 * `declare module '../backend/kernels.js' { interface Kernels<B> { … } }`.
 */
export interface Kernels<B> {
  unary(op: UnaryOp, x: B): B;
  /** a ∘ b with NumPy broadcasting; aShape and bShape are padded to outShape's rank. */
  binary(op: BinaryOp, a: B, aShape: readonly number[], b: B, bShape: readonly number[], outShape: readonly number[]): B;
  /** A copy with its own buffer. */
  copy(x: B): B;
  sumAxis(x: B, shape: readonly number[], axis: number): B;
  /** Max or min of each row of an [outer, inner] buffer, and the index of the first extreme. */
  extremeRows(kind: 'max' | 'min', x: B, outer: number, inner: number): { values: B; index: B };
  /** Inverse of extremeRows for gradients: an [outer, inner] buffer of zeros with g[r] at index[r]. */
  scatterRows(g: B, index: B, outer: number, inner: number): B;
  /** x[r, index[r]] of each row of an [outer, inner] buffer. */
  pickRows(x: B, index: B, outer: number, inner: number): B;
  permute(x: B, shape: readonly number[], perm: readonly number[]): B;
  /**
   * x [A, B, P] to [B, A, P], adding bias[a] (length A) where given; with wantSums also the sums
   * over a and p of x (length B): the convolution's layout change and its bias and bias gradient.
   */
  convSwap(x: B, A: number, B: number, P: number, bias: B | null, wantSums: boolean): { out: B; sums: B | null };
  /** Batched product C_t = op(A_t)·op(B_t), C packed as [batch, m, n]. */
  gemm(a: B, b: B, args: BatchedGemmArgs): B;
  /** Columns [channels·kH·kW, batch·outH·outW] of the channels the geometry names. */
  im2col(x: B, g: WindowGeometry): B;
  /** Adjoint of im2col, as a fresh NCHW buffer of g.totalChannels (channels outside the window are 0). */
  col2im(cols: B, g: WindowGeometry): B;
  /** Max pooling over all channels; `index` holds the flat index into x of each output's maximum. */
  maxPool2d(x: B, g: WindowGeometry): { out: B; index: B };
  maxPool2dBackward(gy: B, index: B, g: WindowGeometry): B;
  /** Average pooling; countIncludePad selects the divisor (PyTorch's default is true). */
  avgPool2d(x: B, g: WindowGeometry, countIncludePad: boolean): B;
  avgPool2dBackward(gy: B, g: WindowGeometry, countIncludePad: boolean): B;
  /** x[:, start:start+len, :] of an [outer, n, inner] buffer, and its adjoint (zeros elsewhere). */
  sliceAxis(x: B, outer: number, n: number, start: number, len: number, inner: number): B;
  sliceAxisBackward(g: B, outer: number, n: number, start: number, len: number, inner: number): B;
  /** x[:, indices, :] of an [outer, n, inner] buffer, and its adjoint (repeated indices accumulate). */
  indexSelect(x: B, outer: number, n: number, indices: Int32Array, inner: number): B;
  indexSelectBackward(g: B, outer: number, n: number, indices: Int32Array, inner: number): B;
  /** out[i] = x[src[i]], and its adjoint: zeros of `size` with g[i] added at src[i]. */
  gatherFlat(x: B, src: Int32Array): B;
  scatterAddFlat(g: B, src: Int32Array, size: number): B;
  /** Concatenation of [outer, lens[k], inner] buffers along the middle axis. */
  concat(xs: readonly B[], outer: number, lens: readonly number[], inner: number): B;
  /** A buffer of `size` filled with `value`, x[i] written at map[i] (constant padding). */
  padConstant(x: B, map: Int32Array, size: number, value: number): B;
  /**
   * Batch normalisation of x [N, C, P] per channel: out = (x − mean)·invstd·γ + β (γ, β of length C,
   * null for 1 and 0). With running null the batch gives mean and (biased) variance; otherwise
   * running holds the mean and variance to use. invstd = 1/√(variance + eps). Returns out and, of
   * length C, the mean, invstd and variance used.
   */
  batchNorm(
    x: B,
    N: number,
    C: number,
    P: number,
    weight: B | null,
    bias: B | null,
    running: { mean: B; variance: B } | null,
    eps: number,
  ): { out: B; mean: B; invstd: B; variance: B };
  /**
   * batchNorm's backward from its mean and invstd: dx (when wantDx; the batch-statistics formula when
   * training, γ·invstd·gy otherwise), γ's gradient Σ gy·x̂ and β's Σ gy, per channel.
   */
  batchNormBackward(
    gy: B,
    x: B,
    N: number,
    C: number,
    P: number,
    mean: B,
    invstd: B,
    weight: B | null,
    training: boolean,
    wantDx: boolean,
  ): { dx: B | null; gWeight: B; gBias: B };
  /** Adaptive average pooling of [planes, H, W] to [planes, oh, ow] (PyTorch's windows), and its adjoint. */
  adaptiveAvgPool2d(x: B, planes: number, H: number, W: number, oh: number, ow: number): B;
  adaptiveAvgPool2dBackward(gy: B, planes: number, H: number, W: number, oh: number, ow: number): B;
  /** Update kernel: target + g (the host adds in place). */
  accumulate(target: B, g: B): B;
  /** Update kernel: one SGD step (PyTorch's); v is the momentum buffer, null before the first step. */
  sgdStep(w: B, g: B, v: B | null, s: SgdScalars): { w: B; v: B | null };
  /**
   * Update kernel: one Adam step (PyTorch's update): gᵢ = g + wdCoupled·w; m' = β₁m + (1 − β₁)gᵢ;
   * v' = β₂v + (1 − β₂)gᵢ²; w' = w(1 − lr·wdDecoupled) − lr·(m'/c₁)/(√(v'/c₂) + ε).
   */
  adamStep(w: B, g: B, m: B, v: B, s: AdamScalars): { w: B; m: B; v: B };
}

export type KernelName = keyof Kernels<unknown>;

/** GEMM arguments for Kernels.gemm (lda/ldb as in GemmArgs, row-major). */
export interface BatchedGemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  batch: number;
  lda: number;
  ldb: number;
  aOffset: number;
  bOffset: number;
  /** Elements between consecutive batch entries of A and B (0 broadcasts one matrix). */
  aBatchStride: number;
  bBatchStride: number;
}

export interface SgdScalars {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
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
