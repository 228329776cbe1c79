/**
 * Symmetric eigendecomposition: Householder tridiagonalisation (tridiag.ts) followed by the implicit
 * QL algorithm with Wilkinson-type shifts (EISPACK tql2, as in JAMA), accumulating the orthogonal
 * transformations. Backward stable: ‖A − VΛVᵀ‖ ≈ ε‖A‖, VᵀV = I to ≈ ε.
 */
import type { Tensor } from '../tensor/tensor.js';
import { EPS, check2D, f64Tensor, fixColumnSigns, maxAbs, pow2Scale, transpose } from './matrix.js';
import { applyTridiagonalQ, reduceToTridiagonal, tridiagonalize } from './tridiag.js';
import { tridiagEigDC } from './tridiag-dc.js';
import { allocF64, linalgWasm } from '../backend/linalg-kernels.js';

export interface EighRaw {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** n×n row-major, eigenvector j in column j. */
  vectors: Float64Array;
}

/**
 * The eigenvector routes of eighRaw: 'dc' divide and conquer on the tridiagonal (tridiag-dc.ts),
 * then the reduction's reflectors applied by the blocked GEMM; 'ql' implicit QL (tql2) rotating
 * the formed Q. 'auto' (default) takes 'dc' from DC_MIN on.
 */
export type EighMethod = 'auto' | 'dc' | 'ql';

/**
 * From this order on eighRaw's 'auto' route is divide and conquer: below it the QL rotations, on
 * the wasm kernel, cost less than forming the merges (measured: see docs/linalg.md, eigh).
 */
export const DC_MIN = 192;

/**
 * Eigendecomposition of the symmetric row-major n×n matrix `a` (only its lower triangle is read):
 * tridiagonalisation (tridiag.ts), then divide and conquer from DC_MIN on, implicit QL on the rows
 * of Vᵀ below it (eighRawWith chooses).
 */
export function eighRaw(a: Float64Array, n: number): EighRaw {
  return eighRawWith(a, n, 'auto');
}

/** eighRaw with its eigenvector route chosen (the tests compare the routes). */
export function eighRawWith(a: Float64Array, n: number, method: EighMethod): EighRaw {
  const { values, rows } = eighRows(a, n, method);
  const V = transpose(rows, n, n);
  fixColumnSigns(V, n, n);
  return { values, vectors: V };
}

/**
 * The symmetric matrix whose lower triangle is `a`'s (row-major n×n; the upper triangle is not
 * read), divided by the power of two `scale` nearest max|a| (exact), so that the reduction works
 * at unit size; the eigenvalues found are multiplied back by `scale`.
 */
export function symmetricScaled(a: Float64Array, n: number): { sym: Float64Array; scale: number } {
  const scale = pow2Scale(a);
  const sym = allocF64(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const v = a[i * n + j] / scale;
      sym[i * n + j] = v;
      sym[j * n + i] = v;
    }
  return { sym, scale };
}

/**
 * The eigenvalues (ascending) and the eigenvectors as the rows of an n×n matrix (row i for
 * values[i]), the layout both routes produce, with the signs as they come: for callers that
 * only need an orthonormal eigenbasis (the SVD's preconditioner), without eighRaw's transpose
 * and sign normalisation.
 */
export function eighRows(a: Float64Array, n: number, method: EighMethod = 'auto'): { values: Float64Array; rows: Float64Array } {
  if (method !== 'auto' && method !== 'dc' && method !== 'ql') throw new Error(`eigh: method must be 'auto', 'dc' or 'ql', got ${String(method)}`);
  const { sym, scale } = symmetricScaled(a, n);
  let d: Float64Array = new Float64Array(n);
  const e = new Float64Array(n);
  let rows: Float64Array;
  if (n === 0) rows = new Float64Array(0);
  else if (method === 'dc' || (method === 'auto' && n >= DC_MIN)) {
    const h = reduceToTridiagonal(sym, n, d, e);
    const r = tridiagEigDC(d, e, n);
    d = r.values;
    // Row i of zt is the tridiagonal's eigenvector i: Q applied to each, in place, by compact WY.
    applyTridiagonalQ(h, n, r.zt, n);
    rows = r.zt;
  } else {
    rows = tridiagonalize(sym, n, d, e);
    tql2(rows, d, e, n);
  }
  for (let i = 0; i < n; i++) d[i] *= scale;
  return { values: d, rows };
}

