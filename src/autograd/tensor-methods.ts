/**
 * Adds x.backward() to Tensor. The tensor layer cannot import autograd (docs/design.md §2), so the
 * method is installed here and declared by module augmentation; record.ts imports this file, so
 * any op that records also brings backward().
 */
import { Tensor } from '../tensor/tensor.js';
import { backward, type BackwardOptions } from './backward.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Reverse-mode sweep from this tensor; a non-scalar needs an explicit gradient. */
    backward(gradient?: Tensor, options?: BackwardOptions): void;
  }
}

Tensor.prototype.backward = function (this: Tensor, gradient?: Tensor, options?: BackwardOptions): void {
  backward(this, gradient, options);
};
