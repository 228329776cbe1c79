import fc from 'fast-check';
import { Generator } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

/** Seeds every property so a failure replays; the seed is printed by fast-check on failure. */
export const SEED = Number(process.env.TG_SEED ?? 20261122);
export const fcOptions = (numRuns = 25) => ({ seed: SEED, numRuns, verbose: 1 as const });

/** A float64 tensor of the given shape with N(0,1) entries from a seeded generator. */
export function randT(shape: number[], seed: number, requiresGrad = true, scale = 1): Tensor {
  const g = new Generator(seed);
  const d = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < d.length; i++) d[i] = scale * g.normal();
  return new Tensor(d, shape, requiresGrad);
}

/** Entries kept away from 0 (for log, sqrt, div): |x| ∈ [0.5, 2]. */
export function randPositive(shape: number[], seed: number): Tensor {
  const g = new Generator(seed);
  const d = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < d.length; i++) d[i] = 0.5 + 1.5 * g.uniform();
  return new Tensor(d, shape, true);
}

/** A shape of rank 0..maxRank with dims 1..maxDim. */
export const arbShape = (maxRank = 3, maxDim = 4) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 0, maxLength: maxRank });

/** Two shapes that broadcast against each other (some dims set to 1, some leading dims dropped). */
export const arbBroadcastPair = (maxRank = 3, maxDim = 4) =>
  fc
    .tuple(
      fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank }),
      fc.array(fc.boolean(), { minLength: maxRank, maxLength: maxRank }),
      fc.array(fc.boolean(), { minLength: maxRank, maxLength: maxRank }),
      fc.integer({ min: 0, max: maxRank }),
    )
    .map(([base, onesA, onesB, drop]) => {
      const a = base.map((d, i) => (onesA[i] ? 1 : d));
      const b = base.map((d, i) => (onesB[i] ? 1 : d)).slice(Math.min(drop, base.length - 1));
      return [a, b] as [number[], number[]];
    });

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
