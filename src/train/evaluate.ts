/** Evaluation: mean loss and accuracy of a model over a loader, without the tape. */
import { noGrad } from '../autograd/grad-mode.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/loss.js';
import { tidy } from '../tensor/storage.js';
import type { Tensor } from '../tensor/tensor.js';

/** What fit/evaluate iterate: batches of images and integer labels (data.DataLoader is one). */
export interface BatchSource {
  readonly length: number;
  [Symbol.iterator](): Iterator<{ x: Tensor; y: Int32Array }>;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
}

/** Mean loss and accuracy over a loader, in eval mode and without the tape. */
export function evaluate(model: Module, loader: BatchSource, lossFn: (logits: Tensor, y: Int32Array) => Tensor = crossEntropy): EvalResult {
  const wasTraining = model.training;
  model.eval();
  let loss = 0;
  let correct = 0;
  let count = 0;
  try {
    noGrad(() => {
      for (const { x, y } of loader) {
        tidy(() => {
          const logits = model.forward(x);
          loss += lossFn(logits, y).item() * y.length;
          correct += countCorrect(logits, y);
          count += y.length;
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { loss: count ? loss / count : NaN, accuracy: count ? correct / count : NaN, count };
}

export function countCorrect(logits: Tensor, y: Int32Array): number {
  const [n, c] = logits.shape;
  const d = logits.data;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (d[i * c + j] > d[i * c + best]) best = j;
    if (best === y[i]) correct++;
  }
  return correct;
}
