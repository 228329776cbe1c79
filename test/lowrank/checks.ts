/**
 * Independent checks of one rank-adaptive integrator step (docs/design.md, the TDLRT section),
 * recomputed from the model's tensors with this file's own linear algebra, never from the figures
 * the integrator reports about itself (`lastInfo`). Written for both steps of the integrator:
 * 'bug' (two-pass augmented basis-update & Galerkin) and 'parallel' (single-pass).
 *
 * API
 *   snapshot(integ, name, layer) → LayerSnapshot
 *       The layer's weight, core, factors, ranks and heavy-ball velocity (rebuilt in full space from
 *       integ.getState()) at one moment. Take one before and one after a step.
 *   fullGradients(layers, lossOfWeights) → { loss, grads }
 *       ∇_W L of every layer's full kernel at the current point, in float64, through a loss written
 *       on the full kernels (lossOfWeights receives one float64 leaf per layer, in order).
 *   checkLayerStep(before, grad, after, setting, reportedBases?) → LayerReport
 *       Every check below for one layer; `violations` lists what failed (empty when all hold),
 *       `preconditions` what made the step's K-step undefined (empty on the inputs the checks are for).
 *   tangentProject(snapshot, Z) → P_T(Z), the Koch–Lubich tangent projection at the snapshot's point.
 *   stepAndCheck(integ, options, lossOfWeights, closure, tol) → LayerReport[]
 *       Snapshots every low-rank layer, takes ∇_W L, runs integ.step(closure) and checks each layer.
 *       `options` must be the IntegratorOptions the integrator was built with.
 *
 * What checkLayerStep recomputes (W0, G = ∇_W L(W0), V the velocity before the step, μ, λ, wd):
 *   - the explicit K-step per stored mode i: Q_i from Mat_i(C)ᵀ (Jacobi SVD; any orthogonal Q_i
 *     when Π_{j≠i} r_j = r_i), K_i1 = Mat_i(W0 − λG)·V_i with V_i = (⊗_{j≠i} U_j)Q_i (= U_iS_i − λ
 *     Mat_i(G)V_i), Û_i = orth[U_i | K_i1] (its numerical rank). Only where that block is
 *     rank-deficient does the two-pass step's Galerkin space depend on how its QR completes Û_i;
 *     there (and only there) the check takes the integrator's Û_i (reportedBases, from
 *     lastInfo.augmentedBases) after checking that it is orthonormal and holds span[U_i | K_i1];
 *   - the step before truncation Y½ = W0 − λ(μV + wd·W0 + D), D = P_Û G for 'bug' (Galerkin step in
 *     the augmented space; W0 and V lie in the old space ⊂ Û), D = P_T G (Koch–Lubich projection at
 *     W0) for 'parallel';
 *   - Ĉ1 = Y½ ×_i Û_iᵀ, ϑ_i = τ‖Ĉ1‖ (or θ), the spectra of every Mat_i(Ĉ1) by Jacobi SVD;
 *   - ranks: r_i ≤ width of Û_i; on adapted modes tail(r_i) ≤ ϑ_i and minimality tail(r_i − 1) > ϑ_i,
 *     each up to tol·scale, unless a named clamp binds ('minRank', 'maxRank', 'feasibility':
 *     r_i = Π_{j≠i} r_j); stored modes that do not adapt keep their rank;
 *   - the new factors are orthonormal, W1 lies in the span of the Û_i, and each factor spans a
 *     dominant r_i-subspace of Mat_i(Y½) (captured energy = Σ_{k≤r_i} σ_k²);
 *   - W1 = P_new(Y½) (HOSVD truncation of Ĉ1 lifted), ‖Y½ − W1‖ ≤ (Σ_i tail_i(r_i)²)^½, and
 *     ≤ (Σ_i ϑ_i²)^½ when no clamp binds;
 *   - momentum: the velocity after the step, rebuilt in full space, equals P_new(μV + D + wd·W0);
 *     without momentum the integrator holds none.
 * Tolerances are relative to scale = ‖W0‖ + λ(‖G‖ + μ‖V‖): tol = 1e-9 suits float64, ~1e-4 float32.
 */
