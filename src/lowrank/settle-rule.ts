/**
 * The rank rule of settling (docs/integrator.md §7, "No pruning cliff"), on its own so that the
 * integrator's settleRanks and TDLRT's switch from the full warm-up share it: the switch applies it
 * to the spectra of the trained weights while converting them (one truncated HOSVD), where
 * converting at full rank and then settling took two decompositions of every full-size kernel.
 */
import { truncationRank } from '../linalg/svd.js';

/** Largest rank per adapted mode: a number for all, or a function of the layer, mode and size. */
export type MaxRank = number | ((layer: string, mode: number, size: number) => number);

/** The cap of one mode: maxRank's value, at most the mode's size (n_i when there is no cap). */
export function rankCap(maxRank: MaxRank | undefined, layer: string, mode: number, size: number): number {
  if (maxRank === undefined) return size;
  const v = typeof maxRank === 'number' ? maxRank : maxRank(layer, mode, size);
  if (!Number.isInteger(v) || v < 1) throw new Error(`RankAdaptiveIntegrator: maxRank for ${layer} mode ${mode} must be a positive integer, got ${v}`);
  return Math.min(v, size);
}

/**
 * The fixed point of the tail rule on the singular values s (descending) of one unfolding:
 * r ← the rank the rule keeps of σ_1..σ_r at τ·(Σ_{k≤r} σ_k²)^½, clamped to [lo, hi], from
 * r = s.length until it stops falling.
 */
export function settledRank(s: Float64Array, tau: number, lo: number, hi: number): number {
  let r = s.length;
  for (;;) {
    let e = 0;
    for (let k = 0; k < r; k++) e += s[k] * s[k];
    const next = Math.min(hi, Math.max(lo, truncationRank(s.subarray(0, r), tau * Math.sqrt(e))));
    if (next >= r) return r;
    r = next;
  }
}

export interface SettleRuleOptions {
  tau: number;
  /** Smallest rank of an adapted mode (the integrator's minRank, default 2). */
  minRank?: number;
  maxRank?: MaxRank;
}

/**
 * factorize's rankRule for a conversion that lands where settleRanks would: each stored mode of a
 * layer (factorize stores only modes that adapt) gets settledRank of its weight's unfolding
 * spectrum within [minRank, maxRank]. On a full-rank Tucker form of the same kernel settleRanks
 * reads the same spectra (the core's unfoldings differ from the kernel's by orthogonal factors),
 * so the two agree but for rounding.
 */
export function settleRankRule(
  options: SettleRuleOptions,
): (layer: string, singularValues: readonly (Float64Array | null)[], shape: readonly number[]) => number[] {
  const { tau, minRank = 2, maxRank } = options;
  if (!(tau >= 0 && tau < 1)) throw new Error(`settleRankRule: tau must be ≥ 0 and < 1, got ${tau}`);
  if (!Number.isInteger(minRank) || minRank < 1) throw new Error(`settleRankRule: minRank must be a positive integer, got ${minRank}`);
  return (layer, singularValues, shape) =>
    shape.map((n, i) => {
      const s = singularValues[i];
      return s ? settledRank(s, tau, minRank, rankCap(maxRank, layer, i, n)) : n;
    });
}
