/**
 * The blocked tridiagonal reduction of tridiag.ts (LAPACK dsytrd/dlatrd, lower) with the matrix
 * resident in the memory of linalg's WebAssembly instance, so that its Level-2 work runs on the
 * f64x2 kernels instead of scalar JavaScript: per column one dgemvN over the trailing block (the
 * A₂₂·v that is a third of the flops and, in JavaScript, most of the time), the panel's
 * corrections as dgemvN/dgemvT over the interleaved [V W] panel, and the trailing rank-2·nb update
 * as one in-place dgemm accumulation (A₂₂ −= [V W]·[W V]ᵀ) instead of two GEMMs through copies.
 * Same reflectors and the same result as reduceToTridiagonal to rounding; tested against it.
 *
 * Layout (doubles): A with row stride ld = n + 4 (or n + 5, even) and n + 4 rows, the padding zero,
 * so that a dgemvN may read one column past an odd row length and the 4×4 tiles of the update may
 * spill past the last row and column (adding exact zeros there); then the panel U (row r: V[r, t]
 * at 2t, W[r, t] at 2t + 1), the packed operands of the update, and the vectors.
 */
import type { WasmKernels } from '../backend/linalg-kernels.js';
import { allocF64 } from '../backend/linalg-kernels.js';
import type { HouseholderQR } from './qr.js';
import { colNorm, subdiagonalReflector } from './reflector.js';

/** Panel width (reflectors per trailing update). */
const NB = 32;

/** Bytes of linalg's wasm memory the reduction of an n×n matrix needs. */
export function tridiagWasmBytes(n: number): number {
  return layout(n).total * 8;
}

function layout(n: number) {
  const ld = n + 4 + (n & 1);
  const a = 0;
  const u = a + (n + 4) * ld;
  const ap = u + (n + 4) * 2 * NB;
  const bp = ap + (n + 4) * 2 * NB;
  const v = bp + (n + 4) * 2 * NB;
  const y = v + n + 4;
  const z = y + n + 4;
  const s = z + 2 * NB;
  return { ld, a, u, ap, bp, v, y, z, s, total: s + 2 * NB };
}

/**
 * reduceToTridiagonal (tridiag.ts) on the wasm kernels `w`, whose memory must hold
 * tridiagWasmBytes(n). `sym` (symmetric, full storage) is read, not modified.
 */
