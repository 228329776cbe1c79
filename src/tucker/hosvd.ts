/**
 * Truncated higher-order SVD (De Lathauwer, De Moor & Vandewalle 2000), HOOI refinement and the
 * Tucker-2 variant (only some modes factorised).
 *
 * Truncated HOSVD: for each factorised mode i, Mat_i(T) = Û Σ V̂ᵀ; U_i = the leading r_i columns
 * of Û; core C = T ×_i U_iᵀ. With D the factorised modes and σ^(i) the singular values of Mat_i(T):
 *   ‖T − T̂‖F² ≤ Σ_{i∈D} Σ_{k>r_i} σ_k^(i)²  ≤ |D| · ‖T − T_best‖F²,
 * and at full ranks T̂ = T.
 */
import { Tensor } from '../tensor/tensor.js';
import { shapeStr, sizeOf } from '../tensor/shape.js';
import { completeOrthonormal, fixColumnSigns, frob } from '../linalg/matrix.js';
import { svdRaw, truncationRank } from '../linalg/svd.js';
import { checkMode, checkModes, checkNonNeg, checkRanks, checkTensorArg } from './checks.js';
import { multiModeProductRaw, reconstruct, type RawMatrix } from './product.js';
import { modeView } from './unfold.js';

export { truncationRank };

/** Left singular vectors and singular values of Mat_mode(T) on plain buffers. */
export interface ModeSvdRaw {
  /** I × k row-major (k = min(I, N/I)), the left singular vectors, largest-|.| entry positive. */
  u: Float64Array;
  /** The k singular values, descending. */
  s: Float64Array;
  rows: number;
  k: number;
}

/**
 * Left singular vectors and singular values of the mode-`mode` unfolding of a row-major tensor.
 * Only the left side is computed (through the transpose when the unfolding is wide, which costs a
 * QR of the N/I × I matrix and a Jacobi SVD of its I × I triangle, with no rotation accumulation).
 */
export function modeSvdRaw(data: ArrayLike<number>, shape: readonly number[], mode: number): ModeSvdRaw {
  const { P, I, Q } = modeView(shape, mode);
  const M = P * Q;
  if (M >= I) {
    // X = Mat_modeᵀ (M × I); the left vectors of Mat_mode are the right vectors of X.
    const x = new Float64Array(M * I);
    for (let p = 0; p < P; p++) for (let i = 0; i < I; i++) {
      const src = (p * I + i) * Q;
      for (let q = 0; q < Q; q++) x[(p * Q + q) * I + i] = data[src + q];
    }
    const r = svdRaw(x, M, I, { wantU: false, wantV: true });
    const u = r.v!;
    fixColumnSigns(u, I, I);
    return { u, s: r.s, rows: I, k: I };
  }
  const a = new Float64Array(I * M);
  for (let p = 0; p < P; p++) for (let i = 0; i < I; i++) {
    const src = (p * I + i) * Q;
    for (let q = 0; q < Q; q++) a[i * M + p * Q + q] = data[src + q];
  }
  const r = svdRaw(a, I, M, { wantU: true, wantV: false });
  return { u: r.u!, s: r.s, rows: I, k: M };
}

/** The leading r columns of an I × k orthonormal set, completed deterministically when r > k. */
export function leadingColumns(u: Float64Array, rows: number, k: number, r: number): Float64Array {
  const out = new Float64Array(rows * r);
  const c = Math.min(k, r);
  for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) out[i * r + j] = u[i * k + j];
  if (r > k) {
    const have = Array.from({ length: r }, (_, j) => j < k);
    completeOrthonormal(out, rows, r, have);
  }
  return out;
}

/** Σ_{k ≥ r} σ_k², summed from the smallest value up. */
export function tailEnergy(s: ArrayLike<number>, r: number): number {
  let t = 0;
  for (let k = s.length - 1; k >= r; k--) t += s[k] * s[k];
  return t;
}

