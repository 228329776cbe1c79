/**
 * Model and training checkpoints in the safetensors format, so that PyTorch (safetensors.torch.load_file)
 * and any other safetensors reader can open them:
 *
 *   tensors   model.<state-dict key>   every parameter and buffer (Tucker cores "…core", factors
 *                                      "…factors.i", biases), F32 or F64 as the model holds them
 *             state.<path>             optimizer / integrator state (momentum buffers, core velocities)
 *   metadata  format = "pt", tuckergrad.format = "tuckergrad-checkpoint/1",
 *             tuckergrad.model  {builder, numClasses, dtype, inputShape}: how to build the base model
 *             tuckergrad.layers [{name, kind, …}]: every layer that differs from the builder's
 *                               (Tucker/matrix layers with their stored modes, adapted modes, ranks)
 *             tuckergrad.ranks  {layer: ranks}, tuckergrad.method {name, options},
 *             tuckergrad.state  the JSON skeleton of the training state (tensors by reference),
 *             tuckergrad.<section> any other JSON section the caller adds (run config, progress, RNG,
 *                               data loader, metrics), tuckergrad.sha256 the checksum of the data.
 *
 * A fresh process rebuilds the model exactly: the builder's model, the recorded layers put in place
 * (with rank-1 placeholders), then the weights loaded with prepareLoad resizing every low-rank layer
 * to its saved ranks. Files are written atomically with a checksum (saveSafetensors).
 */
import { AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers.js';
import { lenet5, resnet20, smallVgg } from '../nn/models.js';
import { Module, type StateDict } from '../nn/module.js';
import type { Pair } from '../ops/window.js';
import { Optimizer } from '../optim/optimizer.js';
import { RankAdaptiveIntegrator, type IntegratorState } from '../lowrank/integrator.js';
import { LowRankLinear } from '../lowrank/low-rank-linear.js';
import { MatrixConv2d } from '../lowrank/matrix-conv2d.js';
import { TuckerConv2d } from '../lowrank/tucker-conv2d.js';
import { TuckerLayer } from '../lowrank/tucker-layer.js';
import type { TrainingMethod } from '../lowrank/methods/types.js';
import { TwoStageConv2d, TwoStageLinear } from '../lowrank/methods/two-stage.js';
import { allocate, type DType } from '../tensor/dtype.js';
import { Generator } from '../tensor/random.js';
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkDescriptionFits } from './checkpoint-bounds.js';
import { loadSafetensors, saveSafetensors } from './safetensors-file.js';
import type { SafetensorsMetadata, SafetensorsTensors } from './safetensors-codec.js';
import { fromTensor } from './safetensors-tensor.js';

export const CHECKPOINT_FORMAT = 'tuckergrad-checkpoint/1';
const MODEL_PREFIX = 'model.';
const STATE_PREFIX = 'state.';

// ---------------------------------------------------------------------------------------------
// Model builders

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

/** A small MLP on 1×28×28 images (784 → 64 → 32 → classes): quick runs of every command and method. */
export function mlp(o: { numClasses: number; dtype: DType; generator: Generator }): Sequential {
  const l = { dtype: o.dtype, generator: o.generator };
  return new Sequential(new Flatten(), new Linear(784, 64, l), new ReLU(), new Linear(64, 32, l), new ReLU(), new Linear(32, o.numClasses, l));
}

/** How to build the base model of a checkpoint. */
export interface ModelSpec {
  builder: string;
  numClasses: number;
  dtype: DType;
  inputShape: number[];
}

function builderOf(name: string, where: string): ModelBuilder {
  const b = Object.hasOwn(MODEL_BUILDERS, name) ? MODEL_BUILDERS[name] : undefined;
  if (!b) throw new Error(`${where}: unknown model builder '${name}' (known: ${Object.keys(MODEL_BUILDERS).join(', ')})`);
  return b;
}

/** The builder's model, with weights from a throwaway generator (the global one is left alone). */
export function buildBaseModel(spec: ModelSpec): Module {
  return builderOf(spec.builder, 'buildBaseModel').build({ numClasses: spec.numClasses, dtype: spec.dtype, generator: new Generator(0) });
}

// ---------------------------------------------------------------------------------------------
// Layer descriptions: what a fresh process needs to put each changed layer back in place

type Geometry = { stride: Pair; padding: Pair; dilation: Pair };
export type LayerDescription =
  | ({ kind: 'TuckerConv2d'; fullShape: number[]; ranks: number[]; stored: boolean[]; adaptModes: number[]; bias: boolean } & Geometry)
  | ({ kind: 'MatrixConv2d'; kernelShape: number[]; ranks: number[]; stored: boolean[]; adaptModes: number[]; bias: boolean } & Geometry)
  | { kind: 'LowRankLinear'; fullShape: number[]; ranks: number[]; stored: boolean[]; adaptModes: number[]; bias: boolean }
  | ({ kind: 'TwoStageConv2d'; fullShape: number[]; rank: number; reshaping: 'channel' | 'spatial'; bias: boolean } & Geometry)
  | { kind: 'TwoStageLinear'; fullShape: number[]; rank: number; bias: boolean }
  | ({ kind: 'Conv2d'; inChannels: number; outChannels: number; kernelSize: [number, number]; groups: number; bias: boolean } & Geometry)
  | { kind: 'Linear'; inFeatures: number; outFeatures: number; bias: boolean }
  | { kind: 'BatchNorm2d'; numFeatures: number; eps?: number; momentum?: number }
  | { kind: 'MaxPool2d' | 'AvgPool2d'; kernelSize: Pair; options: Record<string, unknown> }
  | { kind: 'AdaptiveAvgPool2d'; outputSize: Pair }
  | { kind: 'Flatten'; startDim: number; endDim: number }
  | { kind: 'Dropout'; p: number }
  | { kind: 'ReLU' | 'Identity' }
  | { kind: 'Sequential'; layers: LayerDescription[] };

