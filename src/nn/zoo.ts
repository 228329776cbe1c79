/**
 * The model zoo: the networks a checkpoint can name and the CLI can train, each with the image
 * shape it takes. A checkpoint records {builder, numClasses, dtype, inputShape} (a ModelSpec) and a
 * fresh process rebuilds the base model from it (docs/design.md, "Checkpoints").
 */
import type { DType } from '../tensor/dtype.js';
import { Generator } from '../tensor/random.js';
import { lenet5, mlp, resnet20, smallVgg } from './models.js';
import type { Module } from './module.js';

export interface ModelBuilder {
  build(options: { numClasses: number; dtype: DType; generator: Generator }): Module;
  /** The image shape [C, H, W] the model takes. */
  inputShape: [number, number, number];
  description: string;
}

/** The models a checkpoint can name (and the CLI can train). */
export const MODEL_BUILDERS: Readonly<Record<string, ModelBuilder>> = {
  lenet5: { build: (o) => lenet5(o), inputShape: [1, 28, 28], description: 'LeNet-5 (1×28×28): conv 5×5 20, conv 5×5 50, fc 500, fc classes' },
  'small-vgg': { build: (o) => smallVgg(o), inputShape: [1, 28, 28], description: 'small VGG (1×28×28): 3×3 convs 32-64-128 with batch norm' },
  resnet20: { build: (o) => resnet20(o), inputShape: [3, 32, 32], description: 'ResNet-20 (3×32×32), 16-32-64 channels' },
  mlp: { build: (o) => mlp(o), inputShape: [1, 28, 28], description: 'a small MLP (1×28×28): 784-64-32-classes, for smoke tests' },
};

/** How to build the base model of a checkpoint. */
export interface ModelSpec {
  builder: string;
  numClasses: number;
  dtype: DType;
  inputShape: number[];
}

/** The builder called `name`; throws naming the known ones. */
export function builderOf(name: string, where: string): ModelBuilder {
  const b = Object.hasOwn(MODEL_BUILDERS, name) ? MODEL_BUILDERS[name] : undefined;
  if (!b) throw new Error(`${where}: unknown model builder '${name}' (known: ${Object.keys(MODEL_BUILDERS).join(', ')})`);
  return b;
}

/** The builder's model, with weights from a throwaway generator (the global one is left alone). */
export function buildBaseModel(spec: ModelSpec): Module {
  return builderOf(spec.builder, 'buildBaseModel').build({ numClasses: spec.numClasses, dtype: spec.dtype, generator: new Generator(0) });
}

/** Shapes of each builder's state at 1 and 2 classes (cached): the dimensions that differ hold the class count. */
const probes = new Map<string, [Record<string, number[]>, Record<string, number[]>]>();

/**
 * The state-dict shapes of builder `name` at `numClasses` classes, without building a model of that
 * size: a file's claimed class count is checked against them before anything is allocated for it.
 */
export function builderShapes(name: string, dtype: DType, numClasses: number): Record<string, number[]> {
  const key = `${name}/${dtype}`;
  let p = probes.get(key);
  if (!p) {
    const builder = builderOf(name, 'builderShapes');
    const shapes = (n: number) =>
      Object.fromEntries(Object.entries(builder.build({ numClasses: n, dtype, generator: new Generator(0) }).stateDict()).map(([k, t]) => [k, [...t.shape]]));
    p = [shapes(1), shapes(2)];
    probes.set(key, p);
  }
  const [one, two] = p;
  return Object.fromEntries(Object.entries(one).map(([k, s]) => [k, s.map((v, i) => (v === 1 && two[k][i] === 2 ? numClasses : v))]));
}

/** The class count read off a state dict's shapes for builder `name` (from the first tensor whose shape holds it), or null. */
export function classesIn(name: string, dtype: DType, shapes: Readonly<Record<string, readonly number[]>>): number | null {
  const [one, two] = [builderShapes(name, dtype, 1), builderShapes(name, dtype, 2)];
  for (const [k, s] of Object.entries(one)) {
    const d = s.findIndex((v, i) => v !== two[k][i]);
    const got = shapes[k];
    if (d >= 0 && got !== undefined && got.length === s.length) return got[d];
  }
  return null;
}
