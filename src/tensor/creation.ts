import { allocate, isDType, type DType } from './dtype.js';
import { defaultGenerator, type Generator } from './random.js';
import { checkShape, sizeOf, type Shape } from './shape.js';
import { Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function make(shape: Shape, options: CreateOptions, op: string, fill?: (d: Float32Array | Float64Array) => void): Tensor {
  checkShape(shape as unknown[], op);
  const dtype = options.dtype ?? 'float32';
  if (!isDType(dtype)) throw new Error(`${op}: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  const d = allocate(dtype, sizeOf(shape));
  fill?.(d);
  return new Tensor(d, shape, options.requiresGrad ?? false);
}

export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return make(shape, options, 'zeros');
}

export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return make(shape, options, 'ones', (d) => d.fill(1));
}

export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  if (typeof value !== 'number') throw new Error(`full: value must be a number, got ${typeof value}`);
  return make(shape, options, 'full', (d) => d.fill(value));
}

export function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, ...options });
}

export function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, ...options });
}

/** Values start, start+step, … below end (NumPy's arange). */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [a, b] = end === undefined ? [0, start] : [start, end];
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(step) || step === 0) {
    throw new Error(`arange: start, end must be finite and step non-zero, got start=${a}, end=${b}, step=${step}`);
  }
  const n = Math.max(0, Math.ceil((b - a) / step));
  return make([n], options, 'arange', (d) => {
    for (let i = 0; i < n; i++) d[i] = a + i * step;
  });
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  return make([n, m], options, 'eye', (d) => {
    for (let i = 0; i < Math.min(n, m); i++) d[i * m + i] = 1;
  });
}

/** Standard normal samples from the seeded generator. */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  return make(shape, options, 'randn', (d) => {
    for (let i = 0; i < d.length; i++) d[i] = g.normal();
  });
}

/** Uniform samples in [low, high) (default [0, 1)). */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  const lo = options.low ?? 0;
  const hi = options.high ?? 1;
  if (!(hi > lo)) throw new Error(`rand: high must exceed low, got low=${lo}, high=${hi}`);
  return make(shape, options, 'rand', (d) => {
    for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * g.uniform();
  });
}

/** Uniform integers in [low, high), stored as floats of the chosen dtype. */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new Error(`randint: need integers low < high, got low=${low}, high=${high}`);
  return make(shape, options, 'randint', (d) => {
    for (let i = 0; i < d.length; i++) d[i] = g.int(low, high);
  });
}

/** A tensor that shares nothing with the given nested array or typed array. */
export { tensor, tensor as fromArray } from './tensor.js';
