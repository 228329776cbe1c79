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
import { describeModel, conformModel } from '../nn/model-structure.js';
import { checkDescriptionFits } from '../nn/description-bounds.js';
import type { LayerSpec } from '../nn/describe.js';
import type { StateDict } from '../nn/module.js';
import { builderOf, builderShapes, buildBaseModel, classesIn, MODEL_BUILDERS, type ModelSpec } from '../nn/zoo.js';
import { loadModelState } from '../lowrank/load-state.js';
import '../lowrank/layer-kinds.js';
import { tuckerRanks } from '../lowrank/tucker-layers.js';
import type { Module } from '../nn/module.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors-file.js';
import type { SafetensorsMetadata, SafetensorsTensors } from '../io/safetensors-codec.js';
import { fromTensor } from '../io/safetensors-tensor.js';
import { decodeTree, encodeTree } from '../io/state-tree.js';
import type { DType } from '../tensor/dtype.js';
import { sameShape, shapeStr } from '../tensor/shape.js';
import type { StateTree } from '../tensor/state-tree.js';
import { Tensor } from '../tensor/tensor.js';

export const CHECKPOINT_FORMAT = 'tuckergrad-checkpoint/1';
const MODEL_PREFIX = 'model.';

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
  const ranks = tuckerRanks(model);
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
  const where = `checkpoint ${path}`;
  const keys = Object.keys(tensors);
  if (keys.length === 0) throw new Error(`${where} is a plain safetensors file that holds no tensors, so it cannot be a model`);
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
        ? `${where} is not a tuckergrad checkpoint (its metadata has no tuckergrad.format), and its ${keys.length} tensors (${shown.join(', ')}${keys.length > 3 ? ', …' : ''}) are not the state dict of any model builder (${Object.keys(MODEL_BUILDERS).join(', ')})`
        : `${where} fits more than one model builder (${fits.map((f) => f.builder).join(', ')})`,
    );
  }
  return { path, kind: 'model', modelSpec: fits[0], layers: [], ranks: {}, modelState, sections: {}, metadata, verified: false };
}

/** The class count at which builder `name` has exactly these state-dict shapes, or null. */
function inferClasses(name: string, dtype: DType, shapes: Record<string, readonly number[]>): number | null {
  const classes = classesIn(name, dtype, shapes);
  if (classes === null || classes < 1) return null;
  const want = builderShapes(name, dtype, classes);
  const keys = Object.keys(want);
  return keys.length === Object.keys(shapes).length && keys.every((k) => shapes[k] !== undefined && sameShape(want[k], shapes[k])) ? classes : null;
}
/** The model of a checkpoint, rebuilt in a fresh process: builder, recorded layers, then the weights. */
export function restoreModel(ckpt: LoadedCheckpoint): Module {
  const where = `checkpoint ${ckpt.path}`;
  const model = buildBaseModel(ckpt.modelSpec);
  conformModel(model, ckpt.modelSpec, ckpt.layers, where);
  loadModelState(model, ckpt.modelState, where);
  return model;
}
