import { DlrtMatrixMethod } from './dlrt-matrix.js';
import { ElrtMethod } from './elrt.js';
import { FixedRankMethod } from './fixed-rank.js';
import { FullMethod } from './full.js';
import { LraMethod } from './lra.js';
import type { IntegratorKind } from '../integrator.js';
import type { Reshaping } from './lowered.js';
import type { OrthoKind } from './ortho.js';
import { PostHocMethod } from './post-hoc.js';
import { TdlrtMethod, type TdlrtOptions } from './tdlrt.js';
import { TrpMethod } from './trp.js';
import type { TrainingMethod } from './types.js';

/** Options every method understands; each reads what applies to it (docs/design.md §5.3). */
export interface MethodOptions {
  lr: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Weight decay (default 5e-4): on cores and uncompressed layers only where layers are factorised. */
  weightDecay?: number;
  /** tdlrt, dlrt-matrix: relative tolerance τ. */
  tau?: number;
  /** tdlrt, dlrt-matrix: cap on adapted ranks (a number, or per layer and mode). */
  maxRank?: number | ((layer: string, mode: number, size: number) => number);
  /** tdlrt, dlrt-matrix: initial rank ratio (default 0.2). */
  rankRatio?: number;
  /** tdlrt, dlrt-matrix: epochs with τ held at 0 (default 1). */
  warmupEpochs?: number;
  /** tdlrt, dlrt-matrix: which integrator step, 'parallel' (one pass) or 'bug' (two passes). */
  integrator?: IntegratorKind;
  /** tdlrt, dlrt-matrix: how the warm-up runs (see TdlrtOptions.warmup). */
  warmup?: TdlrtOptions['warmup'];
  /**
   * tucker-fixed, matrix-fixed, elrt, lra, post-hoc: the parameter budget, as the fraction of the
   * compressed layers' parameters kept (0.07 = 93% fewer); each method derives its ranks from it.
   */
  budget?: number;
  /** The same methods: explicit ranks per compressed layer (factorize's format), instead of budget. */
  ranks?: Record<string, readonly number[]>;
  /** lra, post-hoc: form of the compressed convolutions (default 'tucker'). */
  convForm?: 'tucker' | 'matrix';
  /** trp: energy e kept by each truncation (default 0.9). */
  trpEnergy?: number;
  /** trp: m, steps between truncations (default 1). */
  trpInterval?: number;
  /** trp: λ_nuc of the nuclear-norm regulariser (default 3e-4). */
  trpNuclear?: number;
  /** trp: channel-wise (default) or spatial-wise lowering of conv kernels. */
  trpReshaping?: Reshaping;
  /** lra: S_D, steps between projections (default 200). */
  lraInterval?: number;
  /** elrt: orthogonality regulariser (default 'so') and its weight λ (default 1e-3). */
  orthoRegularizer?: OrthoKind;
  orthoLambda?: number;
}

/**
 * Every key of MethodOptions (the compiler checks the list is complete and has nothing else). A key
 * outside it, a typo such as trpEnergyy, would be ignored without a word, so createMethod refuses
 * it; a key that another method reads is taken, as the options are shared by design.
 */
const OPTION_KEYS = {
  lr: true,
  momentum: true,
  weightDecay: true,
  tau: true,
  maxRank: true,
  rankRatio: true,
  warmupEpochs: true,
  integrator: true,
  warmup: true,
  budget: true,
  ranks: true,
  convForm: true,
  trpEnergy: true,
  trpInterval: true,
  trpNuclear: true,
  trpReshaping: true,
  lraInterval: true,
  orthoRegularizer: true,
  orthoLambda: true,
} as const satisfies Record<keyof MethodOptions, true>;

export const METHOD_NAMES = ['full', 'tucker-fixed', 'matrix-fixed', 'dlrt-matrix', 'trp', 'lra', 'elrt', 'tdlrt', 'post-hoc'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** A training method by name (see METHOD_NAMES), configured from the options that apply to it. */
export function createMethod(name: string, options: MethodOptions): TrainingMethod {
  if (options === null || typeof options !== 'object') throw new Error(`createMethod: options must be an object with lr, got ${String(options)}`);
  for (const key of Object.keys(options))
    if (!Object.hasOwn(OPTION_KEYS, key))
      throw new Error(`createMethod: no method has an option '${key}'; the options are ${Object.keys(OPTION_KEYS).join(', ')}`);
  const sgd = { lr: options.lr, momentum: options.momentum, weightDecay: options.weightDecay };
  const adaptive = (): TdlrtOptions => ({
    ...sgd,
    tau: options.tau,
    maxRank: options.maxRank,
    warmupEpochs: options.warmupEpochs,
    warmup: options.warmup,
    integrator: options.integrator,
    factorize: options.rankRatio ? { rankRatio: options.rankRatio, init: 'random' } : undefined,
  });
  switch (name) {
    case 'full':
      return new FullMethod(sgd);
    case 'tucker-fixed':
      return new FixedRankMethod({ ...sgd, conv: 'tucker', budget: options.budget, ranks: options.ranks });
    case 'matrix-fixed':
      return new FixedRankMethod({ ...sgd, conv: 'matrix', budget: options.budget, ranks: options.ranks });
    case 'dlrt-matrix':
      return new DlrtMatrixMethod(adaptive());
    case 'trp':
      return new TrpMethod({ ...sgd, energy: options.trpEnergy, interval: options.trpInterval, nuclear: options.trpNuclear, reshaping: options.trpReshaping });
    case 'lra':
      return new LraMethod({ ...sgd, budget: options.budget, ranks: options.ranks, interval: options.lraInterval, conv: options.convForm });
    case 'elrt':
      return new ElrtMethod({ ...sgd, budget: options.budget, ranks: options.ranks, regularizer: options.orthoRegularizer, lambda: options.orthoLambda });
    case 'tdlrt':
      return new TdlrtMethod(adaptive());
    case 'post-hoc':
      return new PostHocMethod({ ...sgd, budget: options.budget, ranks: options.ranks, conv: options.convForm });
    default:
      throw new Error(`createMethod: unknown method '${name}'; choose one of ${METHOD_NAMES.join(', ')}`);
  }
}
