/**
 * A model's structure against its builder's: which layers differ (described in full, so that a fresh
 * process can put them back), and the other way, giving a model the recorded structure. Layers are
 * addressed by dotted names as in Module.namedModules().
 */
import { buildLayer, describeLayer, type LayerDescription, type LayerSpec } from './describe.js';
import './layer-kinds.js';
import { Sequential } from './layers.js';
import type { Module } from './module.js';
import { buildBaseModel, type ModelSpec } from './zoo.js';

const baseCache = new Map<string, Module>();
/** The builder's model of a spec, built once per (builder, classes, dtype): only read, never trained. */
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
    if (!ref || m.constructor !== ref.constructor || !sameLeaf(m, ref)) {
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

/** The module at a dotted name, if any. */
export function moduleAt(root: Module, name: string): Module | undefined {
  return root.namedModules().find(([n]) => n === name)?.[1];
}

/** The module at a dotted name; throws naming the model's layers when there is none. */
export function requireModuleAt(root: Module, name: string, who = 'requireModuleAt'): Module {
  const found = moduleAt(root, name);
  if (found) return found;
  const names = root
    .namedModules()
    .map(([n]) => n)
    .filter(Boolean);
  throw new Error(`${who}: the model has no layer '${name}' (layers: ${names.join(', ')})`);
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
  throw new Error(`setModuleAt: the model has no layer named '${name}'`);
}

/** A description without ranks (which a state load changes): two layers of the same structure compare equal. */
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
