/**
 * The deployed form of a weight truncated to rank r by an SVD of one of its matrix reshapings
 * (TRP): two layers in a row, with Σ folded into the factors (√σ on each side, so neither
 * factor dwarfs the other). A conv becomes
 *   channel-wise  a kh×kw conv to r channels, then a 1×1 conv (r → out);
 *   spatial-wise  a kh×1 conv to r channels, then a 1×kw conv (r → out);
 * a Linear layer becomes x·Aᵀ·Bᵀ with A [r, in], B [out, r].
 */
import { Module } from '../../nn/module.js';
import { Parameter } from '../../nn/parameter.js';
import { conv2d } from '../../ops/conv.js';
import { linear } from '../../ops/matmul.js';
import { pair, type Pair } from '../../ops/window.js';
import { allocate, type DType } from '../../tensor/dtype.js';
import { shapeStr } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Reshaping, Truncated } from './lowered.js';

/** A layer held as two factors: what reportOf counts against the same layer held full. */
export abstract class TwoStageLayer extends Module {
  first: Parameter;
  second: Parameter;
  bias: Parameter | null;
  constructor(
    readonly fullShape: readonly number[],
    first: Tensor,
    second: Tensor,
    bias: Tensor | null,
  ) {
    super();
    this.first = new Parameter(first);
    this.second = new Parameter(second);
    this.bias = bias ? new Parameter(bias) : null;
    if (bias && (bias.ndim !== 1 || bias.shape[0] !== fullShape[0]))
      throw new Error(`${this.constructor.name}: bias must be [${fullShape[0]}], got ${shapeStr(bias.shape)}`);
  }
  /** The rank r between the two stages. */
  get rank(): number {
    return this.first.shape[0];
  }
  get isConv(): boolean {
    return this.fullShape.length === 4;
  }
  paramCount(): number {
    return this.first.size + this.second.size + (this.bias ? this.bias.size : 0);
  }
  fullParamCount(): number {
    return this.fullShape.reduce((a, b) => a * b, 1) + (this.bias ? this.fullShape[0] : 0);
  }
}

export interface ConvGeometry {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

export class TwoStageConv2d extends TwoStageLayer {
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  constructor(
    fullShape: readonly number[],
    first: Tensor,
    second: Tensor,
    bias: Tensor | null,
    readonly reshaping: Reshaping,
    geometry: ConvGeometry = {},
  ) {
    super(fullShape, first, second, bias);
    const fn = 'TwoStageConv2d';
    if (fullShape.length !== 4) throw new Error(`${fn}: fullShape must be [out, in, kh, kw], got ${shapeStr(fullShape)}`);
    const [o, i, kh, kw] = fullShape;
    const r = first.shape[0];
    const [fh, fw, sh, sw] = reshaping === 'channel' ? [kh, kw, 1, 1] : [kh, 1, 1, kw];
    if (first.ndim !== 4 || first.shape[1] !== i || first.shape[2] !== fh || first.shape[3] !== fw)
      throw new Error(`${fn}: first must be [r, ${i}, ${fh}, ${fw}] (${reshaping}-wise), got ${shapeStr(first.shape)}`);
    if (second.ndim !== 4 || second.shape[0] !== o || second.shape[1] !== r || second.shape[2] !== sh || second.shape[3] !== sw)
      throw new Error(`${fn}: second must be [${o}, ${r}, ${sh}, ${sw}], got ${shapeStr(second.shape)}`);
    this.stride = pair(geometry.stride ?? 1, fn, 'stride', 1);
    this.padding = pair(geometry.padding ?? 0, fn, 'padding', 0);
    this.dilation = pair(geometry.dilation ?? 1, fn, 'dilation', 1);
  }

  forward(x: Tensor): Tensor {
    const [s, p, d] = [this.stride, this.padding, this.dilation];
    if (this.reshaping === 'channel') {
      const z = conv2d(x, this.first, null, { stride: s, padding: p, dilation: d });
      return conv2d(z, this.second, this.bias);
    }
    // The vertical stage takes the rows' stride/padding/dilation, the horizontal one the columns'.
    const z = conv2d(x, this.first, null, { stride: [s[0], 1], padding: [p[0], 0], dilation: [d[0], 1] });
    return conv2d(z, this.second, this.bias, { stride: [1, s[1]], padding: [0, p[1]], dilation: [1, d[1]] });
  }