export type LayerSpec = { name: string } & LayerDescription;

/** A JSON description of one module (throws for a module type a checkpoint cannot rebuild). */
export function describeLayer(m: Module, name = ''): LayerDescription {
  const tucker = (l: TuckerLayer) => ({ ranks: l.ranks, stored: l.factors.map((f) => f !== null), adaptModes: [...l.adaptModes], bias: l.bias !== null });
  if (m instanceof TuckerConv2d)
    return { kind: 'TuckerConv2d', fullShape: [...m.fullShape], ...tucker(m), stride: m.stride, padding: m.padding, dilation: m.dilation };
  if (m instanceof MatrixConv2d) {
    return { kind: 'MatrixConv2d', kernelShape: [...m.kernelShape], ...tucker(m), stride: m.stride ?? 1, padding: m.padding ?? 0, dilation: m.dilation ?? 1 };
  }
  if (m instanceof LowRankLinear) return { kind: 'LowRankLinear', fullShape: [...m.fullShape], ...tucker(m) };
  if (m instanceof TwoStageConv2d) {
    // The deployed form of TRP: its geometry fields are private, read them as the layer holds them.
    const g = m as unknown as Geometry;
    return {
      kind: 'TwoStageConv2d',
      fullShape: [...m.fullShape],
      rank: m.rank,
      reshaping: m.reshaping,
      bias: m.bias !== null,
      stride: g.stride,
      padding: g.padding,
      dilation: g.dilation,
    };
  }
  if (m instanceof TwoStageLinear) return { kind: 'TwoStageLinear', fullShape: [...m.fullShape], rank: m.rank, bias: m.bias !== null };
  if (m instanceof Conv2d) {
    return {
      kind: 'Conv2d',
      inChannels: m.inChannels,
      outChannels: m.outChannels,
      kernelSize: [...m.kernelSize],
      groups: m.groups,
      bias: m.bias !== null,
      stride: m.stride,
      padding: m.padding,
      dilation: m.dilation,
    };
  }
  if (m instanceof Linear) return { kind: 'Linear', inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias !== null };
  if (m instanceof BatchNorm2d) return { kind: 'BatchNorm2d', numFeatures: m.numFeatures, eps: m.options.eps, momentum: m.options.momentum };
  if (m instanceof MaxPool2d) return { kind: 'MaxPool2d', kernelSize: m.kernelSize, options: { ...m.options } };
  if (m instanceof AvgPool2d) return { kind: 'AvgPool2d', kernelSize: m.kernelSize, options: { ...m.options } };
  if (m instanceof AdaptiveAvgPool2d) return { kind: 'AdaptiveAvgPool2d', outputSize: m.outputSize };
  if (m instanceof Flatten) return { kind: 'Flatten', startDim: m.startDim, endDim: m.endDim };
  if (m instanceof Dropout) return { kind: 'Dropout', p: m.p };
  if (m instanceof ReLU) return { kind: 'ReLU' };
  if (m instanceof Identity) return { kind: 'Identity' };
  if (m instanceof Sequential) return { kind: 'Sequential', layers: m.layers.map((l, i) => describeLayer(l, name ? `${name}.${i}` : String(i))) };
  throw new Error(`checkpoint: cannot describe layer '${name}' of type ${m.constructor.name}: a checkpoint can rebuild ${KINDS.join(', ')}`);
}

const KINDS = [
  'TuckerConv2d',
  'MatrixConv2d',
  'LowRankLinear',
  'TwoStageConv2d',
  'TwoStageLinear',
  'Conv2d',
  'Linear',
  'BatchNorm2d',
  'MaxPool2d',
  'AvgPool2d',
  'AdaptiveAvgPool2d',
  'Flatten',
  'Dropout',
  'ReLU',
  'Identity',
  'Sequential',
];

