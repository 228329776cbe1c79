/**
 * Which layers every method compresses, what each low-rank form of a layer costs in parameters,
 * and the budget → ranks solver (docs/design.md §5.3: budgets are parameter counts of the compressed
 * layers; a Tucker rank and a matrix rank are not comparable, so each method derives its own
 * ranks from the same count).
 */
import { Conv2d, Linear, Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';

/** A Conv2d or Linear layer that the methods compress (held full or factorised). */
export interface CompressedLayer {
  /** Dotted name, as in model.namedModules() (and as factorize's `ranks` keys). */
  name: string;
  kind: 'conv' | 'linear';
  /** Weight shape: [out, in, kh, kw] or [out, in]. */
  shape: number[];
  hasBias: boolean;
  /** Parameters of the layer held full, bias included. */
  fullParams: number;
}

/** A mode below this size stays full and stores no factor (factorize's default minRank 2, times 2). */
export const MIN_FACTORED_MODE = 4;

/**
 * The Conv2d and Linear layers inside Sequential containers, in model order, except the first
 * conv and the last linear layer: the same rule as factorize's default `skip`, so that full-weight
 * methods (TRP, LRA, post-hoc) compress exactly the layers the factorised methods hold low-rank.
 * For LeNet-5: conv2 ('3') and fc1 ('7').
 */
export function compressedLayers(model: Module, skip?: readonly string[]): CompressedLayer[] {
  const named = model.namedModules();
  const all: CompressedLayer[] = [];
  for (const [name, parent] of named) {
    if (!(parent instanceof Sequential)) continue;
    parent.layers.forEach((layer, i) => {
      const full = name ? `${name}.${i}` : String(i);
      if (layer instanceof Conv2d || layer instanceof Linear) {
        const shape = [...layer.weight.shape];
        const hasBias = layer.bias !== null;
        all.push({ name: full, kind: layer instanceof Conv2d ? 'conv' : 'linear', shape, hasBias, fullParams: layer.weight.size + (hasBias ? shape[0] : 0) });
      }
    });
  }
  // namedModules is depth first, so `all` is in forward order for a Sequential model.
  const convs = all.filter((l) => l.kind === 'conv');
  const linears = all.filter((l) => l.kind === 'linear');
  const skipped = new Set(skip ?? [convs[0]?.name, linears[linears.length - 1]?.name].filter((n): n is string => n !== undefined));
  const known = new Set(all.map((l) => l.name));
  for (const s of skipped)
    if (!known.has(s))
      throw new Error(`compressedLayers: skip names '${s}', which is not a Conv2d/Linear layer inside a Sequential (have: ${[...known].join(', ')})`);
  const out = all.filter((l) => !skipped.has(l.name));
  if (out.length === 0) throw new Error('compressedLayers: no Conv2d or Linear layer is left to compress (check skip)');
  return out;
}

/** The names of the Conv2d/Linear layers that are NOT compressed: factorize's `skip` for the same choice. */
export function uncompressedNames(model: Module, layers: readonly CompressedLayer[]): string[] {
  const kept = new Set(layers.map((l) => l.name));
  return model
    .namedModules()
    .filter(([n, m]) => (m instanceof Conv2d || m instanceof Linear) && !kept.has(n))
    .map(([n]) => n);
}

/** How a compressed layer is held, which fixes its parameter count as a function of its ranks. */
export type LowRankForm =
  /** Tucker-2 on the channel modes (conv) or U S Vᵀ (linear): ranks [r_out, r_in]. */
  | 'tucker'
  /** U S Vᵀ of the kernel lowered to out × in·kh·kw (conv) or of the matrix (linear): one rank, S is r×r. */
  | 'matrix'
  /** Two factors without a core (TRP's two convolutions, an SVD with Σ folded in): one rank. */
  | 'two-factor';

/**
 * Parameters of a layer in a low-rank form, bias included. `ranks` is [r_out, r_in] for the
 * Tucker form and [r] for the matrix forms. A channel mode smaller than MIN_FACTORED_MODE is
 * kept full in the Tucker form (no factor stored, rank = size), as factorize does.
 */
export function formParams(layer: CompressedLayer, form: LowRankForm, ranks: readonly number[]): number {
  const bias = layer.hasBias ? layer.shape[0] : 0;
  const [out, inC] = layer.shape;
  const spatial = layer.kind === 'conv' ? layer.shape[2] * layer.shape[3] : 1;
  if (form === 'tucker') {
    if (ranks.length !== 2) throw new Error(`formParams: the Tucker form of '${layer.name}' takes ranks [r_out, r_in], got [${ranks.join(', ')}]`);
    const [r1, r2] = ranks;
    if (layer.kind === 'linear') return r1 * r2 + (out >= MIN_FACTORED_MODE ? out * r1 : 0) + (inC >= MIN_FACTORED_MODE ? inC * r2 : 0) + bias;
    return r1 * r2 * spatial + (out >= MIN_FACTORED_MODE ? out * r1 : 0) + (inC >= MIN_FACTORED_MODE ? inC * r2 : 0) + bias;
  }
  if (ranks.length !== 1) throw new Error(`formParams: the ${form} form of '${layer.name}' takes one rank [r], got [${ranks.join(', ')}]`);
  const r = ranks[0];
  const cols = inC * spatial;
  return r * (out + cols) + (form === 'matrix' ? r * r : 0) + bias;
}

/** The largest rank of each mode of a form: [out, in] (Tucker) or [min(out, in·kh·kw)]. */
export function formSizes(layer: CompressedLayer, form: LowRankForm): number[] {
  const [out, inC] = layer.shape;
  if (form === 'tucker') return [out, inC];
  const cols = layer.kind === 'conv' ? inC * layer.shape[2] * layer.shape[3] : inC;
  return [Math.min(out, cols)];
}

/**
 * The ranks of a form that fill a parameter budget: the largest balanced ranks (r_i ≈ ρ·n_i, the
 * same fraction of every mode) whose count stays within the budget, then single ranks raised
 * greedily (the mode with the smallest r_i/n_i first) while the count still fits. The result is
 * maximal: raising any one rank would exceed the budget. Modes kept full by the form (size below
 * MIN_FACTORED_MODE in the Tucker form) sit at their size. Throws when even rank 1 does not fit.
 */
export function ranksForBudget(
  sizes: readonly number[],
  count: (ranks: number[]) => number,
  budget: number,
  what = 'ranksForBudget',
  fixed: readonly boolean[] = [],
): number[] {
  if (!Array.isArray(sizes) || sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`${what}: sizes must be positive integers, got [${String(sizes)}]`);
  if (!(Number.isFinite(budget) && budget > 0)) throw new Error(`${what}: budget must be a positive number of parameters, got ${budget}`);
  const at = (rho: number) => sizes.map((n, i) => (fixed[i] ? n : Math.min(n, Math.max(1, Math.round(rho * n)))));
  const least = at(0);
  if (count(least) > budget)
    throw new Error(`${what}: budget ${Math.floor(budget)} parameters is below the smallest form (ranks [${least.join(', ')}] cost ${count(least)})`);
  // count(at(ρ)) is non-decreasing in ρ: bisection finds the largest balanced point that fits.
  let lo = 0;
  let hi = 1;
  if (count(at(1)) <= budget) lo = 1;
  else
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (count(at(mid)) <= budget) lo = mid;
      else hi = mid;
    }
  const ranks = at(lo);
  for (;;) {
    let best = -1;
    for (let i = 0; i < sizes.length; i++) {
      if (fixed[i] || ranks[i] >= sizes[i]) continue;
      const next = ranks.slice();
      next[i]++;
      if (count(next) > budget) continue;
      if (best < 0 || ranks[i] / sizes[i] < ranks[best] / sizes[best]) best = i;
    }
    if (best < 0) return ranks;
    ranks[best]++;
  }
}