import { svdRaw } from '../../src/linalg/svd.js';
import type { IntegratorKind, IntegratorOptions, RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import type { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { Tensor } from '../../src/tensor/tensor.js';

export interface LayerSnapshot {
  name: string;
  fullShape: number[];
  ranks: number[];
  adaptModes: number[];
  core: Float64Array;
  /** n_i × r_i row-major, null where the mode is kept full. */
  factors: (Float64Array | null)[];
  weight: Float64Array;
  /** Heavy-ball velocity of the core rebuilt in full space (null when the integrator holds none). */
  velocity: Float64Array | null;
}

export interface StepSetting {
  lr: number;
  /** The relative tolerance in force at this step (0 during warm-up). */
  tau: number;
  theta: number | null;
  minRank: number;
  maxRank: IntegratorOptions['maxRank'];
  momentum: number;
  weightDecay: number;
  integrator: IntegratorKind;
  /** Relative accuracy of every comparison (of scale = ‖W0‖ + λ(‖G‖ + μ‖V‖)). */
  tol: number;
}

export type Clamp = 'none' | 'minRank' | 'maxRank' | 'feasibility' | 'kept';

export interface ModeReport {
  mode: number;
  /** Width of the test's augmented basis Û_i. */
  width: number;
  /** σ of Mat_i(Ĉ1), Jacobi, descending. */
  spectrum: Float64Array;
  threshold: number;
  rank: number;
  clamp: Clamp;
}

export interface LayerReport {
  name: string;
  /** The step before truncation, Y½ = W0 − λ(μV + wd·W0 + D), from the test's explicit K-step. */
  yHalf: Float64Array;
  modes: (ModeReport | null)[];
  /** ‖Y½ − W1‖ with Y½ from the test. */
  truncationError: number;
  /** (Σ_i tail_i(r_i)²)^½ over the stored modes, from the test's spectra. */
  tailBound: number;
  /** (Σ_i ϑ_i²)^½ over the adapted modes. */
  thresholdBound: number;
  anyClamp: boolean;
  rankChanged: boolean;
  violations: string[];
  preconditions: string[];
}

// ---------- plain dense algebra (row-major), independent of src/linalg and src/tucker ----------

const prod = (a: readonly number[]) => a.reduce((p, v) => p * v, 1);

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

function diffNorm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

function mm(a: ArrayLike<number>, m: number, k: number, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p];
      if (v !== 0) for (let j = 0; j < n; j++) c[i * n + j] += v * b[p * n + j];
    }
  return c;
}

