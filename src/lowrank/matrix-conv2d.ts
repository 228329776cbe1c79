import { conv2d } from '../ops/conv.js';
import { permute, reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { TuckerLayer } from './tucker-layer.js';
import { outputPixels } from './tucker-conv2d.js';
import type { TuckerConvGeometry } from './tucker-conv2d.js';

/**
 * A conv kernel lowered to a matrix W [out, in·kh·kw] = U S Vᵀ (the matrix-DLRT baseline):
 * a kh×kw conv by Vᵀ (in → r_in), a 1×1 conv by S, a 1×1 conv by U (r_out → out).
 */
export class MatrixConv2d extends TuckerLayer {
  readonly stride: TuckerConvGeometry['stride'];
  readonly padding: TuckerConvGeometry['padding'];
  readonly dilation: TuckerConvGeometry['dilation'];

  constructor(
    readonly kernelShape: readonly number[],
    core: Tensor,
    factors: (Tensor | null)[],
    bias: Tensor | null,
    adaptModes: readonly number[] = [0, 1],
    geometry: TuckerConvGeometry = {},
  ) {
    super([kernelShape[0], kernelShape[1] * kernelShape[2] * kernelShape[3]], core, factors, bias, adaptModes, 'MatrixConv2d');
    if (kernelShape.length !== 4) throw new Error(`MatrixConv2d: kernelShape must be [out, in, kh, kw], got [${kernelShape.join(', ')}]`);
    this.stride = geometry.stride ?? 1;
    this.padding = geometry.padding ?? 0;
    this.dilation = geometry.dilation ?? 1;
  }

  protected forwardFactored(x: Tensor): Tensor {
    const [u, v] = this.factors;
    const [, inC, kh, kw] = this.kernelShape;
    const geometry = { stride: this.stride, padding: this.padding, dilation: this.dilation };
    const [r1, r2] = this.ranks;
    if (!v) throw new Error('MatrixConv2d: the input factor must be stored');
    let z = conv2d(x, reshape(permute(v, [1, 0]), [r2, inC, kh, kw]), null, geometry);
    z = conv2d(z, reshape(this.core, [r1, r2, 1, 1]), u ? null : this.bias);
    return u ? conv2d(z, reshape(u, [u.shape[0], r1, 1, 1]), this.bias) : z;
  }

  protected forwardFull(x: Tensor, w: Tensor): Tensor {
    return conv2d(x, reshape(w, [...this.kernelShape]), this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }

  /**
   * Per output pixel: the kh×kw conv to r2 channels, the r2 → r1 and r1 → out 1×1 convs, against
   * the dense conv plus the kernel's reconstruction (output pixels from the input's size, stride
   * and padding as conv2d computes them; an input that is not 4-D: ratio 0, the factored route).
   */
  factoredCostRatio(x: Tensor): number {
    const [o, i, kh, kw] = this.kernelShape;
    const [r1, r2] = this.ranks;
    const pixels = outputPixels(x, [kh, kw], this.stride ?? 1, this.padding ?? 0, this.dilation ?? 1);
    if (pixels === 0) return 0;
    const perPixel = r2 * i * kh * kw + r1 * r2 + (this.factors[0] ? o * r1 : 0);
    return (pixels * perPixel) / (pixels * o * i * kh * kw + this.reconstructMacs());
  }

  /** The kernel in its 4-D conv shape. */
  kernel(): Tensor {
    return reshape(this.fullWeight(), [...this.kernelShape]);
  }

  fullParamCount(): number {
    const [o, i, kh, kw] = this.kernelShape;
    return o * i * kh * kw + (this.bias ? o : 0);
  }

  override flops(_in: readonly number[], outShape: readonly number[]): number {
    const [, oh, ow] = outShape;
    const [o, i, kh, kw] = this.kernelShape;
    const [r1, r2] = this.ranks;
    return 2 * oh * ow * (r2 * i * kh * kw + r1 * r2 + o * r1);
  }
}