/**
 * Left singular vectors and singular values of Mat_mode(t): `u` is [I_mode, k] with
 * k = min(I_mode, N/I_mode) (largest-|.| entry of each column positive), `s` is [k] descending.
 */
export function modeSvd(t: Tensor, mode: number): { u: Tensor; s: Tensor } {
  const shape = checkTensorArg(t, 'modeSvd', 't');
  const n = checkMode(mode, shape.length, 'modeSvd');
  const r = modeSvdRaw(t.data, shape, n);
  return { u: Tensor.fromData(r.u, [r.rows, r.k]), s: Tensor.fromData(r.s, [r.s.length]) };
}

/**
 * How hosvd chooses the ranks of the factorised modes (exactly one key):
 * - `ranks`: one entry per mode; an integer in [1, n_i] for a factorised mode, null (or n_i) for
 *   the others.
 * - `tol`: a TOTAL absolute Frobenius error ϑ ≥ 0. Each of the |D| factorised modes gets
 *   r_i = the smallest r with Σ_{k>r} σ_k² ≤ ϑ²/|D|, so that ‖T − T̂‖F ≤ ϑ.
 * - `relTol`: the same with ϑ = relTol · ‖T‖F.
 * - `modeTol`: a PER-MODE absolute threshold θ ≥ 0 (DLRT's θ): r_i = the smallest r with
 *   sqrt(Σ_{k>r} σ_k²) ≤ θ; then ‖T − T̂‖F ≤ √|D| · θ.
 * - `rankRatio`: r_i = clamp(round(rankRatio · n_i), 1, n_i), 0 < rankRatio ≤ 1.
 * Tolerance-chosen ranks are clamped below by `minRank` (default 1), which only lowers the error.
 */
export type HosvdSpec =
  | { ranks: readonly (number | null)[] }
  | { tol: number }
  | { relTol: number }
  | { modeTol: number }
  | { rankRatio: number };

export interface HosvdOptions {
  /** The factorised modes (default all). Tucker-2 of a conv kernel: `[0, 1]`. Other modes get a null factor. */
  modes?: readonly number[];
  /** Lower clamp of tolerance-chosen ranks (default 1; capped at n_i). */
  minRank?: number;
}

export interface HosvdResult {
  /** The core C = T ×_{i∈D} U_iᵀ, of shape `ranks`. */
  core: Tensor;
  /** U_i (n_i × r_i, orthonormal columns) for factorised modes, null for the others. */
  factors: (Tensor | null)[];
  /** One entry per mode; n_i for a mode that is not factorised. */
  ranks: number[];
  /** Per mode, the discarded energy Σ_{k>r_i} σ_k(Mat_i T)² (0 for unfactorised modes). */
  discarded: number[];
  /** Per mode, all singular values of Mat_i(T), descending (null for unfactorised modes). */
  singularValues: (Float64Array | null)[];
  /** The factorised modes, sorted. */
  modes: number[];
}

const SPEC_KEYS = ['ranks', 'tol', 'relTol', 'modeTol', 'rankRatio'] as const;

/**
 * Truncated HOSVD of `t` (float32 or float64; computed and returned in float64). See HosvdSpec for
 * the rank rules; `options.modes` restricts the factorisation (Tucker-2: two modes). The error
 * bound ‖T − T̂‖F² ≤ Σ_i discarded[i] holds for every rule; reconstruct with
 * `reconstruct(core, factors)`.
 */