function tr(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

/** X ×_mode M for M [J, n_mode]. */
function modeMul(x: ArrayLike<number>, shape: readonly number[], m: ArrayLike<number>, rows: number, mode: number): { data: Float64Array; shape: number[] } {
  const n = shape[mode];
  const p = prod(shape.slice(0, mode));
  const q = prod(shape.slice(mode + 1));
  const out = new Float64Array(p * rows * q);
  for (let a = 0; a < p; a++)
    for (let j = 0; j < rows; j++)
      for (let k = 0; k < n; k++) {
        const w = m[j * n + k];
        if (w === 0) continue;
        const src = (a * n + k) * q;
        const dst = (a * rows + j) * q;
        for (let b = 0; b < q; b++) out[dst + b] += w * x[src + b];
      }
  const s = shape.slice();
  s[mode] = rows;
  return { data: out, shape: s };
}

/** Mat_mode(X): n_mode rows, columns ordered (before-mode index, after-mode index). */
function unfold(x: ArrayLike<number>, shape: readonly number[], mode: number): Float64Array {
  const n = shape[mode];
  const p = prod(shape.slice(0, mode));
  const q = prod(shape.slice(mode + 1));
  const out = new Float64Array(x.length);
  for (let a = 0; a < p; a++) for (let k = 0; k < n; k++) for (let b = 0; b < q; b++) out[k * p * q + a * q + b] = x[(a * n + k) * q + b];
  return out;
}

function fold(m: ArrayLike<number>, shape: readonly number[], mode: number): Float64Array {
  const n = shape[mode];
  const p = prod(shape.slice(0, mode));
  const q = prod(shape.slice(mode + 1));
  const out = new Float64Array(m.length);
  for (let a = 0; a < p; a++) for (let k = 0; k < n; k++) for (let b = 0; b < q; b++) out[(a * n + k) * q + b] = m[k * p * q + a * q + b];
  return out;
}

/** X ×_i B_i for every non-null B_i [rows_i, shape_i]. */
function multiMul(x: ArrayLike<number>, shape: readonly number[], mats: readonly ({ m: Float64Array; rows: number } | null)[]) {
  let data: Float64Array = Float64Array.from(x);
  let s = shape.slice();
  mats.forEach((b, i) => {
    if (!b) return;
    const r = modeMul(data, s, b.m, b.rows, i);
    data = r.data;
    s = r.shape;
  });
  return { data, shape: s };
}

/** U·Uᵀ of an n×r factor. */
function projector(u: Float64Array, n: number, r: number): Float64Array {
  return mm(u, n, r, tr(u, n, r), n);
}

/** X projected onto the Tucker space of the given bases (P_{U_i} on every stored mode). */
function projectOnto(x: ArrayLike<number>, shape: readonly number[], bases: readonly (Float64Array | null)[]): Float64Array {
  return multiMul(
    x,
    shape,
    bases.map((u, i) => (u ? { m: projector(u, shape[i], u.length / shape[i]), rows: shape[i] } : null)),
  ).data;
}

/** An orthonormal basis of the column span of A (n×c), by Jacobi SVD (σ above relTol·σ₁). */
function orthBasis(a: Float64Array, n: number, c: number, relTol: number): { q: Float64Array; cols: number } {
  const svd = svdRaw(a, n, c, { wantU: true, wantV: false });
  const s = svd.s;
  let k = 0;
  while (k < s.length && s[k] > relTol * s[0]) k++;
  const q = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) q[i * k + j] = (svd.u as Float64Array)[i * svd.uCols + j];
  return { q, cols: k };
}

/** max |UᵀU − I|. */
function orthoError(u: Float64Array, n: number, r: number): number {
  const g = mm(tr(u, n, r), r, n, u, r);
  let e = 0;
  for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) e = Math.max(e, Math.abs(g[a * r + b] - (a === b ? 1 : 0)));
  return e;
}

/** ‖(σ_r, σ_{r+1}, …)‖ (0-based: the tail after keeping r values). */
export function tail(s: ArrayLike<number>, r: number): number {
  let t = 0;
  for (let k = s.length - 1; k >= Math.max(r, 0); k--) t += s[k] * s[k];
  return Math.sqrt(t);
}

// ---------- snapshots and gradients ----------

export function snapshot(integ: RankAdaptiveIntegrator, name: string, layer: TuckerLayer): LayerSnapshot {
  const fullShape = [...layer.fullShape];
  const ranks = layer.ranks;
  const factors = layer.factors.map((f) => (f ? Float64Array.from(f.data) : null));
  const core = Float64Array.from(layer.core.data);
  const lift = (c: Float64Array) =>
    multiMul(
      c,
      ranks,
      factors.map((u, i) => (u ? { m: u, rows: fullShape[i] } : null)),
    ).data;
  const v = integ.getState().velocity[name];
  return { name, fullShape, ranks, adaptModes: [...layer.adaptModes], core, factors, weight: lift(core), velocity: v ? lift(Float64Array.from(v)) : null };
}

