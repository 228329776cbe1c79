/** The training methods, selectable by name (CLI and bench). */
export type { TrainingMethod, MethodContext, MethodReport, MethodLayerReport } from './types.js';
export { reportOf } from './report.js';
export { FullMethod, type SgdSettings } from './full.js';
export { TdlrtMethod, type TdlrtOptions } from './tdlrt.js';
export { DlrtMatrixMethod } from './dlrt-matrix.js';
export { FixedRankMethod, type FixedRankOptions } from './fixed-rank.js';
export { ElrtMethod, type ElrtOptions } from './elrt.js';
export { OrthoRegularizer, orthoPenalty, gramDefect, ORTHO_KINDS, type OrthoKind } from './ortho.js';
export { TrpMethod, type TrpOptions } from './trp.js';
export { LraMethod, projectWeight, type LraOptions } from './lra.js';
export { PostHocMethod, compressOnce, type PostHocOptions } from './post-hoc.js';
export { TwoStageLayer, TwoStageConv2d, TwoStageLinear } from './two-stage.js';
export { lowerWeight, raiseWeight, loweredShape, energyRank, truncatedSvd, type Reshaping } from './lowered.js';
export {
  compressedLayers,
  formParams,
  formSizes,
  formOf,
  ranksForBudget,
  layerRanksForBudget,
  ranksForKeptFraction,
  planRanks,
  type CompressedLayer,
  type LowRankForm,
  type RankPlan,
} from './budget.js';
export { sgdStepFlops, integratorStepFlops, forwardFlops, svdFlops, qrFlops } from './accounting.js';
export { createMethod, METHOD_NAMES, type MethodName, type MethodOptions } from './registry.js';
