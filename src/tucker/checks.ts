/** Argument checks shared by the tucker functions (clear messages: argument, expected, actual). */
import { shapeStr } from '../tensor/shape.js';
import { checkFinite, checkTensor } from '../linalg/matrix.js';

/** Checks a tensor argument of order ≥ 1 with finite entries; returns its shape. */
export function checkTensorArg(t: unknown, op: string, arg: string): number[] {
  checkTensor(t, op, arg);
  if (t.shape.length < 1) throw new Error(`${op}: ${arg} must have at least 1 dimension, got shape ${shapeStr(t.shape)}`);
  checkFinite(t.data, op, arg, t.shape);
  return [...t.shape];
}

/** Normalises a mode index (negative counts from the end) of an order-d tensor. */
export function checkMode(mode: unknown, d: number, op: string, arg = 'mode'): number {
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < -d || mode >= d) {
    throw new Error(`${op}: ${arg} must be an integer in [0, ${d - 1}] (or [${-d}, -1]) for a ${d}-D tensor, got ${String(mode)}`);
  }
  return mode < 0 ? mode + d : mode;
}

/** The factorised modes: all by default; otherwise distinct valid modes, returned sorted. */
export function checkModes(modes: unknown, d: number, op: string): number[] {
  if (modes === undefined || modes === null) return Array.from({ length: d }, (_, i) => i);
  if (!Array.isArray(modes)) throw new Error(`${op}: options.modes must be an array of mode indices, got ${typeof modes}`);
  const out = modes.map((m, i) => checkMode(m, d, op, `options.modes[${i}]`));
  if (new Set(out).size !== out.length) throw new Error(`${op}: options.modes must be distinct, got [${modes.join(', ')}]`);
  return out.sort((a, b) => a - b);
}

/**
 * Checks a ranks array against a shape: one entry per mode; for a factorised mode an integer in
 * [1, n_i]; for an unfactorised mode null/undefined or n_i. Returns the full ranks (n_i where not
 * factorised).
 */
export function checkRanks(ranksIn: unknown, shape: readonly number[], modes: readonly number[], op: string, arg = 'ranks'): number[] {
  const d = shape.length;
  const ranks = ArrayBuffer.isView(ranksIn) ? Array.from(ranksIn as unknown as ArrayLike<number>) : ranksIn;
  if (!Array.isArray(ranks)) throw new Error(`${op}: ${arg} must be an array with one entry per mode (${d}), got ${ranks === null ? 'null' : typeof ranks}`);
  if (ranks.length !== d) {
    throw new Error(
      `${op}: ${arg} must have ${d} entries (one per mode of a ${d}-D tensor of shape ${shapeStr(shape)}), got ${ranks.length}: [${ranks.join(', ')}]`,
    );
  }
  const set = new Set(modes);
  return ranks.map((r, i) => {
    const n = shape[i];
    if (!set.has(i)) {
      if (r === null || r === undefined || r === n) return n;
      throw new Error(`${op}: ${arg}[${i}] must be null or ${n} (mode ${i} is not factorised), got ${String(r)}`);
    }
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > n) {
      throw new Error(`${op}: ${arg}[${i}] must be an integer in [1, ${n}] (the size of mode ${i}), got ${String(r)}`);
    }
    return r;
  });
}

/** Checks a non-negative finite number option. */
export function checkNonNeg(v: unknown, op: string, arg: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${op}: ${arg} must be a finite number ≥ 0, got ${String(v)}`);
  return v;
}
