/**
 * Reductions over one axis. The shape is viewed as [outer, axisLen, inner]; looping axis-outer and
 * inner-innermost keeps both reads and writes sequential whatever the axis.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import { checkArray, checkAxis, checkLength, checkSameType, checkShapeArg, fail } from './checks.js';
import { Scratch } from './scratch.js';

const sumScratch = new Scratch();

function split(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  return [outer, shape[axis], inner];
}

export function sumAxis(x: TypedArray, shape: readonly number[], axis: number, out: TypedArray): void {
  checkArray('sumAxis', 'x', x);
  checkArray('sumAxis', 'out', out);
  checkSameType('sumAxis', 'out', out, x, 'x');
  const size = checkShapeArg('sumAxis', 'shape', shape);
  checkAxis('sumAxis', axis, shape.length);
  checkLength('sumAxis', 'x', x, size);
  const [outer, len, inner] = split(shape, axis);
  checkLength('sumAxis', 'out', out, outer * inner);

  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * len;
      for (let a = 0; a < len; a++) s += x[base + a];
      out[o] = s;
    }
    return;
  }
  // Accumulate in doubles even for float32 data, rounding once at the end.
  const acc = sumScratch.get(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0, 0, inner);
    let xi = o * len * inner;
    for (let a = 0; a < len; a++) {
      for (let i = 0; i < inner; i++) acc[i] += x[xi + i];
      xi += inner;
    }
    const oi = o * inner;
    for (let i = 0; i < inner; i++) out[oi + i] = acc[i];
  }
}

/**
 * Max or min over one axis with the index of the first extreme. NaN counts as the most extreme
 * value (it propagates, as in PyTorch), and the first NaN wins.
 */
export function extremeAxis(kind: 'max' | 'min', x: TypedArray, shape: readonly number[], axis: number, out: TypedArray, argIdx: Int32Array): void {
  if (kind !== 'max' && kind !== 'min') fail('extremeAxis', `kind must be 'max' or 'min', got ${String(kind)}`);
  checkArray('extremeAxis', 'x', x);
  checkArray('extremeAxis', 'out', out);
  checkSameType('extremeAxis', 'out', out, x, 'x');
  if (!(argIdx instanceof Int32Array)) fail('extremeAxis', `argIdx must be an Int32Array, got ${String(argIdx)}`);
  const size = checkShapeArg('extremeAxis', 'shape', shape);
  checkAxis('extremeAxis', axis, shape.length);
  checkLength('extremeAxis', 'x', x, size);
  const [outer, len, inner] = split(shape, axis);
  if (len === 0 && outer * inner > 0) fail('extremeAxis', `cannot reduce over an empty axis ${axis} of shape [${shape.join(', ')}]`);
  checkLength('extremeAxis', 'out', out, outer * inner);
  checkLength('extremeAxis', 'argIdx', argIdx, outer * inner);
  // Flipping the sign turns min into max without a second copy of the loops; -NaN is NaN.
  const sign = kind === 'max' ? 1 : -1;

  for (let o = 0; o < outer; o++) {
    const oi = o * inner;
    let xi = o * len * inner;
    for (let i = 0; i < inner; i++) {
      out[oi + i] = x[xi + i];
      argIdx[oi + i] = 0;
    }
    for (let a = 1; a < len; a++) {
      xi += inner;
      for (let i = 0; i < inner; i++) {
        const v = x[xi + i];
        const best = out[oi + i];
        // Replace when strictly better, or when v is the first NaN (best is not NaN yet).
        if (sign * v > sign * best || (v !== v && best === best)) {
          out[oi + i] = v;
          argIdx[oi + i] = a;
        }
      }
    }
  }
}
