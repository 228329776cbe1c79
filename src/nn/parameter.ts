import { Tensor } from '../tensor/tensor.js';

/** A tensor that a Module owns and an optimizer updates; requiresGrad by default. */
export class Parameter extends Tensor {
  constructor(value: Tensor, requiresGrad = true) {
    super(value.data, value.shape, requiresGrad);
    // A parameter outlives the scope that made it: arena() must never recycle its buffer.
    this.storage.pin();
  }
}
