/**
 * The blocked pivoted QR (qr-pivoted.ts, LAPACK dgeqp3/dlaqps) against the unblocked loop of qr.ts
 * and against its defining properties: A[:, perm] = Q·R, Q orthonormal, and the pivot is the
 * largest trailing column (|R_ss| ≥ ‖R[s..j, j]‖), on both its routes (wasm dot products and the
 * JavaScript loops), at sizes around the panel width, with columns whose norm downdates cancel
 * (the panel ends early and the norms are recomputed after the GEMM).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linalgWasm } from '../../src/backend/linalg-kernels.js';
import { PIVOTED_QR_BLOCK, householderPivotedBlocked, pivotedQrScratch } from '../../src/linalg/qr-pivoted.js';
import { BLOCKED_QR_MIN, type HouseholderQR, extractR, formQt, householder, householderUnblocked } from '../../src/linalg/qr.js';
import { Generator } from '../../src/tensor/random.js';
import { inFreshWorker } from './fresh-worker.js';
import { SPECTRUM_KINDS, diffFro, fro, opts, orthError, spectrum, tr, withSpectrum } from './helpers.js';

/** Checks A[:, perm] = Q·R (to 1e-13·‖A‖), QᵀQ = I, R upper triangular with the pivot property. */
function checkFactorisation(a: Float64Array, m: number, n: number, h: HouseholderQR): void {
  const k = Math.min(m, n);
  const qt = formQt(h, k); // column-major m×k = Qᵀ row-major k×m
  const q = tr(qt, k, m);
  const r = extractR(h, k);
  expect(orthError(q, m, k)).toBeLessThan(1e-13);
  const ap = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) ap[i * n + j] = a[i * n + h.perm[j]];
  const qr = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p <= Math.min(j, k - 1); p++) s += q[i * k + p] * r[p * n + j];
      qr[i * n + j] = s;
    }
  const scale = fro(a);
  expect(diffFro(ap, qr)).toBeLessThanOrEqual(1e-13 * scale);
  expect(Array.from(h.perm).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, j) => j));
  for (let s = 0; s < k; s++) {
    const pivot = Math.abs(r[s * n + s]);
    for (let j = s + 1; j < n; j++) {
      let t = 0;
      for (let i = s; i <= Math.min(j, k - 1); i++) t += r[i * n + j] ** 2;
      expect(pivot).toBeGreaterThanOrEqual(Math.sqrt(t) * (1 - 1e-10) - 1e-13 * scale);
    }
  }
}

/** The blocked result equals the unblocked one: same pivots (the first `sure` of them), R to rounding. */
function checkAgainstUnblocked(a: Float64Array, m: number, n: number, h: HouseholderQR, sure: number): void {
  const ref = householderUnblocked(a, m, n, true);
  expect(Array.from(h.perm.subarray(0, sure))).toEqual(Array.from(ref.perm.subarray(0, sure)));
  const k = Math.min(m, n);
  const r = extractR(h, k);
  const r0 = extractR(ref, k);
  let big = 0;
  for (let i = 0; i < r0.length; i++) big = Math.max(big, Math.abs(r0[i]));
  // Rows of R up to the last sure pivot, in the columns both put in the same place: equal to
  // rounding (signs are the raw Householder ones).
  let compared = 0;
  for (let i = 0; i < Math.min(sure, k); i++)
    for (let j = 0; j < n; j++) {
      if (h.perm[j] !== ref.perm[j]) continue;
      expect(Math.abs(r[i * n + j] - r0[i * n + j])).toBeLessThanOrEqual(1e-12 * big);
      compared++;
    }
  expect(compared).toBeGreaterThanOrEqual((Math.min(sure, k) * sure) / 2);
}

function gaussianMatrix(m: number, n: number, g: Generator): Float64Array {
  const a = new Float64Array(m * n);
  // Columns scaled unevenly, so the pivot order is far from the natural one.
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[i * n + j] = g.normal() * (1 + ((j * 7) % 5));
  return a;
}

