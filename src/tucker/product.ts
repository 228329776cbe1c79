/**
 * Mode-n products (Kolda–Bader): (T ×_n A)[…, j, …] = Σ_i A[j, i] · T[…, i, …] for A of size
 * J × I_n; the result has I_n replaced by J. Products on distinct modes commute, and
 * (T ×_n A) ×_n B = T ×_n (B·A).
 */
import { shapeStr } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { allocF64 } from '../backend/linalg-kernels.js';
import { BLOCKED_GEMM_MACS, check2D, gemm64 } from '../linalg/matrix.js';
import { checkMode, checkTensorArg } from './checks.js';
import { modeView } from './unfold.js';

/** Widest I·Q and J·Q for which a mode product over short fibres runs as one Kronecker-factor GEMM. */
const KRON_WIDTH = 48;

/** Fibres shorter than this take the one-GEMM route of shortFibreProduct (P > 1) rather than P products. */
const SHORT_FIBRE = 32;

/** A row-major matrix on a plain buffer. */
export interface RawMatrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

/** A row-major tensor on a plain buffer. */
export interface RawTensor {
  data: Float64Array;
  shape: number[];
}

/** T ×_mode M for M (J × I_mode) row-major: the kernel behind every mode product here. */
export function modeProductRaw(data: ArrayLike<number>, shape: readonly number[], m: Float64Array, J: number, mode: number): RawTensor {
  const { P, I, Q } = modeView(shape, mode);
  const outShape = [...shape];
  outShape[mode] = J;
  const out = allocF64(P * J * Q);
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,ArithmeticOperator,BlockStatement: route switch only; the GEMM and the loops below compute the same product (product.test.ts checks each route against the definition)
  if (P * J * I * Q >= BLOCKED_GEMM_MACS && (Q === 1 || J * I * Q >= 4096)) {
    const x = data instanceof Float64Array ? data : new Float64Array(data);
    // Last mode: one product X (P×I) · Mᵀ; otherwise M (J×I) · X_p (I×Q) per leading index p.
    if (Q === 1) gemm64(false, true, P, J, I, x, 0, I, m, 0, I, out);
    else if (Q < SHORT_FIBRE && P > 1) shortFibreProduct(x, P, I, Q, m, J, out);
    else for (let p = 0; p < P; p++) gemm64(false, false, J, Q, I, m, 0, I, x, p * I * Q, Q, out, p * J * Q, Q);
    return { data: out, shape: outShape };
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,ArithmeticOperator,BlockStatement: route switch only; the Kronecker-factor GEMM (X·Mᵀ when Q = 1) and the loops compute the same product
  if (Q > 1 && I * Q <= KRON_WIDTH && J * Q <= KRON_WIDTH && P * I * Q * J * Q >= BLOCKED_GEMM_MACS) {
    // Short fibres (a 3×3 kernel's spatial modes): out (P × J·Q) = X (P × I·Q) · (Mᵀ ⊗ I_Q), one
    // GEMM over the buffer in place. Q times the multiply-adds of the product itself (most against
    // zeros), still several times faster than the scalar loops below at these widths.
    const x = data instanceof Float64Array ? data : new Float64Array(data);
    const kron = new Float64Array(I * Q * J * Q);
    for (let i = 0; i < I; i++) for (let j = 0; j < J; j++) for (let q = 0; q < Q; q++) kron[(i * Q + q) * J * Q + j * Q + q] = m[j * I + i];
    gemm64(false, false, P, J * Q, I * Q, x, 0, I * Q, kron, 0, J * Q, out);
    return { data: out, shape: outShape };
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: route switch only; both scalar loops compute the same sums
  if (Q >= 16) {
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < J; j++) {
        const dst = (p * J + j) * Q;
        for (let i = 0; i < I; i++) {
          const a = m[j * I + i];
          if (a === 0) continue;
          const src = (p * I + i) * Q;
          for (let q = 0; q < Q; q++) out[dst + q] += a * data[src + q];
        }
      }
    }
  } else {
    const col = new Float64Array(I);
    for (let p = 0; p < P; p++) {
      for (let q = 0; q < Q; q++) {
        const base = p * I * Q + q;
        for (let i = 0; i < I; i++) col[i] = data[base + i * Q];
        const obase = p * J * Q + q;
        for (let j = 0; j < J; j++) {
          const mo = j * I;
          let s = 0;
          for (let i = 0; i < I; i++) s += m[mo + i] * col[i];
          out[obase + j * Q] = s;
        }
      }
    }
  }
  return { data: out, shape: outShape };
}

