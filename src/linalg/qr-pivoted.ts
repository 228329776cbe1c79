/**
 * Householder QR with column pivoting, blocked as LAPACK dgeqp3/dlaqps: a panel of up to
 * PIVOTED_QR_BLOCK reflectors is generated with the trailing columns updated lazily — only the row
 * the next pivot decision needs (the row of R being formed) and the column being reduced — through
 * F = τ·A_trailᵀ·v accumulated over the panel (A_trail − V·Fᵀ is the updated trailing matrix); then
 * the rest of the trailing matrix takes the panel's update as one GEMM. The column norms are
 * downdated as in the unblocked loop; a norm whose downdate loses too many digits ends the panel
 * early and is recomputed after the GEMM (so the pivots are those of the unblocked algorithm up to
 * rounding). What stays Level 2 is one pass of dot products over the trailing block per column
 * (the unblocked loop reads and writes it), half the flops; the other half goes to the GEMM.
 *
 * Same compact form as qr.ts (`HouseholderQR`), so that formQt, applyQ and extractR are shared.
 */
import { type WasmKernels, allocF64, gemmF64, linalgWasm } from '../backend/linalg-kernels.js';
import { EPS, rowDot } from './matrix.js';
import type { HouseholderQR } from './qr.js';
import { colNorm, compactCopy, householderStep, swapPivotColumns } from './reflector.js';

/** Panel width of the blocked pivoted QR (LAPACK's default for dgeqp3 is 32 too). */
export const PIVOTED_QR_BLOCK = 32;

/**
 * Where householderPivotedBlocked works in linalg's wasm memory, in doubles: the matrix (column-major,
 * m·n), a padding double that an odd-length dgemvN reads past the last column and a second one, then
 * x at `xAt` (the reflector padded with a zero to an even length: ≤ m + 1; or the panel's F row: < NB)
 * and y at `yAt` (the dot products with the trailing columns: < n; or a column below the diagonal,
 * padded: ≤ m − 1 + 1), up to `end`, the doubles it reserves. Exported for the test that runs the
 * routine in a fresh wasm memory that ends exactly there.
 */
export function pivotedQrScratch(m: number, n: number): { xAt: number; yAt: number; end: number } {
  const xAt = m * n + 2;
  const yAt = xAt + Math.max(m, PIVOTED_QR_BLOCK) + 2;
  return { xAt, yAt, end: yAt + Math.max(m, n) };
}

