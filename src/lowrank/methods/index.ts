/** The training methods, selectable by name (CLI and bench). */
export type { TrainingMethod, MethodContext, MethodReport, MethodLayerReport } from './types.js';
export { reportOf } from './report.js';
export { FullMethod, type SgdSettings } from './full.js';
export { TdlrtMethod, type TdlrtOptions } from './tdlrt.js';
export { createMethod, METHOD_NAMES, type MethodName, type MethodOptions } from './registry.js';
