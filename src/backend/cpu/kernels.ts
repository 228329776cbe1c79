/**
 * The CPU backend's kernel table: the Kernels interface on typed arrays, wrapping the in-place
 * kernel files of this folder (each allocates its outputs, then calls the kernel that fills them).
 * It is complete: every kernel a device lacks runs here.
 */
import { allocate, dtypeOf, type TypedArray } from '../../tensor/dtype.js';
import type { AdamScalars, BatchedGemmArgs, Kernels, SgdScalars } from '../kernels.js';
import type { GemmArgs, WindowGeometry } from '../backend.js';
import { bnApplyRange, bnBackwardRange, bnStatsRange } from './batchnorm.js';
import { binary } from './binary.js';
import { checkGemmArgs, gemm, SMALL_GEMM } from './gemm.js';
import { col2im, im2col } from './im2col.js';
import { permute } from './permute.js';
import { swapRows, swapRowsW } from './conv-layout.js';
import { sgdRange } from './optim-kernels.js';
import * as threads from './threads.js';
import { sharedIntScratch } from './threads.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './pool.js';
import { extremeAxis, sumAxis } from './reduce.js';
import * as select from './select.js';
import { unary } from './unary.js';

/** Selects the float64 list of the shared scratch slots. */
const F64_LIKE = new Float64Array(0);
const like = (x: TypedArray, size: number): TypedArray => allocate(dtypeOf(x), size);
/** An output buffer whose old values do not matter: for kernels that write every element. */
const overwrite = (x: TypedArray, size: number): TypedArray => allocate(dtypeOf(x), size, false);
const product = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** Channels per chunk of a batch-norm pass: at least elementwiseMin values each. */
const channelGrain = (N: number, P: number): number => Math.max(1, Math.ceil(threads.tuning.elementwiseMin / Math.max(1, N * P)));

/** Index buffers are float64 on the host: exact for any tensor size. */
function indexBuffer(idx: Int32Array): Float64Array {
  // Every element is written by the set below: a recycled buffer needs no zeroing first.
  const out = allocate('float64', idx.length, false) as Float64Array;
  // TypedArray.set converts int → float natively, ten times faster than a JavaScript loop here.
  out.set(idx);
  return out;
}

/**
 * The indices as int32, in shared scratch slot `slot` (valid until the next call with that slot;
 * shared, so the pooling kernels can hand it to the workers): no allocation per call.
 */
function int32(index: TypedArray, slot: number): Int32Array {
  const out = sharedIntScratch(index.length, slot).subarray(0, index.length);
  // A loop: here (float → int) TypedArray.set measured slower than the loop.
  for (let i = 0; i < index.length; i++) out[i] = index[i];
  return out;
}

/** Int32 scratch for a kernel's index output, copied into an index buffer before it returns. */
const intOut = (size: number): Int32Array => sharedIntScratch(size, 1).subarray(0, size);

function batchedGemm(a: TypedArray, b: TypedArray, g: BatchedGemmArgs): TypedArray {
  // Every element is written (beta = 0 overwrites, as in BLAS).
  const c = overwrite(a, g.batch * g.m * g.n);
  const item = (t: number): GemmArgs => ({
    transA: g.transA,
    transB: g.transB,
    m: g.m,
    n: g.n,
    k: g.k,
    alpha: 1,
    a,
    aOffset: g.aOffset + t * g.aBatchStride,
    lda: g.lda,
    b,
    bOffset: g.bOffset + t * g.bBatchStride,
    ldb: g.ldb,
    beta: 0,
    c,
    cOffset: t * g.m * g.n,
    ldc: g.n,
  });
  // Many small products: whole items across the threads (each too small to split on its own),
  // validated as gemm() validates each item: the first and the last bound all others (strides ≥ 0).
  // Items below SMALL_GEMM take gemm()'s plain loops on one thread, so that each item's arithmetic,
  // and the result, is the same for every thread count.
  if (g.batch > 1 && g.m * g.n * g.k >= SMALL_GEMM && g.aBatchStride >= 0 && g.bBatchStride >= 0) {
    checkGemmArgs(item(0));
    checkGemmArgs(item(g.batch - 1));
    if (threads.gemmBatchParallel(item(0), g.batch, g.aBatchStride, g.bBatchStride, g.m * g.n)) return c;
  }
  for (let t = 0; t < g.batch; t++) gemm(item(t));
  return c;
}

