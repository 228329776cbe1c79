/**
 * Blocked Householder QR (compact WY, Schreiber–Van Loan; LAPACK dgeqrf/dorgqr in spirit): a
 * panel of NB columns is factored one reflector at a time, its reflectors are gathered into
 * H_s…H_{s+NB-1} = I − V·T·Vᵀ (T upper triangular), and the rest of the matrix, or the vectors
 * Q is applied to, are updated by two GEMMs on the blocked, threaded kernel instead of NB
 * rank-1 sweeps. Same flops as the unblocked loops in qr.ts, but most of them in GEMM, which is
 * what makes the integrator's basis augmentation (QR of an n × 2r matrix every step) cheap.
 *
 * The result is the compact form of qr.ts (`HouseholderQR`): same reflectors up to rounding, so
 * everything downstream (formQt, extractR, the sign fix) is shared. No pivoting: a pivoted panel
 * needs norm downdates across the whole trailing matrix, which is what the unblocked loop does.
 */
import { allocF64, gemmF64 as gemm } from '../backend/linalg-kernels.js';
import type { HouseholderQR } from './qr.js';
import { gemm64 } from './matrix.js';
import { compactCopy, householderStep } from './reflector.js';

/** Panel width. */
export const QR_BLOCK = 32;

/** Dense copy of the panel's reflectors v_s..v_{s+nb-1}, rows s..m-1 (unit diagonal, zeros above), nb rows of length m−s. */
function panelVectors(at: Float64Array, m: number, s: number, nb: number): Float64Array {
  const len = m - s;
  const v = allocF64(nb * len);
  for (let j = 0; j < nb; j++) {
    const src = (s + j) * m + s;
    v[j * len + j] = 1;
    for (let i = j + 1; i < len; i++) v[j * len + i] = at[src + i];
  }
  return v;
}

/** T (nb×nb row-major, upper triangular) with H_s…H_{s+nb-1} = I − V T Vᵀ (LAPACK dlarft, forward, columnwise). */
function blockT(v: Float64Array, len: number, nb: number, tau: Float64Array, s: number): Float64Array {
  const t = new Float64Array(nb * nb);
  const dots = new Float64Array(nb);
  // Every v_jᵀv_i at once, V·Vᵀ on the GEMM (the rows of V are zero left of their unit diagonal,
  // so the full products are the dot products dlarft takes from row i on).
  const gram = gemm64(false, true, nb, nb, len, v, 0, len, v, 0, len);
  for (let i = 0; i < nb; i++) {
    const ti = tau[s + i];
    t[i * nb + i] = ti;
    if (ti === 0) continue;
    for (let j = 0; j < i; j++) dots[j] = gram[j * nb + i];
    // T[0:i, i] = −τ_i · T[0:i, 0:i] · dots.
    for (let j = 0; j < i; j++) {
      let acc = 0;
      for (let l = j; l < i; l++) acc += t[j * nb + l] * dots[l];
      t[j * nb + i] = -ti * acc;
    }
  }
  return t;
}

/**
 * C ← (I − V·op(T)·Vᵀ)·C for the `count` vectors of length m stored from ct[off] with stride m,
 * rows s..m-1 only (op(T) = Tᵀ applies the block's transpose, as the factorisation needs).
 */
function applyBlock(
  v: Float64Array,
  t: Float64Array,
  nb: number,
  len: number,
  ct: Float64Array,
  off: number,
  m: number,
  count: number,
  transposeT: boolean,
): void {
  if (count === 0) return;
  // W = Vᵀ C (nb × count); as stored, C is the row-major count × len matrix at off with stride m.
  const w = allocF64(nb * count);
  gemm({
    transA: false,
    transB: true,
    m: nb,
    n: count,
    k: len,
    alpha: 1,
    a: v,
    aOffset: 0,
    lda: len,
    b: ct,
    bOffset: off,
    ldb: m,
    beta: 0,
    c: w,
    cOffset: 0,
    ldc: count,
  });
  const w2 = allocF64(nb * count);
  gemm({
    transA: transposeT,
    transB: false,
    m: nb,
    n: count,
    k: nb,
    alpha: 1,
    a: t,
    aOffset: 0,
    lda: nb,
    b: w,
    bOffset: 0,
    ldb: count,
    beta: 0,
    c: w2,
    cOffset: 0,
    ldc: count,
  });
  // Cᵀ −= W2ᵀ Vᵀ.
  gemm({
    transA: true,
    transB: false,
    m: count,
    n: len,
    k: nb,
    alpha: -1,
    a: w2,
    aOffset: 0,
    lda: count,
    b: v,
    bOffset: 0,
    ldb: len,
    beta: 1,
    c: ct,
    cOffset: off,
    ldc: m,
  });
}

/** Blocked Householder QR of the row-major m×n matrix `a` (not modified), no pivoting. */
export function householderBlocked(a: Float64Array, m: number, n: number): HouseholderQR {
  const { k, at, tau, perm } = compactCopy(a, m, n);
  for (let s = 0; s < k; s += QR_BLOCK) {
    const nb = Math.min(QR_BLOCK, k - s);
    for (let j = s; j < s + nb; j++) tau[j] = householderStep(at, m, j, s + nb);
    const rest = n - s - nb;
    if (rest === 0) continue;
    const len = m - s;
    const v = panelVectors(at, m, s, nb);
    applyBlock(v, blockT(v, len, nb, tau, s), nb, len, at, (s + nb) * m + s, m, rest, true);
  }
  return { at, tau, perm, m, n, k };
}

/**
 * Applies Q = H_0 H_1 … H_{k-1} to `c` vectors of length m stored contiguously in `ct`, in place,
 * a block of reflectors at a time (last block first). With `identityInit` the vectors start as
 * e_0..e_{c-1}, and a block starting at s leaves the vectors j < s alone.
 */
export function applyQBlocked(h: HouseholderQR, ct: Float64Array, c: number, identityInit = false): void {
  const { at, tau, m, k } = h;
  const last = Math.floor((k - 1) / QR_BLOCK) * QR_BLOCK;
  for (let s = last; s >= 0; s -= QR_BLOCK) {
    const first = identityInit ? s : 0;
    // Identity columns e_j with j < s lie outside this block's rows: nothing to do for them.
    if (c <= first) continue;
    const nb = Math.min(QR_BLOCK, k - s);
    const len = m - s;
    const v = panelVectors(at, m, s, nb);
    applyBlock(v, blockT(v, len, nb, tau, s), nb, len, ct, first * m + s, m, c - first, false);
  }
}
