/**
 * Householder tridiagonalisation of a symmetric matrix, Qᵀ·A·Q = T, blocked as LAPACK dsytrd/dlatrd
 * (lower) in the row-major, full-storage layout this library uses. A panel of TRIDIAG_BLOCK
 * reflectors is generated from columns updated on the fly (A − V·Wᵀ − W·Vᵀ restricted to what the
 * next reflector needs), then the trailing block takes the symmetric rank-2·nb update
 * A₂₂ −= V·Wᵀ + W·Vᵀ as two GEMMs. What stays scalar is one matrix-vector product per column
 * (2/3·n³ flops against 2·n³ for the unblocked reduction), over contiguous rows. The reflectors are
 * kept in the compact form of qr.ts, so Q is formed by the blocked application of qr-blocked.ts.
 */
import { allocF64, gemmF64, linalgWasm } from '../backend/linalg-kernels.js';
import { type HouseholderQR, applyQ, formQt } from './qr.js';
import { colNorm, subdiagonalReflector } from './reflector.js';
import { reduceToTridiagonalWasm, tridiagWasmBytes } from './tridiag-wasm.js';

/** Panel width of the blocked reduction. */
export const TRIDIAG_BLOCK = 32;

/**
 * From this order on the reduction runs on the WebAssembly kernels (tridiag-wasm.ts) where they
 * are available: below it, copying the matrix in and out costs about what the kernels save.
 */
export const TRIDIAG_WASM_MIN = 24;

/**
 * Reduces the symmetric n×n row-major `sym` (full storage; overwritten) to the tridiagonal
 * (d, e) — d the diagonal, e[i] the entry between rows i−1 and i, e[0] = 0 — and returns
 * Z = Qᵀ (row-major n×n), so that sym = Zᵀ·T·Z.
 */
export function tridiagonalize(sym: Float64Array, n: number, d: Float64Array, e: Float64Array): Float64Array {
  return formTridiagonalQt(reduceToTridiagonal(sym, n, d, e), n);
}

/**
 * The reduction of `tridiagonalize` without forming Q: returns its reflectors in the compact QR
 * form (acting on rows 1..n−1), for `formTridiagonalQt` or `applyTridiagonalQ`.
 */
export function reduceToTridiagonal(sym: Float64Array, n: number, d: Float64Array, e: Float64Array): HouseholderQR {
  if (n >= TRIDIAG_WASM_MIN) {
    const w = linalgWasm(tridiagWasmBytes(n));
    if (w) return reduceToTridiagonalWasm(sym, n, d, e, w);
  }
  return reduceToTridiagonalJs(sym, n, d, e);
}

