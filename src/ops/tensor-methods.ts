/**
 * The chainable op methods of Tensor (x.add(y), x.sum(1), ...), installed on its prototype and
 * declared by module augmentation, as TensorFlow.js's chained ops are: the tensor layer cannot
 * import ops (docs/design.md §2). ops/util.ts imports this file, so every op module brings them.
 */
import { Tensor, type TensorLike } from '../tensor/tensor.js';
import type { Shape } from '../tensor/shape.js';
import * as E from './elementwise.js';
import { matmul } from './matmul.js';
import * as R from './reduce.js';
import * as S from './shape.js';
import { logSoftmax, softmax } from './softmax.js';
import { copyOf } from './util.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** A copy with its own buffer; keeps the requiresGrad flag but no history. */
    clone(): Tensor;
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(other: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    square(): Tensor;
    abs(): Tensor;
    relu(): Tensor;
    leakyRelu(negativeSlope?: number): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    gelu(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    sum(axis?: number | readonly number[], keepdim?: boolean): Tensor;
    mean(axis?: number | readonly number[], keepdim?: boolean): Tensor;
    max(axis?: number | readonly number[], keepdim?: boolean): Tensor;
    min(axis?: number | readonly number[], keepdim?: boolean): Tensor;
    var(axis?: number | readonly number[], keepdim?: boolean, correction?: number): Tensor;
    argmax(axis: number): Int32Array;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    matmul(other: Tensor): Tensor;
    reshape(...shape: (number | readonly number[])[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    permute(...dims: (number | readonly number[])[]): Tensor;
    transpose(a?: number, b?: number): Tensor;
    /** The transpose of a 2-D tensor. */
    readonly T: Tensor;
    unsqueeze(axis: number): Tensor;
    squeeze(axis?: number): Tensor;
    slice(axis: number, start: number, end?: number): Tensor;
    indexSelect(axis: number, indices: ArrayLike<number>): Tensor;
    broadcastTo(shape: Shape): Tensor;
  }
}

const methods: Partial<Record<keyof Tensor, unknown>> & ThisType<Tensor> = {
  clone(this: Tensor): Tensor {
    const c = copyOf(this);
    c.requiresGrad = this.requiresGrad;
    return c;
  },
  add(this: Tensor, o: TensorLike) {
    return E.add(this, o);
  },
  sub(this: Tensor, o: TensorLike) {
    return E.sub(this, o);
  },
  mul(this: Tensor, o: TensorLike) {
    return E.mul(this, o);
  },
  div(this: Tensor, o: TensorLike) {
    return E.div(this, o);
  },
  pow(this: Tensor, o: TensorLike) {
    return E.pow(this, o);
  },
  maximum(this: Tensor, o: TensorLike) {
    return E.maximum(this, o);
  },
  minimum(this: Tensor, o: TensorLike) {
    return E.minimum(this, o);
  },
  neg(this: Tensor) {
    return E.neg(this);
  },
  exp(this: Tensor) {
    return E.exp(this);
  },
  log(this: Tensor) {
    return E.log(this);
  },
  sqrt(this: Tensor) {
    return E.sqrt(this);
  },
  square(this: Tensor) {
    return E.square(this);
  },
  abs(this: Tensor) {
    return E.abs(this);
  },
  relu(this: Tensor) {
    return E.relu(this);
  },
  leakyRelu(this: Tensor, slope?: number) {
    return E.leakyRelu(this, slope);
  },
  sigmoid(this: Tensor) {
    return E.sigmoid(this);
  },
  tanh(this: Tensor) {
    return E.tanh(this);
  },
  gelu(this: Tensor) {
    return E.gelu(this);
  },
  clamp(this: Tensor, min?: number | null, max?: number | null) {
    return E.clamp(this, min, max);
  },
  sum(this: Tensor, axis?: number | readonly number[], keepdim = false) {
    return R.sum(this, axis, keepdim);
  },
  mean(this: Tensor, axis?: number | readonly number[], keepdim = false) {
    return R.mean(this, axis, keepdim);
  },
  max(this: Tensor, axis?: number | readonly number[], keepdim = false) {
    return R.max(this, axis, keepdim);
  },
  min(this: Tensor, axis?: number | readonly number[], keepdim = false) {
    return R.min(this, axis, keepdim);
  },
  var(this: Tensor, axis?: number | readonly number[], keepdim = false, correction = 1) {
    return R.variance(this, axis, keepdim, correction);
  },
  argmax(this: Tensor, axis: number) {
    return R.argmax(this, axis);
  },
  softmax(this: Tensor, axis = -1) {
    return softmax(this, axis);
  },
  logSoftmax(this: Tensor, axis = -1) {
    return logSoftmax(this, axis);
  },
  matmul(this: Tensor, o: Tensor) {
    return matmul(this, o);
  },
  reshape(this: Tensor, ...shape: (number | readonly number[])[]) {
    return S.reshape(this, ...shape);
  },
  flatten(this: Tensor, startDim = 0, endDim = -1) {
    return S.flatten(this, startDim, endDim);
  },
  permute(this: Tensor, ...dims: (number | readonly number[])[]) {
    return S.permute(this, ...dims);
  },
  transpose(this: Tensor, a = -2, b = -1) {
    return S.transpose(this, a, b);
  },
  unsqueeze(this: Tensor, axis: number) {
    return S.unsqueeze(this, axis);
  },
  squeeze(this: Tensor, axis?: number) {
    return S.squeeze(this, axis);
  },
  slice(this: Tensor, axis: number, start: number, end?: number) {
    return S.slice(this, axis, start, end);
  },
  indexSelect(this: Tensor, axis: number, indices: ArrayLike<number>) {
    return S.indexSelect(this, axis, indices);
  },
  broadcastTo(this: Tensor, shape: Shape) {
    return S.broadcastTo(this, shape);
  },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true });
}
Object.defineProperty(Tensor.prototype, 'T', {
  get(this: Tensor): Tensor {
    return S.transpose(this, 0, 1);
  },
  configurable: true,
});
