/**
 * tuckergrad: tensors, reverse-mode autodiff and CNN training in low-rank Tucker form.
 * PyTorch-shaped API (see docs/design.md §4).
 */
export { Tensor, tensor, type NestedArray, type TensorOptions } from './tensor/tensor.js';
export { zeros, ones, full, zerosLike, onesLike, arange, eye, randn, rand, randint, fromArray } from './tensor/creation.js';
export { Generator, manualSeed, defaultGenerator } from './tensor/random.js';
export type { DType, TypedArray } from './tensor/dtype.js';
export { noGrad, enableGrad, isGradEnabled, detectAnomaly, setDetectAnomaly } from './autograd/grad-mode.js';
export { gradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export {
  getBackend,
  setBackend,
  initBackend,
  getDevice,
  kernelReport,
  resetKernelReport,
  formatKernelReport,
  type Backend,
  type BackendChoice,
  type BackendName,
  type KernelStats,
} from './backend/index.js';
export { tidy, keep, arena } from './tensor/storage.js';
export { allocationStats } from './tensor/dtype.js';
export { getNumThreads, setNumThreads, setSimd, simdEnabled } from './backend/index.js';
export * from './ops/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
export * as io from './io/index.js';
export * as lowrank from './lowrank/index.js';
export * as linalg from './linalg/index.js';
export * as tucker from './tucker/index.js';
