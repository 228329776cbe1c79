/** Elementwise unary kernels: one tight loop per op so that the op switch is outside the loop. */
import type { TypedArray } from '../../tensor/dtype.js';
import type { UnaryOp } from '../backend.js';
import { checkArray, checkLength, checkSameType, fail } from './checks.js';
import * as elementwise from './elementwise-kernels.js';
import * as erfModule from './erf.js';
import * as threads from './threads.js';

// Module constants rather than imported bindings, which some loaders (tsx, vitest) turn into
// getter calls, paid once per element here.
const erfc = erfModule.erfc;
const normalCdf = erfModule.normalCdf;
const normalPdf = erfModule.normalPdf;
const unaryRange = elementwise.unaryRange;
const unaryRangeW = elementwise.unaryRangeW;

/** Elements from which a float32 op with a wasm map is worth the copies in and out. */
const WASM_MIN = 512;
const RANGE_OPS = new Set(elementwise.RANGE_UNARY);

const INV_SQRT2 = 0.7071067811865476;

/** Exact gelu x·Φ(x); via erfc so that the left tail does not cancel to 0 or go negative. */
export function gelu(x: number): number {
  return 0.5 * x * erfc(-x * INV_SQRT2);
}

/** d/dx gelu(x) = Φ(x) + x·φ(x). */
export function geluGrad(x: number): number {
  return normalCdf(x) + x * normalPdf(x);
}

type Kernel = (x: TypedArray, out: TypedArray, n: number) => void;

/**
 * One small function per op rather than one switch over inline loops: V8 optimises a function as a
 * whole, so a big switch would deoptimise every time a not-yet-seen op's loop was first reached.
 */
const KERNELS: { readonly [K in UnaryOp]: Kernel } = {
  neg: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = -x[i];
  },
  exp: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
  },
  log: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
  },
  sqrt: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
  },
  abs: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
  },
  // Branch-free (`+(v > 0)` compiles to a flag set): on mixed-sign data a `v < 0 ? 0 : v` branch
  // mispredicts half the time and runs 5× slower. v·0 is NaN only for NaN (kept, as in PyTorch)
  // and ±Infinity, which the rarely taken fix-up sends to 0 or v; `+ 0` turns the -0 of (-v)·0 into 0.
  relu: (x, out, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      let r = v * +(v > 0) + 0;
      if (r !== r) r = v < 0 ? 0 : v;
      out[i] = r;
    }
  },
  sigmoid: (x, out, n) => {
    for (let i = 0; i < n; i++) {
      // Split on the sign so exp never overflows into Infinity/Infinity.
      const v = x[i];
      if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
      else {
        const e = Math.exp(v);
        out[i] = e / (1 + e);
      }
    }
  },
  tanh: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
  },
  gelu: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = gelu(x[i]);
  },
  geluGrad: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = geluGrad(x[i]);
  },
  square: (x, out, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      out[i] = v * v;
    }
  },
  // Math.sign keeps -0; the contract is -1/0/1, and NaN stays NaN. Branch-free as for relu.
  sign: (x, out, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      out[i] = v === v ? +(v > 0) - +(v < 0) : v;
    }
  },
  reciprocal: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = 1 / x[i];
  },
  step: (x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = +(x[i] > 0);
  },
};

export function unary(op: UnaryOp, x: TypedArray, out: TypedArray): void {
  const kernel = Object.hasOwn(KERNELS, op) ? KERNELS[op] : undefined;
  if (!kernel) fail('unary', `op must be one of ${Object.keys(KERNELS).join(', ')}; got ${String(op)}`);
  checkArray('unary', 'x', x);
  checkArray('unary', 'out', out);
  checkSameType('unary', 'out', out, x, 'x');
  checkLength('unary', 'out', out, x.length);
  const n = x.length;
  const min = threads.tuning.elementwiseMin;
  const simd = n >= WASM_MIN && x instanceof Float32Array && threads.simdEnabled();
  if (n >= min && threads.getNumThreads() > 1 && RANGE_OPS.has(op)) {
    threads.parallelFor(
      n,
      Math.max(1, min >> 1),
      [x, out],
      (lo, hi) => ({ kind: 'unary', simd, op, x, out, lo, hi }),
      () => (simd ? unaryRangeW(threads.mainState(), op, x, out, 0, n) : unaryRange(op, x, out, 0, n)),
    );
    return;
  }
  if (simd && RANGE_OPS.has(op)) return unaryRangeW(threads.mainState(), op, x, out, 0, n);
  kernel(x, out, n);
}
