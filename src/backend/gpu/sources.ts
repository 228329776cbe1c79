/**
 * GLSL-bound kernel sources for gpu.js, one generator per kernel. Every kernel writes a flat 1-D
 * output (long 2-D outputs hit texture limits) and bakes the shape into the source as literals, so
 * loops have constant bounds (gpu.js silently stops argument-bounded loops at 1,000 iterations) and
 * a compiled kernel is cached per shape by its source text.
 *
 * Index arithmetic runs in float32 on the GPU. Integer division is floor((i + 0.5) / d): the half
 * keeps the quotient of exact integers away from the rounding boundary, which holds while indices
 * stay below 2^23 (checked by the device before a kernel runs).
 */
import type { BinaryOp, UnaryOp, WindowGeometry } from '../backend.js';
import type { DeviceGemmArgs } from '../device.js';
import { stridesOf } from '../../tensor/shape.js';

/** floor(v / d) for a non-negative integer-valued expression v. */
function idiv(v: string, d: number): string {
  return d === 1 ? `(${v})` : `Math.floor((${v} + 0.5) / ${d})`;
}

/** The coordinate of flat index `i` along a dim of size `size` whose stride is `stride`. */
function coord(i: string, stride: number, size: number, outermost: boolean): string {
  if (outermost) return idiv(i, stride);
  return `(${idiv(i, stride)} - ${idiv(i, stride * size)} * ${size})`;
}

/** A literal sum of coordinate·stride terms, skipping zero strides. */
function dot(names: string[], strides: number[], base = '0'): string {
  const terms = names.map((n, d) => (strides[d] === 0 ? '' : strides[d] === 1 ? n : `${n} * ${strides[d]}`)).filter((t) => t !== '');
  return [base, ...terms].filter((t) => t !== '0').join(' + ') || '0';
}

/** Declares c0..c{r-1}, the coordinates of this thread's output element. */
function coordinates(shape: readonly number[]): string {
  const strides = stridesOf(shape);
  return shape.map((size, d) => `const c${d} = ${coord('i', strides[d], size, d === 0)};`).join('\n  ');
}

const ERF = `const z = Math.abs(x) * 0.7071067811865476;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  let erf = 1 - poly * Math.exp(-z * z);
  if (x < 0) { erf = -erf; }`;

const UNARY: Record<UnaryOp, string> = {
  neg: 'return -x;',
  exp: 'return Math.exp(x);',
  log: 'return Math.log(x);',
  sqrt: 'return Math.sqrt(x);',
  abs: 'return Math.abs(x);',
  relu: 'if (x > 0) { return x; }\n  return 0;',
  sigmoid: 'return 1 / (1 + Math.exp(-x));',
  tanh: 'const e = Math.exp(-2 * Math.abs(x));\n  const t = (1 - e) / (1 + e);\n  if (x < 0) { return -t; }\n  return t;',
  gelu: `${ERF}\n  return 0.5 * x * (1 + erf);`,
  square: 'return x * x;',
  sign: 'if (x > 0) { return 1; }\n  if (x < 0) { return -1; }\n  return 0;',
  reciprocal: 'return 1 / x;',
  step: 'if (x > 0) { return 1; }\n  return 0;',
  geluGrad: `${ERF}\n  return 0.5 * (1 + erf) + x * 0.3989422804014327 * Math.exp(-0.5 * x * x);`,
};

export function unarySource(op: UnaryOp): string {
  return `function(a) {
  const x = a[this.thread.x];
  ${UNARY[op]}
}`;
}

const BINARY: Record<BinaryOp, string> = {
  add: 'return x + y;',
  sub: 'return x - y;',
  mul: 'return x * y;',
  div: 'return x / y;',
  // GLSL's pow is undefined for a negative base: recover JS semantics for integer exponents.
  pow: `if (x >= 0) { return Math.pow(x, y); }
  const m = Math.pow(-x, y);
  if (Math.floor(y) != y) { return Math.sqrt(-1 - x * 0); }
  if (Math.floor(y * 0.5) * 2 != y) { return -m; }
  return m;`,
  max: 'return Math.max(x, y);',
  min: 'return Math.min(x, y);',
  gt: 'if (x > y) { return 1; }\n  return 0;',
  ge: 'if (x >= y) { return 1; }\n  return 0;',
  lt: 'if (x < y) { return 1; }\n  return 0;',
  le: 'if (x <= y) { return 1; }\n  return 0;',
  eq: 'if (x == y) { return 1; }\n  return 0;',
};