/** The ranks of one layer in a form, within `budget` parameters. */
export function layerRanksForBudget(layer: CompressedLayer, form: LowRankForm, budget: number): number[] {
  const sizes = formSizes(layer, form);
  const fixed = form === 'tucker' ? sizes.map((n) => n < MIN_FACTORED_MODE) : [];
  return ranksForBudget(sizes, (r) => formParams(layer, form, r), budget, `ranks of '${layer.name}' (${form})`, fixed);
}

/**
 * The form a layer takes when the convolutions are held in `convForm`: Linear layers are always
 * held as matrices (one rank; a Tucker-2 of a matrix with r_out ≠ r_in would only waste
 * parameters), in the two-factor form where the convolutions are.
 */
export function formOf(layer: CompressedLayer, convForm: LowRankForm): LowRankForm {
  if (layer.kind === 'conv') return convForm;
  return convForm === 'two-factor' ? 'two-factor' : 'matrix';
}

/**
 * Per compressed layer, the ranks (in formOf(layer, convForm)) that keep at most keep·(its full
 * parameters): every layer keeps the same fraction, so the budget of the whole set is met too.
 */
export function ranksForKeptFraction(layers: readonly CompressedLayer[], convForm: LowRankForm, keep: number): Record<string, number[]> {
  if (!(keep > 0 && keep <= 1)) throw new Error(`ranksForKeptFraction: keep must be a fraction in (0, 1] of the compressed layers' parameters, got ${keep}`);
  return Object.fromEntries(layers.map((l) => [l.name, layerRanksForBudget(l, formOf(l, convForm), keep * l.fullParams)]));
}