/** A module of the description, with placeholder values (rank 1 on stored modes) that a state load fills in. */
export function buildLayer(d: LayerDescription, dtype: DType, where = 'buildLayer'): Module {
  const zeros = (shape: number[]) =>
    new Tensor(
      allocate(
        dtype,
        shape.reduce((a, b) => a * b, 1),
      ),
      shape,
    );
  const tuckerParts = (full: number[], stored: boolean[], bias: number | null) => {
    if (!Array.isArray(stored) || stored.length !== full.length) throw new Error(`${where}: 'stored' must list ${full.length} booleans`);
    const core = zeros(full.map((n, i) => (stored[i] ? 1 : n)));
    const factors = full.map((n, i) => (stored[i] ? zeros([n, 1]) : null));
    return { core, factors, bias: bias === null ? null : zeros([bias]) };
  };
  const geometry = (g: Geometry) => ({ stride: g.stride, padding: g.padding, dilation: g.dilation });
  switch (d.kind) {
    case 'TuckerConv2d': {
      const p = tuckerParts(d.fullShape, d.stored, d.bias ? d.fullShape[0] : null);
      return new TuckerConv2d(d.fullShape, p.core, p.factors, p.bias, d.adaptModes, geometry(d));
    }
    case 'MatrixConv2d': {
      const k = d.kernelShape;
      const p = tuckerParts([k[0], k[1] * k[2] * k[3]], d.stored, d.bias ? k[0] : null);
      return new MatrixConv2d(k, p.core, p.factors, p.bias, d.adaptModes, geometry(d));
    }
    case 'LowRankLinear': {
      const p = tuckerParts(d.fullShape, d.stored, d.bias ? d.fullShape[0] : null);
      return new LowRankLinear(d.fullShape, p.core, p.factors, p.bias, d.adaptModes);
    }
    case 'TwoStageConv2d': {
      const [o, i, kh, kw] = d.fullShape;
      const channel = d.reshaping === 'channel';
      return new TwoStageConv2d(
        d.fullShape,
        zeros([d.rank, i, kh, channel ? kw : 1]),
        zeros([o, d.rank, 1, channel ? 1 : kw]),
        d.bias ? zeros([o]) : null,
        d.reshaping,
        geometry(d),
      );
    }
    case 'TwoStageLinear':
      return new TwoStageLinear(d.fullShape, zeros([d.rank, d.fullShape[1]]), zeros([d.fullShape[0], d.rank]), d.bias ? zeros([d.fullShape[0]]) : null);
    case 'Conv2d':
      return new Conv2d(d.inChannels, d.outChannels, d.kernelSize, { ...geometry(d), groups: d.groups, bias: d.bias, dtype, generator: new Generator(0) });
    case 'Linear':
      return new Linear(d.inFeatures, d.outFeatures, { bias: d.bias, dtype, generator: new Generator(0) });
    case 'BatchNorm2d':
      return new BatchNorm2d(d.numFeatures, { eps: d.eps, momentum: d.momentum, dtype });
    case 'MaxPool2d':
      return new MaxPool2d(d.kernelSize, d.options);
    case 'AvgPool2d':
      return new AvgPool2d(d.kernelSize, d.options);
    case 'AdaptiveAvgPool2d':
      return new AdaptiveAvgPool2d(d.outputSize);
    case 'Flatten':
      return new Flatten(d.startDim, d.endDim);
    case 'Dropout':
      return new Dropout(d.p);
    case 'ReLU':
      return new ReLU();
    case 'Identity':
      return new Identity();
    case 'Sequential':
      if (!Array.isArray(d.layers)) throw new Error(`${where}: a Sequential description needs 'layers'`);
      return new Sequential(...d.layers.map((l) => buildLayer(l, dtype, where)));
    default:
      throw new Error(`${where}: unknown layer kind ${JSON.stringify((d as { kind?: unknown }).kind)} (known: ${KINDS.join(', ')})`);
  }
}

const baseCache = new Map<string, Module>();
function cachedBase(spec: ModelSpec): Module {
  const key = JSON.stringify([spec.builder, spec.numClasses, spec.dtype]);
  let m = baseCache.get(key);
  if (!m) {
    m = buildBaseModel(spec);
    baseCache.set(key, m);
  }
  return m;
}

/**
 * The layers of `model` that differ from the builder's model: low-rank layers, layers of another
 * type or shape, containers with other children. Each is described in full.
 */
export function describeModel(model: Module, spec: ModelSpec): LayerSpec[] {
  const out: LayerSpec[] = [];
  const walk = (name: string, m: Module, ref: Module | undefined): void => {
    if (!ref || m.constructor !== ref.constructor || m instanceof TuckerLayer || !sameLeaf(m, ref)) {
      out.push({ name, ...describeLayer(m, name) });
      return;
    }
    const mine = m.namedChildren();
    const theirs = new Map(ref.namedChildren());
    if (mine.length !== theirs.size || mine.some(([k]) => !theirs.has(k))) {
      if (name === '') throw new Error(`checkpoint: the model's top-level layers differ from builder '${spec.builder}'`);
      out.push({ name, ...describeLayer(m, name) });
      return;
    }
    for (const [k, child] of mine) walk(name ? `${name}.${k}` : k, child, theirs.get(k));
  };
  walk('', model, cachedBase(spec));
  return out;
}

function sameLeaf(a: Module, b: Module): boolean {
  if (a.children().length > 0 || a instanceof Sequential) return true;
  try {
    return JSON.stringify(describeLayer(a)) === JSON.stringify(describeLayer(b));
  } catch {
    return true; // a leaf type without a description: same type as the builder's, so it is the builder's
  }
}

/** Replaces the module at a dotted name (a Sequential index, a field, or an array field). */
export function setModuleAt(root: Module, name: string, replacement: Module): void {
  for (const [parentName, parent] of root.namedModules()) {
    for (const [childName] of parent.namedChildren()) {
      const full = parentName ? `${parentName}.${childName}` : childName;
      if (full !== name) continue;
      if (parent instanceof Sequential && /^\d+$/.test(childName)) {
        parent.set(Number(childName), replacement);
        return;
      }
      const fields = parent as unknown as Record<string, unknown>;
      const dot = childName.indexOf('.');
      if (dot > 0) (fields[childName.slice(0, dot)] as Module[])[Number(childName.slice(dot + 1))] = replacement;
      else fields[childName] = replacement;
      return;
    }
  }
  throw new Error(`checkpoint: the model has no layer named '${name}'`);
}