/** L and ∇_W L of each layer's full kernel, float64, from a loss written on the full kernels. */
export function fullGradients(layers: readonly TuckerLayer[], lossOfWeights: (ws: Tensor[]) => Tensor): { loss: number; grads: Float64Array[] } {
  const leaves = layers.map((l) => {
    const w = l.fullWeight();
    return new Tensor(Float64Array.from(w.data), [...l.fullShape], true);
  });
  const loss = lossOfWeights(leaves);
  loss.backward();
  return { loss: loss.item(), grads: leaves.map((t) => Float64Array.from(t.grad?.data ?? new Float64Array(t.size))) };
}

/** The step's direction before truncation and the augmented bases, from the explicit K-step. */
function explicitStep(
  before: LayerSnapshot,
  grad: Float64Array,
  s: StepSetting,
  preconditions: string[],
  bad: (msg: string) => void,
  reported?: readonly (Float64Array | null)[],
) {
  const { fullShape: shape, ranks, core, factors } = before;
  const lrG = before.weight.map((w, k) => w - s.lr * grad[k]);
  const aug: (Float64Array | null)[] = [];
  const rowBases: (Float64Array | null)[] = [];
  factors.forEach((u, i) => {
    if (!u) {
      aug.push(null);
      rowBases.push(null);
      return;
    }
    const n = shape[i];
    const r = ranks[i];
    const cols = core.length / r;
    // V_i = (⊗_{j≠i} U_j)·Q_i, Q_i an orthonormal basis of the row space of Mat_i(C) (r_i columns).
    if (cols > r) {
      const sv = svdRaw(unfold(core, ranks, i), r, cols, { wantU: false, wantV: false }).s;
      if (!(sv[r - 1] > 1e-10 * sv[0]))
        preconditions.push(`${before.name} mode ${i}: S_i is singular and Π_{j≠i} r_j = ${cols} > r_i = ${r}: the K-step depends on the completion of Q_i`);
    }
    const q = rowBasis(core, ranks, i);
    const others = factors.map((f, j) => (f && j !== i ? { m: tr(f, shape[j], ranks[j]), rows: ranks[j] } : null));
    const reduced = multiMul(lrG, shape, others);
    const k1 = mm(unfold(reduced.data, reduced.shape, i), n, cols, q, r);
    const kn = norm(k1) || 1;
    const both = new Float64Array(n * 2 * r);
    for (let a = 0; a < n; a++)
      for (let b = 0; b < r; b++) {
        both[a * 2 * r + b] = u[a * r + b];
        both[a * 2 * r + r + b] = k1[a * r + b] / kn;
      }
    const { q: uhat, cols: width } = orthBasis(both, n, 2 * r, 1e-12);
    const full = Math.min(n, 2 * r);
    const rep = reported?.[i];
    if (width < full && s.integrator === 'bug') {
      // [U_i | K_i1] is rank-deficient (e.g. after a matrix step that doubled the rank): the Galerkin
      // space then depends on how the QR completes the basis. Take the integrator's Û_i, once checked
      // to be orthonormal and to hold the K-step's span.
      if (!rep) {
        preconditions.push(`${before.name} mode ${i}: [U_i | K_i1] has rank ${width} < ${full} and the integrator's Û_i was not given`);
      } else {
        const wr = rep.length / n;
        const oe = orthoError(rep, n, wr);
        const missing = diffNorm(mm(projector(rep, n, wr), n, n, uhat, width), uhat);
        if (oe > 1e-10 || missing > 1e-8)
          bad(`mode ${i}: the integrator's Û_i (orthonormal to ${oe.toExponential(2)}) misses the K-step's span by ${missing.toExponential(2)}`);
        aug.push(rep);
        rowBases.push(q);
        return;
      }
    }
    aug.push(uhat);
    rowBases.push(q);
  });
  const d = s.integrator === 'bug' ? projectOnto(grad, shape, aug) : tangentProject(before, grad, rowBases);
  return { aug, direction: d };
}

/**
 * The Koch–Lubich projection onto the tangent space of the Tucker manifold at the snapshot's point,
 * P_T(Z) = Z ×_j P_{U_j} + Σ_i Ten_i((I − P_{U_i}) Mat_i(Z ×_{j≠i} U_jᵀ) Q_iQ_iᵀ) ×_{j≠i} U_j, with Q_i an
 * orthonormal basis of the row space of Mat_i(C) (the identity where Π_{j≠i} r_j = r_i).
 */