/** From this order on, tql2 applies its rotations on the wasm kernels (drotSeq) where they exist. */
export const TQL_WASM_MIN = 16;

/**
 * √(a² + b²) without Math.hypot's cost (V8's is several times slower than a square root, and QL
 * calls it once per rotation): the plain formula where the squares cannot overflow or underflow,
 * Math.hypot elsewhere (p = (d[l+1] − d[l])/(2e[l]) is huge when e[l] is tiny).
 */
function hypot2(a: number, b: number): number {
  const m = Math.max(Math.abs(a), Math.abs(b));
  return m < 1e150 && m > 1e-150 ? Math.sqrt(a * a + b * b) : Math.hypot(a, b);
}

/**
 * Implicit QL with Wilkinson-type shifts (EISPACK tql2) on the tridiagonal (d, e) — e[i] is the
 * entry between i−1 and i, e[0] unused; overwritten) — accumulating into Z = Vᵀ (row j of Z is
 * eigenvector j) unless Z is null (eigenvalues only, O(n²)); eigenvalues sorted ascending at the end.
 */
export function tql2(Z: Float64Array | null, d: Float64Array, e: Float64Array, n: number): void {
  // With the wasm kernels, Z lives in linalg's wasm memory (rows padded to a multiple of 8) and each
  // sweep's rotations, gathered as (c, s) pairs, are applied by one drotSeq call: same arithmetic.
  const ldz = Math.ceil(n / 8) * 8;
  const w = Z && n >= TQL_WASM_MIN ? linalgWasm((ldz * (n + 1) + 2 * n) * 8) : null;
  const zv = w ? w.f64 : null;
  const csAt = ldz * (n + 1);
  if (Z && zv) {
    zv.fill(0, 0, ldz * n);
    for (let i = 0; i < n; i++) zv.set(Z.subarray(i * n, i * n + n), i * ldz);
  }
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error(`eigh: QL iteration did not converge for eigenvalue ${l} (n=${n})`);
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot2(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot2(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (!Z) continue;
          if (zv) {
            zv[csAt + 2 * (i - l)] = c;
            zv[csAt + 2 * (i - l) + 1] = s;
            continue;
          }
          const r0 = i * n;
          const r1 = r0 + n;
          for (let k = 0; k < n; k++) {
            h = Z[r1 + k];
            const zi = Z[r0 + k];
            Z[r1 + k] = s * zi + c * h;
            Z[r0 + k] = c * zi - s * h;
          }
        }
        if (w) w.drotSeq(l * ldz * 8, ldz * 8, m - l, csAt * 8, ldz);
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  if (Z && zv) for (let i = 0; i < n; i++) Z.set(zv.subarray(i * ldz, i * ldz + n), i * n);
  // Selection sort ascending, moving the vectors along.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++)
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      if (Z)
        for (let j = 0; j < n; j++) {
          const t = Z[i * n + j];
          Z[i * n + j] = Z[k * n + j];
          Z[k * n + j] = t;
        }
    }
  }
}

export interface EighResult {
  /** Eigenvalues, 1-D, ascending (as numpy.linalg.eigh). */
  values: Tensor;
  /** n×n, column j is the unit eigenvector of values[j]; its largest-|.| entry is positive. */
  vectors: Tensor;
}

/**
 * Eigendecomposition `A = V·diag(values)·Vᵀ` of a real symmetric matrix (float32 or float64;
 * computed and returned in float64). Eigenvalues ascending; V orthogonal. A must be symmetric to
 * 1e-10·max|A| (checked); its symmetric part (A + Aᵀ)/2 is decomposed.
 */
export function eigh(a: Tensor): EighResult {
  const [m, n] = check2D(a, 'eigh', 'a');
  if (m !== n) throw new Error(`eigh: a must be square, got shape [${m}, ${n}]`);
  const src = a.data;
  const tol = 1e-10 * maxAbs(src);
  const sym = allocF64(n * n);
  let worst = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const x = src[i * n + j];
      const y = src[j * n + i];
      worst = Math.max(worst, Math.abs(x - y));
      sym[i * n + j] = 0.5 * (x + y);
    }
  if (worst > tol) throw new Error(`eigh: a must be symmetric (to 1e-10·max|a|), got max |a[i][j] − a[j][i]| = ${worst}`);
  const r = eighRaw(sym, n);
  return { values: f64Tensor(r.values, [n]), vectors: f64Tensor(r.vectors, [n, n]) };
}
