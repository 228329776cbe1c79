/**
 * Bounded work from a checkpoint's metadata: before any model is built, the model description
 * (builder, numClasses, inputShape, recorded layers) is checked against the tensors the file
 * actually holds. Without this, an inflated numClasses or layer size in a 200 KB file drove
 * allocations of most of a gigabyte before the shape check of the state load refused it.
 *
 * The rule: a layer may allocate no more elements than the file holds under its name (its
 * placeholders are at most its saved tensors), and every tensor of a builder layer that the
 * checkpoint does not describe must have exactly the builder's shape. Memory for restoring a model
 * is then proportional to the file's size.
 */
import type { Module } from '../nn/module.js';
import type { DType } from '../tensor/dtype.js';
import { Generator } from '../tensor/random.js';
import type { LayerDescription, LayerSpec, ModelBuilder, ModelSpec } from './checkpoint.js';

/** Element counts per key, as the file holds them (model.* prefix removed). */
export type ShapeTable = Record<string, readonly number[]>;

const WEIGHTED = new Set([
  'TuckerConv2d',
  'MatrixConv2d',
  'LowRankLinear',
  'TwoStageConv2d',
  'TwoStageLinear',
  'Conv2d',
  'Linear',
  'BatchNorm2d',
  'Sequential',
]);
const PARAMETERLESS = new Set(['MaxPool2d', 'AvgPool2d', 'AdaptiveAvgPool2d', 'Flatten', 'Dropout', 'ReLU', 'Identity']);
const isDim = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Elements a description makes buildLayer allocate, or NaN when a size is not a positive integer
 * (NaN fails every bound, so a malformed size is refused before the constructor sees it).
 */
export function placeholderElements(d: LayerDescription): number {
  const dims = (a: unknown): number[] => (Array.isArray(a) && a.every(isDim) ? (a as number[]) : [Number.NaN]);
  const stored = (s: unknown, n: number) => (Array.isArray(s) && s.length === n ? (s as unknown[]) : null);
  const tucker = (full: number[], s: unknown, bias: boolean) => {
    const st = stored(s, full.length);
    if (!st) return Number.NaN;
    return prod(full.map((n, i) => (st[i] ? 1 : n))) + full.reduce((a, n, i) => a + (st[i] ? n : 0), 0) + (bias ? full[0] : 0);
  };
  switch (d?.kind) {
    case 'TuckerConv2d':
    case 'LowRankLinear':
      return tucker(dims(d.fullShape), d.stored, d.bias === true);
    case 'MatrixConv2d': {
      const k = dims(d.kernelShape);
      return k.length === 4 ? tucker([k[0], k[1] * k[2] * k[3]], d.stored, d.bias === true) : Number.NaN;
    }
    case 'TwoStageConv2d': {
      const f = dims(d.fullShape);
      if (f.length !== 4 || !isDim(d.rank)) return Number.NaN;
      return d.rank * (f[1] * f[2] * f[3] + f[0] * Math.max(f[2], f[3])) + (d.bias ? f[0] : 0);
    }
    case 'TwoStageLinear': {
      const f = dims(d.fullShape);
      return f.length === 2 && isDim(d.rank) ? d.rank * (f[0] + f[1]) + (d.bias ? f[0] : 0) : Number.NaN;
    }
    case 'Conv2d': {
      const k = dims(d.kernelSize);
      if (!isDim(d.inChannels) || !isDim(d.outChannels) || !isDim(d.groups) || k.length !== 2) return Number.NaN;
      return d.outChannels * Math.ceil(d.inChannels / d.groups) * k[0] * k[1] + (d.bias ? d.outChannels : 0);
    }
    case 'Linear':
      return isDim(d.inFeatures) && isDim(d.outFeatures) ? d.inFeatures * d.outFeatures + (d.bias ? d.outFeatures : 0) : Number.NaN;
    case 'BatchNorm2d':
      return isDim(d.numFeatures) ? 4 * d.numFeatures : Number.NaN;
    case 'Sequential':
      return Array.isArray(d.layers) ? d.layers.reduce((a, l) => a + placeholderElements(l), 0) : Number.NaN;
    case 'MaxPool2d':
    case 'AvgPool2d':
    case 'AdaptiveAvgPool2d':
    case 'Flatten':
    case 'Dropout':
    case 'ReLU':
    case 'Identity':
      return 0;
    default:
      return Number.NaN;
  }
}

