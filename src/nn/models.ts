import { add } from '../ops/elementwise.js';
import { relu } from '../ops/elementwise.js';
import type { DType } from '../tensor/dtype.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Identity, Linear, MaxPool2d, ReLU, Sequential } from './layers.js';
import { Module } from './module.js';

export interface ModelOptions {
  numClasses?: number;
  dtype?: DType;
  generator?: Generator;
}

/**
 * LeNet-5 as in the DLRT/TDLRT papers (1×28×28): conv 5×5 1→20, maxpool 2, conv 5×5 20→50,
 * maxpool 2, linear 800→500, linear 500→10, ReLU after each hidden layer.
 * Layer indices: 0 conv1, 3 conv2, 7 fc1, 9 fc2.
 *
 * Each ReLU follows its max-pool rather than preceding it: max and ReLU commute (a window's max
 * of max(x, 0) is max(its max, 0)), so the function and every gradient are the same bit for bit,
 * and the ReLU and its backward run on a quarter of the values (docs/design.md §3.5.3).
 */
export function lenet5(options: ModelOptions = {}): Sequential {
  const o = { dtype: options.dtype, generator: options.generator ?? defaultGenerator };
  return new Sequential(
    new Conv2d(1, 20, 5, o),
    new MaxPool2d(2),
    new ReLU(),
    new Conv2d(20, 50, 5, o),
    new MaxPool2d(2),
    new ReLU(),
    new Flatten(),
    new Linear(800, 500, o),
    new ReLU(),
    new Linear(500, options.numClasses ?? 10, o),
  );
}

/** A small VGG-style net for 1×28×28: 3×3 convs with batch norm, channels 32-64-128. */
export function smallVgg(options: ModelOptions & { width?: number } = {}): Sequential {
  const o = { dtype: options.dtype, generator: options.generator ?? defaultGenerator };
  const w = options.width ?? 32;
  const block = (cin: number, cout: number) => [
    new Conv2d(cin, cout, 3, { ...o, padding: 1, bias: false }),
    new BatchNorm2d(cout, { dtype: options.dtype }),
    new ReLU(),
  ];
  return new Sequential(
    ...block(1, w),
    ...block(w, w),
    new MaxPool2d(2),
    ...block(w, 2 * w),
    ...block(2 * w, 2 * w),
    new MaxPool2d(2),
    ...block(2 * w, 4 * w),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(4 * w, options.numClasses ?? 10, o),
  );
}

/** The basic residual block of CIFAR ResNets (He et al. 2016), option B shortcut (1×1 conv + BN). */
export class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  shortcut: Module;
  constructor(cin: number, cout: number, stride: number, o: { dtype?: DType; generator: Generator }) {
    super();
    this.conv1 = new Conv2d(cin, cout, 3, { ...o, stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(cout, { dtype: o.dtype });
    this.conv2 = new Conv2d(cout, cout, 3, { ...o, padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(cout, { dtype: o.dtype });
    this.shortcut =
      stride !== 1 || cin !== cout
        ? new Sequential(new Conv2d(cin, cout, 1, { ...o, stride, bias: false }), new BatchNorm2d(cout, { dtype: o.dtype }))
        : new Identity();
  }
  forward(x: Tensor): Tensor {
    const y = this.bn2.forward(this.conv2.forward(relu(this.bn1.forward(this.conv1.forward(x)))));
    return relu(add(y, this.shortcut.forward(x)));
  }
}

/** ResNet-20 for 3×32×32 (three stages of three blocks, 16-32-64 channels). */
export function resnet20(options: ModelOptions = {}): Sequential {
  const o = { dtype: options.dtype, generator: options.generator ?? defaultGenerator };
  const stage = (cin: number, cout: number, stride: number) => [
    new BasicBlock(cin, cout, stride, o),
    new BasicBlock(cout, cout, 1, o),
    new BasicBlock(cout, cout, 1, o),
  ];
  return new Sequential(
    new Conv2d(3, 16, 3, { ...o, padding: 1, bias: false }),
    new BatchNorm2d(16, { dtype: options.dtype }),
    new ReLU(),
    ...stage(16, 16, 1),
    ...stage(16, 32, 2),
    ...stage(32, 64, 2),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(64, options.numClasses ?? 10, o),
  );
}

/** A small MLP on 1×28×28 images (784 → 64 → 32 → classes): quick runs of every command and method. */
export function mlp(options: ModelOptions = {}): Sequential {
  const l = { dtype: options.dtype, generator: options.generator ?? defaultGenerator };
  return new Sequential(new Flatten(), new Linear(784, 64, l), new ReLU(), new Linear(64, 32, l), new ReLU(), new Linear(32, options.numClasses ?? 10, l));
}