/** The reduction in plain JavaScript (the reference the wasm route is tested against). */
export function reduceToTridiagonalJs(sym: Float64Array, n: number, d: Float64Array, e: Float64Array): HouseholderQR {
  const A = sym;
  const m = n - 1;
  const steps = Math.max(0, n - 2);
  const at = allocF64(Math.max(0, m * steps));
  const tau = new Float64Array(steps);
  const p = new Float64Array(n);
  const s1 = new Float64Array(TRIDIAG_BLOCK);
  const s2 = new Float64Array(TRIDIAG_BLOCK);
  e[0] = 0;
  for (let k0 = 0; k0 < steps; k0 += TRIDIAG_BLOCK) {
    const nb = Math.min(TRIDIAG_BLOCK, steps - k0);
    const L0 = n - k0 - 1; // rows k0+1..n-1 of the panel's V and W (local row r ↔ global k0+1+r)
    const V = allocF64(L0 * nb);
    const W = allocF64(L0 * nb);
    for (let j = 0; j < nb; j++) {
      const k = k0 + j;
      const L = n - k - 1;
      // Row k (= column k) from the diagonal on, brought up to date with the panel's reflectors so far.
      if (j > 0) {
        const kr = (j - 1) * nb;
        for (let c = k; c < n; c++) {
          const cr = (c - k0 - 1) * nb;
          let s = 0;
          for (let t = 0; t < j; t++) s += V[kr + t] * W[cr + t] + W[kr + t] * V[cr + t];
          A[k * n + c] -= s;
        }
      }
      d[k] = A[k * n + k];
      const ro = k * n + k + 1;
      const alpha = A[ro];
      const xnorm = colNorm(A, ro + 1, L - 1);
      const vo = k * m + k; // v in the compact QR form (local row index = global − 1)
      at[vo] = 1;
      V[j * nb + j] = 1;
      const inv = subdiagonalReflector(alpha, xnorm, k, tau, e);
      if (inv === null) continue; // τ = 0: v = e₁, w = 0
      const tk = tau[k];
      for (let t = 1; t < L; t++) {
        const v = A[ro + t] * inv;
        at[vo + t] = v;
        V[(j + t) * nb + j] = v;
      }
      // w = τ·(A₂₂·v − W·(Vᵀv) − V·(Wᵀv)), A₂₂ as the panel found it; then w −= (τ/2)(wᵀv)·v.
      for (let t = 0; t < j; t++) {
        s1[t] = 0;
        s2[t] = 0;
      }
      for (let r = j; r < L0; r++) {
        const vr = at[vo + r - j];
        const rr = r * nb;
        for (let t = 0; t < j; t++) {
          s1[t] += W[rr + t] * vr;
          s2[t] += V[rr + t] * vr;
        }
      }
      const base = (k + 1) * n + k + 1;
      let wv = 0;
      for (let i = 0; i < L; i++) {
        const row = base + i * n;
        // Four partial sums: a single accumulator would wait on each add's latency.
        let s0 = 0;
        let s1_ = 0;
        let s2_ = 0;
        let s3 = 0;
        let c = 0;
        for (; c + 3 < L; c += 4) {
          s0 += A[row + c] * at[vo + c];
          s1_ += A[row + c + 1] * at[vo + c + 1];
          s2_ += A[row + c + 2] * at[vo + c + 2];
          s3 += A[row + c + 3] * at[vo + c + 3];
        }
        for (; c < L; c++) s0 += A[row + c] * at[vo + c];
        let s = s0 + s1_ + (s2_ + s3);
        const rr = (j + i) * nb;
        for (let t = 0; t < j; t++) s -= V[rr + t] * s1[t] + W[rr + t] * s2[t];
        s *= tk;
        p[i] = s;
        wv += s * at[vo + i];
      }
      const a2 = -0.5 * tk * wv;
      for (let i = 0; i < L; i++) W[(j + i) * nb + j] = p[i] + a2 * at[vo + i];
    }
    // Trailing block, rows and columns k0+nb..n-1 (local rows nb−1..): A −= V·Wᵀ + W·Vᵀ.
    const L1 = n - k0 - nb;
    if (L1 > 0) {
      const off = (nb - 1) * nb;
      const cOff = (k0 + nb) * n + k0 + nb;
      // A −= X·Yᵀ for (X, Y) = (V, W), then (W, V).
      for (const [x, y] of [
        [V, W],
        [W, V],
      ])
        gemmF64({
          transA: false,
          transB: true,
          m: L1,
          n: L1,
          k: nb,
          alpha: -1,
          a: x,
          aOffset: off,
          lda: nb,
          b: y,
          bOffset: off,
          ldb: nb,
          beta: 1,
          c: A,
          cOffset: cOff,
          ldc: n,
        });
    }
  }
  if (n >= 2) {
    d[n - 2] = A[(n - 2) * n + n - 2];
    e[n - 1] = A[(n - 1) * n + n - 2];
  }
  if (n >= 1) d[n - 1] = A[(n - 1) * n + n - 1];
  return { at, tau, perm: new Int32Array(steps), m: Math.max(0, m), n: steps, k: steps };
}

/** Z = Qᵀ (row-major n×n) from the reflectors of reduceToTridiagonal. */
export function formTridiagonalQt(h: HouseholderQR, n: number): Float64Array {
  const z = allocF64(n * n);
  if (n === 0) return z;
  z[0] = 1;
  if (n === 1) return z;
  // Q = H₀·H₁⋯ acts on rows 1..n−1; formQt returns its columns contiguously, i.e. Qᵀ row-major.
  const m = n - 1;
  const qt = formQt(h, m);
  for (let j = 0; j < m; j++) z.set(qt.subarray(j * m, j * m + m), (j + 1) * n + 1);
  return z;
}

/** x_j ← Q·x_j for `c` vectors of length n stored contiguously in `xt` (column-major), in place. */
export function applyTridiagonalQ(h: HouseholderQR, n: number, xt: Float64Array, c: number): void {
  if (n <= 2 || c === 0) return; // Q = I
  const m = n - 1;
  const sub = allocF64(c * m);
  for (let j = 0; j < c; j++) sub.set(xt.subarray(j * n + 1, j * n + n), j * m);
  applyQ(h, sub, c);
  for (let j = 0; j < c; j++) xt.set(sub.subarray(j * m, j * m + m), j * n + 1);
}
