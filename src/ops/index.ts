/** Every differentiable op as a free function (the Tensor methods call these). */
export * from './elementwise.js';
export { sum, mean, max, min, variance, argmax } from './reduce.js';
export { cumsum } from './cumsum.js';
export { matmul, linear } from './matmul.js';
export { reshape, flatten, unsqueeze, squeeze, permute, transpose, broadcastTo, slice, indexSelect, gather, cat, stack, pad } from './shape.js';
export { conv2d, type Conv2dOptions } from './conv.js';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, type PoolOptions } from './pool.js';
export { softmax, logSoftmax } from './softmax.js';
export { crossEntropy, nllLoss, mseLoss, type Reduction, type Labels } from './loss.js';
export { dropout } from './dropout.js';
export { batchNorm2d, type BatchNormOptions } from './normalization.js';
export type { TensorLike } from './util.js';