function sgdStep(w: TypedArray, g: TypedArray, v: TypedArray | null, s: SgdScalars): { w: TypedArray; v: TypedArray | null } {
  const { lr, weightDecay: wd, momentum: mu } = s;
  const first = v === null;
  const buf = mu === 0 ? v : (v ?? like(w, w.length));
  const damp = first ? 0 : s.dampening;
  const vv = buf ?? w;
  const n = w.length;
  // Large parameters (LeNet's fc1: 400 000 values) split across the pool; small ones stay here.
  threads.parallelFor(
    n,
    threads.tuning.elementwiseMin / 2,
    [w, g, vv],
    (lo, hi) => ({ kind: 'sgd', w, g, v: vv, lr, wd, mu, damp, nesterov: s.nesterov, first, lo, hi }),
    () => sgdRange(w, g, vv, lr, wd, mu, damp, s.nesterov, first, 0, n),
  );
  return { w, v: buf };
}

function adamStep(w: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, s: AdamScalars): { w: TypedArray; m: TypedArray; v: TypedArray } {
  const { lr, beta1: b1, beta2: b2, c1, c2, eps, wdCoupled, wdDecoupled } = s;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + wdCoupled * w[i];
    w[i] -= lr * wdDecoupled * w[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
  }
  return { w, m, v };
}