/** Shapes of the builder's state at numClasses 1 and 2 (cached): the dimensions that differ are the class count. */
const probes = new Map<string, [Record<string, number[]>, Record<string, number[]>]>();
function builderShapes(name: string, builder: ModelBuilder, dtype: DType, numClasses: number): Record<string, number[]> {
  const key = `${name}/${dtype}`;
  let p = probes.get(key);
  if (!p) {
    const shapes = (n: number) =>
      Object.fromEntries(
        Object.entries((builder.build({ numClasses: n, dtype, generator: new Generator(0) }) as Module).stateDict()).map(([k, t]) => [k, [...t.shape]]),
      );
    p = [shapes(1), shapes(2)];
    probes.set(key, p);
  }
  const [one, two] = p;
  return Object.fromEntries(Object.entries(one).map(([k, s]) => [k, s.map((v, i) => (v === 1 && two[k][i] === 2 ? numClasses : v))]));
}

/**
 * Throws (naming what does not fit) unless the description can be built within the file's tensors.
 * `builder` is the spec's builder, already looked up.
 */
export function checkDescriptionFits(spec: ModelSpec, builder: ModelBuilder, layers: readonly LayerSpec[], tensors: ShapeTable, where: string): void {
  const total = Object.values(tensors).reduce((a, s) => a + prod(s), 0);
  if (!isDim(spec.numClasses) || spec.numClasses > total) {
    throw new Error(
      `${where}: tuckergrad.model numClasses ${JSON.stringify(spec.numClasses)} does not fit the ${total} weights the file holds (a classifier needs at least one per class)`,
    );
  }
  if (spec.inputShape.length !== builder.inputShape.length || spec.inputShape.some((v, i) => v !== builder.inputShape[i])) {
    throw new Error(
      `${where}: tuckergrad.model inputShape ${JSON.stringify(spec.inputShape)} is not the ${builder.inputShape.join('×')} that builder '${spec.builder}' takes`,
    );
  }
  const under = (name: string) => {
    const prefix = name ? `${name}.` : '';
    return Object.entries(tensors).reduce((a, [k, s]) => a + (k.startsWith(prefix) ? prod(s) : 0), 0);
  };
  const names = layers.map((l) => l.name);
  for (const l of layers) {
    if (!PARAMETERLESS.has(l.kind) && !WEIGHTED.has(l.kind))
      throw new Error(
        `${where}: cannot rebuild layer '${l.name}': unknown layer kind ${JSON.stringify(l.kind)} (known: ${[...WEIGHTED, ...PARAMETERLESS].join(', ')})`,
      );
    const need = placeholderElements(l);
    const have = under(l.name);
    if (!(need <= have)) {
      throw new Error(
        `${where}: tuckergrad.layers describes layer '${l.name}' (${l.kind}) with ${Number.isNaN(need) ? 'malformed sizes' : `${need} placeholder weights`}, but the file holds ${have} under '${l.name}.'`,
      );
    }
  }
  const covered = (k: string) => names.some((n) => n === '' || k.startsWith(`${n}.`));
  const problems: string[] = [];
  for (const [k, shape] of Object.entries(builderShapes(spec.builder, builder, spec.dtype, spec.numClasses))) {
    if (covered(k)) continue;
    const got = tensors[k];
    if (!got) problems.push(`missing '${k}'`);
    else if (got.length !== shape.length || got.some((v, i) => v !== shape[i]))
      problems.push(`'${k}' is [${got.join(', ')}], the model needs [${shape.join(', ')}]`);
  }
  if (problems.length > 0) {
    throw new Error(
      `${where}: the tensors do not fit the model it describes (${spec.builder}, ${spec.numClasses} classes): ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; and ${problems.length - 4} more` : ''}`,
    );
  }
}
