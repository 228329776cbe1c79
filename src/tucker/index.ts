/**
 * tucker: Tucker decompositions on plain tensors in float64 (no autograd): Kolda–Bader
 * unfold/fold, mode products, truncated HOSVD (by ranks, total/relative/per-mode tolerance or
 * rank ratio), HOOI, reconstruction, parameter counts; Tucker-2 through the `modes` option
 * (unfactorised modes get null factors).
 */
export { unfold, fold } from './unfold.js';
export { modeProduct, multiModeProduct, reconstruct, type ModeProductOptions } from './product.js';
export {
  hosvd,
  hooi,
  modeSvd,
  truncationRank,
  type HosvdSpec,
  type HosvdOptions,
  type HosvdResult,
  type HooiOptions,
  type HooiResult,
  type ModeSvdMethod,
} from './hosvd.js';
export { tuckerParams, compressionRatio } from './params.js';
