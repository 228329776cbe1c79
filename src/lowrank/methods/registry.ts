import { FullMethod } from './full.js';
import { TdlrtMethod } from './tdlrt.js';
import type { TrainingMethod } from './types.js';

/** Options every method understands; each reads what applies to it. */
export interface MethodOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** TDLRT / matrix DLRT: relative tolerance. */
  tau?: number;
  /** TDLRT: cap on adapted ranks. */
  maxRank?: number;
  /** Initial rank ratio (TDLRT) or parameter budget of the compressed layers (fixed-rank methods). */
  rankRatio?: number;
  warmupEpochs?: number;
}

export const METHOD_NAMES = ['full', 'tdlrt'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export function createMethod(name: string, options: MethodOptions): TrainingMethod {
  switch (name) {
    case 'full':
      return new FullMethod(options);
    case 'tdlrt':
      return new TdlrtMethod({
        lr: options.lr, tau: options.tau, maxRank: options.maxRank, momentum: options.momentum, weightDecay: options.weightDecay,
        warmupEpochs: options.warmupEpochs, factorize: options.rankRatio ? { rankRatio: options.rankRatio, init: 'random' } : undefined,
      });
    default:
      throw new Error(`createMethod: unknown method '${name}'; choose one of ${METHOD_NAMES.join(', ')}`);
  }
}
