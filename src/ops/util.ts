import { getBackend, getDevice } from '../backend/index.js';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { MAX_DEVICE_ELEMENTS, type DeviceKernels } from '../backend/device.js';
import { Storage, type DeviceArray } from '../tensor/storage.js';
import { allocate, type DType } from '../tensor/dtype.js';
import { broadcastShapes, sameShape, shapeStr, sizeOf, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** What binary ops accept on either side: a tensor or a plain number (a 0-d tensor of the other side's dtype). */
export type TensorLike = Tensor | number;

export function asTensor(x: TensorLike, like: Tensor | DType, op: string, arg: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number') throw new Error(`${op}: ${arg} must be a Tensor or a number, got ${typeof x}`);
  const dtype = typeof like === 'string' ? like : like.dtype;
  const d = allocate(dtype, 1);
  d[0] = x;
  return new Tensor(d, []);
}

export function checkTensor(x: unknown, op: string, arg: string): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: ${arg} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x;
}

export function checkSameDtype(a: Tensor, b: Tensor, op: string, names: [string, string] = ['a', 'b']): void {
  if (a.dtype !== b.dtype) throw new Error(`${op}: dtypes must match, got ${names[0]} ${a.dtype} and ${names[1]} ${b.dtype}`);
}

export function emptyLike(shape: Shape, dtype: DType): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape);
}

/**
 * The device to run an op on: the current backend's, when every tensor is float32 and every
 * tensor and output size fits the device kernels; otherwise undefined (the host path).
 */
export function deviceFor(tensors: readonly Tensor[], outputSizes: readonly number[] = []): DeviceKernels | undefined {
  const dev = getDevice();
  if (dev === undefined) return undefined;
  for (const t of tensors) if (t.dtype !== 'float32' || t.size === 0 || t.size > MAX_DEVICE_ELEMENTS) return undefined;
  for (const n of outputSizes) if (!(n >= 1 && n <= MAX_DEVICE_ELEMENTS)) return undefined;
  return dev;
}

/** A tensor owning a device buffer (freed with the tensor's storage). */
export function fromDevice(d: DeviceArray, shape: Shape): Tensor {
  return new Tensor(Storage.fromDevice(d), shape);
}

/** The tensor's values on the device, uploaded once if they live on the host. */
export function dev(t: Tensor, device: DeviceKernels): DeviceArray {
  return t.storage.device(device);
}

/** A copy with its own storage, on the device when the values are there. */
export function copyOf(t: Tensor): Tensor {
  const device = t.storage.onDevice ? deviceFor([t]) : undefined;
  if (device) return fromDevice(device.permute(dev(t, device), [t.size], [0]), t.shape);
  return new Tensor(t.data.slice(), t.shape);
}

/** Left-pads a shape with 1s to the given rank. */
export function padShape(shape: Shape, rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/** Raw broadcasting binary kernel, no tape. */
export function rawBinary(op: BinaryOp, a: Tensor, b: Tensor, opName: string): Tensor {
  checkSameDtype(a, b, opName);
  const outShape = sameShape(a.shape, b.shape) ? [...a.shape] : broadcastShapes(a.shape, b.shape, opName);
  const device = deviceFor([a, b], [sizeOf(outShape)]);
  if (device) {
    return fromDevice(device.binary(op, dev(a, device), padShape(a.shape, outShape.length), dev(b, device), padShape(b.shape, outShape.length), outShape), outShape);
  }
  const out = emptyLike(outShape, a.dtype);
  getBackend().binary(op, a.data, padShape(a.shape, outShape.length), b.data, padShape(b.shape, outShape.length), out.data, outShape);
  return out;
}

export function rawUnary(op: UnaryOp, x: Tensor): Tensor {
  const device = deviceFor([x]);
  if (device) return fromDevice(device.unary(op, dev(x, device)), x.shape);
  const out = emptyLike(x.shape, x.dtype);
  getBackend().unary(op, x.data, out.data);
  return out;
}

/** Sums a broadcast gradient back down to the shape of the input it came from. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const device = deviceFor([g]);
  if (device) return sumToShapeOnDevice(g, shape, device);
  const backend = getBackend();
  let cur = g;
  let curShape = [...g.shape];
  // Leading dims that broadcasting added, then dims where the input had size 1.
  while (curShape.length > shape.length) {
    const next = curShape.slice(1);
    const out = allocate(cur.dtype, sizeOf(next));
    backend.sumAxis(cur.data, curShape, 0, out);
    cur = new Tensor(out, next);
    curShape = next;
  }
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && curShape[i] !== 1) {
      const next = curShape.slice();
      next[i] = 1;
      const out = allocate(cur.dtype, sizeOf(next));
      backend.sumAxis(cur.data, curShape, i, out);
      cur = new Tensor(out, next);
      curShape = next;
    }
  }
  if (!sameShape(curShape, shape)) throw new Error(`sumToShape: cannot reduce ${shapeStr(g.shape)} to ${shapeStr(shape)}`);
  return cur;
}

function sumToShapeOnDevice(g: Tensor, shape: Shape, device: DeviceKernels): Tensor {
  let cur = dev(g, device);
  let owned = false;
  let curShape = [...g.shape];
  const step = (next: number[], axis: number): void => {
    const out = device.sumAxis(cur, curShape, axis);
    if (owned) cur.release();
    cur = out;
    owned = true;
    curShape = next;
  };
  while (curShape.length > shape.length) step(curShape.slice(1), 0);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && curShape[i] !== 1) {
      const next = curShape.slice();
      next[i] = 1;
      step(next, i);
    }
  }
  if (!sameShape(curShape, shape)) throw new Error(`sumToShape: cannot reduce ${shapeStr(g.shape)} to ${shapeStr(shape)}`);
  return owned ? fromDevice(cur, shape) : g;
}
