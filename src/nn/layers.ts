import { conv2d } from '../ops/conv.js';
import { dropout } from '../ops/dropout.js';
import * as E from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { batchNorm2d } from '../ops/normalization.js';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from '../ops/pool.js';
import { flatten } from '../ops/shape.js';
import type { Pair } from '../ops/window.js';
import { pair } from '../ops/window.js';
import { allocate, type DType } from '../tensor/dtype.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { kaimingUniform_, uniform_ } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export interface LayerOptions {
  bias?: boolean;
  dtype?: DType;
  /** Seeded generator for the initial weights (default: the global one). */
  generator?: Generator;
}

function param(shape: number[], dtype: DType): Parameter {
  return new Parameter(
    new Tensor(
      allocate(
        dtype,
        shape.reduce((a, b) => a * b, 1),
      ),
      shape,
    ),
  );
}

function positiveInt(v: number, layer: string, arg: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${layer}: ${arg} must be a positive integer, got ${v}`);
  return v;
}

/** y = x·Wᵀ + b, weight [out, in], PyTorch's default initialisation (U(±1/√in)). */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LayerOptions = {},
  ) {
    super();
    positiveInt(inFeatures, 'Linear', 'inFeatures');
    positiveInt(outFeatures, 'Linear', 'outFeatures');
    const dtype = options.dtype ?? 'float32';
    const gen = options.generator ?? defaultGenerator;
    this.weight = param([outFeatures, inFeatures], dtype);
    kaimingUniform_(this.weight, { a: Math.sqrt(5), gen });
    this.bias = options.bias === false ? null : param([outFeatures], dtype);
    if (this.bias) uniform_(this.bias, -1 / Math.sqrt(inFeatures), 1 / Math.sqrt(inFeatures), gen);
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
  override flops(): number {
    return 2 * this.inFeatures * this.outFeatures;
  }
}

export interface Conv2dLayerOptions extends LayerOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly groups: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    positiveInt(inChannels, 'Conv2d', 'inChannels');
    positiveInt(outChannels, 'Conv2d', 'outChannels');
    this.kernelSize = pair(kernelSize, 'Conv2d', 'kernelSize', 1);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${this.groups})`);
    }
    const dtype = options.dtype ?? 'float32';
    const gen = options.generator ?? defaultGenerator;
    this.weight = param([outChannels, inChannels / this.groups, ...this.kernelSize], dtype);
    kaimingUniform_(this.weight, { a: Math.sqrt(5), gen });
    const fanIn = (inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
    this.bias = options.bias === false ? null : param([outChannels], dtype);
    if (this.bias) uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), gen);
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
  override flops(_in: readonly number[], out: readonly number[]): number {
    const [, oh, ow] = out;
    return 2 * this.outChannels * oh * ow * (this.inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
  }
}

export class BatchNorm2d extends Module {
  weight: Parameter;
  bias: Parameter;
  constructor(
    readonly numFeatures: number,
    readonly options: { eps?: number; momentum?: number; dtype?: DType } = {},
  ) {
    super();
    positiveInt(numFeatures, 'BatchNorm2d', 'numFeatures');
    const dtype = options.dtype ?? 'float32';
    this.weight = param([numFeatures], dtype);
    this.weight.data.fill(1);
    this.bias = param([numFeatures], dtype);
    this.registerBuffer('runningMean', new Tensor(allocate(dtype, numFeatures), [numFeatures]));
    this.registerBuffer('runningVar', new Tensor(allocate(dtype, numFeatures).fill(1), [numFeatures]));
  }
  forward(x: Tensor): Tensor {
    return batchNorm2d(x, this.getBuffer('runningMean'), this.getBuffer('runningVar'), this.weight, this.bias, {
      training: this.training,
      momentum: this.options.momentum,
      eps: this.options.eps,
    });
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: { stride?: Pair; padding?: Pair } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: { stride?: Pair; padding?: Pair; countIncludePad?: boolean } = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return E.relu(x);
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return E.leakyRelu(x, this.negativeSlope);
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return E.sigmoid(x);
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return E.tanh(x);
  }
}
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return E.gelu(x);
  }
}
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

export class Dropout extends Module {
  constructor(
    readonly p = 0.5,
    readonly generator: Generator = defaultGenerator,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.generator);
  }
}

/** Runs its layers in order; layers are named '0', '1', … as in PyTorch. */
export class Sequential extends Module {
  layers: Module[];
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new Error(`Sequential: argument ${i} must be a Module, got ${typeof l}`);
    });
    this.layers = layers;
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = l.forward(y);
    return y;
  }
  /** Replaces layer i (used by lowrank.factorize). */
  set(i: number, layer: Module): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.layers.length) throw new Error(`Sequential.set: index must be in [0, ${this.layers.length}), got ${i}`);
    this.layers[i] = layer;
  }
}
