/**
 * Why a loss is not finite. The learning rate is the usual cause, but not the only one: a batch
 * with NaN or ±Infinity in it gives a NaN loss at any learning rate, and so do weights that an
 * earlier step already spoiled. The message names the first cause it finds, inputs first.
 */
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

/** The index of the first NaN or ±Infinity in `data`, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** A message for a loss that is not finite: the input batch, then the parameters, then the learning rate. */
export function explainNonFiniteLoss(where: string, loss: number, x: Tensor, model: Module | null): string {
  const at = firstNonFinite(x.data);
  if (at >= 0) {
    return `${where}: the loss is ${loss} because the input batch holds ${x.data[at]} at flat index ${at} (shape [${x.shape.join(', ')}]); check the data, not the learning rate`;
  }
  if (model) {
    for (const [name, p] of model.namedParameters()) {
      const i = firstNonFinite(p.data);
      if (i >= 0)
        return `${where}: the loss is ${loss} because parameter '${name}' holds ${p.data[i]} at flat index ${i}; an earlier step diverged, lower the learning rate`;
    }
  }
  return `${where}: the loss is ${loss} although the inputs and parameters are finite; lower the learning rate`;
}