export function reduceToTridiagonalWasm(sym: Float64Array, n: number, d: Float64Array, e: Float64Array, w: WasmKernels): HouseholderQR {
  const L = layout(n);
  const { ld } = L;
  const f = w.f64;
  f.fill(0, 0, L.total);
  for (let i = 0; i < n; i++) f.set(sym.subarray(i * n, i * n + n), L.a + i * ld);
  const m = n - 1;
  const steps = Math.max(0, n - 2);
  const at = allocF64(Math.max(0, m * steps));
  const tau = new Float64Array(steps);
  const U = L.u;
  const UW = 2 * NB; // row stride of the panel, doubles
  const uRow = UW * 8;
  e[0] = 0;
  for (let k0 = 0; k0 < steps; k0 += NB) {
    const nb = Math.min(NB, steps - k0);
    const L0 = n - k0 - 1; // panel rows k0+1..n−1 (local row r ↔ global k0+1+r)
    f.fill(0, U, U + L0 * UW);
    for (let j = 0; j < nb; j++) {
      const k = k0 + j;
      const len = n - k - 1;
      const rowK = L.a + k * ld;
      if (j > 0) {
        // Row k from the diagonal on, brought up to date with the panel's reflectors so far:
        // A[k, c] −= Σ_t V[k, t]·W[c, t] + W[k, t]·V[c, t] = U[c, 0:2j] · swap(U[k, 0:2j]).
        const kr = U + (j - 1) * UW;
        for (let t = 0; t < j; t++) {
          f[L.z + 2 * t] = f[kr + 2 * t + 1];
          f[L.z + 2 * t + 1] = f[kr + 2 * t];
        }
        w.dgemvN((U + (j - 1) * UW) * 8, uRow, len + 1, 2 * j, L.z * 8, L.y * 8, 0);
        for (let c = 0; c <= len; c++) f[rowK + k + c] -= f[L.y + c];
      }
      d[k] = f[rowK + k];
      const ro = rowK + k + 1;
      const alpha = f[ro];
      const xnorm = colNorm(f, ro + 1, len - 1);
      const vo = k * m + k; // v in the compact QR form (local row index = global − 1)
      at[vo] = 1;
      f[U + j * UW + 2 * j] = 1;
      const inv = subdiagonalReflector(alpha, xnorm, k, tau, e);
      if (inv === null) continue; // τ = 0: v = e₁, w = 0
      const tk = tau[k];
      f[L.v] = 1;
      for (let t = 1; t < len; t++) {
        const v = f[ro + t] * inv;
        at[vo + t] = v;
        f[U + (j + t) * UW + 2 * j] = v;
        f[L.v + t] = v;
      }
      f[L.v + len] = 0; // the padding a dgemvN over an odd length reads
      // y = A₂₂·v − V·(Wᵀv) − W·(Vᵀv), A₂₂ as the panel found it; w = τ·y − (τ/2)(τ·yᵀv)·v.
      w.dgemvN((L.a + (k + 1) * ld + k + 1) * 8, ld * 8, len, len + (len & 1), L.v * 8, L.y * 8, 0);
      if (j > 0) {
        f.fill(0, L.s, L.s + 2 * j);
        w.dgemvT((U + j * UW) * 8, uRow, len, 2 * j, L.v * 8, L.s * 8);
        // s[2t] = Σ V[r, t]·v_r, s[2t+1] = Σ W[r, t]·v_r; the correction is U[r, 0:2j] · −swap(s).
        for (let t = 0; t < j; t++) {
          f[L.z + 2 * t] = -f[L.s + 2 * t + 1];
          f[L.z + 2 * t + 1] = -f[L.s + 2 * t];
        }
        w.dgemvN((U + j * UW) * 8, uRow, len, 2 * j, L.z * 8, L.y * 8, 1);
      }
      let wv = 0;
      for (let i = 0; i < len; i++) wv += tk * f[L.y + i] * f[L.v + i];
      const a2 = -0.5 * tk * wv;
      for (let i = 0; i < len; i++) f[U + (j + i) * UW + 2 * j + 1] = tk * f[L.y + i] + a2 * f[L.v + i];
    }
    // Trailing block, rows and columns k0+nb..n−1 (local rows nb−1..): A −= [V W]·[W V]ᵀ, on the
    // dgemm macro-kernel accumulating in place (4-row panels of −U, 4-column panels of swap(U)).
    const L1 = n - k0 - nb;
    if (L1 > 0) {
      const kc = 2 * nb;
      const panels = Math.ceil(L1 / 4);
      for (let q = 0; q < panels; q++) {
        for (let r = 0; r < 4; r++) {
          const idx = q * 4 + r;
          const src = U + (nb - 1 + idx) * UW;
          const inside = idx < L1;
          for (let u = 0; u < kc; u++) {
            const o = (q * kc + u) * 4 + r;
            f[L.ap + o] = inside ? -f[src + u] : 0;
            f[L.bp + o] = inside ? f[src + (u ^ 1)] : 0;
          }
        }
      }
      w.dgemm(L.ap * 8, L.bp * 8, (L.a + (k0 + nb) * ld + k0 + nb) * 8, panels, panels, kc, ld * 8, 1);
    }
  }
  if (n >= 2) {
    d[n - 2] = f[L.a + (n - 2) * ld + n - 2];
    e[n - 1] = f[L.a + (n - 1) * ld + n - 2];
  }
  if (n >= 1) d[n - 1] = f[L.a + (n - 1) * ld + n - 1];
  return { at, tau, perm: new Int32Array(steps), m: Math.max(0, m), n: steps, k: steps };
}