export function hosvd(t: Tensor, spec: HosvdSpec, options: HosvdOptions = {}): HosvdResult {
  const op = 'hosvd';
  const shape = checkTensorArg(t, op, 't');
  const d = shape.length;
  const modes = checkModes(options.modes, d, op);
  if (spec === null || typeof spec !== 'object') throw new Error(`${op}: spec must be one of { ranks } | { tol } | { relTol } | { modeTol } | { rankRatio }, got ${String(spec)}`);
  const keys = SPEC_KEYS.filter((k) => (spec as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) {
    throw new Error(`${op}: spec must have exactly one of ranks, tol, relTol, modeTol, rankRatio; got ${keys.length === 0 ? `keys [${Object.keys(spec).join(', ')}]` : keys.join(' and ')}`);
  }
  const key = keys[0];
  const minRank = options.minRank ?? 1;
  if (typeof minRank !== 'number' || !Number.isInteger(minRank) || minRank < 1) {
    throw new Error(`${op}: options.minRank must be an integer ≥ 1, got ${String(minRank)}`);
  }
  if (sizeOf(shape) === 0) throw new Error(`${op}: t must not be empty, got shape ${shapeStr(shape)}`);
  let fixedRanks: number[] | null = null;
  let threshold = 0;
  const value = (spec as Record<string, unknown>)[key];
  if (key === 'ranks') fixedRanks = checkRanks(value, shape, modes, op, 'spec.ranks');
  else if (key === 'rankRatio') {
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new Error(`${op}: spec.rankRatio must be a number in (0, 1], got ${String(value)}`);
    fixedRanks = shape.map((n, i) => (modes.includes(i) ? Math.min(n, Math.max(1, Math.round(value * n))) : n));
  } else {
    const v = checkNonNeg(value, op, `spec.${key}`);
    if (key === 'tol') threshold = v / Math.sqrt(modes.length);
    else if (key === 'relTol') threshold = (v * frob(t.data)) / Math.sqrt(modes.length);
    else threshold = v;
  }
  const ranks = [...shape];
  const discarded = new Array<number>(d).fill(0);
  const singularValues: (Float64Array | null)[] = new Array(d).fill(null);
  const mats: (RawMatrix | null)[] = new Array(d).fill(null);
  for (const i of modes) {
    const ms = modeSvdRaw(t.data, shape, i);
    const r = fixedRanks ? fixedRanks[i] : Math.min(shape[i], Math.max(minRank, truncationRank(ms.s, threshold)));
    ranks[i] = r;
    discarded[i] = tailEnergy(ms.s, r);
    singularValues[i] = ms.s;
    mats[i] = { data: leadingColumns(ms.u, ms.rows, ms.k, r), rows: shape[i], cols: r };
  }
  const core = multiModeProductRaw(t.data, shape, mats, true);
  const coreData = core.data === t.data ? Float64Array.from(core.data) : core.data;
  return {
    core: Tensor.fromData(coreData, core.shape),
    factors: mats.map((m) => (m ? Tensor.fromData(m.data, [m.rows, m.cols]) : null)),
    ranks,
    discarded,
    singularValues,
    modes,
  };
}

export interface HooiOptions {
  /** Maximum number of sweeps over the factorised modes (default 50). */
  maxIter?: number;
  /**
   * Stopping rule: stop when a sweep raises ‖C‖F² by at most tol·‖T‖F² (equivalently, lowers the
   * squared relative error ‖T − T̂‖²/‖T‖² by at most tol). Default 1e-12.
   */
  tol?: number;
  /** The factorised modes (default all), as in hosvd. */
  modes?: readonly number[];
}

export interface HooiResult {
  core: Tensor;
  factors: (Tensor | null)[];
  ranks: number[];
  modes: number[];
  /** Sweeps run. */
  iterations: number;
  /** Whether the stopping rule was met before maxIter. */
  converged: boolean;
  /** ‖T − T̂‖F of the returned decomposition (computed by reconstruction). */
  error: number;
  /** ‖T − T̂‖F of the HOSVD it started from. */
  hosvdError: number;
}

/**
 * Higher-order orthogonal iteration (De Lathauwer, De Moor & Vandewalle 2000b): starts from the
 * truncated HOSVD at `ranks` and, mode by mode, replaces U_n by the leading r_n left singular
 * vectors of Mat_n(T ×_{k≠n} U_kᵀ); C = T ×_k U_kᵀ. Each update cannot lower ‖C‖F (so cannot raise
 * ‖T − T̂‖F); the result returned is the best iterate met (largest ‖C‖F), and the starting HOSVD
 * itself unless that iterate's actual error is lower by more than 1e-13·‖T‖F: never worse than
 * the HOSVD it starts from.
 */
export function hooi(t: Tensor, ranks: readonly (number | null)[], options: HooiOptions = {}): HooiResult {
  const op = 'hooi';
  const shape = checkTensorArg(t, op, 't');
  const d = shape.length;
  const modes = checkModes(options.modes, d, op);
  const full = checkRanks(ranks, shape, modes, op, 'ranks');
  const maxIter = options.maxIter ?? 50;
  if (typeof maxIter !== 'number' || !Number.isInteger(maxIter) || maxIter < 0) {
    throw new Error(`${op}: options.maxIter must be an integer ≥ 0, got ${String(maxIter)}`);
  }
  const tol = checkNonNeg(options.tol ?? 1e-12, op, 'options.tol');
  const start = hosvd(t, { ranks: full.map((r, i) => (modes.includes(i) ? r : null)) }, { modes });
  const norm2 = frob(t.data) ** 2;
  const mats: (RawMatrix | null)[] = start.factors.map((f) => (f ? { data: f.data as Float64Array, rows: f.shape[0], cols: f.shape[1] } : null));
  const coreNorm2 = (c: Float64Array): number => frob(c) ** 2;
  let bestCore = start.core.data as Float64Array;
  let bestMats = mats.slice();
  let bestFit = coreNorm2(bestCore);
  let prevFit = bestFit;
  let iterations = 0;
  let converged = false;
  const cur = mats.slice();
  for (let it = 0; it < maxIter && modes.length > 0; it++) {
    iterations++;
    let core: Float64Array | null = null;
    for (const n of modes) {
      const others = cur.map((m, k) => (k === n ? null : m));
      const y = multiModeProductRaw(t.data, shape, others, true);
      const ms = modeSvdRaw(y.data, y.shape, n);
      cur[n] = { data: leadingColumns(ms.u, ms.rows, ms.k, full[n]), rows: shape[n], cols: full[n] };
      if (n === modes[modes.length - 1]) {
        const only: (RawMatrix | null)[] = new Array(d).fill(null);
        only[n] = cur[n];
        core = multiModeProductRaw(y.data, y.shape, only, true).data;
      }
    }
    const fit = coreNorm2(core!);
    if (fit > bestFit) {
      bestFit = fit;
      bestCore = core!;
      bestMats = cur.slice();
    }
    if (fit - prevFit <= tol * norm2) {
      converged = true;
      break;
    }
    prevFit = fit;
  }
  if (modes.length === 0 || maxIter === 0) converged = true;
  const toTensors = (ms: (RawMatrix | null)[]) => ms.map((m) => (m ? Tensor.fromData(m.data, [m.rows, m.cols]) : null));
  const errOf = (core: Tensor, factors: (Tensor | null)[]): number => {
    const rec = reconstruct(core, factors).data;
    const diff = new Float64Array(rec.length);
    for (let i = 0; i < rec.length; i++) diff[i] = t.data[i] - rec[i];
    return frob(diff);
  };
  const hosvdError = errOf(start.core, start.factors);
  let core = Tensor.fromData(bestCore, [...full]);
  let factors = toTensors(bestMats);
  let error = bestCore === start.core.data ? hosvdError : errOf(core, factors);
  // Keep the HOSVD unless HOOI is better by more than rounding (so "never worse" holds however
  // the error is measured).
  if (error > hosvdError - 1e-13 * Math.sqrt(norm2)) {
    core = start.core;
    factors = start.factors;
    error = hosvdError;
  }
  return { core, factors, ranks: full, modes, iterations, converged, error, hosvdError };
}
