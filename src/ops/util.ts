import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { run } from '../backend/dispatch.js';
import { allocate, type DType } from '../tensor/dtype.js';
import { broadcastShapes, sameShape, shapeStr, sizeOf, type Shape } from '../tensor/shape.js';
import { Tensor, type TensorLike } from '../tensor/tensor.js';
// Every op module imports this file, so loading any op installs the Tensor methods too.
import './tensor-methods.js';

export type { TensorLike };

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

/** A copy with its own storage, on the device when the values are there. */
export function copyOf(t: Tensor): Tensor {
  return run('copy', [t], t.shape, (k, [x]) => k.copy(x), 'follow');
}

/** Frees an intermediate's device buffer now instead of at the end of the tidy() scope (no-op on the host). */
export function release(t: Tensor): void {
  t.storage.dispose();
}

/** Left-pads a shape with 1s to the given rank. */
export function padShape(shape: Shape, rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/** Raw broadcasting binary kernel, no tape. */
export function rawBinary(op: BinaryOp, a: Tensor, b: Tensor, opName: string): Tensor {
  checkSameDtype(a, b, opName);
  const outShape = sameShape(a.shape, b.shape) ? [...a.shape] : broadcastShapes(a.shape, b.shape, opName);
  const aShape = padShape(a.shape, outShape.length);
  const bShape = padShape(b.shape, outShape.length);
  return run('binary', [a, b], outShape, (k, [x, y]) => k.binary(op, x, aShape, y, bShape, outShape));
}

export function rawUnary(op: UnaryOp, x: Tensor): Tensor {
  return run('unary', [x], x.shape, (k, [a]) => k.unary(op, a));
}

/** Sums x over one axis, keeping it as size 1; no tape. */
export function sumAxisRaw(x: Tensor, axis: number): Tensor {
  const next = x.shape.slice();
  next[axis] = 1;
  return run('sumAxis', [x], next, (k, [a]) => k.sumAxis(a, x.shape, axis));
}

/** Sums a broadcast gradient back down to the shape of the input it came from. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  let cur = g;
  const step = (axis: number, drop: boolean): void => {
    const reduced = sumAxisRaw(cur, axis);
    if (cur !== g) release(cur);
    cur = drop ? reduced.view(reduced.shape.slice(1)) : reduced;
  };
  // Leading dims that broadcasting added, then dims where the input had size 1.
  while (cur.ndim > shape.length) step(0, true);
  for (let i = 0; i < shape.length; i++) if (shape[i] === 1 && cur.shape[i] !== 1) step(i, false);
  if (!sameShape(cur.shape, shape)) throw new Error(`sumToShape: cannot reduce ${shapeStr(g.shape)} to ${shapeStr(shape)}`);
  return cur;
}