export function tangentProject(at: LayerSnapshot, z: Float64Array, rowBases?: readonly (Float64Array | null)[]): Float64Array {
  const { fullShape: shape, ranks, core, factors } = at;
  const d = projectOnto(z, shape, factors);
  factors.forEach((u, i) => {
    if (!u) return;
    const n = shape[i];
    const r = ranks[i];
    const cols = core.length / r;
    const q = rowBases?.[i] ?? rowBasis(core, ranks, i);
    const others = factors.map((f, j) => (f && j !== i ? { m: tr(f, shape[j], ranks[j]), rows: ranks[j] } : null));
    const red = multiMul(z, shape, others);
    const zq = mm(unfold(red.data, red.shape, i), n, cols, q, r);
    const inSpan = mm(projector(u, n, r), n, n, zq, r);
    const resid = zq.map((v, k) => v - inSpan[k]);
    const back = mm(resid, n, r, tr(q, cols, r), cols);
    const lifted = multiMul(
      fold(back, red.shape, i),
      red.shape,
      factors.map((f, j) => (f && j !== i ? { m: f, rows: shape[j] } : null)),
    ).data;
    for (let k = 0; k < d.length; k++) d[k] += lifted[k];
  });
  return d;
}

/** Q_i: an orthonormal basis (cols × r_i) of the row space of Mat_i(C); the identity when square. */
function rowBasis(core: Float64Array, ranks: readonly number[], i: number): Float64Array {
  const r = ranks[i];
  const cols = core.length / r;
  if (cols === r) {
    const q = new Float64Array(r * r);
    for (let k = 0; k < r; k++) q[k * r + k] = 1;
    return q;
  }
  return svdRaw(tr(unfold(core, ranks, i), r, cols), cols, r, { wantU: true, wantV: false }).u as Float64Array;
}

function maxRankOf(s: StepSetting, name: string, mode: number, size: number): number {
  const m = s.maxRank;
  if (m === undefined) return size;
  return Math.min(size, typeof m === 'number' ? m : m(name, mode, size));
}