export const cpuKernels: Kernels<TypedArray> = {
  unary(op, x) {
    const out = overwrite(x, x.length);
    unary(op, x, out);
    return out;
  },
  binary(op, a, aShape, b, bShape, outShape) {
    const out = overwrite(a, product(outShape));
    binary(op, a, aShape, b, bShape, out, outShape);
    return out;
  },
  copy(x) {
    const out = overwrite(x, x.length);
    out.set(x);
    return out;
  },
  sumAxis(x, shape, axis) {
    // The other dims' product, not size / shape[axis]: a sum over an empty axis is zeros of that size.
    const out = overwrite(x, product(shape.filter((_, d) => d !== axis)));
    sumAxis(x, shape, axis, out);
    return out;
  },
  extremeRows(kind, x, outer, inner) {
    const values = like(x, outer);
    const arg = intOut(outer);
    extremeAxis(kind, x, [outer, inner], 1, values, arg);
    return { values, index: indexBuffer(arg) };
  },
  scatterRows(g, index, outer, inner) {
    const out = like(g, outer * inner);
    for (let r = 0; r < outer; r++) out[r * inner + index[r]] = g[r];
    return out;
  },
  pickRows(x, index, outer, inner) {
    const out = like(x, outer);
    for (let r = 0; r < outer; r++) out[r] = x[r * inner + index[r]];
    return out;
  },
  permute(x, shape, perm) {
    const out = overwrite(x, x.length);
    permute(x, shape, perm, out);
    return out;
  },
  convSwap(x, A, B, P, bias, wantSums) {
    const rows = A * B;
    const out = overwrite(x, rows * P);
    const rowSums = wantSums ? (threads.sharedScratch(F64_LIKE, 5, rows) as Float64Array) : null;
    // Chunks of at least elementwiseMin / 32 values (4096: a pure copy is cheap per value); the
    // bias is small and read-only (posting the job copies it).
    // The bias and the sums through the wasm row kernels where the rows are long enough to fill them.
    const simd = x instanceof Float32Array && P >= 4 && (bias !== null || rowSums !== null) && threads.simdEnabled();
    threads.parallelFor(
      rows,
      Math.max(1, Math.ceil(threads.tuning.elementwiseMin / 32 / Math.max(1, P))),
      rowSums === null ? [x, out] : [x, out, rowSums],
      (r0, r1) => ({ kind: 'swapRows', simd, x, A, B, P, bias, out, rowSums, r0, r1 }),
      () => (simd ? swapRowsW(threads.mainState(), x, A, B, P, bias, out, rowSums, 0, rows) : swapRows(x, A, B, P, bias, out, rowSums, 0, rows)),
    );
    let sums: TypedArray | null = null;
    if (rowSums !== null) {
      sums = like(x, B);
      for (let b = 0; b < B; b++) {
        let s = 0;
        for (let a = 0; a < A; a++) s += rowSums[b * A + a];
        sums[b] = s;
      }
    }
    return { out, sums };
  },
  gemm: batchedGemm,
  im2col(x, g) {
    const cols = overwrite(x, g.channels * g.kH * g.kW * g.batch * g.outH * g.outW);
    im2col(x, g, cols);
    return cols;
  },
  col2im(cols, g) {
    const dx = like(cols, g.batch * g.totalChannels * g.inH * g.inW);
    col2im(cols, g, dx);
    return dx;
  },
  maxPool2d(x, g) {
    // Every window writes its output and argmax (an all-padding one writes −∞ and −1).
    const out = overwrite(x, poolOutSize(g));
    const arg = intOut(out.length);
    maxPool2d(x, g, out, arg);
    return { out, index: indexBuffer(arg) };
  },
  maxPool2dBackward(gy, index, g) {
    // Zeroed by the kernel itself, plane by plane in its parallel ranges (zeroFirst), not here on
    // the calling thread: for LeNet-5's conv1 that is 3 MB a step.
    const dx = overwrite(gy, g.batch * g.channels * g.inH * g.inW);
    // The host's index buffer (float64, exact integers) as it is; any other float buffer as int32.
    maxPool2dBackward(gy, index instanceof Float64Array ? index : int32(index, 2), dx, g, true);
    return dx;
  },
  avgPool2d(x, g, countIncludePad) {
    const out = like(x, poolOutSize(g));
    avgPool2d(x, g, countIncludePad, out);
    return out;
  },
  avgPool2dBackward(gy, g, countIncludePad) {
    const dx = like(gy, g.batch * g.channels * g.inH * g.inW);
    avgPool2dBackward(gy, g, countIncludePad, dx);
    return dx;
  },
  sliceAxis: select.sliceAxis,
  sliceAxisBackward: select.sliceAxisBackward,
  indexSelect: select.indexSelect,
  indexSelectBackward: select.indexSelectBackward,
  gatherFlat: select.gatherFlat,
  scatterAddFlat: select.scatterAddFlat,
  concat: select.concat,
  padConstant: select.padConstant,
  batchNorm(x, N, C, P, weight, bias, running, eps) {
    const mean = threads.sharedScratch(F64_LIKE, 6, C) as Float64Array;
    const variance = threads.sharedScratch(F64_LIKE, 7, C) as Float64Array;
    const invstd = new Float64Array(C);
    const grain = channelGrain(N, P);
    if (running === null) {
      threads.parallelFor(
        C,
        grain,
        [x, mean, variance],
        (c0, c1) => ({ kind: 'bnStats', x, N, C, P, mean, variance, c0, c1 }),
        () => bnStatsRange(x, N, C, P, mean, variance, 0, C),
      );
    } else {
      for (let c = 0; c < C; c++) {
        mean[c] = running.mean[c];
        variance[c] = running.variance[c];
      }
    }
    for (let c = 0; c < C; c++) invstd[c] = 1 / Math.sqrt(variance[c] + eps);
    const out = overwrite(x, x.length);
    // mean and invstd are read-only here: posting the job copies them (C values).
    threads.parallelFor(
      C,
      grain,
      [x, out],
      (c0, c1) => ({ kind: 'bnApply', x, N, C, P, mean, invstd, weight, bias, out, c0, c1 }),
      () => bnApplyRange(x, N, C, P, mean, invstd, weight, bias, out, 0, C),
    );
    const copyOut = (v: Float64Array): TypedArray => {
      const b = overwrite(x, C);
      for (let c = 0; c < C; c++) b[c] = v[c];
      return b;
    };
    return { out, mean: copyOut(mean), invstd: copyOut(invstd), variance: copyOut(variance) };
  },
  batchNormBackward(gy, x, N, C, P, meanB, invstdB, weight, training, wantDx) {
    const mean = Float64Array.from(meanB);
    const invstd = Float64Array.from(invstdB);
    const sums = threads.sharedScratch(F64_LIKE, 8, 2 * C) as Float64Array;
    const dx = wantDx ? overwrite(x, x.length) : null;
    threads.parallelFor(
      C,
      channelGrain(N, P),
      dx === null ? [gy, x, sums] : [gy, x, sums, dx],
      (c0, c1) => ({ kind: 'bnBackward', gy, x, N, C, P, mean, invstd, weight, training, dx, sums, c0, c1 }),
      () => bnBackwardRange(gy, x, N, C, P, mean, invstd, weight, training, dx, sums, 0, C),
    );
    const gWeight = overwrite(x, C);
    const gBias = overwrite(x, C);
    for (let c = 0; c < C; c++) {
      gBias[c] = sums[2 * c];
      gWeight[c] = sums[2 * c + 1];
    }
    return { dx, gWeight, gBias };
  },
  adaptiveAvgPool2d: select.adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward: select.adaptiveAvgPool2dBackward,
  accumulate(target, g) {
    for (let i = 0; i < target.length; i++) target[i] += g[i];
    return target;
  },
  sgdStep,
  adamStep,
  cumsum(x, outer, len, inner, reverse) {
    const out = like(x, x.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let t = 0; t < len; t++) {
          const at = (o * len + (reverse ? len - 1 - t : t)) * inner + i;
          s += x[at];
          out[at] = s;
        }
      }
    }
    return out;
  },
};

function poolOutSize(g: WindowGeometry): number {
  return g.batch * g.channels * g.outH * g.outW;
}
