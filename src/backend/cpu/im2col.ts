/**
 * im2col and its adjoint col2im, in the layout documented on Backend.im2col. For each column row
 * (c, i, j) the range of output columns ow whose input column iw falls inside the image is solved
 * once, so the inner loops are plain strided copies with no bounds tests, division or modulo.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { WindowGeometry } from '../backend.js';
import { checkArray, checkGeometry, checkLength, checkSameType } from './checks.js';

/** First o ≥ 0 with o·stride + offset ≥ 0, and first o with o·stride + offset ≥ limit, clamped to [0, count]. */
function validRange(offset: number, stride: number, limit: number, count: number): [number, number] {
  const lo = Math.min(count, Math.max(0, Math.ceil(-offset / stride)));
  const hi = Math.min(count, Math.max(lo, Math.ceil((limit - offset) / stride)));
  return [lo, hi];
}

function checkIm2colArgs(kernel: string, x: TypedArray, xName: string, g: WindowGeometry, cols: TypedArray): void {
  checkArray(kernel, xName, x);
  checkArray(kernel, 'cols', cols);
  checkSameType(kernel, 'cols', cols, x, xName);
  checkGeometry(kernel, g);
  checkLength(kernel, xName, x, g.batch * g.totalChannels * g.inH * g.inW);
  checkLength(kernel, 'cols', cols, g.channels * g.kH * g.kW * g.batch * g.outH * g.outW);
}

export function im2col(x: TypedArray, g: WindowGeometry, cols: TypedArray): void {
  checkIm2colArgs('im2col', x, 'x', g, cols);
  const { batch, totalChannels, channelOffset, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = g;
  const nCols = batch * outH * outW;
  const plane = inH * inW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < kH; i++) {
      const hOff = i * dilH - padH;
      const [ohLo, ohHi] = validRange(hOff, strideH, inH, outH);
      for (let j = 0; j < kW; j++, row++) {
        const wOff = j * dilW - padW;
        const [owLo, owHi] = validRange(wOff, strideW, inW, outW);
        let col = row * nCols;
        for (let n = 0; n < batch; n++) {
          const xPlane = (n * totalChannels + channelOffset + c) * plane;
          for (let oh = 0; oh < outH; oh++, col += outW) {
            if (oh < ohLo || oh >= ohHi) { for (let ow = 0; ow < outW; ow++) cols[col + ow] = 0; continue; }
            for (let ow = 0; ow < owLo; ow++) cols[col + ow] = 0;
            // x index of column ow is xRow + ow·strideW; stride 1 (the common case) is a plain copy.
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
      }
    }
  }
}

export function col2im(cols: TypedArray, g: WindowGeometry, dx: TypedArray): void {
  checkIm2colArgs('col2im', dx, 'dx', g, cols);
  const { batch, totalChannels, channelOffset, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = g;
  const nCols = batch * outH * outW;
  const plane = inH * inW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < kH; i++) {
      const hOff = i * dilH - padH;
      const [ohLo, ohHi] = validRange(hOff, strideH, inH, outH);
      for (let j = 0; j < kW; j++, row++) {
        const wOff = j * dilW - padW;
        const [owLo, owHi] = validRange(wOff, strideW, inW, outW);
        const rowBase = row * nCols;
        for (let n = 0; n < batch; n++) {
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
