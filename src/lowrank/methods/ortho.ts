/**
 * Orthogonality regularisers on a factor U (n×r), built from recorded ops so that their gradient
 * reaches U (ELRT-style training, docs/design.md §5.3). With G = UᵀU − I_r:
 *   SO    ‖G‖F²
 *   DSO   ‖UᵀU − I_r‖F² + ‖UUᵀ − I_n‖F², which for U of size n×r equals 2·SO + (n − r): it is kept
 *         only as an alias of SO with twice the weight (it changes nothing but λ's scale)
 *   MC    ‖G‖max = max |G_ab| (mutual coherence)
 *   SRIP  σ_max(G), the spectral norm, by power iteration (G is symmetric: its eigenvector of
 *         largest |λ|); the vector is held with no gradient, so the gradient is sign(λ)·v vᵀ
 *         lifted through G, exact once v has converged (envelope argument).
 * All four are 0 exactly when U has orthonormal columns.
 */
import { add, abs, mul, sqrt, square, sub } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { max, sum } from '../../ops/reduce.js';
import { transpose } from '../../ops/shape.js';
import { eye } from '../../tensor/creation.js';
import type { Generator } from '../../tensor/random.js';
import { shapeStr } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';

export const ORTHO_KINDS = ['so', 'dso', 'srip', 'mc'] as const;
export type OrthoKind = (typeof ORTHO_KINDS)[number];

function checkFactor(u: unknown, fn: string): asserts u is Tensor {
  if (!(u instanceof Tensor) || u.ndim !== 2)
    throw new Error(`${fn}: u must be a 2-D factor [n, r], got ${u instanceof Tensor ? shapeStr(u.shape) : typeof u}`);
  if (u.shape[1] > u.shape[0]) throw new Error(`${fn}: u must have no more columns than rows (n×r, r ≤ n), got ${shapeStr(u.shape)}`);
}

/** G = UᵀU − I (r×r), differentiable. */
export function gramDefect(u: Tensor): Tensor {
  checkFactor(u, 'gramDefect');
  return sub(matmul(transpose(u, 0, 1), u), eye(u.shape[1], u.shape[1], { dtype: u.dtype }));
}

/** v of unit norm after `iterations` steps of v ← Gv/‖Gv‖ from `start` (a zero G keeps the start). */
function powerVector(g: Tensor, start: Float64Array, iterations: number): Float64Array {
  const r = g.shape[0];
  let v = start.slice();
  for (let it = 0; it < iterations; it++) {
    const w = new Float64Array(r);
    let norm = 0;
    for (let a = 0; a < r; a++) {
      let s = 0;
      for (let b = 0; b < r; b++) s += g.data[a * r + b] * v[b];
      w[a] = s;
      norm += s * s;
    }
    norm = Math.sqrt(norm);
    if (!(norm > 1e-300)) break;
    for (let a = 0; a < r; a++) w[a] /= norm;
    v = w;
  }
  return v;
}

export interface OrthoPenaltyOptions {
  /** SRIP: power-iteration steps (default 20). */
  powerIterations?: number;
  /** SRIP: the starting vector (length r); default a fixed vector with entries 1, 2, …, r (normalised). */
  start?: Float64Array;
}

/** The penalty of one factor (without λ), differentiable in u. */
export function orthoPenalty(u: Tensor, kind: OrthoKind, options: OrthoPenaltyOptions = {}): Tensor {
  checkFactor(u, 'orthoPenalty');
  if (!ORTHO_KINDS.includes(kind)) throw new Error(`orthoPenalty: kind must be one of ${ORTHO_KINDS.join(', ')}, got ${String(kind)}`);
  const g = gramDefect(u);
  const [n, r] = u.shape;
  switch (kind) {
    case 'so':
      return sum(square(g));
    case 'dso':
      return add(mul(sum(square(g)), 2), n - r);
    case 'mc':
      return max(abs(g));
    case 'srip': {
      const iterations = options.powerIterations ?? 20;
      if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`orthoPenalty: powerIterations must be a positive integer, got ${iterations}`);
      const start = options.start ?? Float64Array.from({ length: r }, (_, i) => i + 1);
      if (!(start instanceof Float64Array) || start.length !== r)
        throw new Error(
          `orthoPenalty: start must be a Float64Array of length ${r} (the rank), got ${start instanceof Float64Array ? start.length : typeof start}`,
        );
      return srip(g, start, iterations).value;
    }
  }
}

