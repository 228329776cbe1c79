/** PyTorch's torch.nn.functional, camelCase. */
export { conv2d, type Conv2dOptions } from '../ops/conv.js';
export { linear } from '../ops/matmul.js';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d } from '../ops/pool.js';
export { softmax, logSoftmax } from '../ops/softmax.js';
export { crossEntropy, nllLoss, mseLoss, type Reduction, type Labels } from '../ops/loss.js';
export { dropout } from '../ops/dropout.js';
export { batchNorm2d } from '../ops/normalization.js';
export { relu, leakyRelu, sigmoid, tanh, gelu } from '../ops/elementwise.js';
export { pad } from '../ops/shape.js';