  override flops(inShape: readonly number[], outShape: readonly number[]): number {
    const [o, i, kh, kw] = this.fullShape;
    const [, oh, ow] = outShape;
    const r = this.rank;
    if (this.reshaping === 'channel') return 2 * oh * ow * (r * i * kh * kw + o * r);
    const midW = inShape[2]; // the vertical stage keeps every column of the input
    return 2 * oh * (midW * r * i * kh + ow * o * r * kw);
  }
}

export class TwoStageLinear extends TwoStageLayer {
  constructor(fullShape: readonly number[], first: Tensor, second: Tensor, bias: Tensor | null) {
    super(fullShape, first, second, bias);
    if (fullShape.length !== 2) throw new Error(`TwoStageLinear: fullShape must be [out, in], got ${shapeStr(fullShape)}`);
    const [o, i] = fullShape;
    const r = first.shape[0];
    if (first.ndim !== 2 || first.shape[1] !== i) throw new Error(`TwoStageLinear: first must be [r, ${i}], got ${shapeStr(first.shape)}`);
    if (second.ndim !== 2 || second.shape[0] !== o || second.shape[1] !== r)
      throw new Error(`TwoStageLinear: second must be [${o}, ${r}], got ${shapeStr(second.shape)}`);
  }
  forward(x: Tensor): Tensor {
    return linear(linear(x, this.first), this.second, this.bias);
  }
  override flops(): number {
    const [o, i] = this.fullShape;
    return 2 * this.rank * (i + o);
  }
}

function cast(data: Float64Array, dtype: DType, shape: number[]): Tensor {
  const out = allocate(dtype, data.length);
  out.set(data);
  return new Tensor(out, shape);
}

/**
 * The two-stage layer of a truncated SVD of a weight's reshaping (see lowerWeight): A = √Σ V_kᵀ
 * and B = U_k √Σ, laid out as the two stages' kernels.
 */
export function twoStageFrom(
  t: Truncated,
  fullShape: readonly number[],
  reshaping: Reshaping,
  bias: Tensor | null,
  dtype: DType,
  geometry: ConvGeometry = {},
): TwoStageLayer {
  const k = t.rank;
  const root = Array.from(t.s, (x) => Math.sqrt(x));
  if (fullShape.length === 2 || reshaping === 'channel') {
    // Matrix out × cols: U (out×k) is the second stage, Vᵀ (k×cols) the first.
    const out = fullShape[0];
    const cols = fullShape.slice(1).reduce((a, b) => a * b, 1);
    const first = new Float64Array(k * cols);
    for (let j = 0; j < k; j++) for (let c = 0; c < cols; c++) first[j * cols + c] = root[j] * t.v[c * k + j];
    const second = new Float64Array(out * k);
    for (let o = 0; o < out; o++) for (let j = 0; j < k; j++) second[o * k + j] = t.u[o * k + j] * root[j];
    if (fullShape.length === 2) return new TwoStageLinear(fullShape, cast(first, dtype, [k, cols]), cast(second, dtype, [out, k]), bias);
    const [, i, kh, kw] = fullShape;
    return new TwoStageConv2d(fullShape, cast(first, dtype, [k, i, kh, kw]), cast(second, dtype, [out, k, 1, 1]), bias, 'channel', geometry);
  }
  // Spatial-wise: rows (i, h) carry U (first stage, kh×1), columns (o, w) carry V (second, 1×kw).
  const [o, i, kh, kw] = fullShape;
  const first = new Float64Array(k * i * kh);
  for (let j = 0; j < k; j++) for (let row = 0; row < i * kh; row++) first[j * i * kh + row] = t.u[row * k + j] * root[j];
  const second = new Float64Array(o * k * kw);
  for (let a = 0; a < o; a++) for (let j = 0; j < k; j++) for (let x = 0; x < kw; x++) second[(a * k + j) * kw + x] = root[j] * t.v[(a * kw + x) * k + j];
  return new TwoStageConv2d(fullShape, cast(first, dtype, [k, i, kh, 1]), cast(second, dtype, [o, k, 1, kw]), bias, 'spatial', geometry);
}
