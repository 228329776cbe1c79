import type { WindowGeometry } from '../backend/backend.js';

/** A size given as one number for both spatial dims or as [h, w]. */
export type Pair = number | readonly [number, number];

export function pair(v: Pair, op: string, arg: string, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(v) && typeof v !== 'number') throw new Error(`${op}: ${arg} must be a number or [h, w], got ${String(v)}`);
  for (const x of p) {
    if (!Number.isInteger(x) || x < min) throw new Error(`${op}: ${arg} must be integer(s) ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Sliding-window output size (PyTorch's formula, floor mode). */
export function outSize(n: number, k: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((n + 2 * padding - dilation * (k - 1) - 1) / stride) + 1;
}

export function windowGeometry(
  op: string,
  input: readonly number[],
  kernel: [number, number],
  stride: [number, number],
  padding: [number, number],
  dilation: [number, number],
): WindowGeometry {
  const [batch, channels, inH, inW] = input;
  const outH = outSize(inH, kernel[0], stride[0], padding[0], dilation[0]);
  const outW = outSize(inW, kernel[1], stride[1], padding[1], dilation[1]);
  if (outH < 1 || outW < 1) {
    throw new Error(
      `${op}: input ${inH}×${inW} is too small for kernel ${kernel[0]}×${kernel[1]} (padding ${padding.join('×')}, dilation ${dilation.join('×')}): output would be ${outH}×${outW}`,
    );
  }
  return {
    batch,
    totalChannels: channels,
    channelOffset: 0,
    channels,
    inH,
    inW,
    kH: kernel[0],
    kW: kernel[1],
    strideH: stride[0],
    strideW: stride[1],
    padH: padding[0],
    padW: padding[1],
    dilH: dilation[0],
    dilW: dilation[1],
    outH,
    outW,
  };
}