/**
 * out[p, j, q] = Σ_i M[j, i]·X[p, i, q] for short fibres (Q < SHORT_FIBRE) as one GEMM: the slices
 * transposed side by side, X' = [P·Q × I] with row (p, q) = X[p, :, q], then X'·Mᵀ (P·Q × J), and
 * back to [P, J, Q]; instead of P products of Q columns each, which repack M every time (the
 * mode-1 product of a 256×256×3×3 tensor onto 64 columns, one thread: 8.0 → 6.0 ms; of a
 * 64×256×3×3 one, 1.7 → 1.4 ms). The same products summed in the same order.
 */
function shortFibreProduct(x: Float64Array, P: number, I: number, Q: number, m: Float64Array, J: number, out: Float64Array): void {
  const xt = allocF64(P * Q * I);
  for (let p = 0; p < P; p++) {
    const base = p * I * Q;
    for (let i = 0; i < I; i++) {
      const src = base + i * Q;
      for (let q = 0; q < Q; q++) xt[base + q * I + i] = x[src + q];
    }
  }
  const c = gemm64(false, true, P * Q, J, I, xt, 0, I, m, 0, I);
  for (let p = 0; p < P; p++) {
    const src = p * Q * J;
    const dst = p * J * Q;
    for (let q = 0; q < Q; q++) for (let j = 0; j < J; j++) out[dst + j * Q + q] = c[src + q * J + j];
  }
}

/** The J × I matrix applied along a mode: `m` itself, or its transpose when `transpose`. */
function effective(m: RawMatrix, transpose: boolean): { data: Float64Array; J: number; I: number } {
  if (!transpose) return { data: m.data, J: m.rows, I: m.cols };
  const t = new Float64Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) t[j * m.rows + i] = m.data[i * m.cols + j];
  return { data: t, J: m.cols, I: m.rows };
}

/**
 * T ×_0 M_0 ×_1 M_1 ⋯ over the modes with a non-null matrix (each M_k applied as Mᵀ when
 * `transpose`). Applied in the order that shrinks the tensor fastest (smallest J/I first); the
 * result does not depend on the order.
 */
export function multiModeProductRaw(data: ArrayLike<number>, shape: readonly number[], mats: readonly (RawMatrix | null)[], transpose = false): RawTensor {
  const eff = mats.map((m) => (m ? effective(m, transpose) : null));
  const order = eff
    .map((e, k) => ({ e, k }))
    .filter((x) => x.e !== null)
    .sort(
      // Stryker disable next-line ArrowFunction,ConditionalExpression,LogicalOperator,ArithmeticOperator,MethodExpression: the order is a cost heuristic; products on distinct modes commute
      (a, b) => a.e!.J / Math.max(a.e!.I, 1) - b.e!.J / Math.max(b.e!.I, 1) || a.k - b.k,
    );
  let cur: RawTensor = { data: data instanceof Float64Array ? data : new Float64Array(data), shape: [...shape] };
  for (const { e, k } of order) cur = modeProductRaw(cur.data, cur.shape, e!.data, e!.J, k);
  return cur;
}

function checkMatrixFor(matrix: unknown, shape: readonly number[], mode: number, transpose: boolean, op: string, arg: string): RawMatrix {
  const [r, c] = check2D(matrix, op, arg);
  const n = shape[mode];
  const inner = transpose ? r : c;
  if (inner !== n) {
    const want = transpose ? `[${n}, J]` : `[J, ${n}]`;
    throw new Error(
      `${op}: ${arg} must be 2-D ${want}${transpose ? ' (transpose: true)' : ''} to act on mode ${mode} of size ${n} (tensor shape ${shapeStr(shape)}), got ${shapeStr([r, c])}`,
    );
  }
  return { data: new Float64Array((matrix as Tensor).data), rows: r, cols: c };
}

