/**
 * Argument checks shared by the CPU kernels. Every check is O(1) or O(rank), never O(size), so the
 * kernels can afford to run them on every call.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { WindowGeometry } from '../backend.js';

export function fail(kernel: string, message: string): never {
  throw new Error(`${kernel}: ${message}`);
}

export function isTypedFloat(x: unknown): x is TypedArray {
  return x instanceof Float32Array || x instanceof Float64Array;
}

export function checkArray(kernel: string, name: string, x: unknown): asserts x is TypedArray {
  if (!isTypedFloat(x)) {
    fail(kernel, `${name} must be a Float32Array or Float64Array, got ${describe(x)}`);
  }
}

/** Mixing dtypes would silently round float64 data; the backend contract is one dtype per call. */
export function checkSameType(kernel: string, name: string, x: TypedArray, ref: TypedArray, refName: string): void {
  if (x.constructor !== ref.constructor) {
    fail(kernel, `${name} must have the same dtype as ${refName} (${ref.constructor.name}), got ${x.constructor.name}`);
  }
}

export function checkLength(kernel: string, name: string, x: ArrayLike<number>, expected: number): void {
  if (x.length < expected) fail(kernel, `${name} must hold at least ${expected} elements, got ${x.length}`);
}

export function checkExactLength(kernel: string, name: string, x: ArrayLike<number>, expected: number): void {
  if (x.length !== expected) fail(kernel, `${name} must hold ${expected} elements, got ${x.length}`);
}

export function checkNonNegInt(kernel: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    fail(kernel, `${name} must be a non-negative integer, got ${String(v)}`);
  }
}

export function checkPosInt(kernel: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    fail(kernel, `${name} must be a positive integer, got ${String(v)}`);
  }
}

export function checkShapeArg(kernel: string, name: string, shape: readonly number[]): number {
  if (!Array.isArray(shape)) fail(kernel, `${name} must be an array of dims, got ${describe(shape)}`);
  let size = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      fail(kernel, `${name} must hold non-negative integers, got [${shape.join(', ')}]`);
    }
    size *= d;
  }
  return size;
}

export function checkAxis(kernel: string, axis: number, rank: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    fail(kernel, `axis must be an integer in [0, ${rank - 1}], got ${axis}`);
  }
}

const GEOMETRY_POSITIVE = ['kH', 'kW', 'strideH', 'strideW', 'dilH', 'dilW'] as const;
const GEOMETRY_NON_NEG = ['batch', 'totalChannels', 'channelOffset', 'channels', 'inH', 'inW', 'padH', 'padW', 'outH', 'outW'] as const;

/** Validates a window geometry: integer fields in range and the channel slice inside the input. */
export function checkGeometry(kernel: string, g: WindowGeometry): void {
  if (g === null || typeof g !== 'object') fail(kernel, `geometry must be an object, got ${describe(g)}`);
  for (const key of GEOMETRY_POSITIVE) checkPosInt(kernel, `geometry.${key}`, g[key]);
  for (const key of GEOMETRY_NON_NEG) checkNonNegInt(kernel, `geometry.${key}`, g[key]);
  if (g.channelOffset + g.channels > g.totalChannels) {
    fail(kernel, `geometry.channelOffset + geometry.channels must be ≤ totalChannels (${g.totalChannels}), got ${g.channelOffset} + ${g.channels}`);
  }
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return `${typeof x} ${String(x)}`;
}
