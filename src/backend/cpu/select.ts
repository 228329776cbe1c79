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
  const out = like(x, outer * indices.length * inner);
  selectedRows(x, out, outer, n, indices, inner, false);
  return out;
}

/** The adjoint of indexSelect: repeated indices accumulate. */
export function indexSelectBackward(g: TypedArray, outer: number, n: number, indices: Int32Array, inner: number): TypedArray {
  const gx = like(g, outer * n * inner);
  selectedRows(gx, g, outer, n, indices, inner, true);
  return gx;
}

/**
 * Walks the rows of an index selection: row (o, indices[k]) of `full` ([outer, n, inner]) against
 * row (o, k) of `picked` ([outer, m, inner]). Forward, the full row is copied into the picked one;
 * backward, the picked row is added into the full one (a repeated index accumulates).
 */
function selectedRows(full: TypedArray, picked: TypedArray, outer: number, n: number, indices: Int32Array, inner: number, backward: boolean): void {
  const m = indices.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      const f = (o * n + indices[k]) * inner;
      const p = (o * m + k) * inner;
      if (backward) for (let i = 0; i < inner; i++) full[f + i] += picked[p + i];
      else picked.set(full.subarray(f, f + inner), p);
    }
  }
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
  adaptiveWindows(x, out, planes, H, W, oh, ow, false);
  return out;
}

export function adaptiveAvgPool2dBackward(gy: TypedArray, planes: number, H: number, W: number, oh: number, ow: number): TypedArray {
  const gx = like(gy, planes * H * W);
  adaptiveWindows(gx, gy, planes, H, W, oh, ow, true);
  return gx;
}

/**
 * The window walk of adaptive average pooling, both ways: forward, y = the mean of x over each
 * window; backward, each y / (window size) added to its window of x. `x` is the input-sized buffer
 * ([planes, H, W]) and `y` the output-sized one ([planes, oh, ow]) in both directions.
 */
function adaptiveWindows(x: TypedArray, y: TypedArray, planes: number, H: number, W: number, oh: number, ow: number, backward: boolean): void {
  const hs = windows(H, oh);
  const ws = windows(W, ow);
  for (let nc = 0; nc < planes; nc++) {
    for (let i = 0; i < oh; i++) {
      const [h0, h1] = hs[i];
      for (let j = 0; j < ow; j++) {
        const [w0, w1] = ws[j];
        const o = (nc * oh + i) * ow + j;
        const size = (h1 - h0) * (w1 - w0);
        if (backward) {
          const v = y[o] / size;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) x[(nc * H + h) * W + w] += v;
        } else {
          let s = 0;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[(nc * H + h) * W + w];
          y[o] = s / size;
        }
      }
    }
  }
}
