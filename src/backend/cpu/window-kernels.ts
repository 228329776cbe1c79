/**
 * Range kernels of the sliding-window ops, split across the thread pool by their callers
 * (im2col.ts, pool.ts). They also run in the workers from their source text (see threads.ts): they
 * use only their parameters, globals and the other worker functions.
 *
 * im2colRowsW / col2imPartW run float32 through this thread's WebAssembly kernels (wasm/window.ts):
 * the input planes are copied in, the loop nest runs in wasm, the result is copied out, in blocks
 * of about 1 MiB; float64, or a thread without the kernels, takes the JavaScript loops.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { WindowGeometry } from '../backend.js';
import * as stateModule from './state.js';
import type { KernelState } from './state.js';

const wasmReserve = stateModule.wasmReserve;

/**
 * The window geometry's one formula, for output rows and columns (offset = tap·dilation − pad, step =
 * stride, n = outH or outW) and for the taps of one output (offset = out·stride − pad, step =
 * dilation, n = kH or kW): index t reads position offset + t·step of an axis of `size`.
 * firstInside: the first t in [0, n] whose position is ≥ 0.
 */
export function firstInside(offset: number, step: number, n: number): number {
  return Math.min(n, Math.max(0, Math.ceil(-offset / step)));
}

/** endInside: the end (exclusive, in [lo, n]) of the t ≥ lo whose position is < size. */
export function endInside(offset: number, step: number, size: number, n: number, lo: number): number {
  return Math.min(n, Math.max(lo, Math.ceil((size - offset) / step)));
}

