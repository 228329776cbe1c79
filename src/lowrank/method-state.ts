/**
 * The state of a training method in a checkpoint: the method's own versioned getState() when it
 * has one; otherwise a generic capture of its optimizers, integrators, generators and plain fields.
 * Restored after the method's setup on the loaded model.
 */
import { Module } from '../nn/module.js';
import { Optimizer } from '../optim/optimizer.js';
import { Generator } from '../tensor/random.js';
import type { StateTree } from '../tensor/state-tree.js';
import { Tensor } from '../tensor/tensor.js';
import { RankAdaptiveIntegrator, type IntegratorState } from './integrator.js';
import type { TrainingMethod } from './methods/types.js';

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