/**
 * Loads a state dict into the model's tensors in place. A module whose tensors have other shapes
 * than the saved ones (a low-rank layer at other ranks) is resized first by its prepareLoad hook;
 * the others keep their Parameter objects, so optimizers that hold them stay valid. Everything is
 * checked before anything is written: a mismatch changes nothing.
 */
export function loadModelState(model: Module, sd: StateDict, where = 'loadModelState'): void {
  const targets = () => new Map<string, Tensor>([...model.namedParameters(), ...model.namedBuffers()]);
  const before = targets();
  const resized = new Set<string>();
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof TuckerLayer)) continue;
    const prefix = name ? `${name}.` : '';
    const mismatch = [...before].some(([k, t]) => k.startsWith(prefix) && sd[k] !== undefined && !sameShape(sd[k].shape, t.shape));
    const coreKey = `${prefix}core`;
    if (mismatch && sd[coreKey]) {
      const stored = m.factors.map((f) => f !== null);
      const problems: string[] = [];
      if (sd[coreKey].ndim !== m.fullShape.length) problems.push(`'${coreKey}': expected ${m.fullShape.length} modes, got ${shapeStr(sd[coreKey].shape)}`);
      stored.forEach((s, i) => {
        const f = sd[`${prefix}factors.${i}`];
        if (s && !f) problems.push(`missing key '${prefix}factors.${i}'`);
        if (!s && f) problems.push(`unexpected key '${prefix}factors.${i}' (mode ${i} of '${name}' is kept full)`);
        if (f && (f.ndim !== 2 || f.shape[0] !== m.fullShape[i] || f.shape[1] !== sd[coreKey].shape[i]))
          problems.push(`'${prefix}factors.${i}': expected [${m.fullShape[i]}, ${sd[coreKey].shape[i]}], got ${shapeStr(f.shape)}`);
        if (!s && sd[coreKey].shape[i] !== m.fullShape[i])
          problems.push(`'${coreKey}': mode ${i} is kept full and must have size ${m.fullShape[i]}, got ${shapeStr(sd[coreKey].shape)}`);
      });
      if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
      resized.add(name);
    }
  }
  // Check the whole state against the shapes it will have after resizing, before resizing anything.
  const problems: string[] = [];
  for (const [k, t] of before) {
    const src = sd[k];
    if (!src) {
      problems.push(`missing key '${k}'`);
      continue;
    }
    const layer = [...resized].find((n) => k.startsWith(n ? `${n}.` : ''));
    if (layer === undefined && !sameShape(src.shape, t.shape)) problems.push(`'${k}': expected shape ${shapeStr(t.shape)}, got ${shapeStr(src.shape)}`);
    if (src.dtype !== t.dtype) problems.push(`'${k}': expected dtype ${t.dtype}, got ${src.dtype}`);
  }
  for (const k of Object.keys(sd)) if (!before.has(k)) problems.push(`unexpected key '${k}'`);
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join('; ');
    throw new Error(`${where}: the saved state does not fit the model: ${shown}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`);
  }
  for (const [name, m] of model.namedModules()) if (resized.has(name)) m.prepareLoad(sd, name);
  for (const [k, t] of targets()) t.data.set(sd[k].data);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// ---------------------------------------------------------------------------------------------
// State trees: JSON with tensors and typed arrays as leaves

/** JSON-like data whose leaves may be Tensors or typed arrays (stored as tensors, referenced from the JSON). */
export type StateTree = null | boolean | number | string | Tensor | Float64Array | Float32Array | Int32Array | StateTree[] | { [key: string]: StateTree };

type EncodedLeaf = { $tensor: string } | { $array: string } | { $number: string };

function encodeTree(tree: StateTree, path: string, tensors: SafetensorsTensors): unknown {
  if (tree === null || typeof tree === 'boolean' || typeof tree === 'string') return tree;
  if (typeof tree === 'number') return Number.isFinite(tree) ? tree : ({ $number: String(tree) } satisfies EncodedLeaf);
  const name = `${STATE_PREFIX}${path}`;
  if (tree instanceof Tensor) {
    tensors[name] = fromTensor(tree);
    return { $tensor: name } satisfies EncodedLeaf;
  }
  if (tree instanceof Float64Array || tree instanceof Float32Array || tree instanceof Int32Array) {
    const dtype = tree instanceof Float64Array ? 'F64' : tree instanceof Float32Array ? 'F32' : 'I32';
    tensors[name] = { dtype, shape: [tree.length], data: tree };
    return { $array: name } satisfies EncodedLeaf;
  }
  if (Array.isArray(tree)) return tree.map((v, i) => encodeTree(v, path ? `${path}.${i}` : String(i), tensors));
  if (typeof tree === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tree)) {
      if (k.startsWith('$')) throw new Error(`checkpoint: state keys must not start with '$', got '${k}' at '${path}'`);
      if (v === undefined) continue;
      out[k] = encodeTree(v, path ? `${path}.${k}` : k, tensors);
    }
    return out;
  }
  throw new Error(`checkpoint: cannot store a ${typeof tree} in a state tree (at '${path}')`);
}