/** Broadcasting binary op; a and b shapes are padded to the output's rank. */
export function binarySource(op: BinaryOp, aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): string {
  const size = outShape.reduce((n, d) => n * d, 1);
  const aSize = aShape.reduce((n, d) => n * d, 1);
  const bSize = bShape.reduce((n, d) => n * d, 1);
  const bStr = (shape: readonly number[]) => stridesOf(shape).map((s, d) => (shape[d] === 1 && outShape[d] !== 1 ? 0 : s));
  const names = outShape.map((_, d) => `c${d}`);
  const index = (shape: readonly number[], n: number): string => (n === size ? 'i' : n === 1 ? '0' : dot(names, bStr(shape)));
  const ai = index(aShape, aSize);
  const bi = index(bShape, bSize);
  const needsCoords = (ai !== 'i' && ai !== '0') || (bi !== 'i' && bi !== '0');
  return `function(a, b) {
  const i = this.thread.x;
  ${needsCoords ? coordinates(outShape) : ''}
  const x = a[${ai}];
  const y = b[${bi}];
  ${BINARY[op]}
}`;
}

export function axpbySource(): string {
  return `function(a, b, alpha, beta) {
  const i = this.thread.x;
  return alpha * a[i] + beta * b[i];
}`;
}

/** Adam's first (order 1) or second (order 2) moment, the coupled weight decay folded into g. */
export function adamMomentSource(order: 1 | 2): string {
  return `function(m, g, w, beta, wd) {
  const i = this.thread.x;
  const gi = g[i] + wd * w[i];
  return beta * m[i] + (1 - beta) * gi${order === 2 ? ' * gi' : ''};
}`;
}

export function adamWeightSource(): string {
  return `function(w, m, v, lr, wd, c1, c2, eps) {
  const i = this.thread.x;
  return w[i] * (1 - lr * wd) - lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
}`;
}

/** Sum over one axis of an [outer, len, inner] view. */
export function sumAxisSource(outer: number, len: number, inner: number): string {
  void outer;
  return `function(x) {
  const i = this.thread.x;
  const o = ${idiv('i', inner)};
  const base = o * ${len * inner} + (i - o * ${inner});
  let s = 0;
  for (let j = 0; j < ${len}; j++) {
    s += x[base + j * ${inner}];
  }
  return s;
}`;
}

/** Per row of [outer, inner]: the max/min value (what = 'value') or the index of its first occurrence. */
export function extremeRowsSource(kind: 'max' | 'min', inner: number, what: 'value' | 'index'): string {
  const better = kind === 'max' ? '>' : '<';
  return `function(x) {
  const base = this.thread.x * ${inner};
  let best = x[base];
  let at = 0;
  for (let j = 1; j < ${inner}; j++) {
    const v = x[base + j];
    if (v ${better} best) {
      best = v;
      at = j;
    }
  }
  return ${what === 'value' ? 'best' : 'at'};
}`;
}

/** x[r, index[r]] per row of [outer, inner] (index holds integers in float). */
export function pickRowsSource(inner: number): string {
  return `function(x, index) {
  const r = this.thread.x;
  return x[r * ${inner} + Math.floor(index[r] + 0.5)];
}`;
}

export function scatterRowsSource(inner: number): string {
  return `function(g, index) {
  const i = this.thread.x;
  const r = ${idiv('i', inner)};
  const j = i - r * ${inner};
  if (Math.abs(index[r] - j) < 0.5) { return g[r]; }
  return 0;
}`;
}