/** Blocked Householder QR with column pivoting of the row-major m×n `a` (not modified). */
// Stryker disable next-line BooleanLiteral: the default route only: the JavaScript loops and the wasm dot products compute the same factorisation (qr-pivoted.test.ts runs both)
export function householderPivotedBlocked(a: Float64Array, m: number, n: number, useWasm = true): HouseholderQR {
  const NB = PIVOTED_QR_BLOCK;
  const c0 = compactCopy(a, m, n);
  const { k, tau, perm } = c0;
  // With the wasm kernels the factorisation runs in linalg's wasm memory (the matrix, one padding
  // double that an odd-length dgemvN reads, then its x and y), so that the per-column dot products
  // over the trailing block run on dgemvN (f64x2, four columns at a time) without copies.
  const { xAt, yAt, end } = pivotedQrScratch(m, n);
  const w: WasmKernels | null = useWasm ? linalgWasm(end * 8) : null;
  let at = c0.at;
  if (w) {
    at = w.f64.subarray(0, m * n);
    at.set(c0.at);
    // The padding doubles must be finite (dgemvN multiplies them by x's zero padding), and the
    // memory holds what earlier calls left.
    w.f64.fill(0, m * n, end);
  }
  const vn1 = Float64Array.from({ length: n }, (_, j) => colNorm(at, j * m, m));
  const vn2 = vn1.slice();
  const tol3z = Math.sqrt(EPS);
  // F: row jj (trailing column j0 + jj) holds τ_t·(column)ᵀ·v_t corrections for the panel's t.
  const F = allocF64(n * NB);
  const aux = new Float64Array(NB);
  // Stryker disable next-line ArrayDeclaration: a non-empty start only ends the first panels after one column (a stray entry recomputes nothing): the blocking changes, not the factorisation
  const recompute: number[] = [];
  for (let j0 = 0; j0 < k; ) {
    const nbMax = Math.min(NB, k - j0);
    const nc = n - j0;
    F.fill(0, 0, nc * NB);
    let kb = 0;
    for (let kk = 0; kk < nbMax; kk++) {
      const c = j0 + kk; // column being reduced; its diagonal is row c
      const r = c;
      let p = c;
      for (let j = c + 1; j < n; j++) if (vn1[j] > vn1[p]) p = j;
      if (p !== c) {
        swapPivotColumns(at, m, p, c, perm, vn1, vn2);
        const fp = (p - j0) * NB;
        const fc = kk * NB;
        for (let t = 0; t < kk; t++) {
          const x = F[fp + t];
          F[fp + t] = F[fc + t];
          F[fc + t] = x;
        }
      }
      const co = c * m;
      // Column c, rows r..m−1, brought up to date with the panel's reflectors so far.
      // (For the panel's first column, kk = 0, there is nothing to apply: the wasm route copies the
      // column out and back.)
      if (w) {
        // y = column (padded to an even length), y += V(r:m, 0:kk)·(−F[kk, 0:kk]) by dgemvT, back.
        const xv = w.f64;
        const len = m - r;
        xv.set(at.subarray(co + r, co + m), yAt);
        // Stryker disable next-line ArithmeticOperator: y's padding entry is never copied back (only len entries are), so not zeroing it changes nothing; the stray zero lands in x past its kk entries read
        xv[yAt + len] = 0;
        for (let t = 0; t < kk; t++) xv[xAt + t] = -F[kk * NB + t];
        w.dgemvT((j0 * m + r) * 8, m * 8, kk, len + (len & 1), xAt * 8, yAt * 8);
        at.set(xv.subarray(yAt, yAt + len), co + r);
      } else
        for (let t = 0; t < kk; t++) {
          const f = F[kk * NB + t];
          if (f === 0) continue;
          const vo = (j0 + t) * m;
          for (let i = r; i < m; i++) at[co + i] -= f * at[vo + i];
        }
      // Stryker disable next-line ArithmeticOperator: the trailing columns from c − 1 to c + 1 (exclusive) are as empty a range as from c + 1: the reflector alone is generated
      const tk = householderStep(at, m, c, c + 1);
      tau[c] = tk;
      const akk = at[co + r];
      at[co + r] = 1;
      // F[jj, kk] = τ·A(r:m, j0+jj)ᵀ·v for the columns after c, on the columns as they were stored
      // (not yet updated: the F of the earlier reflectors corrects them just below).
      if (tk !== 0) {
        const len = m - r;
        if (w) {
          const xv = w.f64;
          // x = v padded with a zero to an even length; y[jj] = column j0+jj (rows r..) · v.
          xv.set(at.subarray(co + r, co + m), xAt);
          xv[xAt + len] = 0;
          const cols = len + (len & 1);
          // (With no column after c, a call for 0 rows that writes nothing.)
          w.dgemvN(((j0 + kk + 1) * m + r) * 8, m * 8, nc - kk - 1, cols, xAt * 8, (yAt + kk + 1) * 8, 0);
          for (let jj = kk + 1; jj < nc; jj++) F[jj * NB + kk] = tk * xv[yAt + jj];
        } else for (let jj = kk + 1; jj < nc; jj++) F[jj * NB + kk] = tk * rowDot(at, (j0 + jj) * m + r, co + r, m - r);
        // F[:, kk] −= τ·F[:, 0:kk]·(V[r:m, 0:kk]ᵀ·v) (for the panel's first column, kk = 0, an
        // empty sum: it adds 0).
        if (w) {
          const xv = w.f64;
          w.dgemvN((j0 * m + r) * 8, m * 8, kk, len + (len & 1), xAt * 8, yAt * 8, 0);
          for (let t = 0; t < kk; t++) aux[t] = -tk * xv[yAt + t];
        } else for (let t = 0; t < kk; t++) aux[t] = -tk * rowDot(at, (j0 + t) * m + r, co + r, m - r);
        for (let jj = 0; jj < nc; jj++) {
          const fo = jj * NB;
          let s = 0;
          for (let t = 0; t < kk; t++) s += F[fo + t] * aux[t];
          F[fo + kk] += s;
        }
      }
      // Row r of the columns after c: A(r, j) −= Σ_{t ≤ kk} V(r, t)·F(j, t) (V(r, kk) = 1).
      for (let t = 0; t <= kk; t++) aux[t] = at[(j0 + t) * m + r];
      for (let jj = kk + 1; jj < nc; jj++) {
        const fo = jj * NB;
        let s = 0;
        for (let t = 0; t <= kk; t++) s += aux[t] * F[fo + t];
        at[(j0 + jj) * m + r] -= s;
      }
      at[co + r] = akk;
      kb = kk + 1;
      // The norms of the columns after c lose row r. (After the last reflector's row, m < n, they
      // are downdated to about 0 and queued for a recompute over no rows; no pivot follows.)
      // Stryker disable next-line ArithmeticOperator: starting at c − 1 also downdates the two columns already reduced, whose norms are never read again (a recompute they queue only ends the panel early)
      for (let j = c + 1; j < n; j++) {
        if (vn1[j] === 0) continue;
        let temp = Math.abs(at[j * m + r]) / vn1[j];
        // Stryker disable next-line MethodExpression: min(0, ·) makes temp ≤ 0, so every norm is recomputed exactly instead of downdated (and each panel ends after one column)
        temp = Math.max(0, (1 + temp) * (1 - temp));
        const ratio = vn1[j] / vn2[j];
        if (temp * ratio * ratio <= tol3z) recompute.push(j);
        else vn1[j] *= Math.sqrt(temp);
      }
      // A norm that must be recomputed needs the fully updated column: end the panel here.
      if (recompute.length > 0) break;
    }
    // Rows j0+kb.. of the columns after the panel: A −= V·Fᵀ (as stored: colsᵀ −= F·Vᵀ).
    const rest = nc - kb;
    const rows = m - j0 - kb;
    // (With either dimension 0, at the last panel, the GEMM returns at once, as BLAS does.)
    gemmF64({
      transA: false,
      transB: false,
      m: rest,
      n: rows,
      k: kb,
      alpha: -1,
      a: F,
      aOffset: kb * NB,
      lda: NB,
      b: at,
      bOffset: j0 * m + j0 + kb,
      ldb: m,
      beta: 1,
      c: at,
      cOffset: (j0 + kb) * m + j0 + kb,
      ldc: m,
    });
    j0 += kb;
    for (const j of recompute) {
      vn1[j] = colNorm(at, j * m + j0, m - j0);
      vn2[j] = vn1[j];
    }
    recompute.length = 0;
  }
  // The wasm memory is linalg's scratch: the result leaves it.
  if (w) {
    c0.at.set(at);
    at = c0.at;
  }
  return { at, tau, perm, m, n, k };
}
