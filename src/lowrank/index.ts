/** Low-rank layers and the training methods that keep them low-rank. */
export { TuckerLayer } from './tucker-layer.js';
export { TuckerConv2d, type TuckerConvGeometry } from './tucker-conv2d.js';
export { LowRankLinear } from './low-rank-linear.js';
export { MatrixConv2d } from './matrix-conv2d.js';
export { differentiableModeProduct } from './mode-product.js';
export { factorize, type FactorizeOptions } from './factorize.js';
export { RankAdaptiveIntegrator, INTEGRATOR_KINDS, type IntegratorKind, type IntegratorOptions, type LayerStepInfo, type StepTimes } from './integrator.js';
export { rankReport, type RankReport, type LayerRankReport } from './rank-report.js';
export { randomOrthonormal, randomCore } from './init.js';
export * as methods from './methods/index.js';
export { loadModelState } from './load-state.js';
export { captureMethodState, restoreMethodState } from './method-state.js';
import './layer-kinds.js';