export interface ModeProductOptions {
  /** Apply the transpose of the matrix (T ×_n Aᵀ, A of size I_n × J): the projection onto a basis. */
  transpose?: boolean;
}

/**
 * The mode-n product T ×_n A for A of size J × I_n (with `transpose`: T ×_n Aᵀ for A of size
 * I_n × J). Float64 result with mode n of size J. `mode` may be negative.
 */
export function modeProduct(t: Tensor, matrix: Tensor, mode: number, options: ModeProductOptions = {}): Tensor {
  const shape = checkTensorArg(t, 'modeProduct', 't');
  const n = checkMode(mode, shape.length, 'modeProduct');
  const tr = options.transpose ?? false;
  const m = checkMatrixFor(matrix, shape, n, tr, 'modeProduct', 'matrix');
  const e = effective(m, tr);
  const r = modeProductRaw(t.data, shape, e.data, e.J, n);
  return Tensor.fromData(r.data, r.shape);
}

/**
 * T ×_0 A_0 ×_1 A_1 ⋯ ×_{d-1} A_{d-1}, skipping the modes whose matrix is null. `matrices` has one
 * entry per mode of t. With `transpose` every matrix is applied transposed (T ×_k A_kᵀ): the core
 * of a Tucker form is `multiModeProduct(T, factors, { transpose: true })`.
 */
export function multiModeProduct(t: Tensor, matrices: readonly (Tensor | null)[], options: ModeProductOptions = {}): Tensor {
  const shape = checkTensorArg(t, 'multiModeProduct', 't');
  if (!Array.isArray(matrices) || matrices.length !== shape.length) {
    throw new Error(
      `multiModeProduct: matrices must have ${shape.length} entries (one per mode of t, shape ${shapeStr(shape)}; null to skip a mode), got ${Array.isArray(matrices) ? matrices.length : typeof matrices}`,
    );
  }
  const tr = options.transpose ?? false;
  const mats = matrices.map((m, k) => (m === null || m === undefined ? null : checkMatrixFor(m, shape, k, tr, 'multiModeProduct', `matrices[${k}]`)));
  const r = multiModeProductRaw(t.data, shape, mats, tr);
  return Tensor.fromData(r.data instanceof Float64Array && r.data !== t.data ? r.data : new Float64Array(r.data), r.shape);
}

/**
 * Rebuilds T̂ = C ×_0 U_0 ⋯ ×_{d-1} U_{d-1} from a Tucker core and factors (U_k of size
 * n_k × r_k, null for a mode that is not factorised).
 */
export function reconstruct(core: Tensor, factors: readonly (Tensor | null)[]): Tensor {
  const shape = checkTensorArg(core, 'reconstruct', 'core');
  if (!Array.isArray(factors) || factors.length !== shape.length) {
    throw new Error(
      `reconstruct: factors must have ${shape.length} entries (one per mode of the core, shape ${shapeStr(shape)}; null for an unfactorised mode), got ${Array.isArray(factors) ? factors.length : typeof factors}`,
    );
  }
  const mats = factors.map((f, k) => {
    if (f === null || f === undefined) return null;
    const [r, c] = check2D(f, 'reconstruct', `factors[${k}]`);
    if (c !== shape[k]) {
      throw new Error(
        `reconstruct: factors[${k}] must be 2-D [n_${k}, ${shape[k]}] (its columns match mode ${k} of the core, shape ${shapeStr(shape)}), got ${shapeStr([r, c])}`,
      );
    }
    return { data: new Float64Array(f.data), rows: r, cols: c };
  });
  const r = multiModeProductRaw(core.data, shape, mats, false);
  return Tensor.fromData(r.data === core.data ? new Float64Array(r.data) : r.data, r.shape);
}
