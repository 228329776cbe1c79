import { conv2d } from '../ops/conv.js';
import { permute, reshape } from '../ops/shape.js';
import { outSize, pair, type Pair } from '../ops/window.js';
import type { Tensor } from '../tensor/tensor.js';
import { differentiableModeProduct } from './mode-product.js';
import { TuckerLayer } from './tucker-layer.js';

/**
 * Output pixels of all images of x (4-D [batch, C, H, W]) under a kh×kw window, as conv2d counts
 * them; 0 for any other input (conv2d rejects it) or an empty output.
 */
export function outputPixels(x: Tensor, [kh, kw]: readonly number[], stride: Pair, padding: Pair, dilation: Pair): number {
  if (x.ndim !== 4) return 0;
  const [N, , H, W] = x.shape;
  const [sh, sw] = pair(stride, 'conv2d', 'stride', 1);
  const [ph, pw] = pair(padding, 'conv2d', 'padding', 0);
  const [dh, dw] = pair(dilation, 'conv2d', 'dilation', 1);
  const oh = outSize(H, kh, sh, ph, dh);
  const ow = outSize(W, kw, sw, pw, dw);
  return oh > 0 && ow > 0 ? N * oh * ow : 0;
}

export interface TuckerConvGeometry {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

/**
 * A conv kernel W [out, in, kh, kw] in Tucker form, run as three small convolutions:
 * a 1×1 conv by U_inᵀ (in → r_in), a kh×kw conv by the core with the spatial factors applied
 * (r_in → r_out), and a 1×1 conv by U_out (r_out → out). The full kernel is never formed, so a
 * step costs less as the ranks fall.
 */
export class TuckerConv2d extends TuckerLayer {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;

  constructor(
    fullShape: readonly number[],
    core: Tensor,
    factors: (Tensor | null)[],
    bias: Tensor | null,
    adaptModes: readonly number[],
    geometry: TuckerConvGeometry = {},
  ) {
    super(fullShape, core, factors, bias, adaptModes, 'TuckerConv2d');
    if (fullShape.length !== 4) throw new Error(`TuckerConv2d: fullShape must be [out, in, kh, kw], got [${fullShape.join(', ')}]`);
    this.stride = geometry.stride ?? 1;
    this.padding = geometry.padding ?? 0;
    this.dilation = geometry.dilation ?? 1;
    pair(this.stride, 'TuckerConv2d', 'stride', 1);
    pair(this.padding, 'TuckerConv2d', 'padding', 0);
    pair(this.dilation, 'TuckerConv2d', 'dilation', 1);
  }

  protected forwardFactored(x: Tensor): Tensor {
    const [uOut, uIn, uH, uW] = this.factors;
    let z = x;
    if (uIn) z = conv2d(z, reshape(permute(uIn, [1, 0]), [uIn.shape[1], uIn.shape[0], 1, 1]));
    let k: Tensor = this.core;
    if (uH) k = differentiableModeProduct(k, uH, 2);
    if (uW) k = differentiableModeProduct(k, uW, 3);
    z = conv2d(z, k, uOut ? null : this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation });
    if (uOut) z = conv2d(z, reshape(uOut, [uOut.shape[0], uOut.shape[1], 1, 1]), this.bias);
    return z;
  }

  /**
   * Per batch: the 1×1 conv to r_in channels at the input's resolution, the core conv and the 1×1
   * conv to the outputs at the output's, against the dense conv plus the kernel's reconstruction
   * (inputs of any other rank than [batch, in, H, W] are left to conv2d to reject: ratio 0).
   */
  factoredCostRatio(x: Tensor): number {
    const [out, inC, kh, kw] = this.fullShape;
    const pixels = outputPixels(x, [kh, kw], this.stride, this.padding, this.dilation);
    if (pixels === 0) return 0;
    const [N, , H, W] = x.shape;
    const [rOut, rIn] = this.ranks;
    const factored = (this.factors[1] ? N * inC * rIn * H * W : 0) + pixels * rOut * rIn * kh * kw + (this.factors[0] ? pixels * rOut * out : 0);
    return factored / (pixels * out * inC * kh * kw + this.reconstructMacs());
  }

  protected forwardFull(x: Tensor, w: Tensor): Tensor {
    return conv2d(x, w, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }

  fullParamCount(): number {
    const [o, i, kh, kw] = this.fullShape;
    return o * i * kh * kw + (this.bias ? o : 0);
  }

  /** FLOPs of the three convolutions for one sample. */
  override flops(inShape: readonly number[], outShape: readonly number[]): number {
    const [, H, W] = inShape;
    const [, oh, ow] = outShape;
    const [rOut, rIn] = this.ranks;
    const [out, inC, kh, kw] = this.fullShape;
    let f = 2 * rOut * rIn * kh * kw * oh * ow;
    if (this.factors[1]) f += 2 * inC * rIn * H * W;
    if (this.factors[0]) f += 2 * rOut * out * oh * ow;
    return f;
  }
}
