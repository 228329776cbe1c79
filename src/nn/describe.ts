/**
 * Layers that describe themselves: each layer type registers a kind with a describe() that writes
 * the layer as JSON, a build() that makes a layer of that description (placeholder weights a state
 * load fills in), and elements(), the weights build() would allocate. Checkpoints store the
 * descriptions of the layers that differ from the builder's model and rebuild them from here, so a
 * new layer type registers its kind next to its class and nothing in io/ or train/ changes
 * (docs/design.md, "Checkpoints"). nn's own kinds are in layer-kinds.ts, lowrank's in
 * lowrank/layer-kinds.ts.
 */
import type { DType } from '../tensor/dtype.js';
import type { Module } from './module.js';

/** A JSON description of one layer: its kind and what its builder needs. */
export type LayerDescription = { kind: string } & Record<string, unknown>;
/** A description with the dotted name of the layer in its model. */
export type LayerSpec = { name: string } & LayerDescription;

export interface LayerKind<M extends Module = Module, D extends LayerDescription = LayerDescription> {
  kind: string;
  /** The class this kind describes: a layer of a subclass without a kind of its own is described as this one. */
  type: abstract new (
    ...args: never[]
  ) => M;
  /** The description of `m` (`name` is its place in the model, for nested descriptions and errors). */
  describe(m: M, name: string): Omit<D, 'kind'>;
  /** A layer of description `d`: placeholders of the right shapes (rank 1 on stored low-rank modes). */
  build(d: D, dtype: DType, where: string): Module;
  /**
   * The weights build(d) allocates, or NaN when a size in `d` is not a positive integer. Read from
   * untrusted files, so it must not throw and must not allocate: a checkpoint's descriptions are
   * checked against the tensors it holds with it before any layer is built.
   */
  elements(d: D): number;
}

const KINDS = new Map<string, LayerKind>();

/** Registers a layer kind; registering a kind twice for the same class is a no-op, for another class an error. */
export function registerLayerKind<M extends Module, D extends LayerDescription>(k: LayerKind<M, D>): void {
  const known = KINDS.get(k.kind);
  if (known && known.type !== k.type) throw new Error(`registerLayerKind: kind '${k.kind}' is already registered for ${known.type.name}`);
  if (!known) KINDS.set(k.kind, k as unknown as LayerKind);
}

/** The registered kinds, in registration order. */
export function layerKinds(): string[] {
  return [...KINDS.keys()];
}

/** The kind of a module: its own class's, else that of its nearest registered ancestor class. */
function kindOf(m: Module): LayerKind | undefined {
  const all = [...KINDS.values()];
  return all.find((k) => k.type === m.constructor) ?? all.reverse().find((k) => m instanceof k.type);
}

/** A JSON description of one module (throws for a module type no kind describes). */
export function describeLayer(m: Module, name = ''): LayerDescription {
  const k = kindOf(m);
  if (!k) throw new Error(`describeLayer: cannot describe layer '${name}' of type ${m.constructor.name}: the known layer kinds are ${layerKinds().join(', ')}`);
  return { kind: k.kind, ...k.describe(m, name) };
}

/** The kind registered under `d.kind`, or an error naming the known ones. */
function kindNamed(d: LayerDescription, where: string): LayerKind {
  const k = d !== null && typeof d === 'object' && typeof d.kind === 'string' ? KINDS.get(d.kind) : undefined;
  if (!k) throw new Error(`${where}: unknown layer kind ${JSON.stringify(d?.kind)} (known: ${layerKinds().join(', ')})`);
  return k;
}

/** A module of the description, with placeholder values that a state load fills in. */
export function buildLayer(d: LayerDescription, dtype: DType, where = 'buildLayer'): Module {
  return kindNamed(d, where).build(d, dtype, where);
}

/** The weights buildLayer(d) would allocate; NaN for an unknown kind or a malformed size. */
export function placeholderElements(d: LayerDescription): number {
  const k = d !== null && typeof d === 'object' && typeof d.kind === 'string' ? KINDS.get(d.kind) : undefined;
  return k ? k.elements(d) : Number.NaN;
}

/** Whether `v` is a size a description may hold: a positive safe integer. */
export const isDim = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

/** `a` when it is a list of sizes, else [NaN] (so that any product over it is NaN). */
export const dimsOf = (a: unknown): number[] => (Array.isArray(a) && a.every(isDim) ? (a as number[]) : [Number.NaN]);

export const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
