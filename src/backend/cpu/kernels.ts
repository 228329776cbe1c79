/**
 * The CPU backend's kernel table: the Kernels interface on typed arrays, wrapping the in-place
 * kernel files of this folder (each allocates its outputs, then calls the kernel that fills them).
 * It is complete: every kernel a device lacks runs here.
 */
import { allocate, dtypeOf, type TypedArray } from '../../tensor/dtype.js';
import type { AdamScalars, BatchedGemmArgs, Kernels, SgdScalars } from '../kernels.js';
import type { WindowGeometry } from '../backend.js';
import { binary } from './binary.js';
import { gemm } from './gemm.js';
import { col2im, im2col } from './im2col.js';
import { permute } from './permute.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './pool.js';
import { extremeAxis, sumAxis } from './reduce.js';
import * as select from './select.js';
import { unary } from './unary.js';

const like = (x: TypedArray, size: number): TypedArray => allocate(dtypeOf(x), size);
const product = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** Index buffers are float64 on the host: exact for any tensor size. */
function indexBuffer(idx: Int32Array): Float64Array {
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = idx[i];
  return out;
}

function int32(index: TypedArray): Int32Array {
  const out = new Int32Array(index.length);
  for (let i = 0; i < index.length; i++) out[i] = index[i];
  return out;
}

function batchedGemm(a: TypedArray, b: TypedArray, g: BatchedGemmArgs): TypedArray {
  const c = like(a, g.batch * g.m * g.n);
  for (let t = 0; t < g.batch; t++) {
    gemm({
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
  }
  return c;
}

function sgdStep(w: TypedArray, g: TypedArray, v: TypedArray | null, s: SgdScalars): { w: TypedArray; v: TypedArray | null } {
  const { lr, weightDecay: wd, momentum: mu } = s;
  if (mu === 0) {
    for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + wd * w[i]);
    return { w, v };
  }
  const first = v === null;
  const buf = v ?? like(w, w.length);
  const damp = first ? 0 : s.dampening;
  for (let i = 0; i < w.length; i++) {
    const d = g[i] + wd * w[i];
    buf[i] = first ? d : mu * buf[i] + (1 - damp) * d;
    w[i] -= lr * (s.nesterov ? d + mu * buf[i] : buf[i]);
  }
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
    const out = like(x, x.length);
    unary(op, x, out);
    return out;
  },
  binary(op, a, aShape, b, bShape, outShape) {
    const out = like(a, product(outShape));
    binary(op, a, aShape, b, bShape, out, outShape);
    return out;
  },
  copy(x) {
    const out = like(x, x.length);
    out.set(x);
    return out;
  },
  sumAxis(x, shape, axis) {
    const out = like(x, product(shape) / (shape[axis] || 1));
    sumAxis(x, shape, axis, out);
    return out;
  },
  extremeRows(kind, x, outer, inner) {
    const values = like(x, outer);
    const arg = new Int32Array(outer);
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
    const out = like(x, x.length);
    permute(x, shape, perm, out);
    return out;
  },
  gemm: batchedGemm,
  im2col(x, g) {
    const cols = like(x, g.channels * g.kH * g.kW * g.batch * g.outH * g.outW);
    im2col(x, g, cols);
    return cols;
  },
  col2im(cols, g) {
    const dx = like(cols, g.batch * g.totalChannels * g.inH * g.inW);
    col2im(cols, g, dx);
    return dx;
  },
  maxPool2d(x, g) {
    const out = like(x, poolOutSize(g));
    const arg = new Int32Array(out.length);
    maxPool2d(x, g, out, arg);
    return { out, index: indexBuffer(arg) };
  },
  maxPool2dBackward(gy, index, g) {
    const dx = like(gy, g.batch * g.channels * g.inH * g.inW);
    maxPool2dBackward(gy, int32(index), dx);
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