function decodeTree(raw: unknown, tensors: SafetensorsTensors, where: string): StateTree {
  if (raw === null || typeof raw === 'boolean' || typeof raw === 'string' || typeof raw === 'number') return raw;
  if (Array.isArray(raw)) return raw.map((v) => decodeTree(v, tensors, where));
  if (typeof raw === 'object') {
    const o = raw as Record<string, unknown>;
    const entry = (name: unknown) => {
      const e = typeof name === 'string' ? tensors[name] : undefined;
      if (!e) throw new Error(`${where}: the training state refers to tensor ${JSON.stringify(name)}, which the file does not hold`);
      return e;
    };
    if ('$tensor' in o) {
      const e = entry(o.$tensor);
      if (e.dtype === 'F32' && e.data instanceof Float32Array) return new Tensor(e.data, e.shape);
      if (e.dtype === 'F64' && e.data instanceof Float64Array) return new Tensor(e.data, e.shape);
      throw new Error(`${where}: state tensor ${String(o.$tensor)} must be F32 or F64, got ${e.dtype}`);
    }
    if ('$array' in o) {
      const e = entry(o.$array);
      if (e.data instanceof Float64Array || e.data instanceof Float32Array || e.data instanceof Int32Array) return e.data;
      throw new Error(`${where}: state array ${String(o.$array)} must be F64, F32 or I32, got ${e.dtype}`);
    }
    if ('$number' in o) return Number(o.$number);
    const out: Record<string, StateTree> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decodeTree(v, tensors, where);
    return out;
  }
  throw new Error(`${where}: malformed training state`);
}

// ---------------------------------------------------------------------------------------------
// Saving and loading

export interface CheckpointContent {
  model: Module;
  modelSpec: ModelSpec;
  /** 'training': resumable run state; 'model': a model to evaluate or compress. */
  kind: 'training' | 'model';
  method?: { name: string; options: Record<string, unknown> };
  /** Optimizer/integrator state and anything else the run needs to resume. */
  state?: StateTree;
  /** JSON sections stored as metadata tuckergrad.<name> (run config, progress, rng, loader, metrics). */
  sections?: Record<string, unknown>;
}

/** The tensors and metadata of a checkpoint, in memory. */
export function encodeCheckpoint(content: CheckpointContent): { tensors: SafetensorsTensors; metadata: SafetensorsMetadata } {
  const { model, modelSpec } = content;
  builderOf(modelSpec.builder, 'saveCheckpoint');
  const tensors: SafetensorsTensors = {};
  for (const [k, t] of Object.entries(model.stateDict())) tensors[`${MODEL_PREFIX}${k}`] = fromTensor(t);
  const layers = describeModel(model, modelSpec);
  const ranks = Object.fromEntries(
    model
      .namedModules()
      .filter((e): e is [string, TuckerLayer] => e[1] instanceof TuckerLayer)
      .map(([n, l]) => [n, l.ranks]),
  );
  const metadata: SafetensorsMetadata = {
    format: 'pt',
    'tuckergrad.format': CHECKPOINT_FORMAT,
    'tuckergrad.kind': content.kind,
    'tuckergrad.model': JSON.stringify(modelSpec),
    'tuckergrad.layers': JSON.stringify(layers),
    'tuckergrad.ranks': JSON.stringify(ranks),
  };
  if (content.method) metadata['tuckergrad.method'] = JSON.stringify(content.method);
  if (content.state !== undefined) metadata['tuckergrad.state'] = JSON.stringify(encodeTree(content.state, '', tensors));
  for (const [k, v] of Object.entries(content.sections ?? {})) {
    if (RESERVED.has(k)) throw new Error(`saveCheckpoint: section name '${k}' is reserved`);
    if (v !== undefined) metadata[`tuckergrad.${k}`] = JSON.stringify(v);
  }
  return { tensors, metadata };
}

const RESERVED = new Set(['format', 'kind', 'model', 'layers', 'ranks', 'method', 'state', 'sha256']);

/** Writes a checkpoint atomically (temp file + rename) with a SHA-256 of the data in its metadata. */
export function saveCheckpoint(path: string, content: CheckpointContent): void {
  const { tensors, metadata } = encodeCheckpoint(content);
  saveSafetensors(path, tensors, metadata);
}

export interface LoadedCheckpoint {
  path: string;
  kind: 'training' | 'model';
  modelSpec: ModelSpec;
  layers: LayerSpec[];
  ranks: Record<string, number[]>;
  method?: { name: string; options: Record<string, unknown> };
  /** The model's state dict (model.* tensors, prefix removed). */
  modelState: StateDict;
  state?: StateTree;
  /** The other JSON sections, parsed. */
  sections: Record<string, unknown>;
  metadata: SafetensorsMetadata;
  /**
   * Whether the file's checksum was checked: always true for a tuckergrad checkpoint (it must carry
   * one); false for a plain safetensors file read with `allowPlain`, which has none to check.
   */
  verified: boolean;
}

export interface LoadCheckpointOptions {
  /**
   * Also read a plain safetensors file (tensors only, no tuckergrad metadata, e.g. a state dict
   * saved by PyTorch) as a final model, when its tensors are the state dict of one model builder.
   * It carries no checksum: the result has `verified: false`, and the caller must say so.
   */
  allowPlain?: boolean;
}

