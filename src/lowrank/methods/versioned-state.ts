/**
 * Explicit, versioned checkpoint state for the training methods (docs/design.md §2.5): each method
 * names the fields it saves, so renaming a private field never breaks a checkpoint, and a later
 * version can keep reading older states. A state without `version` is version 1 only where the
 * method had no other form before.
 */
import type { OptimizerState } from '../../optim/optimizer.js';

/** Checks the common envelope `{ version, ... }` and returns the state as a record. */
export function versionedState(who: string, state: unknown, version: number, fields: readonly string[]): Record<string, unknown> {
  if (state === null || typeof state !== 'object' || Array.isArray(state))
    throw new Error(`${who}.setState: expected an object { version: ${version}, ${fields.join(', ')} }, got ${JSON.stringify(state)?.slice(0, 80)}`);
  const s = state as Record<string, unknown>;
  if (s.version !== version) throw new Error(`${who}.setState: expected state version ${version}, got ${JSON.stringify(s.version)}`);
  for (const f of fields) if (!(f in s)) throw new Error(`${who}.setState: the state has no '${f}' (expected ${fields.join(', ')})`);
  return s;
}

/**
 * For a method whose state had one form before states carried a version (full, post-hoc, tdlrt):
 * that form, an object without `version`, is read as version `legacy`. Anything else is returned
 * as it is, for versionedState to check.
 */
export function assumeVersion(state: unknown, legacy: number): unknown {
  if (state !== null && typeof state === 'object' && !Array.isArray(state) && !('version' in state)) return { ...state, version: legacy };
  return state;
}

/** A step counter from a state: an integer ≥ 0. */
export function stepCountOf(who: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${who}.setState: stepCount must be an integer ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

/** An optimizer state from a state, as Optimizer.loadStateDict takes it (it checks the buffers itself). */
export function optimizerStateOf(who: string, v: unknown): OptimizerState {
  if (v === null || typeof v !== 'object')
    throw new Error(`${who}.setState: optimizer must be an optimizer state object, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v as OptimizerState;
}
