import { allocate, isDType, type DType, type TypedArray } from './dtype.js';
import { recycleInArena, Storage, type DeviceArray } from './storage.js';
import { checkShape, shapeStr, sizeOf, type Shape } from './shape.js';
import type { GradNode } from './node.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** What binary ops accept on either side: a tensor or a plain number (a 0-d tensor of the other side's dtype). */
export type TensorLike = Tensor | number;

/** Nested number arrays as accepted by tensor(). */
export type NestedArray = number | readonly NestedArray[];

/**
 * A dense, contiguous, row-major n-d array of float32 or float64, with an optional autograd
 * history. The buffer is owned by the tensor; ops never write into their inputs.
 *
 * The chainable methods (x.add(y), x.backward(), x.clone(), ...) are added by the layers that
 * implement them (ops/tensor-methods.ts, autograd/tensor-methods.ts), so this layer imports
 * neither (docs/design.md §2).
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /**
   * The values; reshape and detach share it. On the GPU backend it may hold only a device copy,
   * which `.data` reads back.
   */
  storage: Storage;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that produced this tensor, while its graph is alive. */
  node: GradNode | null = null;
  /** Optional label used in error messages and reports. */
  name?: string;

  constructor(data: TypedArray | Storage, shape: Shape, requiresGrad = false) {
    checkShape(shape as number[], 'Tensor');
    if (data.length !== sizeOf(shape)) {
      throw new Error(`Tensor: data holds ${data.length} elements but shape ${shapeStr(shape)} needs ${sizeOf(shape)}`);
    }
    this.shape = Object.freeze([...shape]);
    this.storage = data instanceof Storage ? data : new Storage(data);
    this.dtype = this.storage.dtype;
    this.requiresGrad = requiresGrad;
  }

  /**
   * The raw row-major host buffer (read back from the device if the values live there). Writing
   * into it bypasses autograd: do so only on leaves under noGrad.
   */
  get data(): TypedArray {
    return this.storage.host();
  }
  set data(values: TypedArray) {
    if (values.length !== this.size || !(values instanceof (this.dtype === 'float64' ? Float64Array : Float32Array))) {
      throw new Error(`Tensor.data: expected a ${this.dtype} array of ${this.size} elements, got ${values.constructor.name} of ${values.length}`);
    }
    this.storage = new Storage(values);
  }

  /**
   * Makes the device buffer d this tensor's values, in place and without history, freeing the
   * storage it replaces. Device buffers are immutable, so in-place updates of parameters, optimizer
   * state and accumulated gradients swap buffers; the new one is kept past tidy() scopes.
   */
  adoptDevice(d: DeviceArray): void {
    const s = Storage.fromDevice(d).keep();
    this.storage.dispose();
    this.storage = s;
  }

  /** The same storage under another shape of equal size (no copy, no history). */
  view(shape: Shape): Tensor {
    return new Tensor(this.storage, shape);
  }

  static fromData(data: TypedArray, shape: Shape, options: { requiresGrad?: boolean } = {}): Tensor {
    return new Tensor(data, shape, options.requiresGrad ?? false);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.storage.length;
  }

  /** Set by retainGrad(): a non-leaf that also keeps its gradient in .grad. */
  retainsGrad = false;

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor must hold exactly one element, got shape ${shapeStr(this.shape)}`);
    return this.data[0];
  }

  /** Nested JS arrays in the tensor's shape (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const { shape, data } = this;
    if (shape.length === 0) return data[0];
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = shape[dim];
      const out: NestedArray[] = new Array(n);
      if (dim === shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = data[offset + i];
        return out;
      }
      let inner = 1;
      for (let d = dim + 1; d < shape.length; d++) inner *= shape[d];
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * inner);
      return out;
    };
    return build(0, 0);
  }

  /** A flat copy as a plain number array. */
  toList(): number[] {
    return Array.from(this.data);
  }

  // ---- autograd state --------------------------------------------------------------------------
  /** The same values without history (shares the buffer). */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape);
  }
  /** Marks a leaf as needing a gradient (chainable). */
  requiresGrad_(flag = true): this {
    if (this.node !== null && !flag) throw new Error('requiresGrad_: cannot turn off requiresGrad on a non-leaf tensor; use detach()');
    this.requiresGrad = flag;
    return this;
  }
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }
  /** Drops the gradient (set to none, as PyTorch); on the GPU its device memory is freed. */
  zeroGrad(): void {
    if (this.grad !== null) {
      // Inside arena() the old gradient's buffer serves the next backward (see arena()).
      recycleInArena(this.grad.storage.hostBuffer);
      this.grad.storage.dispose();
    }
    this.grad = null;
  }
  get isLeaf(): boolean {
    return this.node === null;
  }
  /** A copy in another dtype (no history: casts are not differentiated). */
  to(dtype: DType): Tensor {
    if (!isDType(dtype)) throw new Error(`to: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
    if (dtype === this.dtype) return this;
    const d = allocate(dtype, this.size);
    d.set(this.data);
    return new Tensor(d, this.shape);
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** Creates a tensor from nested arrays, a typed array (with shape), or a number. */
export function tensor(values: NestedArray | TypedArray, options: TensorOptions & { shape?: Shape } = {}): Tensor {
  const dtype = options.dtype ?? (values instanceof Float64Array ? 'float64' : 'float32');
  if (!isDType(dtype)) throw new Error(`tensor: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  if (values instanceof Float32Array || values instanceof Float64Array) {
    const shape = options.shape ?? [values.length];
    const data = allocate(dtype, values.length);
    data.set(values);
    return new Tensor(data, shape, options.requiresGrad ?? false);
  }
  const shape: number[] = [];
  let probe: NestedArray = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = (probe as readonly NestedArray[])[0];
    if (probe === undefined) break;
  }
  const data = allocate(dtype, sizeOf(shape));
  let k = 0;
  const fill = (v: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number') throw new Error(`tensor: expected a number at ${path}, got ${Array.isArray(v) ? 'an array' : typeof v}`);
      data[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new Error(`tensor: ragged nested array at ${path}: expected length ${shape[dim]}, got ${Array.isArray(v) ? v.length : typeof v}`);
    }
    for (let i = 0; i < v.length; i++) fill(v[i], dim + 1, `${path}[${i}]`);
  };
  fill(values, 0, 'values');
  if (options.shape) {
    if (sizeOf(options.shape) !== data.length) throw new Error(`tensor: shape ${shapeStr(options.shape)} does not fit ${data.length} values`);
    return new Tensor(data, options.shape, options.requiresGrad ?? false);
  }
  return new Tensor(data, shape, options.requiresGrad ?? false);
}