/** im2col of the rows [r0, r1) of cols, row r = (c·kH + i)·kW + j. */
export function im2colRows(x: TypedArray, g: WindowGeometry, cols: TypedArray, r0: number, r1: number): void {
  const { batch, totalChannels, channelOffset, inH, inW, kH, kW, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = g;
  const nCols = batch * outH * outW;
  const plane = inH * inW;
  for (let row = r0; row < r1; row++) {
    const c = Math.floor(row / (kH * kW));
    const i = Math.floor(row / kW) % kH;
    const j = row % kW;
    const hOff = i * dilH - padH;
    const wOff = j * dilW - padW;
    // Output rows/columns whose input row/column is inside the image: [ohLo, ohHi), [owLo, owHi).
    const ohLo = firstInside(hOff, strideH, outH);
    const ohHi = endInside(hOff, strideH, inH, outH, ohLo);
    const owLo = firstInside(wOff, strideW, outW);
    const owHi = endInside(wOff, strideW, inW, outW, owLo);
    let col = row * nCols;
    for (let n = 0; n < batch; n++) {
      const xPlane = (n * totalChannels + channelOffset + c) * plane;
      if (ohLo > 0) {
        cols.fill(0, col, col + ohLo * outW);
      }
      col += ohLo * outW;
      if (strideW === 1 && owLo === 0 && owHi === outW) {
        // The common case (no padding on this tap's columns): each output row is one contiguous run.
        let xRow = xPlane + (ohLo * strideH + hOff) * inW + wOff;
        const xStep = strideH * inW;
        for (let oh = ohLo; oh < ohHi; oh++, col += outW, xRow += xStep) {
          const d = xRow - col;
          for (let t = col, end = col + outW; t < end; t++) cols[t] = x[t + d];
        }
      } else {
        for (let oh = ohLo; oh < ohHi; oh++, col += outW) {
          for (let ow = 0; ow < owLo; ow++) cols[col + ow] = 0;
          // x index of column ow is xRow + ow·strideW; stride 1 is a plain copy.
          const xRow = xPlane + (oh * strideH + hOff) * inW + wOff;
          if (strideW === 1) {
            const d = xRow - col;
            for (let t = col + owLo; t < col + owHi; t++) cols[t] = x[t + d];
          } else {
            let xi = xRow + owLo * strideW;
            for (let ow = owLo; ow < owHi; ow++, xi += strideW) cols[col + ow] = x[xi];
          }
          for (let ow = owHi; ow < outW; ow++) cols[col + ow] = 0;
        }
      }
      if (ohHi < outH) cols.fill(0, col, col + (outH - ohHi) * outW);
      col += (outH - ohHi) * outW;
    }
  }
}

/** col2im of channels [c0, c1) and images [n0, n1): accumulates into their planes of dx only. */
export function col2imPart(cols: TypedArray, g: WindowGeometry, dx: TypedArray, c0: number, c1: number, n0: number, n1: number): void {
  const { totalChannels, channelOffset, inH, inW, kH, kW, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = g;
  const nCols = g.batch * outH * outW;
  const plane = inH * inW;
  for (let c = c0; c < c1; c++) {
    for (let i = 0; i < kH; i++) {
      const hOff = i * dilH - padH;
      const ohLo = firstInside(hOff, strideH, outH);
      const ohHi = endInside(hOff, strideH, inH, outH, ohLo);
      for (let j = 0; j < kW; j++) {
        const wOff = j * dilW - padW;
        const owLo = firstInside(wOff, strideW, outW);
        const owHi = endInside(wOff, strideW, inW, outW, owLo);
        const rowBase = ((c * kH + i) * kW + j) * nCols;
        for (let n = n0; n < n1; n++) {
          const xPlane = (n * totalChannels + channelOffset + c) * plane;
          const nBase = rowBase + n * outH * outW;
          for (let oh = ohLo; oh < ohHi; oh++) {
            const col = nBase + oh * outW;
            const xRow = xPlane + (oh * strideH + hOff) * inW + wOff;
            if (strideW === 1) {
              const d = xRow - col;
              for (let t = col + owLo; t < col + owHi; t++) dx[t + d] += cols[t];
            } else {
              let xi = xRow + owLo * strideW;
              for (let ow = owLo; ow < owHi; ow++, xi += strideW) dx[xi] += cols[col + ow];
            }
          }
        }
      }
    }
  }
}

/**
 * Max pooling of the planes [p0, p1) (plane = image × channel). Padding reads as −Infinity, so a
 * window that is all padding yields −Infinity and index −1; NaN propagates as the maximum, as in
 * PyTorch, and the first NaN wins. argmax gets the flat index into x of each output.
 * Windows that tile the image exactly (kernel = stride, no padding, dilation 1; LeNet's 2×2) take a
 * fast path with no window tables; it applies the same comparison in the same tap order.
 */
export function maxPoolPlanes(x: TypedArray, g: WindowGeometry, out: TypedArray, argmax: Int32Array, p0: number, p1: number): void {
  const { inH, inW, kH, kW, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = g;
  const plane = inH * inW;
  if (kH === 2 && kW === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0) {
    for (let p = p0; p < p1; p++) {
      let o = p * outH * outW;
      for (let oh = 0; oh < outH; oh++) {
        let xi = p * plane + 2 * oh * inW;
        for (let ow = 0; ow < outW; ow++, o++, xi += 2) {
          let best = x[xi];
          let bestIdx = xi;
          // `!(v <= best)` is true for v > best and for NaN; `best === best` stops at the first NaN.
          let v = x[xi + 1];
          if (!(v <= best) && best === best) {
            best = v;
            bestIdx = xi + 1;
          }
          v = x[xi + inW];
          if (!(v <= best) && best === best) {
            best = v;
            bestIdx = xi + inW;
          }
          v = x[xi + inW + 1];
          if (!(v <= best) && best === best) {
            best = v;
            bestIdx = xi + inW + 1;
          }
          out[o] = best;
          argmax[o] = bestIdx;
        }
      }
    }
    return;
  }
  for (let p = p0; p < p1; p++) {
    const xPlane = p * plane;
    let o = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padH;
      // Taps i in [iLo, iHi) land inside the image.
      const iLo = firstInside(h0, dilH, kH);
      const iHi = endInside(h0, dilH, inH, kH, iLo);
      for (let ow = 0; ow < outW; ow++, o++) {
        const w0 = ow * strideW - padW;
        const jLo = firstInside(w0, dilW, kW);
        const jHi = endInside(w0, dilW, inW, kW, jLo);
        let best = -Infinity;
        let bestIdx = -1;
        for (let i = iLo; i < iHi; i++) {
          let xi = xPlane + (h0 + i * dilH) * inW + w0 + jLo * dilW;
          for (let j = jLo; j < jHi; j++, xi += dilW) {
            const v = x[xi];
            if ((!(v <= best) && best === best) || bestIdx < 0) {
              best = v;
              bestIdx = xi;
            }
          }
        }
        out[o] = best;
        argmax[o] = bestIdx;
      }
    }
  }
}

/**
 * dx[argmax[o]] += gy[o] for o in [o0, o1); −1 (an all-padding window) routes nothing. argmax holds
 * integers: an Int32Array, or the host's float64 index buffer as it is (no conversion pass).
 */
export function maxPoolBackwardRange(gy: TypedArray, argmax: Int32Array | Float64Array, dx: TypedArray, o0: number, o1: number): void {
  const limit = dx.length;
  for (let o = o0; o < o1; o++) {
    const t = argmax[o];
    if (t < 0) continue;
    if (t >= limit) throw new Error(`maxPool2dBackward: argmax[${o}] = ${t} is out of range for dx of length ${limit}`);
    dx[t] += gy[o];
  }
}

type WindowFn = (...args: number[]) => void;

/** im2colRows through the wasm kernel (float32), in blocks of rows of about 1 MiB of cols. */
export function im2colRowsW(st: KernelState, x: TypedArray, g: WindowGeometry, cols: TypedArray, r0: number, r1: number): void {
  const w = st.wasm;
  const fn = w && x instanceof Float32Array ? (w.ex.im2col as WindowFn | undefined) : undefined;
  if (!w || !fn) return im2colRows(x, g, cols, r0, r1);
  const kk = g.kH * g.kW;
  const nCols = g.batch * g.outH * g.outW;
  const plane = g.inH * g.inW;
  // Very large inputs would need very large copies per block: the JavaScript loops need none.
  if (g.batch * plane + nCols > 16 << 20) return im2colRows(x, g, cols, r0, r1);
  const block = Math.max(1, Math.floor(262144 / Math.max(1, nCols)));
  for (let a = r0; a < r1; a += block) {
    const b = Math.min(r1, a + block);
    const c0 = Math.floor(a / kk);
    const ch = Math.floor((b - 1) / kk) + 1 - c0;
    const xFloats = g.batch * ch * plane;
    wasmReserve(w, (xFloats + (b - a) * nCols) * 4);
    const f32 = w.f32;
    for (let n = 0; n < g.batch; n++) {
      const src = (n * g.totalChannels + g.channelOffset + c0) * plane;
      f32.set(x.subarray(src, src + ch * plane), n * ch * plane);
    }
    fn(0, xFloats * 4, a, b, g.batch, ch, c0, g.inH, g.inW, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.dilH, g.dilW, g.outH, g.outW);
    cols.set(f32.subarray(xFloats, xFloats + (b - a) * nCols), a * nCols);
  }
}

/** col2imPart through the wasm kernel (float32), a block of channels (about 16 MiB of cols) at a time. */
export function col2imPartW(st: KernelState, cols: TypedArray, g: WindowGeometry, dx: TypedArray, c0: number, c1: number, n0: number, n1: number): void {
  const w = st.wasm;
  const fn = w && cols instanceof Float32Array ? (w.ex.col2im as WindowFn | undefined) : undefined;
  if (!w || !fn) return col2imPart(cols, g, dx, c0, c1, n0, n1);
  const kk = g.kH * g.kW;
  const nCols = g.batch * g.outH * g.outW;
  const plane = g.inH * g.inW;
  const images = n1 - n0;
  if (kk * nCols + images * plane > 16 << 20) return col2imPart(cols, g, dx, c0, c1, n0, n1);
  const per = Math.max(1, Math.floor((4 << 20) / Math.max(1, kk * nCols)));
  for (let a = c0; a < c1; a += per) {
    const b = Math.min(c1, a + per);
    const ch = b - a;
    const dxFloats = images * ch * plane;
    wasmReserve(w, (dxFloats + ch * kk * nCols) * 4);
    const f32 = w.f32;
    // dx planes of channels [a, b) for each image (contiguous per image), and the rows of those channels.
    for (let n = n0; n < n1; n++) {
      const at = (n * g.totalChannels + g.channelOffset + a) * plane;
      f32.set(dx.subarray(at, at + ch * plane), (n - n0) * ch * plane);
    }
    f32.set(cols.subarray(a * kk * nCols, b * kk * nCols), dxFloats);
    fn(0, dxFloats * 4, a, b, n0, n1, g.batch, ch, g.inH, g.inW, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.dilH, g.dilW, g.outH, g.outW);
    for (let n = n0; n < n1; n++) {
      const at = (n * g.totalChannels + g.channelOffset + a) * plane;
      dx.set(f32.subarray((n - n0) * ch * plane, (n - n0 + 1) * ch * plane), at);
    }
  }
}

/**
 * maxPoolPlanes through the wasm kernel for 2×2 windows of stride 2 without padding (float32):
 * planes are copied in (one copy: they are contiguous), pooled four outputs at a time, and the
 * values and indices copied out, in blocks of about 1 MiB of input. Other geometries, float64, or a
 * thread without the kernels take the JavaScript loops.
 */
export function maxPoolPlanesW(st: KernelState, x: TypedArray, g: WindowGeometry, out: TypedArray, argmax: Int32Array, p0: number, p1: number): void {
  const w = st.wasm;
  const fast = g.kH === 2 && g.kW === 2 && g.strideH === 2 && g.strideW === 2 && g.padH === 0 && g.padW === 0;
  const fn = w && fast && x instanceof Float32Array ? (w.ex.maxPool2x2 as WindowFn | undefined) : undefined;
  if (!w || !fn) return maxPoolPlanes(x, g, out, argmax, p0, p1);
  const plane = g.inH * g.inW;
  const oPlane = g.outH * g.outW;
  const per = Math.max(1, Math.floor(262144 / Math.max(1, plane)));
  for (let a = p0; a < p1; a += per) {
    const b = Math.min(p1, a + per);
    const np = b - a;
    // [x planes + 8 floats of slack][out + 4 lanes of slack][argmax + 4 lanes of slack]
    const xAt = 0;
    const oAt = xAt + (np * plane + 8) * 4;
    const iAt = oAt + (np * oPlane + 4) * 4;
    wasmReserve(w, iAt + (np * oPlane + 4) * 4);
    w.f32.set(x.subarray(a * plane, b * plane), 0);
    fn(xAt, oAt, iAt, np, g.inH, g.inW, g.outH, g.outW, a * plane);
    out.set(w.f32.subarray(oAt >> 2, (oAt >> 2) + np * oPlane), a * oPlane);
    argmax.set(new Int32Array(w.mem.buffer, iAt, np * oPlane), a * oPlane);
  }
}
