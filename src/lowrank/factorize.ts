import { Conv2d, Linear, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { hosvd } from '../tucker/hosvd.js';
import { randomCore, randomOrthonormal } from './init.js';
import { LowRankLinear } from './low-rank-linear.js';
import { MatrixConv2d } from './matrix-conv2d.js';
import { TuckerConv2d } from './tucker-conv2d.js';
import type { TuckerLayer } from './tucker-layer.js';

export interface FactorizeOptions {
  /** How convolutions are held: Tucker (default), a lowered matrix U S Vᵀ, or left full. */
  conv?: 'tucker' | 'matrix' | 'none';
  /** How Linear layers are held: U S Vᵀ (default) or left full. */
  linear?: 'matrix' | 'none';
  /** Initial ranks as a fraction of each factorised mode's size (default 1: full rank). */
  rankRatio?: number;
  /** Initial ranks per layer name (one per factorised mode, or per mode of the kernel); overrides rankRatio. */
  ranks?: Record<string, readonly number[]>;
  /** 'weights' (default): HOSVD/SVD of the current weights; 'random': orthonormal factors and a variance-matched core. */
  init?: 'weights' | 'random';
  /**
   * With init 'weights', in place of ranks and rankRatio: each converted layer's ranks from the
   * singular values of its weight's unfoldings (one array per mode of `shape`, descending, null for
   * the modes not stored), as one rank per mode of `shape` (a conv kernel [out, in, kh, kw], or
   * [out, fan-in] when held as a matrix); entries of modes not stored are ignored. The ranks are then
   * lowered to a feasible Tucker form (r_i ≤ Π_{j≠i} r_j: one rank for a matrix). TDLRT's switch from
   * its full warm-up passes settleRankRule here (settle-rule.ts).
   */
  rankRule?: (layer: string, singularValues: readonly (Float64Array | null)[], shape: readonly number[]) => readonly number[];
  /** Conv modes whose rank adapts: the channel modes (default) or all four. */
  adaptModes?: 'channels' | 'all';
  /** Layer names to keep full. Default: the first conv and the last linear layer (docs/design.md §5.3). */
  skip?: readonly string[];
  /** A mode smaller than 2·minRank is kept full and not stored (default 2). */
  minRank?: number;
  generator?: Generator;
}

/**
 * Replaces the Conv2d and Linear layers of a model (inside Sequential containers) by low-rank
 * layers, in place, and returns the model. From a trained model the factors come from a
 * truncated HOSVD/SVD of the weights; from scratch (init 'random') they are random orthonormal.
 */
export function factorize<M extends Module>(model: M, options: FactorizeOptions = {}): M {
  const convMode = options.conv ?? 'tucker';
  const linearMode = options.linear ?? 'matrix';
  const ratio = options.rankRatio ?? 1;
  if (!(ratio > 0 && ratio <= 1)) throw new Error(`factorize: rankRatio must be in (0, 1], got ${ratio}`);
  const minRank = options.minRank ?? 2;
  const named = model.namedModules();
  const convs = named.filter(([, m]) => m instanceof Conv2d).map(([n]) => n);
  const linears = named.filter(([, m]) => m instanceof Linear).map(([n]) => n);
  const skip = new Set(options.skip ?? [convs[0], linears[linears.length - 1]].filter((n): n is string => n !== undefined));
  const known = new Set(named.map(([n]) => n));
  for (const s of skip)
    if (!known.has(s)) throw new Error(`factorize: skip names a layer '${s}' that the model does not have (layers: ${[...known].filter(Boolean).join(', ')})`);
  for (const k of Object.keys(options.ranks ?? {})) if (!known.has(k)) throw new Error(`factorize: ranks names a layer '${k}' that the model does not have`);
  if (options.rankRule !== undefined) {
    if (typeof options.rankRule !== 'function') throw new Error(`factorize: rankRule must be a function, got ${typeof options.rankRule}`);
    if (options.init === 'random') throw new Error("factorize: rankRule reads the weights' spectra, so it needs init 'weights', got init 'random'");
    if (options.ranks !== undefined) throw new Error('factorize: give ranks or rankRule, not both');
  }
  let replaced = 0;
  for (const [name, parent] of named) {
    if (!(parent instanceof Sequential)) continue;
    parent.layers.forEach((layer, i) => {
      const full = name ? `${name}.${i}` : String(i);
      if (skip.has(full)) return;
      let lr: TuckerLayer | null = null;
      if (layer instanceof Conv2d && convMode !== 'none') lr = convertConv(layer, full, convMode, options, ratio, minRank);
      else if (layer instanceof Linear && linearMode !== 'none') lr = convertLinear(layer, full, options, ratio, minRank);
      if (lr) {
        parent.set(i, lr);
        replaced++;
      }
    });
  }
  if (replaced === 0)
    throw new Error('factorize: no Conv2d or Linear layer inside a Sequential was left to factorise (check skip and the conv/linear options)');
  return model;
}

function rankFor(name: string, options: FactorizeOptions, shape: readonly number[], stored: readonly boolean[], ratio: number): number[] {
  const given = options.ranks?.[name];
  if (given) {
    if (given.length !== shape.length)
      throw new Error(`factorize: ranks for '${name}' must list ${shape.length} values (one per mode of [${shape.join(', ')}]), got [${given.join(', ')}]`);
    given.forEach((r, i) => {
      if (!Number.isInteger(r) || r < 1 || r > shape[i]) throw new Error(`factorize: rank ${r} of mode ${i} of '${name}' must be in [1, ${shape[i]}]`);
    });
    return shape.map((n, i) => (stored[i] ? given[i] : n));
  }
  return feasibleRanks(
    shape.map((n, i) => (stored[i] ? Math.max(1, Math.min(n, Math.round(ratio * n))) : n)),
    stored,
  );
}

/** Lowers ranks until r_i ≤ Π_{j≠i} r_j (an unfolding has one rank; a matrix U S Vᵀ has r_1 = r_2). */
export function feasibleRanks(ranks: number[], stored: readonly boolean[]): number[] {
  const r = ranks.slice();
  for (let changed = true; changed; ) {
    changed = false;
    const total = r.reduce((p, x) => p * x, 1);
    r.forEach((x, i) => {
      if (stored[i] && x > total / x) {
        r[i] = total / x;
        changed = true;
      }
    });
  }
  return r;
}

/**
 * Truncated HOSVD of w on the stored modes, cast back to the layer's dtype: at `ranks`, or at the
 * ranks options.rankRule picks from w's spectra (made feasible).
 */
function hosvdOf(
  w: Tensor,
  name: string,
  options: FactorizeOptions,
  ranks: readonly number[],
  stored: readonly boolean[],
): { core: Tensor; factors: (Tensor | null)[] } {
  const modes = stored.flatMap((s, i) => (s ? [i] : []));
  const rule = options.rankRule;
  const shape = w.shape;
  const h = hosvd(
    w,
    rule
      ? {
          rankRule: (spectra) => {
            const picked = rule(name, spectra, shape);
            if (!Array.isArray(picked) || picked.length !== shape.length)
              throw new Error(
                `factorize: rankRule for '${name}' must return ${shape.length} ranks (one per mode of [${shape.join(', ')}]), got ${String(picked)}`,
              );
            const r = shape.map((n, i) => (stored[i] ? picked[i] : n));
            r.forEach((x, i) => {
              if (!Number.isInteger(x) || x < 1 || x > shape[i])
                throw new Error(`factorize: rankRule gave rank ${x} for mode ${i} of '${name}'; it must be an integer in [1, ${shape[i]}]`);
            });
            return feasibleRanks(r, stored).map((x, i) => (stored[i] ? x : null));
          },
        }
      : { ranks: ranks.map((r, i) => (stored[i] ? r : null)) },
    { modes },
  );
  return { core: h.core.to(w.dtype), factors: h.factors.map((f) => (f ? f.to(w.dtype) : null)) };
}

function randomTucker(shape: readonly number[], ranks: readonly number[], stored: readonly boolean[], fanIn: number, dtype: Tensor['dtype'], gen: Generator) {
  return {
    core: randomCore(ranks, shape, fanIn, dtype, gen),
    factors: shape.map((n, i) => (stored[i] ? randomOrthonormal(n, ranks[i], dtype, gen) : null)),
  };
}

function convertConv(layer: Conv2d, name: string, mode: 'tucker' | 'matrix', options: FactorizeOptions, ratio: number, minRank: number): TuckerLayer {
  if (layer.groups !== 1) throw new Error(`factorize: '${name}' is a grouped conv (groups=${layer.groups}); only groups=1 can be factorised`);
  const gen = options.generator ?? defaultGenerator;
  const kernel = [...layer.weight.shape];
  const geometry = { stride: layer.stride, padding: layer.padding, dilation: layer.dilation };
  const bias = layer.bias ? new Tensor(layer.bias.data.slice(), layer.bias.shape) : null;
  const fanIn = kernel[1] * kernel[2] * kernel[3];
  if (mode === 'matrix') {
    const shape = [kernel[0], fanIn];
    const stored = [true, true];
    const ranks = rankFor(name, options, shape, stored, ratio);
    const t =
      options.init === 'random'
        ? randomTucker(shape, ranks, stored, fanIn, layer.weight.dtype, gen)
        : hosvdOf(new Tensor(layer.weight.data, shape), name, options, ranks, stored);
    return new MatrixConv2d(kernel, t.core, t.factors, bias, [0, 1], geometry);
  }
  const adapt = options.adaptModes === 'all' ? [0, 1, 2, 3] : [0, 1];
  const stored = kernel.map((n, i) => adapt.includes(i) && n >= 2 * minRank);
  const ranks = rankFor(name, options, kernel, stored, ratio);
  const t =
    options.init === 'random' ? randomTucker(kernel, ranks, stored, fanIn, layer.weight.dtype, gen) : hosvdOf(layer.weight, name, options, ranks, stored);
  return new TuckerConv2d(
    kernel,
    t.core,
    t.factors,
    bias,
    adapt.filter((i) => stored[i]),
    geometry,
  );
}

function convertLinear(layer: Linear, name: string, options: FactorizeOptions, ratio: number, minRank: number): TuckerLayer {
  const gen = options.generator ?? defaultGenerator;
  const shape = [...layer.weight.shape];
  const stored = shape.map((n) => n >= 2 * minRank);
  const ranks = rankFor(name, options, shape, stored, ratio);
  const bias = layer.bias ? new Tensor(layer.bias.data.slice(), layer.bias.shape) : null;
  const t =
    options.init === 'random' ? randomTucker(shape, ranks, stored, shape[1], layer.weight.dtype, gen) : hosvdOf(layer.weight, name, options, ranks, stored);
  return new LowRankLinear(
    shape,
    t.core,
    t.factors,
    bias,
    [0, 1].filter((i) => stored[i]),
  );
}
