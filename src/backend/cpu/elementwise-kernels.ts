/**
 * Range kernels of the elementwise ops that are split across the thread pool by unary.ts and
 * binary.ts. They also run in the workers from their source text (see threads.ts): they use only
 * their parameters, globals and the other worker functions. The op switch is outside the loops;
 * each case is one tight loop.
 *
 * The *W variants run float32 ops that have a WebAssembly SIMD map (wasm/kernels.ts) through this
 * thread's instance: blocks of 64K floats are copied in (TypedArray.set, a memcpy), mapped four
 * lanes at a time and copied out, several times faster than a JavaScript loop; other ops and float64
 * fall back to the JavaScript kernels.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import * as stateModule from './state.js';
import type { KernelState } from './state.js';

const wasmReserve = stateModule.wasmReserve;

/** Unary ops that have a range kernel here (gelu and its gradient need erf and stay on one thread). */
export const RANGE_UNARY = ['neg', 'exp', 'log', 'sqrt', 'abs', 'relu', 'sigmoid', 'tanh', 'square', 'sign', 'reciprocal', 'step'];

/** out[i] = f(x[i]) for i in [lo, hi), with the semantics of the KERNELS in unary.ts. */
export function unaryRange(op: string, x: TypedArray, out: TypedArray, lo: number, hi: number): void {
  switch (op) {
    case 'neg':
      for (let i = lo; i < hi; i++) out[i] = -x[i];
      return;
    case 'exp':
      for (let i = lo; i < hi; i++) out[i] = Math.exp(x[i]);
      return;
    case 'log':
      for (let i = lo; i < hi; i++) out[i] = Math.log(x[i]);
      return;
    case 'sqrt':
      for (let i = lo; i < hi; i++) out[i] = Math.sqrt(x[i]);
      return;
    case 'abs':
      for (let i = lo; i < hi; i++) out[i] = Math.abs(x[i]);
      return;
    case 'relu':
      for (let i = lo; i < hi; i++) {
        const v = x[i];
        let r = v * +(v > 0) + 0;
        if (r !== r) r = v < 0 ? 0 : v;
        out[i] = r;
      }
      return;
    case 'sigmoid':
      for (let i = lo; i < hi; i++) {
        const v = x[i];
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      return;
    case 'tanh':
      for (let i = lo; i < hi; i++) out[i] = Math.tanh(x[i]);
      return;
    case 'square':
      for (let i = lo; i < hi; i++) {
        const v = x[i];
        out[i] = v * v;
      }
      return;
    case 'sign':
      for (let i = lo; i < hi; i++) {
        const v = x[i];
        out[i] = v === v ? +(v > 0) - +(v < 0) : v;
      }
      return;
    case 'reciprocal':
      for (let i = lo; i < hi; i++) out[i] = 1 / x[i];
      return;
    case 'step':
      for (let i = lo; i < hi; i++) out[i] = +(x[i] > 0);
      return;
    default:
      throw new Error(`unaryRange: no range kernel for ${op}`);
  }
}

/** out[i] = a[i·sa] ∘ b[i·sb] for i in [lo, hi) (strides 0 or 1: equal shapes or a scalar operand). */
export function binaryRange(op: string, a: TypedArray, sa: number, b: TypedArray, sb: number, out: TypedArray, lo: number, hi: number): void {
  let ai = lo * sa;
  let bi = lo * sb;
  switch (op) {
    case 'add':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = a[ai] + b[bi];
      return;
    case 'sub':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = a[ai] - b[bi];
      return;
    case 'mul':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = a[ai] * b[bi];
      return;
    case 'div':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = a[ai] / b[bi];
      return;
    case 'pow':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = Math.pow(a[ai], b[bi]);
      return;
    case 'max':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = Math.max(a[ai], b[bi]);
      return;
    case 'min':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = Math.min(a[ai], b[bi]);
      return;
    case 'gt':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = +(a[ai] > b[bi]);
      return;
    case 'ge':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = +(a[ai] >= b[bi]);
      return;
    case 'lt':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = +(a[ai] < b[bi]);
      return;
    case 'le':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = +(a[ai] <= b[bi]);
      return;
    case 'eq':
      for (let i = lo; i < hi; i++, ai += sa, bi += sb) out[i] = +(a[ai] === b[bi]);
      return;
    default:
      throw new Error(`binaryRange: unknown op ${op}`);
  }
}

/** unaryRange on the wasm map u_<op> when this thread has one for float32, else in JavaScript. */
export function unaryRangeW(st: KernelState, op: string, x: TypedArray, out: TypedArray, lo: number, hi: number): void {
  const w = st.wasm;
  const fn = w && x instanceof Float32Array ? (w.ex['u_' + op] as ((src: number, dst: number, n4: number) => void) | undefined) : undefined;
  if (!w || !fn) return unaryRange(op, x, out, lo, hi);
  const BLOCK = 65536;
  wasmReserve(w, 2 * BLOCK * 4);
  for (let s = lo; s < hi; s += BLOCK) {
    const n = Math.min(BLOCK, hi - s);
    const f32 = w.f32;
    f32.set(x.subarray(s, s + n), 0);
    fn(0, BLOCK * 4, (n + 3) >> 2);
    out.set(f32.subarray(BLOCK, BLOCK + n), s);
  }
}

/** binaryRange on the wasm maps vv_/vs_/sv_<op> for float32 (strides 1/1, 1/0, 0/1), else in JavaScript. */
export function binaryRangeW(st: KernelState, op: string, a: TypedArray, sa: number, b: TypedArray, sb: number, out: TypedArray, lo: number, hi: number): void {
  const w = st.wasm;
  const mode = sa === 1 ? (sb === 1 ? 'vv_' : 'vs_') : sb === 1 ? 'sv_' : '';
  const fn = w && mode && a instanceof Float32Array ? (w.ex[mode + op] as ((a: number, b: number, dst: number, n4: number) => void) | undefined) : undefined;
  if (!w || !fn) return binaryRange(op, a, sa, b, sb, out, lo, hi);
  const BLOCK = 65536;
  wasmReserve(w, 3 * BLOCK * 4);
  const aAt = 0;
  const bAt = BLOCK * 4;
  const oAt = 2 * BLOCK * 4;
  for (let s = lo; s < hi; s += BLOCK) {
    const n = Math.min(BLOCK, hi - s);
    const f32 = w.f32;
    if (sa === 1) f32.set(a.subarray(s, s + n), 0);
    else f32[0] = a[0];
    if (sb === 1) f32.set(b.subarray(s, s + n), BLOCK);
    else f32[BLOCK] = b[0];
    fn(aAt, bAt, oAt, (n + 3) >> 2);
    out.set(f32.subarray(2 * BLOCK, 2 * BLOCK + n), s);
  }
}
