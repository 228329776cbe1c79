/**
 * Elementwise binary kernels with NumPy broadcasting. Broadcasting is reduced to a few long strided
 * runs: dims where neither operand changes its broadcast pattern are merged, so the common cases
 * (equal shapes, a scalar operand, a bias row or a per-channel [1, C, 1, 1] bias) each become one
 * inner loop over a long contiguous run with stride 0 or 1 per operand.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { BinaryOp } from '../backend.js';
import { checkArray, checkLength, checkSameType, checkShapeArg, fail } from './checks.js';
import * as elementwise from './elementwise-kernels.js';
import * as threads from './threads.js';

const binaryRangeW = elementwise.binaryRangeW;

/** Elements from which a float32 op with a wasm map is worth the copies in and out. */
const WASM_MIN = 512;

/** out[oi + t] = a[ai + t·sa] ∘ b[bi + t·sb] for t < n. */
type Kernel = (a: TypedArray, ai: number, sa: number, b: TypedArray, bi: number, sb: number, out: TypedArray, oi: number, n: number) => void;

/**
 * One small function per op rather than one switch over inline loops: V8 optimises a function as a
 * whole, so a big switch would deoptimise every time a not-yet-seen op's loop was first reached.
 */
const KERNELS: { readonly [K in BinaryOp]: Kernel } = {
  // Comparisons use +(bool), which compiles to a flag set rather than a mispredictable branch.
  add: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = a[ai] + b[bi];
  },
  sub: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = a[ai] - b[bi];
  },
  mul: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = a[ai] * b[bi];
  },
  div: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = a[ai] / b[bi];
  },
  pow: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = Math.pow(a[ai], b[bi]);
  },
  max: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = Math.max(a[ai], b[bi]);
  },
  min: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = Math.min(a[ai], b[bi]);
  },
  gt: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = +(a[ai] > b[bi]);
  },
  ge: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = +(a[ai] >= b[bi]);
  },
  lt: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = +(a[ai] < b[bi]);
  },
  le: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = +(a[ai] <= b[bi]);
  },
  eq: (a, ai, sa, b, bi, sb, out, oi, n) => {
    for (const end = oi + n; oi < end; oi++, ai += sa, bi += sb) out[oi] = +(a[ai] === b[bi]);
  },
};

export function binary(
  op: BinaryOp,
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  const run = Object.hasOwn(KERNELS, op) ? KERNELS[op] : undefined;
  if (!run) fail('binary', `op must be one of ${Object.keys(KERNELS).join(', ')}; got ${String(op)}`);
  checkArray('binary', 'a', a);
  checkArray('binary', 'b', b);
  checkArray('binary', 'out', out);
  checkSameType('binary', 'b', b, a, 'a');
  checkSameType('binary', 'out', out, a, 'a');
  const size = checkShapeArg('binary', 'outShape', outShape);
  const aSize = checkShapeArg('binary', 'aShape', aShape);
  const bSize = checkShapeArg('binary', 'bShape', bShape);
  const rank = outShape.length;
  if (aShape.length !== rank || bShape.length !== rank) {
    fail('binary', `aShape and bShape must be left-padded to outShape's rank ${rank}, got [${aShape.join(', ')}] and [${bShape.join(', ')}]`);
  }
  for (let d = 0; d < rank; d++) {
    if ((aShape[d] !== outShape[d] && aShape[d] !== 1) || (bShape[d] !== outShape[d] && bShape[d] !== 1)) {
      fail('binary', `shapes [${aShape.join(', ')}] and [${bShape.join(', ')}] do not broadcast to [${outShape.join(', ')}] (dim ${d})`);
    }
  }
  checkLength('binary', 'a', a, aSize);
  checkLength('binary', 'b', b, bSize);
  checkLength('binary', 'out', out, size);
  if (size === 0) return;

  // With every dim equal to out's or 1, equal size means equal shape.
  const sa = aSize === size ? 1 : aSize === 1 ? 0 : -1;
  const sb = bSize === size ? 1 : bSize === 1 ? 0 : -1;
  if (sa >= 0 && sb >= 0) {
    const min = threads.tuning.elementwiseMin;
    const simd = size >= WASM_MIN && a instanceof Float32Array && threads.simdEnabled();
    if (size >= min && threads.getNumThreads() > 1) {
      // A broadcast scalar operand may sit on a plain buffer: posting it copies one element.
      const mustShare = sa === 0 ? (sb === 0 ? [out] : [b, out]) : sb === 0 ? [a, out] : [a, b, out];
      threads.parallelFor(
        size,
        Math.max(1, min >> 1),
        mustShare,
        (lo, hi) => ({ kind: 'binary', simd, op, a, sa, b, sb, out, lo, hi }),
        () => (simd ? binaryRangeW(threads.mainState(), op, a, sa, b, sb, out, 0, size) : run(a, 0, sa, b, 0, sb, out, 0, size)),
      );
      return;
    }
    if (simd) return binaryRangeW(threads.mainState(), op, a, sa, b, sb, out, 0, size);
    return run(a, 0, sa, b, 0, sb, out, 0, size);
  }

  broadcastRuns(run, a, aShape, b, bShape, out, outShape);
}

/** General case: merge dims into runs with a constant (broadcast?, broadcast?) pattern, then walk them. */
function broadcastRuns(
  run: Kernel,
  a: TypedArray,
  aShape: readonly number[],
  b: TypedArray,
  bShape: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  const dims: number[] = [];
  const aFull: boolean[] = [];
  const bFull: boolean[] = [];
  for (let d = 0; d < outShape.length; d++) {
    const n = outShape[d];
    if (n === 1) continue; // size-1 dims change no index
    const af = aShape[d] !== 1;
    const bf = bShape[d] !== 1;
    const last = dims.length - 1;
    if (last >= 0 && aFull[last] === af && bFull[last] === bf) dims[last] *= n;
    else {
      dims.push(n);
      aFull.push(af);
      bFull.push(bf);
    }
  }
  const rank = dims.length;
  // Row-major strides of the merged dims, zero where the operand is broadcast.
  const sa = new Array<number>(rank);
  const sb = new Array<number>(rank);
  let accA = 1;
  let accB = 1;
  for (let d = rank - 1; d >= 0; d--) {
    sa[d] = aFull[d] ? accA : 0;
    sb[d] = bFull[d] ? accB : 0;
    if (aFull[d]) accA *= dims[d];
    if (bFull[d]) accB *= dims[d];
  }
  const inner = dims[rank - 1];
  const innerSa = sa[rank - 1];
  const innerSb = sb[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let ai = 0;
  let bi = 0;
  const size = dims.reduce((p, q) => p * q, 1);
  for (let oi = 0; oi < size; oi += inner) {
    run(a, ai, innerSa, b, bi, innerSb, out, oi, inner);
    // Odometer over the outer dims.
    for (let d = rank - 2; d >= 0; d--) {
      ai += sa[d];
      bi += sb[d];
      if (++idx[d] < dims[d]) break;
      ai -= sa[d] * dims[d];
      bi -= sb[d] * dims[d];
      idx[d] = 0;
    }
  }
}
