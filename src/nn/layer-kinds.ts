/** The layer kinds of nn/ (describe, build, elements; see describe.ts). Imported for its registrations. */
import type { Pair } from '../ops/window.js';
import { Generator } from '../tensor/random.js';
import { buildLayer, describeLayer, dimsOf, isDim, placeholderElements, registerLayerKind, type LayerDescription } from './describe.js';
import { AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, ReLU, Sequential } from './layers.js';

/** The stride, padding and dilation of a convolution, as its description holds them. */
export type Geometry = { stride: Pair; padding: Pair; dilation: Pair };
export const geometryOf = (g: Geometry): Geometry => ({ stride: g.stride, padding: g.padding, dilation: g.dilation });

type ConvD = { kind: 'Conv2d'; inChannels: number; outChannels: number; kernelSize: [number, number]; groups: number; bias: boolean } & Geometry;
registerLayerKind<Conv2d, ConvD>({
  kind: 'Conv2d',
  type: Conv2d,
  describe: (m) => ({
    inChannels: m.inChannels,
    outChannels: m.outChannels,
    kernelSize: [...m.kernelSize],
    groups: m.groups,
    bias: m.bias !== null,
    stride: m.stride,
    padding: m.padding,
    dilation: m.dilation,
  }),
  build: (d, dtype) =>
    new Conv2d(d.inChannels, d.outChannels, d.kernelSize, { ...geometryOf(d), groups: d.groups, bias: d.bias, dtype, generator: new Generator(0) }),
  elements: (d) => {
    const k = dimsOf(d.kernelSize);
    if (!isDim(d.inChannels) || !isDim(d.outChannels) || !isDim(d.groups) || k.length !== 2) return Number.NaN;
    return d.outChannels * Math.ceil(d.inChannels / d.groups) * k[0] * k[1] + (d.bias ? d.outChannels : 0);
  },
});

type LinearD = { kind: 'Linear'; inFeatures: number; outFeatures: number; bias: boolean };
registerLayerKind<Linear, LinearD>({
  kind: 'Linear',
  type: Linear,
  describe: (m) => ({ inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== null }),
  build: (d, dtype) => new Linear(d.inFeatures, d.outFeatures, { bias: d.bias, dtype, generator: new Generator(0) }),
  elements: (d) => (isDim(d.inFeatures) && isDim(d.outFeatures) ? d.inFeatures * d.outFeatures + (d.bias ? d.outFeatures : 0) : Number.NaN),
});

type BatchNormD = { kind: 'BatchNorm2d'; numFeatures: number; eps?: number; momentum?: number };
registerLayerKind<BatchNorm2d, BatchNormD>({
  kind: 'BatchNorm2d',
  type: BatchNorm2d,
  describe: (m) => ({ numFeatures: m.numFeatures, eps: m.options.eps, momentum: m.options.momentum }),
  build: (d, dtype) => new BatchNorm2d(d.numFeatures, { eps: d.eps, momentum: d.momentum, dtype }),
  elements: (d) => (isDim(d.numFeatures) ? 4 * d.numFeatures : Number.NaN),
});

type PoolD = { kind: 'MaxPool2d' | 'AvgPool2d'; kernelSize: Pair; options: Record<string, unknown> };
for (const [kind, type] of [
  ['MaxPool2d', MaxPool2d],
  ['AvgPool2d', AvgPool2d],
] as const) {
  registerLayerKind<MaxPool2d | AvgPool2d, PoolD>({
    kind,
    type,
    describe: (m) => ({ kernelSize: m.kernelSize, options: { ...m.options } }),
    build: (d) => new type(d.kernelSize, d.options),
    elements: () => 0,
  });
}

registerLayerKind<AdaptiveAvgPool2d, { kind: 'AdaptiveAvgPool2d'; outputSize: Pair }>({
  kind: 'AdaptiveAvgPool2d',
  type: AdaptiveAvgPool2d,
  describe: (m) => ({ outputSize: m.outputSize }),
  build: (d) => new AdaptiveAvgPool2d(d.outputSize),
  elements: () => 0,
});

registerLayerKind<Flatten, { kind: 'Flatten'; startDim: number; endDim: number }>({
  kind: 'Flatten',
  type: Flatten,
  describe: (m) => ({ startDim: m.startDim, endDim: m.endDim }),
  build: (d) => new Flatten(d.startDim, d.endDim),
  elements: () => 0,
});

registerLayerKind<Dropout, { kind: 'Dropout'; p: number }>({
  kind: 'Dropout',
  type: Dropout,
  describe: (m) => ({ p: m.p }),
  build: (d) => new Dropout(d.p),
  elements: () => 0,
});

registerLayerKind({ kind: 'ReLU', type: ReLU, describe: () => ({}), build: () => new ReLU(), elements: () => 0 });
registerLayerKind({ kind: 'Identity', type: Identity, describe: () => ({}), build: () => new Identity(), elements: () => 0 });

type SequentialD = { kind: 'Sequential'; layers: LayerDescription[] };
registerLayerKind<Sequential, SequentialD>({
  kind: 'Sequential',
  type: Sequential,
  describe: (m, name) => ({ layers: m.layers.map((l, i) => describeLayer(l, name ? `${name}.${i}` : String(i))) }),
  build: (d, dtype, where) => {
    if (!Array.isArray(d.layers)) throw new Error(`${where}: a Sequential description needs 'layers'`);
    return new Sequential(...d.layers.map((l) => buildLayer(l, dtype, where)));
  },
  elements: (d) => (Array.isArray(d.layers) ? d.layers.reduce((a, l) => a + placeholderElements(l), 0) : Number.NaN),
});