export function permuteSource(shape: readonly number[], perm: readonly number[]): string {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = stridesOf(shape);
  const names = outShape.map((_, d) => `c${d}`);
  return `function(x) {
  const i = this.thread.x;
  ${coordinates(outShape)}
  return x[${dot(
    names,
    perm.map((p) => inStrides[p]),
  )}];
}`;
}

export function gemmSource(g: DeviceGemmArgs): string {
  const { m, n, k, transA, transB, lda, ldb } = g;
  const aAt = transA ? `aBase + l * ${lda} + row` : `aBase + row * ${lda} + l`;
  const bAt = transB ? `bBase + col * ${ldb} + l` : `bBase + l * ${ldb} + col`;
  return `function(a, b) {
  const i = this.thread.x;
  const t = ${idiv('i', m * n)};
  const r = i - t * ${m * n};
  const row = ${idiv('r', n)};
  const col = r - row * ${n};
  const aBase = ${g.aOffset} + t * ${g.aBatchStride};
  const bBase = ${g.bOffset} + t * ${g.bBatchStride};
  let s = 0;
  for (let l = 0; l < ${k}; l++) {
    s += a[${aAt}] * b[${bAt}];
  }
  return s;
}`;
}

export function im2colSource(g: WindowGeometry): string {
  const P = g.outH * g.outW;
  const NP = g.batch * P;
  const khw = g.kH * g.kW;
  return `function(x) {
  const i = this.thread.x;
  const row = ${idiv('i', NP)};
  const col = i - row * ${NP};
  const c = ${idiv('row', khw)};
  const tap = row - c * ${khw};
  const ki = ${idiv('tap', g.kW)};
  const kj = tap - ki * ${g.kW};
  const n = ${idiv('col', P)};
  const p = col - n * ${P};
  const oh = ${idiv('p', g.outW)};
  const ow = p - oh * ${g.outW};
  const h = oh * ${g.strideH} - ${g.padH} + ki * ${g.dilH};
  const w = ow * ${g.strideW} - ${g.padW} + kj * ${g.dilW};
  if (h < 0 || h >= ${g.inH} || w < 0 || w >= ${g.inW}) { return 0; }
  return x[((n * ${g.totalChannels} + ${g.channelOffset} + c) * ${g.inH} + h) * ${g.inW} + w];
}`;
}

/**
 * The body shared by every window adjoint: for input pixel (h, w), visit each window tap (ki, kj)
 * whose output position (oh, ow) lands on it, and run `visit` with `o` = oh·outW + ow.
 */
function eachCoveringWindow(g: WindowGeometry, visit: string): string {
  return `for (let ki = 0; ki < ${g.kH}; ki++) {
    const th = h + ${g.padH} - ki * ${g.dilH};
    const oh = ${idiv('Math.abs(th)', g.strideH)};
    if (th >= 0 && oh * ${g.strideH} == th && oh < ${g.outH}) {
      for (let kj = 0; kj < ${g.kW}; kj++) {
        const tw = w + ${g.padW} - kj * ${g.dilW};
        const ow = ${idiv('Math.abs(tw)', g.strideW)};
        if (tw >= 0 && ow * ${g.strideW} == tw && ow < ${g.outW}) {
          const o = oh * ${g.outW} + ow;
          ${visit}
        }
      }
    }
  }`;
}

/** Declares n, ch, h, w for the thread's NCHW input element. */
function inputPixel(g: WindowGeometry): string {
  const HW = g.inH * g.inW;
  return `const i = this.thread.x;
  const plane = ${idiv('i', HW)};
  const n = ${idiv('plane', g.totalChannels)};
  const ch = plane - n * ${g.totalChannels};
  const hw = i - plane * ${HW};
  const h = ${idiv('hw', g.inW)};
  const w = hw - h * ${g.inW};`;
}