describe('householderPivotedBlocked: blocked column-pivoted QR', () => {
  it('is the route householder(…, pivot = true) takes from BLOCKED_QR_MIN on', () => {
    const g = new Generator(1);
    for (const k of [BLOCKED_QR_MIN - 1, BLOCKED_QR_MIN]) {
      const a = gaussianMatrix(k + 3, k, g);
      const expected = k >= BLOCKED_QR_MIN ? householderPivotedBlocked(a, k + 3, k) : householderUnblocked(a, k + 3, k, true);
      expect(householder(a, k + 3, k, true)).toEqual(expected);
    }
  });

  const shapes: [number, number][] = [
    [PIVOTED_QR_BLOCK, PIVOTED_QR_BLOCK],
    [PIVOTED_QR_BLOCK + 1, PIVOTED_QR_BLOCK + 1],
    [2 * PIVOTED_QR_BLOCK + 5, 2 * PIVOTED_QR_BLOCK + 5],
    [130, 70],
    [70, 130],
    [400, 3 * PIVOTED_QR_BLOCK + 1],
  ];
  for (const useWasm of [true, false]) {
    for (const [m, n] of shapes) {
      it(`${m}×${n}, ${useWasm ? 'wasm' : 'JavaScript'} dot products: A·P = Q·R, the unblocked loop's pivots and R`, () => {
        const g = new Generator(m * 1000 + n);
        const a = gaussianMatrix(m, n, g);
        const h = householderPivotedBlocked(a, m, n, useWasm);
        checkFactorisation(a, m, n, h);
        checkAgainstUnblocked(a, m, n, h, Math.min(m, n));
      });
    }
  }

  it('nearly parallel columns (norm downdates cancel: panels end early, norms recomputed after the GEMM)', () => {
    const m = 150;
    const n = 90;
    const g = new Generator(77);
    const base = Float64Array.from({ length: m }, () => g.normal());
    const a = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[i * n + j] = base[i] * (1 + j / n) + 1e-6 * g.normal() * (j % 3 === 0 ? 1e-3 : 1);
    for (const useWasm of [true, false]) {
      const h = householderPivotedBlocked(a, m, n, useWasm);
      checkFactorisation(a, m, n, h);
      checkAgainstUnblocked(a, m, n, h, n);
    }
  });

  it('rank-deficient and graded matrices, and the zero matrix', () => {
    const g = new Generator(5);
    const m = 120;
    const n = 100;
    const defective = withSpectrum(m, n, spectrum('rankDeficient', n, g), g);
    const hd = householderPivotedBlocked(defective, m, n);
    checkFactorisation(defective, m, n, hd);
    // Past the rank the trailing norms are rounding noise: only the leading pivots are determined.
    checkAgainstUnblocked(defective, m, n, hd, n / 2 - 1);
    const graded = withSpectrum(
      m,
      n,
      Float64Array.from({ length: n }, (_, i) => 10 ** ((-12 * i) / n)),
      g,
    );
    const hg = householderPivotedBlocked(graded, m, n);
    checkFactorisation(graded, m, n, hg);
    const zero = householderPivotedBlocked(new Float64Array(m * n), m, n);
    expect(Array.from(zero.perm)).toEqual(Array.from({ length: n }, (_, j) => j));
    expect(Array.from(zero.tau)).toEqual(new Array(n).fill(0));
    expect(zero.at.every((v) => v === 0)).toBe(true);
  });

  it('exact zero columns among non-zero ones are pivoted last, on both routes', () => {
    // A zero column has norm 0 from the start: its downdate must be skipped (0/0 would make its norm
    // NaN, which no comparison picks over, nor drops behind, a non-zero column).
    const m = 80;
    const n = 70;
    const g = new Generator(9);
    const a = gaussianMatrix(m, n, g);
    const zeros = [0, 1, 5, 33, 40, 69];
    for (const j of zeros) for (let i = 0; i < m; i++) a[i * n + j] = 0;
    for (const useWasm of [true, false]) {
      const h = householderPivotedBlocked(a, m, n, useWasm);
      checkFactorisation(a, m, n, h);
      // The zero columns come last, and the rows of R beyond the n − 6 non-zero columns are zero.
      expect(
        Array.from(h.perm.subarray(n - zeros.length))
          .sort((x, y) => x - y)
          .join(),
      ).toBe(zeros.join());
      checkAgainstUnblocked(a, m, n, h, n - zeros.length);
    }
  });

  it("the result does not share linalg's wasm scratch memory: a later factorisation leaves it intact", () => {
    const g = new Generator(10);
    const a = gaussianMatrix(90, 80, g);
    const h = householderPivotedBlocked(a, 90, 80, true);
    const at0 = Float64Array.from(h.at);
    // Another factorisation through the same scratch memory.
    householderPivotedBlocked(gaussianMatrix(100, 90, g), 100, 90, true);
    expect(Array.from(h.at)).toEqual(Array.from(at0));
    checkFactorisation(a, 90, 80, h);
  });

  it('property: every spectrum kind, shapes 64..110 either way (seeded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 110 }),
        fc.integer({ min: 64, max: 110 }),
        fc.constantFrom(...SPECTRUM_KINDS),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (m, n, kind, seed) => {
          const g = new Generator(seed);
          const a = withSpectrum(m, n, spectrum(kind, Math.min(m, n), g), g);
          checkFactorisation(a, m, n, householderPivotedBlocked(a, m, n));
        },
      ),
      opts(8),
    );
  });

  it("does not depend on what linalg's wasm scratch memory holds: NaN left there gives the same result", () => {
    // Wider than tall by more than the x region's slack, so that nothing but the zeroing of the
    // scratch keeps the padding double after the matrix (read by every odd-length dgemvN) finite.
    const g = new Generator(12);
    const [m, n] = [40, 60];
    const a = gaussianMatrix(m, n, g);
    const clean = householderPivotedBlocked(a, m, n, true);
    const w = linalgWasm(pivotedQrScratch(m, n).end * 8);
    if (!w) return; // no wasm kernels: the JavaScript route has no scratch memory
    try {
      w.f64.fill(Number.NaN);
      const h = householderPivotedBlocked(a, m, n, true);
      expect(Array.from(h.perm)).toEqual(Array.from(clean.perm));
      expect(Array.from(h.at)).toEqual(Array.from(clean.at));
      checkFactorisation(a, m, n, h);
    } finally {
      w.f64.fill(0);
    }
  });

  it('touches nothing past its reservation: run first in a fresh wasm memory that ends exactly at it', async () => {
    // A fresh worker's wasm memory starts at 1 MiB and grows to exactly the first reservation past
    // 1.5 MiB, rounded up to 64 KiB pages: a size whose reservation is a whole number of pages makes
    // any access past it trap (wasm) or read undefined (JavaScript). Wider than tall, so that the
    // dot products with the trailing columns (< n) outnumber the column entries (< m).
    const page = 65536 / 8;
    let size: [number, number] | null = null;
    for (let m = 400; m < 520 && !size; m++)
      for (let n = m + 4; n < m + 200 && !size; n++) {
        const { end } = pivotedQrScratch(m, n);
        if (end % page === 0 && end * 8 > 1.5 * 2 ** 20) size = [m, n];
      }
    if (!size) throw new Error('no size in range has a reservation of whole pages');
    const [m, n] = size;
    const a = gaussianMatrix(m, n, new Generator(13));
    const here = householderPivotedBlocked(a, m, n, true);
    if (!linalgWasm(0)) return; // no wasm kernels
    const fresh = await inFreshWorker<HouseholderQR & { before: number; after: number }>(
      new URL('./qr-pivoted-fresh.ts', import.meta.url),
      'factorInFreshMemory',
      a,
      m,
      n,
    );
    expect(fresh.before).toBe(2 ** 20);
    expect(fresh.after).toBe(pivotedQrScratch(m, n).end * 8);
    // The same arithmetic in the same layout as in this thread's larger memory: equal to the bit
    // (the other tests check that result).
    expect(Array.from(fresh.perm)).toEqual(Array.from(here.perm));
    expect(Array.from(fresh.tau)).toEqual(Array.from(here.tau));
    expect(Array.from(fresh.at)).toEqual(Array.from(here.at));
  }, 60_000);
});