/** Reads and validates a checkpoint (checksum, format, JSON sections); builds no model. */
export function loadCheckpoint(path: string, options: LoadCheckpointOptions = {}): LoadedCheckpoint {
  const { tensors, metadata } = loadSafetensors(path);
  const where = `checkpoint ${path}`;
  const format = metadata['tuckergrad.format'];
  if (format === undefined && options.allowPlain) return plainCheckpoint(path, tensors, metadata);
  if (format === undefined) {
    throw new Error(
      `${where} is not a tuckergrad checkpoint: its metadata has no tuckergrad.format (it holds ${Object.keys(tensors).length} tensors${Object.keys(tensors).length ? `, e.g. '${Object.keys(tensors)[0]}'` : ''})`,
    );
  }
  if (format !== CHECKPOINT_FORMAT) throw new Error(`${where} has format '${format}'; this version reads '${CHECKPOINT_FORMAT}'`);
  const json = <T>(key: string, required: boolean): T | undefined => {
    const raw = metadata[`tuckergrad.${key}`];
    if (raw === undefined) {
      if (required) throw new Error(`${where} is incomplete: metadata tuckergrad.${key} is missing`);
      return undefined;
    }
    try {
      return JSON.parse(raw) as T;
    } catch (err) {
      throw new Error(`${where} is corrupt: metadata tuckergrad.${key} is not valid JSON (${(err as Error).message})`);
    }
  };
  const kind = metadata['tuckergrad.kind'];
  if (kind !== 'training' && kind !== 'model') throw new Error(`${where}: tuckergrad.kind must be 'training' or 'model', got ${JSON.stringify(kind)}`);
  const modelSpec = json<ModelSpec>('model', true) as ModelSpec;
  if (
    !modelSpec ||
    typeof modelSpec.builder !== 'string' ||
    !Number.isInteger(modelSpec.numClasses) ||
    (modelSpec.dtype !== 'float32' && modelSpec.dtype !== 'float64') ||
    !Array.isArray(modelSpec.inputShape)
  ) {
    throw new Error(`${where}: tuckergrad.model must be {builder, numClasses, dtype, inputShape}, got ${metadata['tuckergrad.model']}`);
  }
  const builder = builderOf(modelSpec.builder, where);
  const layers = json<LayerSpec[]>('layers', true) as LayerSpec[];
  if (!Array.isArray(layers) || !layers.every((l) => l && typeof l.name === 'string' && typeof l.kind === 'string'))
    throw new Error(`${where}: tuckergrad.layers must be a list of {name, kind, …}`);
  const modelState: StateDict = {};
  for (const [k, e] of Object.entries(tensors)) {
    if (!k.startsWith(MODEL_PREFIX)) continue;
    if (!((e.dtype === 'F32' && e.data instanceof Float32Array) || (e.dtype === 'F64' && e.data instanceof Float64Array)))
      throw new Error(`${where}: model tensor '${k}' must be F32 or F64, got ${e.dtype}`);
    modelState[k.slice(MODEL_PREFIX.length)] = new Tensor(e.data, e.shape);
  }
  if (Object.keys(modelState).length === 0) throw new Error(`${where} holds no model tensors (model.*)`);
  checkDescriptionFits(modelSpec, builder, layers, Object.fromEntries(Object.entries(modelState).map(([k, t]) => [k, t.shape])), where);
  const rawState = json<unknown>('state', false);
  const sections: Record<string, unknown> = {};
  for (const key of Object.keys(metadata)) {
    if (!key.startsWith('tuckergrad.')) continue;
    const name = key.slice('tuckergrad.'.length);
    if (!RESERVED.has(name)) sections[name] = json(name, true);
  }
  return {
    path,
    kind,
    modelSpec,
    layers,
    ranks: json<Record<string, number[]>>('ranks', false) ?? {},
    method: json<{ name: string; options: Record<string, unknown> }>('method', false),
    modelState,
    state: rawState === undefined ? undefined : decodeTree(rawState, tensors, where),
    sections,
    metadata,
    verified: true,
  };
}

/**
 * A plain safetensors file read as a final model: its tensors (all prefixed `model.` or none) must be
 * the state dict of exactly one model builder, with the number of classes read from the tensors
 * whose shape depends on it. Models are built only at 1 and 2 classes and at the inferred count,
 * which the file's own tensors bound, so the work stays proportional to the file.
 */
function plainCheckpoint(path: string, tensors: SafetensorsTensors, metadata: SafetensorsMetadata): LoadedCheckpoint {
  const where = `plain safetensors file ${path}`;
  const keys = Object.keys(tensors);
  if (keys.length === 0) throw new Error(`${where} holds no tensors, so it cannot be a model`);
  const prefixed = keys.every((k) => k.startsWith(MODEL_PREFIX));
  const modelState: StateDict = {};
  for (const [k, e] of Object.entries(tensors)) {
    if (!((e.dtype === 'F32' && e.data instanceof Float32Array) || (e.dtype === 'F64' && e.data instanceof Float64Array)))
      throw new Error(`${where}: tensor '${k}' must be F32 or F64 to be a model weight, got ${e.dtype}`);
    modelState[prefixed ? k.slice(MODEL_PREFIX.length) : k] = new Tensor(e.data, e.shape);
  }
  const dtypes = new Set(Object.values(modelState).map((t) => t.dtype));
  if (dtypes.size !== 1) throw new Error(`${where} mixes F32 and F64 tensors; a model holds one dtype`);
  const dtype = [...dtypes][0];
  const shapes = Object.fromEntries(Object.entries(modelState).map(([k, t]) => [k, t.shape]));
  const fits: ModelSpec[] = [];
  for (const [name, builder] of Object.entries(MODEL_BUILDERS)) {
    const numClasses = inferClasses(name, dtype, shapes);
    if (numClasses !== null) fits.push({ builder: name, numClasses, dtype, inputShape: [...builder.inputShape] });
  }
  if (fits.length !== 1) {
    const shown = keys.slice(0, 3).map((k) => `'${k}' ${shapeStr(tensors[k].shape)}`);
    throw new Error(
      fits.length === 0
        ? `${where} is not a tuckergrad checkpoint, and its ${keys.length} tensors (${shown.join(', ')}${keys.length > 3 ? ', …' : ''}) are not the state dict of any model builder (${Object.keys(MODEL_BUILDERS).join(', ')})`
        : `${where} fits more than one model builder (${fits.map((f) => f.builder).join(', ')})`,
    );
  }
  return { path, kind: 'model', modelSpec: fits[0], layers: [], ranks: {}, modelState, sections: {}, metadata, verified: false };
}