/** σ_max(G) through a power vector held without gradient; also returns the vector (for warm starts). */
function srip(g: Tensor, start: Float64Array, iterations: number): { value: Tensor; vector: Float64Array } {
  const r = g.shape[0];
  const v = powerVector(g, normalised(start), iterations);
  const gv = matmul(g, new Tensor(castLike(v, g), [r, 1]));
  const s2 = sum(square(gv));
  // sqrt has no derivative at 0 (U orthonormal): there the penalty and its gradient are 0.
  return { value: s2.item() > 1e-300 ? sqrt(s2) : mul(s2, 0), vector: v };
}

function normalised(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x * x;
  s = Math.sqrt(s);
  if (!(s > 0)) throw new Error('orthoPenalty: start must not be the zero vector');
  return v.map((x) => x / s);
}

function castLike(v: Float64Array, like: Tensor): Float32Array | Float64Array {
  return like.dtype === 'float64' ? v : Float32Array.from(v);
}

/**
 * λ·Σ penalty(U) over a set of factors, with SRIP's power vectors warm-started from the previous
 * call for each factor (so that a few iterations per step suffice as U moves slowly).
 */
export class OrthoRegularizer {
  private readonly vectors = new WeakMap<Tensor, Float64Array>();
  constructor(
    readonly kind: OrthoKind,
    readonly lambda: number,
    private readonly generator: Generator,
    readonly powerIterations = 3,
  ) {
    if (!ORTHO_KINDS.includes(kind)) throw new Error(`OrthoRegularizer: kind must be one of ${ORTHO_KINDS.join(', ')}, got ${String(kind)}`);
    if (!(lambda >= 0 && Number.isFinite(lambda))) throw new Error(`OrthoRegularizer: lambda must be a finite number ≥ 0, got ${lambda}`);
    if (!Number.isInteger(powerIterations) || powerIterations < 1)
      throw new Error(`OrthoRegularizer: powerIterations must be a positive integer, got ${powerIterations}`);
  }

  /**
   * SRIP's warm-start vectors of `factors`, in order (copies; null where a factor has none yet,
   * and for the other kinds): what a resumed run needs to continue as this one would.
   */
  vectorsOf(factors: readonly Tensor[]): (Float64Array | null)[] {
    return factors.map((u) => this.vectors.get(u)?.slice() ?? null);
  }

  /** Puts vectorsOf output back on the same factors (of a restored model); checks every length before changing anything. */
  setVectors(factors: readonly Tensor[], vectors: readonly unknown[]): void {
    if (!Array.isArray(vectors) || vectors.length !== factors.length)
      throw new Error(
        `OrthoRegularizer.setVectors: vectors must be an array of ${factors.length} (one per factor), got ${Array.isArray(vectors) ? vectors.length : typeof vectors}`,
      );
    factors.forEach((u, i) => {
      const v = vectors[i];
      if (v !== null && !(v instanceof Float64Array && v.length === u.shape[1]))
        throw new Error(
          `OrthoRegularizer.setVectors: vector ${i} must be null or a Float64Array of length ${u.shape[1]} (the factor's rank), got ${v instanceof Float64Array ? `length ${v.length}` : typeof v}`,
        );
    });
    factors.forEach((u, i) => {
      const v = vectors[i];
      if (v instanceof Float64Array) this.vectors.set(u, v.slice());
      else this.vectors.delete(u);
    });
  }

  /** λ·Σ_U penalty(U); a zero scalar when there are no factors or λ = 0. */
  penalty(factors: readonly Tensor[]): Tensor | null {
    if (this.lambda === 0 || factors.length === 0) return null;
    let total: Tensor | null = null;
    for (const u of factors) {
      let p: Tensor;
      if (this.kind === 'srip') {
        const r = u.shape[1];
        let start = this.vectors.get(u);
        if (!start || start.length !== r) start = Float64Array.from({ length: r }, () => this.generator.normal());
        const res = srip(gramDefect(u), start, this.powerIterations);
        this.vectors.set(u, res.vector);
        p = res.value;
      } else p = orthoPenalty(u, this.kind);
      total = total ? add(total, p) : p;
    }
    return mul(total as Tensor, this.lambda);
  }
}