export function col2imSource(g: WindowGeometry): string {
  const P = g.outH * g.outW;
  const NP = g.batch * P;
  return `function(cols) {
  ${inputPixel(g)}
  const c = ch - ${g.channelOffset};
  if (c < 0 || c >= ${g.channels}) { return 0; }
  let s = 0;
  ${eachCoveringWindow(g, `s += cols[((c * ${g.kH} + ki) * ${g.kW} + kj) * ${NP} + n * ${P} + o];`)}
  return s;
}`;
}

/** Declares plane, oh, ow for the thread's pooled output element. */
function outputWindow(g: WindowGeometry): string {
  const P = g.outH * g.outW;
  return `const i = this.thread.x;
  const plane = ${idiv('i', P)};
  const p = i - plane * ${P};
  const oh = ${idiv('p', g.outW)};
  const ow = p - oh * ${g.outW};`;
}

/** Runs `visit` for each in-bounds tap of the output window, with idx its flat NCHW input index. */
function eachWindowTap(g: WindowGeometry, visit: string): string {
  return `for (let ki = 0; ki < ${g.kH}; ki++) {
    const h = oh * ${g.strideH} - ${g.padH} + ki * ${g.dilH};
    for (let kj = 0; kj < ${g.kW}; kj++) {
      const w = ow * ${g.strideW} - ${g.padW} + kj * ${g.dilW};
      if (h >= 0 && h < ${g.inH} && w >= 0 && w < ${g.inW}) {
        const idx = (plane * ${g.inH} + h) * ${g.inW} + w;
        ${visit}
      }
    }
  }`;
}

/** Max pooling per output: its value, or the flat NCHW index of the first maximum in its window. */
export function maxPoolSource(g: WindowGeometry, what: 'value' | 'index'): string {
  return `function(x) {
  ${outputWindow(g)}
  let best = -3.4e38;
  let at = -1;
  ${eachWindowTap(
    g,
    `const v = x[idx];
        if (at < 0 || v > best) {
          best = v;
          at = idx;
        }`,
  )}
  return ${what === 'value' ? 'best' : 'at'};
}`;
}

export function maxPoolBackwardSource(g: WindowGeometry): string {
  const P = g.outH * g.outW;
  return `function(gy, index) {
  ${inputPixel(g)}
  let s = 0;
  ${eachCoveringWindow(
    g,
    `const oi = plane * ${P} + o;
          if (Math.abs(index[oi] - i) < 0.5) { s += gy[oi]; }`,
  )}
  return s;
}`;
}

/** The number of taps a window counts along one axis (PyTorch's divisor rules, as the CPU kernel). */
function tapCount(o: string, stride: number, pad: number, dil: number, k: number, inSize: number, includePad: boolean): string {
  const lo = includePad ? -pad : 0;
  const hi = includePad ? inSize + pad : inSize;
  return `let count${o} = 0;
  for (let t = 0; t < ${k}; t++) {
    const q = ${o} * ${stride} - ${pad} + t * ${dil};
    if (q >= ${lo} && q < ${hi}) { count${o} += 1; }
  }`;
}

export function avgPoolSource(g: WindowGeometry, includePad: boolean): string {
  return `function(x) {
  ${outputWindow(g)}
  ${tapCount('oh', g.strideH, g.padH, 1, g.kH, g.inH, includePad)}
  ${tapCount('ow', g.strideW, g.padW, 1, g.kW, g.inW, includePad)}
  if (countoh * countow == 0) { return 0; }
  let s = 0;
  ${eachWindowTap(g, 's += x[idx];')}
  return s / (countoh * countow);
}`;
}

export function avgPoolBackwardSource(g: WindowGeometry, includePad: boolean): string {
  const P = g.outH * g.outW;
  return `function(gy) {
  ${inputPixel(g)}
  let s = 0;
  ${eachCoveringWindow(
    g,
    `${tapCount('oh', g.strideH, g.padH, 1, g.kH, g.inH, includePad)}
          ${tapCount('ow', g.strideW, g.padW, 1, g.kW, g.inW, includePad)}
          s += gy[plane * ${P} + o] / (countoh * countow);`,
  )}
  return s;
}`;
}

export function copySource(): string {
  return `function(a) {
  return a[this.thread.x];
}`;
}