/** The class count at which builder `name` has exactly these state-dict shapes, or null. */
function inferClasses(name: string, dtype: DType, shapes: Record<string, readonly number[]>): number | null {
  const shapesAt = (numClasses: number) =>
    Object.fromEntries(Object.entries(buildBaseModel({ builder: name, numClasses, dtype, inputShape: [] }).stateDict()).map(([k, t]) => [k, t.shape]));
  const one = shapesAt(1);
  const two = shapesAt(2);
  const keys = Object.keys(one);
  if (keys.length !== Object.keys(shapes).length || !keys.every((k) => shapes[k] !== undefined)) return null;
  let classes: number | null = null;
  for (const k of keys) {
    const d = one[k].findIndex((n, i) => n !== two[k][i]);
    if (d < 0 || shapes[k].length !== one[k].length) continue;
    const c = shapes[k][d];
    if (classes !== null && c !== classes) return null;
    classes = c;
  }
  if (classes === null || classes < 1) return null;
  const at = shapesAt(classes);
  return keys.every((k) => sameShape(at[k], shapes[k])) ? classes : null;
}

/** The module at a dotted name, if any. */
export function moduleAt(root: Module, name: string): Module | undefined {
  return root.namedModules().find(([n]) => n === name)?.[1];
}

/** A description without ranks (which prepareLoad changes): two layers of the same structure compare equal. */
function structureKey(d: LayerDescription): string {
  return JSON.stringify(d, (k, v) => (k === 'ranks' || k === 'name' ? undefined : v));
}

/**
 * Gives `model` (built from the builder, possibly changed by a method's setup) the layer structure
 * recorded in a checkpoint: layers the checkpoint holds as the builder's go back to the builder's
 * type, recorded layers are put in place. A current layer of the recorded structure is kept (its
 * ranks are fixed by the state load), so a method's optimizer or integrator that holds it stays valid.
 */
export function conformModel(model: Module, spec: ModelSpec, layers: readonly LayerSpec[], where = 'conformModel'): void {
  const target = new Map(layers.map((l) => [l.name, l]));
  const base = cachedBase(spec);
  for (const cur of describeModel(model, spec)) {
    if (target.has(cur.name)) continue;
    const original = moduleAt(base, cur.name);
    if (!original) throw new Error(`${where}: the model has a layer '${cur.name}' that neither the builder '${spec.builder}' nor the checkpoint has`);
    setModuleAt(model, cur.name, buildLayer(describeLayer(original, cur.name), spec.dtype, where));
  }
  for (const l of layers) {
    const { name, ...d } = l;
    const current = moduleAt(model, name);
    let same = false;
    try {
      same = current !== undefined && structureKey(describeLayer(current, name)) === structureKey(d as LayerDescription);
    } catch {
      same = false;
    }
    if (same) continue;
    let layer: Module;
    try {
      layer = buildLayer(d as LayerDescription, spec.dtype, where);
    } catch (err) {
      throw new Error(`${where}: cannot rebuild layer '${name}': ${(err as Error).message}`, { cause: err });
    }
    setModuleAt(model, name, layer);
  }
}

/** The model of a checkpoint, rebuilt in a fresh process: builder, recorded layers, then the weights. */
export function restoreModel(ckpt: LoadedCheckpoint): Module {
  const where = `checkpoint ${ckpt.path}`;
  const model = buildBaseModel(ckpt.modelSpec);
  conformModel(model, ckpt.modelSpec, ckpt.layers, where);
  loadModelState(model, ckpt.modelState, where);
  return model;
}

// ---------------------------------------------------------------------------------------------
// Training-method state

function optimizerTree(o: Optimizer): StateTree {
  return optimizerTreeOf(o.stateDict());
}

function optimizerTreeOf(s: ReturnType<Optimizer['stateDict']>): StateTree {
  const buffers: Record<string, StateTree> = {};
  for (const [i, b] of Object.entries(s.buffers)) buffers[i] = { ...b };
  return { lr: s.lr, step: s.step, buffers };
}

function integratorTree(s: IntegratorState): StateTree {
  return { stepCount: s.stepCount, lr: s.lr, velocity: { ...s.velocity }, others: s.others ? optimizerTreeOf(s.others) : null };
}

/** Plain data a state tree can hold: JSON values, Tensors and float/int32 arrays, in plain objects and arrays. */
function isPlainData(v: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return true;
  if (v instanceof Tensor || v instanceof Float64Array || v instanceof Float32Array || v instanceof Int32Array) return true;
  if (Array.isArray(v)) return v.every((x) => isPlainData(x, depth + 1));
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    return (proto === Object.prototype || proto === null) && Object.values(v as object).every((x) => isPlainData(x, depth + 1));
  }
  return false;
}

