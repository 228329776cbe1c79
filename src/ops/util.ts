import { getBackend } from '../backend/index.js';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
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

/** Left-pads a shape with 1s to the given rank. */
export function padShape(shape: Shape, rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

/** Raw broadcasting binary kernel, no tape. */
export function rawBinary(op: BinaryOp, a: Tensor, b: Tensor, opName: string): Tensor {
  checkSameDtype(a, b, opName);
  const outShape = sameShape(a.shape, b.shape) ? [...a.shape] : broadcastShapes(a.shape, b.shape, opName);
  const out = emptyLike(outShape, a.dtype);
  getBackend().binary(op, a.data, padShape(a.shape, outShape.length), b.data, padShape(b.shape, outShape.length), out.data, outShape);
  return out;
}

export function rawUnary(op: UnaryOp, x: Tensor): Tensor {
  const out = emptyLike(x.shape, x.dtype);
  getBackend().unary(op, x.data, out.data);
  return out;
}

/** Sums a broadcast gradient back down to the shape of the input it came from. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
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