export function checkLayerStep(
  before: LayerSnapshot,
  grad: Float64Array,
  after: LayerSnapshot,
  s: StepSetting,
  reported?: readonly (Float64Array | null)[],
): LayerReport {
  const violations: string[] = [];
  const preconditions: string[] = [];
  const shape = before.fullShape;
  const d = shape.length;
  const v0 = before.velocity ?? new Float64Array(before.weight.length);
  const scale = norm(before.weight) + s.lr * (norm(grad) + s.momentum * norm(v0));
  const tol = s.tol * scale;
  const bad = (msg: string) => violations.push(`${before.name}: ${msg}`);

  const { aug, direction } = explicitStep(before, grad, s, preconditions, bad, reported);
  const step = new Float64Array(before.weight.length);
  for (let k = 0; k < step.length; k++) step[k] = s.momentum * v0[k] + s.weightDecay * before.weight[k] + direction[k];
  const yHalf = before.weight.map((w, k) => w - s.lr * step[k]);
  const widths = aug.map((u, i) => (u ? u.length / shape[i] : shape[i]));
  const c1 = multiMul(
    yHalf,
    shape,
    aug.map((u, i) => (u ? { m: tr(u, shape[i], widths[i]), rows: widths[i] } : null)),
  ).data;
  const c1Norm = norm(c1);
  const defaultTheta = s.theta ?? s.tau * c1Norm;

  // Ranks against the test's spectra.
  const ranks = after.ranks;
  const modes: (ModeReport | null)[] = [];
  let tail2 = 0;
  let theta2 = 0;
  let anyClamp = false;
  for (let i = 0; i < d; i++) {
    if (!aug[i]) {
      modes.push(null);
      if (ranks[i] !== shape[i]) bad(`mode ${i} is kept full but has rank ${ranks[i]}`);
      continue;
    }
    const rows = widths[i];
    const spectrum = svdRaw(unfold(c1, widths, i), rows, c1.length / rows, { wantU: false, wantV: false }).s;
    const r = ranks[i];
    const others = ranks.reduce((p, v, j) => (j === i ? p : p * v), 1);
    const adapts = before.adaptModes.includes(i);
    const threshold = adapts ? defaultTheta : 0;
    let clamp: Clamp = 'none';
    if (r < 1 || r > rows) bad(`mode ${i}: rank ${r} outside [1, augmented width ${rows}]`);
    if (!adapts) {
      clamp = 'kept';
      if (r !== Math.min(before.ranks[i], rows) && r !== others) bad(`mode ${i} does not adapt, yet its rank went ${before.ranks[i]} → ${r}`);
    } else {
      const tooBig = tail(spectrum, r) > threshold + tol;
      const notMinimal = r > 0 && tail(spectrum, r - 1) <= threshold - tol;
      const cap = maxRankOf(s, before.name, i, shape[i]);
      if (tooBig) {
        if (r === cap) clamp = 'maxRank';
        else if (r === others) clamp = 'feasibility';
        else
          bad(
            `mode ${i}: tail(r = ${r}) = ${tail(spectrum, r).toExponential(4)} > ϑ = ${threshold.toExponential(4)} and no clamp binds (maxRank ${cap}, Π_{j≠i} r_j = ${others})`,
          );
      } else if (notMinimal) {
        if (r === Math.min(s.minRank, rows)) clamp = 'minRank';
        else
          bad(
            `mode ${i}: rank ${r} is not minimal: tail(${r - 1}) = ${tail(spectrum, r - 1).toExponential(4)} ≤ ϑ = ${threshold.toExponential(4)} (minRank ${s.minRank})`,
          );
      }
      if (r > cap) bad(`mode ${i}: rank ${r} above maxRank ${cap}`);
      if (r < Math.min(s.minRank, rows, cap) && r !== others) bad(`mode ${i}: rank ${r} below minRank ${s.minRank}`);
      theta2 += threshold * threshold;
    }
    if (clamp !== 'none' && clamp !== 'kept') anyClamp = true;
    if (r > others) bad(`mode ${i}: rank ${r} > Π_{j≠i} r_j = ${others} (infeasible)`);
    tail2 += tail(spectrum, r) ** 2;
    modes.push({ mode: i, width: rows, spectrum, threshold, rank: r, clamp });
  }
  // A feasibility clamp lowers r_i to Π_{j≠i} r_j only because another mode's rank is smaller by its
  // own rule: two modes cannot excuse each other (for a matrix r_0 = r_1 always holds).
  const excused = modes.filter((m) => m?.clamp === 'feasibility');
  if (excused.length > 1)
    bad(`modes ${excused.map((m) => m?.mode).join(', ')} are each below their rule (tail > ϑ) and only excused by one another's ranks (feasibility)`);

  // The new factors: orthonormal, inside Û, dominant subspaces of Mat_i(Y½).
  const newBases = after.factors;
  newBases.forEach((u, i) => {
    if (!u) return;
    const r = ranks[i];
    const n = shape[i];
    const oe = orthoError(u, n, r);
    if (oe > Math.max(s.tol, 1e-12) * 10) bad(`factor ${i} is not orthonormal: max|UᵀU − I| = ${oe.toExponential(3)}`);
    const uh = aug[i];
    if (!uh) return;
    // W1 lies in the K-step's augmented space: ‖(I − ÛÛᵀ)·Mat_i(W1)‖ ≈ 0.
    const inside = modeMul(after.weight, shape, projector(uh, n, widths[i]), n, i).data;
    const out = diffNorm(inside, after.weight);
    if (out > tol) bad(`W1 leaves the K-step's augmented span in mode ${i}: ‖(I − ÛÛᵀ)Mat_${i}(W1)‖ = ${out.toExponential(3)}`);
    const report = modes[i] as ModeReport;
    const captured = norm(modeMul(yHalf, shape, tr(u, n, r), r, i).data) ** 2;
    let best = 0;
    for (let k = 0; k < Math.min(r, report.spectrum.length); k++) best += report.spectrum[k] ** 2;
    if (captured < best - s.tol * scale * scale * 10)
      bad(`factor ${i} is not a dominant subspace of Mat_${i}(Y½): captures ${captured.toExponential(6)} < Σ_{k≤r}σ_k² = ${best.toExponential(6)}`);
  });

  // W1 = P_new(Y½): the HOSVD truncation of Ĉ1, and the error bounds.
  const w1 = after.weight;
  const projected = projectOnto(yHalf, shape, newBases);
  const off = diffNorm(w1, projected);
  if (off > tol) bad(`W1 differs from P_new(Y½) by ${off.toExponential(3)} (tol ${tol.toExponential(2)})`);
  const truncationError = diffNorm(yHalf, w1);
  const tailBound = Math.sqrt(tail2);
  const thresholdBound = Math.sqrt(theta2);
  if (truncationError > tailBound + tol) bad(`‖Y½ − W1‖ = ${truncationError.toExponential(4)} > (Σ tail_i(r_i)²)^½ = ${tailBound.toExponential(4)}`);
  if (!anyClamp && truncationError > thresholdBound + tol)
    bad(`no clamp binds, yet ‖Y½ − W1‖ = ${truncationError.toExponential(4)} > (Σ ϑ_i²)^½ = ${thresholdBound.toExponential(4)}`);

  // Momentum: the velocity lives in the new Tucker space and equals P_new(μV + D + wd·W0).
  if (s.momentum > 0) {
    if (!after.velocity) bad('momentum > 0 but the integrator holds no velocity after the step');
    else {
      const want = projectOnto(step, shape, newBases);
      const dv = diffNorm(after.velocity, want);
      if (dv > s.tol * (norm(step) + norm(v0) + norm(grad)))
        bad(`velocity after the step differs from P_new(μV + D + wd·W0) by ${dv.toExponential(3)} (‖want‖ = ${norm(want).toExponential(3)})`);
    }
  } else if (after.velocity && norm(after.velocity) > 0) bad('no momentum, yet the integrator holds a non-zero velocity');

  const rankChanged = ranks.some((r, i) => r !== before.ranks[i]);
  return { name: before.name, yHalf, modes, truncationError, tailBound, thresholdBound, anyClamp, rankChanged, violations, preconditions };
}