/**
 * The state of a training method: its own getState() when it has one; otherwise every optimizer,
 * rank-adaptive integrator and generator among its fields, its numeric and boolean fields (step
 * counters), Maps of arrays (cached subgradients) and fields of plain data (ranks reached).
 * Restored by restoreMethodState after the method's setup on the loaded model.
 */
export function captureMethodState(method: TrainingMethod): StateTree {
  if (typeof method.getState === 'function') return { custom: method.getState() as StateTree };
  const fields: Record<string, StateTree> = {};
  for (const [k, v] of Object.entries(method)) {
    if (v instanceof Optimizer) fields[k] = { optimizer: optimizerTree(v) };
    else if (v instanceof RankAdaptiveIntegrator) fields[k] = { integrator: integratorTree(v.getState()) };
    else if (v instanceof Generator) fields[k] = { generator: v.getState().map((x) => (Number.isNaN(x) ? null : x)) };
    else if (Array.isArray(v) && v.length > 0 && v.every((x) => x instanceof Optimizer)) fields[k] = { optimizers: (v as Optimizer[]).map(optimizerTree) };
    else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') fields[k] = { value: v };
    else if (v instanceof Map && [...v].every(([key, x]) => typeof key === 'string' && isPlainData(x)))
      fields[k] = { map: [...v].map(([key, x]) => [key, x as StateTree]) };
    else if (v !== null && typeof v === 'object' && !(v instanceof Module) && isPlainData(v)) fields[k] = { data: v as StateTree };
  }
  return { fields };
}

function asOptimizerState(t: StateTree, where: string): ReturnType<Optimizer['stateDict']> {
  const o = t as { lr?: unknown; step?: unknown; buffers?: unknown };
  if (!o || typeof o.lr !== 'number' || typeof o.step !== 'number' || typeof o.buffers !== 'object' || o.buffers === null)
    throw new Error(`${where}: malformed optimizer state`);
  for (const b of Object.values(o.buffers as Record<string, unknown>)) {
    for (const t2 of Object.values(b as Record<string, unknown>)) if (!(t2 instanceof Tensor)) throw new Error(`${where}: optimizer buffers must be tensors`);
  }
  return o as ReturnType<Optimizer['stateDict']>;
}

/** Puts captureMethodState output back. Throws (naming the field) when the state does not fit the method. */
export function restoreMethodState(method: TrainingMethod, state: StateTree, where = 'restoreMethodState'): void {
  const s = state as { custom?: StateTree; fields?: Record<string, StateTree> };
  if (s && typeof s === 'object' && 'custom' in s) {
    if (typeof method.setState !== 'function') throw new Error(`${where}: the state was saved by a method with setState, but '${method.name}' has none`);
    method.setState(s.custom);
    return;
  }
  if (typeof method.setState === 'function')
    throw new Error(`${where}: method '${method.name}' keeps its own state (getState/setState), but the checkpoint holds the generic one`);
  if (!s || typeof s !== 'object' || !s.fields || typeof s.fields !== 'object') throw new Error(`${where}: malformed method state`);
  const target = method as unknown as Record<string, unknown>;
  const fields = s.fields;
  // Check that every saved field has a live counterpart of the same type before changing anything.
  for (const [k, raw] of Object.entries(fields)) {
    const v = target[k];
    const f = raw as Record<string, StateTree>;
    const ok =
      ('optimizer' in f && v instanceof Optimizer) ||
      ('integrator' in f && v instanceof RankAdaptiveIntegrator) ||
      ('generator' in f && v instanceof Generator) ||
      ('optimizers' in f && Array.isArray(v) && Array.isArray(f.optimizers) && v.length === f.optimizers.length) ||
      ('value' in f && typeof v === typeof f.value) ||
      ('map' in f && v instanceof Map && Array.isArray(f.map)) ||
      ('data' in f && v !== null && typeof v === 'object' && Array.isArray(v) === Array.isArray(f.data));
    if (!ok) throw new Error(`${where}: saved field '${k}' of method '${method.name}' does not match the method (${v === undefined ? 'missing' : typeof v})`);
  }
  for (const [k, raw] of Object.entries(fields)) {
    const f = raw as Record<string, StateTree>;
    const v = target[k];
    if ('optimizer' in f) (v as Optimizer).loadStateDict(asOptimizerState(f.optimizer, `${where}: ${k}`));
    else if ('optimizers' in f)
      (v as Optimizer[]).forEach((o, i) => o.loadStateDict(asOptimizerState((f.optimizers as StateTree[])[i], `${where}: ${k}[${i}]`)));
    else if ('integrator' in f) {
      const t = f.integrator as { stepCount: number; lr: number; velocity: Record<string, Float64Array>; others: StateTree };
      (v as RankAdaptiveIntegrator).setState({
        stepCount: t.stepCount,
        lr: t.lr,
        velocity: t.velocity ?? {},
        others: t.others === null ? null : asOptimizerState(t.others, `${where}: ${k}.others`),
      });
    } else if ('generator' in f) (v as Generator).setState((f.generator as (number | null)[]).map((x) => (x === null ? Number.NaN : x)));
    else if ('map' in f) {
      const map = v as Map<string, unknown>;
      map.clear();
      for (const [key, x] of f.map as [string, StateTree][]) map.set(key, x);
    } else if ('data' in f) target[k] = f.data;
    else target[k] = f.value;
  }
}
