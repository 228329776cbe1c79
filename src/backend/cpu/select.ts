/**
 * Kernels that move elements by index (slices, index selections, gathers, concatenation, padding)
 * and adaptive average pooling, on typed arrays. Each returns a fresh buffer; the backward versions
 * scatter or accumulate into zeros. Layouts are [outer, n, inner] views of row-major tensors.
 */
import { allocate, dtypeOf, type TypedArray } from '../../tensor/dtype.js';

const like = (x: TypedArray, size: number): TypedArray => allocate(dtypeOf(x), size);

/** x[:, start:start+len, :] of an [outer, n, inner] buffer. */
export function sliceAxis(x: TypedArray, outer: number, n: number, start: number, len: number, inner: number): TypedArray {
  const out = like(x, outer * len * inner);
  for (let o = 0; o < outer; o++) {
    const src = (o * n + start) * inner;
    out.set(x.subarray(src, src + len * inner), o * len * inner);
  }
  return out;
}

/** The adjoint of sliceAxis: g placed at [:, start:start+len, :] of zeros [outer, n, inner]. */
export function sliceAxisBackward(g: TypedArray, outer: number, n: number, start: number, len: number, inner: number): TypedArray {
  const gx = like(g, outer * n * inner);
  for (let o = 0; o < outer; o++) gx.set(g.subarray(o * len * inner, (o + 1) * len * inner), (o * n + start) * inner);
  return gx;
}

/** x[:, indices, :] of an [outer, n, inner] buffer. */
export function indexSelect(x: TypedArray, outer: number, n: number, indices: Int32Array, inner: number): TypedArray {
  const m = indices.length;
  const out = like(x, outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const src = (o * n + indices[k]) * inner;
      out.set(x.subarray(src, src + inner), (o * m + k) * inner);
    }
  }
  return out;
}

/** The adjoint of indexSelect: repeated indices accumulate. */
export function indexSelectBackward(g: TypedArray, outer: number, n: number, indices: Int32Array, inner: number): TypedArray {
  const m = indices.length;
  const gx = like(g, outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const dst = (o * n + indices[k]) * inner;
      const src = (o * m + k) * inner;
      for (let i = 0; i < inner; i++) gx[dst + i] += g[src + i];
    }
  }
  return gx;
}

/** out[i] = x[src[i]]. */
export function gatherFlat(x: TypedArray, src: Int32Array): TypedArray {
  const out = like(x, src.length);
  for (let i = 0; i < src.length; i++) out[i] = x[src[i]];
  return out;
}

/** The adjoint of gatherFlat: zeros of `size` with g[i] added at src[i]. */
export function scatterAddFlat(g: TypedArray, src: Int32Array, size: number): TypedArray {
  const gx = like(g, size);
  for (let i = 0; i < src.length; i++) gx[src[i]] += g[i];
  return gx;
}

/** Concatenation of [outer, lens[k], inner] buffers along the middle axis. */
export function concat(xs: readonly TypedArray[], outer: number, lens: readonly number[], inner: number): TypedArray {
  const total = lens.reduce((a, b) => a + b, 0);
  const out = like(xs[0], outer * total * inner);
  let offset = 0;
  xs.forEach((x, k) => {
    const len = lens[k];
    for (let o = 0; o < outer; o++) out.set(x.subarray(o * len * inner, (o + 1) * len * inner), (o * total + offset) * inner);
    offset += len;
  });
  return out;
}

/** Constant padding: a buffer of `size` filled with `value`, x[i] written at map[i]. */
export function padConstant(x: TypedArray, map: Int32Array, size: number, value: number): TypedArray {
  const out = like(x, size);
  if (value !== 0) out.fill(value);
  for (let i = 0; i < map.length; i++) out[map[i]] = x[i];
  return out;
}

/** Window i of n split into `out` windows: [⌊i·n/out⌋, ⌈(i+1)·n/out⌉) (PyTorch's adaptive pooling). */
function windows(n: number, out: number): [number, number][] {
  return Array.from({ length: out }, (_, i) => [Math.floor((i * n) / out), Math.ceil(((i + 1) * n) / out)] as [number, number]);
}

/** Adaptive average pooling of planes [planes, H, W] to [planes, oh, ow]. */
export function adaptiveAvgPool2d(x: TypedArray, planes: number, H: number, W: number, oh: number, ow: number): TypedArray {
  const out = like(x, planes * oh * ow);
  const hs = windows(H, oh);
  const ws = windows(W, ow);
  for (let nc = 0; nc < planes; nc++) {
    for (let i = 0; i < oh; i++) {
      const [h0, h1] = hs[i];
      for (let j = 0; j < ow; j++) {
        const [w0, w1] = ws[j];
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[(nc * H + h) * W + w];
        out[(nc * oh + i) * ow + j] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return out;
}

export function adaptiveAvgPool2dBackward(gy: TypedArray, planes: number, H: number, W: number, oh: number, ow: number): TypedArray {
  const gx = like(gy, planes * H * W);
  const hs = windows(H, oh);
  const ws = windows(W, ow);
  for (let nc = 0; nc < planes; nc++) {
    for (let i = 0; i < oh; i++) {
      const [h0, h1] = hs[i];
      for (let j = 0; j < ow; j++) {
        const [w0, w1] = ws[j];
        const v = gy[(nc * oh + i) * ow + j] / ((h1 - h0) * (w1 - w0));
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) gx[(nc * H + h) * W + w] += v;
      }
    }
  }
  return gx;
}