/** The setting of the coming step from the options the integrator was built with. */
export function settingOf(integ: RankAdaptiveIntegrator, options: IntegratorOptions, tol: number): StepSetting {
  const tau = options.tau ?? 0.1;
  return {
    lr: integ.lr,
    tau: integ.stepCount < (options.warmupSteps ?? 0) ? 0 : tau,
    theta: options.theta ?? null,
    minRank: options.minRank ?? 2,
    maxRank: options.maxRank,
    momentum: options.momentum ?? 0,
    weightDecay: options.weightDecay ?? 0,
    integrator: options.integrator ?? 'parallel',
    tol,
  };
}

/** One step of `integ` with every layer checked; returns the reports (assert their violations are empty). */
export function stepAndCheck(
  integ: RankAdaptiveIntegrator,
  options: IntegratorOptions,
  lossOfWeights: (ws: Tensor[]) => Tensor,
  closure: () => Tensor,
  tol: number,
): LayerReport[] {
  const setting = settingOf(integ, options, tol);
  const before = integ.layers.map(([name, layer]) => snapshot(integ, name, layer));
  const { grads } = fullGradients(
    integ.layers.map(([, l]) => l),
    lossOfWeights,
  );
  integ.step(closure);
  return integ.layers.map(([name, layer], k) => checkLayerStep(before[k], grads[k], snapshot(integ, name, layer), setting, integ.lastInfo[k]?.augmentedBases));
}