/**
 * factorize's `ranks` entry for a layer in a form: Tucker conv [r_out, r_in, kh, kw], Tucker
 * linear [r_out, r_in], matrix conv/linear [r, r] (U S Vᵀ with a square S).
 */
export function factorizeRanks(layer: CompressedLayer, form: LowRankForm, ranks: readonly number[]): number[] {
  if (form !== 'tucker') return [ranks[0], ranks[0]];
  return layer.kind === 'conv' ? [ranks[0], ranks[1], layer.shape[2], layer.shape[3]] : [ranks[0], ranks[1]];
}

/** What a fixed-rank method needs to factorise a model: the layers, their ranks, and factorize's arguments. */
export interface RankPlan {
  layers: CompressedLayer[];
  /** factorize's `ranks` (see factorizeRanks). */
  ranks: Record<string, number[]>;
  /** factorize's `skip`: every Conv2d/Linear that is not compressed. */
  skip: string[];
}

/**
 * Ranks for the compressed layers of `model` in `convForm`: from `ranks` when given (factorize's
 * format, per layer name), otherwise from the kept fraction `budget` by the solver above.
 */
export function planRanks(
  model: Module,
  options: { budget?: number; ranks?: Record<string, readonly number[]>; convForm: 'tucker' | 'matrix' },
  what: string,
): RankPlan {
  const layers = compressedLayers(model);
  const skip = uncompressedNames(model, layers);
  if (options.ranks) {
    const names = new Set(layers.map((l) => l.name));
    for (const k of Object.keys(options.ranks))
      if (!names.has(k)) throw new Error(`${what}: ranks names '${k}', which is not a compressed layer (${[...names].join(', ')})`);
    for (const l of layers) if (!options.ranks[l.name]) throw new Error(`${what}: ranks must give every compressed layer; '${l.name}' is missing`);
    return { layers, ranks: Object.fromEntries(Object.entries(options.ranks).map(([k, v]) => [k, [...v]])), skip };
  }
  if (options.budget === undefined) throw new Error(`${what}: give budget (the fraction of the compressed layers' parameters kept, e.g. 0.07) or ranks`);
  const solved = ranksForKeptFraction(layers, options.convForm, options.budget);
  return { layers, ranks: Object.fromEntries(layers.map((l) => [l.name, factorizeRanks(l, formOf(l, options.convForm), solved[l.name])])), skip };
}
