/**
 * Direct tests of the helpers behind hosvd/hooi (src/tucker/hosvd.ts), each against quantities
 * recomputed here: the Gram matrix of an unfolding on each of its three routes (plain loops), the
 * Gram spectrum and the mode SVD against unfoldings built with a known spectrum, the route rules
 * (`gramCandidate`, `gramIsEnough`) at their boundaries, and the accuracy the Jacobi route promises
 * for singular values under the Gram route's floor (mutation survivors of issue #18: with the Gram
 * route disabled, or its fold branch wrong, every earlier test passed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads } from '../../src/backend/cpu/threads.js';
import { GRAM_SVD_FLOOR, GRAM_SVD_MIN_SIDE, gramBySyrk } from '../../src/linalg/svd-gram.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { gramCandidate, gramIsEnough, groupFoldGram, leadingColumns, modeGramSpectrum, modeSvdRaw, tailEnergy, unfoldingGram } from '../../src/tucker/hosvd.js';
import { hosvd, modeSvd } from '../../src/tucker/index.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';
import { svdRaw } from '../../src/linalg/svd.js';
import { diffFro, fro, gaussian, mm, opts, orthError, randomOrthogonal, tr } from '../linalg/helpers.js';

/** G[i, j] = Σ_{p,q} X[p, i, q]·X[p, j, q] for the [P, I, Q] view of a row-major buffer. */
function gramRef(x: ArrayLike<number>, P: number, I: number, Q: number): Float64Array {
  const g = new Float64Array(I * I);
  for (let i = 0; i < I; i++)
    for (let j = 0; j < I; j++) {
      let s = 0;
      for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) s += x[(p * I + i) * Q + q] * x[(p * I + j) * Q + q];
      g[i * I + j] = s;
    }
  return g;
}

/** n orthonormal columns of length m (row-major m×n): Gram–Schmidt, twice, of Gaussian vectors. */
function orthonormalColumns(m: number, n: number, g: Generator): Float64Array {
  const w = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from({ length: m }, () => g.normal());
    for (let pass = 0; pass < 2; pass++)
      for (let l = 0; l < j; l++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += w[i * n + l] * v[i];
        for (let i = 0; i < m; i++) v[i] -= d * w[i * n + l];
      }
    const nv = fro(v);
    for (let i = 0; i < m; i++) w[i * n + j] = v[i] / nv;
  }
  return w;
}

/**
 * A tensor whose mode-`mode` unfolding is U·diag(σ)·Wᵀ (U random orthogonal I×I, W orthonormal
 * M×k), written into the [P, I, Q] view: the singular values of Mat_mode are σ and its leading
 * left singular vectors are the columns of U.
 */
function withModeSpectrum(shape: number[], mode: number, sigma: number[], seed: number): { t: Tensor; u: Float64Array } {
  const g = new Generator(seed);
  const I = shape[mode];
  const P = shape.slice(0, mode).reduce((a, b) => a * b, 1);
  const Q = shape.slice(mode + 1).reduce((a, b) => a * b, 1);
  const M = P * Q;
  const k = sigma.length;
  const u = randomOrthogonal(I, g);
  const w = orthonormalColumns(M, k, g);
  const data = new Float64Array(P * I * Q);
  for (let i = 0; i < I; i++)
    for (let c = 0; c < M; c++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += u[i * I + l] * sigma[l] * w[c * k + l];
      const p = Math.floor(c / Q);
      data[(p * I + i) * Q + (c % Q)] = s;
    }
  return { t: Tensor.fromData(data, shape), u };
}

/** An m × n matrix U·diag(σ)·Vᵀ with U, V random orthogonal from `seed` (σ has min(m, n) values). */
function matrixWithSpectrum(m: number, n: number, sv: readonly number[], seed: number): { t: Tensor; u: Float64Array; v: Float64Array } {
  const g = new Generator(seed);
  const u = randomOrthogonal(m, g);
  const v = randomOrthogonal(n, g);
  const data = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let l = 0; l < sv.length; l++) data[i * n + j] += u[i * m + l] * sv[l] * v[j * n + l];
  return { t: Tensor.fromData(data, [m, n]), u, v };
}

/** ‖U·Uᵀ − W·Wᵀ‖F for the leading r columns of two bases with I rows (ku, kw columns). */
function projectorGap(a: ArrayLike<number>, ka: number, b: ArrayLike<number>, kb: number, I: number, r: number): number {
  const lead = (x: ArrayLike<number>, k: number) => {
    const o = new Float64Array(I * r);
    for (let i = 0; i < I; i++) for (let j = 0; j < r; j++) o[i * r + j] = x[i * k + j];
    return o;
  };
  const pa = lead(a, ka);
  const pb = lead(b, kb);
  return diffFro(mm(pa, I, r, tr(pa, I, r), I), mm(pb, I, r, tr(pb, I, r), I));
}

/** Each column's entry of largest |.| is positive (the first such on ties). */
function signsFixed(u: ArrayLike<number>, rows: number, k: number): boolean {
  for (let j = 0; j < k; j++) {
    let best = 0;
    for (let i = 1; i < rows; i++) if (Math.abs(u[i * k + j]) > Math.abs(u[best * k + j])) best = i;
    if (!(u[best * k + j] > 0)) return false;
  }
  return true;
}

describe('unfoldingGram: Mat·Matᵀ of the [P, I, Q] view on each route', () => {
  // P = 1 (the buffer is the unfolding); I·Q ≤ 64 (folded from XᵀX); I·Q > 64 (copied in blocks
  // of 16 slices, P not a multiple of 16, so the last block is short).
  const cases = [
    { what: 'P = 1', P: 1, I: 5, Q: 7 },
    { what: 'short fibres, folded', P: 20, I: 3, Q: 9 },
    { what: 'short fibres, folded (Q = 1)', P: 40, I: 6, Q: 1 },
    { what: 'long fibres, copied in blocks', P: 37, I: 5, Q: 17 },
    { what: 'long fibres, fewer slices than one block', P: 3, I: 9, Q: 10 },
  ];
  for (const [c, { what, P, I, Q }] of cases.entries()) {
    it(`${what}: P = ${P}, I = ${I}, Q = ${Q}`, () => {
      const x = gaussian([P * I * Q], 300 + c).data as Float64Array;
      const want = gramRef(x, P, I, Q);
      for (const input of [x, Array.from(x)]) {
        const g = unfoldingGram(input, P, I, Q);
        expect(g.length).toBe(I * I);
        expect(diffFro(g, want)).toBeLessThanOrEqual(1e-13 * fro(want));
        // Exactly symmetric (eigh reads one triangle; both must be the Gram matrix).
        for (let i = 0; i < I; i++) for (let j = 0; j < i; j++) expect(g[j * I + i]).toBe(g[i * I + j]);
      }
    });
  }
  // With two threads or fewer a product this size goes to syrk, which gathers the unfolding itself;
  // with more, the unfolding is copied in blocks of slices for the threaded GEMM.
  it('long fibres with more than two threads: the unfolding copied in blocks of 16 slices for the GEMM', () => {
    const before = getNumThreads();
    setNumThreads(4);
    try {
      for (const [c, { P, I, Q }] of [
        { P: 37, I: 5, Q: 17 },
        { P: 3, I: 9, Q: 10 },
        { P: 16, I: 4, Q: 33 },
      ].entries()) {
        expect(gramBySyrk(I, P * Q)).toBe(false);
        const x = gaussian([P * I * Q], 320 + c).data as Float64Array;
        const want = gramRef(x, P, I, Q);
        const g = unfoldingGram(x, P, I, Q);
        expect(diffFro(g, want)).toBeLessThanOrEqual(1e-13 * fro(want));
        for (let i = 0; i < I; i++) for (let j = 0; j < i; j++) expect(g[j * I + i]).toBe(g[i * I + j]);
      }
    } finally {
      setNumThreads(before);
    }
  });
});

describe('groupFoldGram: the trailing short modes share one product', () => {
  it('is the Gram matrix of every mode whose trailing product is at most 64 (null otherwise), one product per group', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 40 }), fc.nat(), (dims, lead, seed) => {
        const shape = [lead, ...dims];
        const x = gaussian(shape, seed % 1000).data as Float64Array;
        const folds = new Map<number, Float64Array>();
        let groupModes = 0;
        for (let mode = shape.length - 1; mode >= 0; mode--) {
          const I = shape[mode];
          const P = shape.slice(0, mode).reduce((a, b) => a * b, 1);
          const Q = shape.slice(mode + 1).reduce((a, b) => a * b, 1);
          const g = groupFoldGram(x, shape, mode, folds);
          if (I * Q > 64) {
            expect(g).toBeNull();
            continue;
          }
          groupModes++;
          const want = gramRef(x, P, I, Q);
          expect(diffFro(g!, want)).toBeLessThanOrEqual(1e-13 * Math.max(fro(want), 1e-300));
          for (let i = 0; i < I; i++) for (let j = 0; j < i; j++) expect(g![j * I + i]).toBe(g![i * I + j]);
        }
        // Every mode of the group folds the same H: one product, of the group's whole width.
        expect(folds.size).toBe(groupModes > 0 ? 1 : 0);
      }),
      opts(60),
    );
  });

  it("hosvd of a 3×3 kernel: the spatial modes' spectra and factors as without the shared product", () => {
    const shape = [20, 16, 3, 3];
    const t = gaussian(shape, 77);
    for (const mode of [2, 3]) {
      const shared = modeGramSpectrum(t.data, shape, mode, true, new Map());
      const own = modeGramSpectrum(t.data, shape, mode, true);
      expect(diffFro(shared!.s, own!.s)).toBeLessThanOrEqual(1e-13 * own!.s[0]);
      expect(diffFro(shared!.top(3), own!.top(3))).toBeLessThanOrEqual(1e-12);
    }
  });
});

describe('modeGramSpectrum and modeSvdRaw against an unfolding of known spectrum', () => {
  const sigma = [4, 2, 1, 0.5, 0.25];

  it('the Gram spectrum: every σ of a well-conditioned unfolding to 1e-12·σ₁, and the leading vectors', () => {
    for (const [shape, mode] of [
      [[6, 5, 4], 1],
      [[5, 8], 0],
      [[3, 5, 12], 2],
      [[5, 5], 1],
    ] as [number[], number][]) {
      const I = shape[mode];
      const sv = sigma.slice(0, Math.min(I, 5));
      const { t, u } = withModeSpectrum(shape, mode, sv, 11 + mode);
      for (const inRange of [undefined, true]) {
        const g = modeGramSpectrum(t.data, shape, mode, inRange);
        expect(g).not.toBeNull();
        expect(g!.s.length).toBe(I);
        for (let k = 0; k < I; k++) expect(Math.abs(g!.s[k] - (sv[k] ?? 0))).toBeLessThanOrEqual(1e-7 * sigma[0]);
        for (let k = 0; k < sv.length; k++) expect(Math.abs(g!.s[k] - sv[k])).toBeLessThanOrEqual(1e-12 * sigma[0]);
        const r = Math.min(3, sv.length);
        const top = g!.top(r);
        expect(top.length).toBe(I * r);
        expect(orthError(top, I, r)).toBeLessThanOrEqual(1e-12);
        expect(projectorGap(top, r, u, I, I, r)).toBeLessThanOrEqual(1e-10);
      }
    }
  });

  it('a tall unfolding: the spectrum of its M × M Gram matrix, the left vectors X·V·Σ⁻¹ re-orthonormalised, the rest completed', () => {
    // Tall: I > M = P·Q. A rank-3 unfolding (σ_4 = σ_5 = 0) asked for 5 vectors: 3 from X, 2 completed.
    for (const [shape, mode, sv] of [
      [[9, 2, 2], 0, sigma.slice(0, 4)],
      [[2, 11, 3], 1, sigma],
      [[3, 14], 1, sigma.slice(0, 3)],
      [[2, 12, 3], 1, sigma.slice(0, 3)], // M = 6, rank 3: of 5 vectors asked, 2 are completed
    ] as [number[], number, number[]][]) {
      const I = shape[mode];
      const M = shape.reduce((a, b) => a * b, 1) / I;
      const { t, u } = withModeSpectrum(shape, mode, sv, 21 + mode);
      const g = modeGramSpectrum(t.data, shape, mode);
      expect(g).not.toBeNull();
      expect(g!.s.length).toBe(M);
      for (let k = 0; k < M; k++) expect(Math.abs(g!.s[k] - (sv[k] ?? 0))).toBeLessThanOrEqual(1e-7 * sigma[0]);
      for (let k = 0; k < sv.length; k++) expect(Math.abs(g!.s[k] - sv[k])).toBeLessThanOrEqual(1e-12 * sigma[0]);
      const r = Math.min(M, 5);
      const top = g!.top(r);
      expect(top.length).toBe(I * r);
      expect(orthError(top, I, r)).toBeLessThanOrEqual(1e-12);
      expect(signsFixed(top, I, r)).toBe(true);
      // The live columns span U's leading ones, each its own singular direction (distinct σ).
      const live = Math.min(r, sv.length);
      expect(projectorGap(top, r, u, I, I, live)).toBeLessThanOrEqual(1e-10);
      for (let j = 0; j < live; j++) {
        let d = 0;
        for (let i = 0; i < I; i++) d += top[i * r + j] * u[i * I + j];
        expect(Math.abs(Math.abs(d) - 1)).toBeLessThanOrEqual(1e-10);
      }
      // Completed columns: orthonormal to the live ones (checked above) and to X's range.
      for (let j = live; j < r; j++) {
        for (let l = 0; l < sv.length; l++) {
          let d = 0;
          for (let i = 0; i < I; i++) d += top[i * r + j] * u[i * I + l];
          expect(Math.abs(d)).toBeLessThanOrEqual(1e-12);
        }
      }
      // modeSvdRaw's 'gram' route gives all M vectors of the tall unfolding (k = M), as the Jacobi route.
      const viaGram = modeSvdRaw(t.data, shape, mode, 'gram');
      const viaJacobi = modeSvdRaw(t.data, shape, mode, 'svd');
      expect([viaGram.k, viaGram.rows]).toEqual([viaJacobi.k, viaJacobi.rows]);
      expect(projectorGap(viaGram.u, viaGram.k, viaJacobi.u, viaJacobi.k, I, live)).toBeLessThanOrEqual(1e-10);
    }
  });

  it('the Gram route does not apply to entries whose squares leave the float64 range, or when told so', () => {
    const big = gaussian([4, 6], 2, 1e170);
    expect(modeGramSpectrum(big.data, [4, 6], 0)).toBeNull();
    const tiny = gaussian([4, 6], 2, 1e-170);
    expect(modeGramSpectrum(tiny.data, [4, 6], 0)).toBeNull();
    expect(modeGramSpectrum(gaussian([4, 6], 3).data, [4, 6], 0, false)).toBeNull();
    // The range [1e-100, 1e100] of max|entry| is closed, and holds a zero tensor (an exact, empty spectrum).
    for (const edge of [1e100, 1e-100]) {
      const x = Float64Array.from({ length: 24 }, (_, i) => edge * Math.cos(i));
      x[5] = edge;
      const s = modeGramSpectrum(x, [4, 6], 0);
      expect(s).not.toBeNull();
      expect(s!.s[0]).toBeGreaterThan(edge);
    }
    const zero = modeGramSpectrum(new Float64Array(24), [4, 6], 0);
    expect(Array.from(zero!.s)).toEqual([0, 0, 0, 0]);
  });

  it('modeSvdRaw (Jacobi by default): wide and tall unfoldings, all singular values, signs fixed', () => {
    for (const [shape, mode, sv] of [
      [[6, 5, 4], 1, sigma], // 5 × 24, wide
      [[7, 2], 0, [3, 1]], // 7 × 2, tall: k = 2
      [[2, 9, 1], 1, [2, 0.5]], // 9 × 2, tall
      [[4, 4], 0, [1, 0.5, 0.25, 0.125]], // square
    ] as [number[], number, number[]][]) {
      const I = shape[mode];
      const M = shape.reduce((a, b) => a * b, 1) / I;
      const { t, u } = withModeSpectrum(shape, mode, sv, 21 + I);
      const r = modeSvdRaw(t.data, shape, mode);
      expect(r.rows).toBe(I);
      expect(r.k).toBe(Math.min(I, M));
      expect(r.s.length).toBe(Math.min(I, M));
      for (let k = 0; k < r.s.length; k++) expect(Math.abs(r.s[k] - (sv[k] ?? 0))).toBeLessThanOrEqual(1e-13 * sv[0]);
      expect(orthError(r.u, I, r.k)).toBeLessThanOrEqual(1e-12);
      expect(signsFixed(r.u, I, r.k)).toBe(true);
      expect(projectorGap(r.u, r.k, u, I, I, sv.length)).toBeLessThanOrEqual(1e-10);
      // The Tensor wrapper returns the same.
      const w = modeSvd(t, mode - shape.length);
      expect(w.u.shape).toEqual([I, r.k]);
      expect(w.s.shape).toEqual([r.k]);
      expect(Array.from(w.u.data)).toEqual(Array.from(r.u));
      expect(Array.from(w.s.data)).toEqual(Array.from(r.s));
    }
  });

  it("modeSvdRaw's 'gram' route: all I vectors and values of a wide unfolding; a tall one goes to Jacobi", () => {
    const { t, u } = withModeSpectrum([6, 5, 4], 1, sigma, 31);
    const g = modeSvdRaw(t.data, [6, 5, 4], 1, 'gram');
    expect(g.k).toBe(5);
    expect(g.u.length).toBe(25);
    expect(orthError(g.u, 5, 5)).toBeLessThanOrEqual(1e-12);
    for (let k = 0; k < 5; k++) expect(Math.abs(g.s[k] - sigma[k])).toBeLessThanOrEqual(1e-12 * sigma[0]);
    expect(projectorGap(g.u, 5, u, 5, 5, 4)).toBeLessThanOrEqual(1e-10);
    const tall = withModeSpectrum([7, 2], 0, [3, 1], 32);
    const j = modeSvdRaw(tall.t.data, [7, 2], 0, 'gram');
    expect(j.k).toBe(2);
    expect(Math.abs(j.s[1] - 1)).toBeLessThanOrEqual(1e-13 * 3);
  });

  it('modeSvd names itself in its argument errors', () => {
    expect(() => modeSvd('t' as unknown as Tensor, 0)).toThrow(/^modeSvd: t must be a Tensor, got string$/);
    expect(() => modeSvd(gaussian([2, 3], 0), 2)).toThrow(/^modeSvd: mode must be an integer in \[0, 1\] \(or \[-2, -1\]\) for a 2-D tensor, got 2$/);
  });
});

describe('the route rules at their boundaries', () => {
  it('gramCandidate: a smaller side of GRAM_SVD_MIN_SIDE, or 4,096 columns', () => {
    const S = GRAM_SVD_MIN_SIDE;
    expect(gramCandidate([S, S], 0)).toBe(true); // square, S rows
    expect(gramCandidate([S - 1, S + 5], 0)).toBe(false); // one row short, not wide enough
    expect(gramCandidate([S + 1, S], 0)).toBe(true); // tall by one: its Gram matrix is S × S
    expect(gramCandidate([S + 1, S - 1], 0)).toBe(false); // tall, its smaller side one short
    expect(gramCandidate([4096, 3], 0)).toBe(false); // tall and thin: the Jacobi route
    expect(gramCandidate([2, 500, 30], 1)).toBe(true); // tall, M = P·Q = 60
    expect(gramCandidate([3, 4096], 0)).toBe(true); // 4,096 columns, 3 rows
    expect(gramCandidate([3, 4095], 0)).toBe(false);
    expect(gramCandidate([2, 3, 4096], 1)).toBe(true); // M = P·Q
  });

  it('gramIsEnough: θ ≥ GRAM_SVD_FLOOR·σ₁ and σ_{r−1} > GRAM_SVD_FLOOR·σ₁', () => {
    const floor = GRAM_SVD_FLOOR * 2;
    const s = Float64Array.from([2, 1, floor, 0]);
    expect(gramIsEnough(s, 2, floor)).toBe(true); // θ at the floor
    expect(gramIsEnough(s, 2, floor * (1 - 1e-12))).toBe(false); // θ just under
    expect(gramIsEnough(s, 3, null)).toBe(false); // σ_2 at the floor is not above it
    expect(gramIsEnough(s, 2, null)).toBe(true);
    expect(gramIsEnough(s, 0, null)).toBe(true); // nothing kept
    expect(gramIsEnough(Float64Array.from([0, 0]), 1, null)).toBe(false); // the kept value 0 is not above a floor of 0
    expect(gramIsEnough(new Float64Array(0), 0, null)).toBe(true);
  });

  it('tailEnergy and leadingColumns', () => {
    expect(tailEnergy([3, 2, 1], 1)).toBe(5);
    expect(tailEnergy([3, 2, 1], 3)).toBe(0);
    expect(tailEnergy([3, 2, 1], 0)).toBe(14);
    const q = randomOrthogonal(5, new Generator(7));
    // r < k: the leading r columns, as they are.
    const a = leadingColumns(q, 5, 5, 2);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 2; j++) expect(a[i * 2 + j]).toBe(q[i * 5 + j]);
    // r > k: the k columns kept, the rest an orthonormal completion.
    const two = new Float64Array(10);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 2; j++) two[i * 2 + j] = q[i * 5 + j];
    const b = leadingColumns(two, 5, 2, 4);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 2; j++) expect(b[i * 4 + j]).toBe(q[i * 5 + j]);
    expect(orthError(b, 5, 4)).toBeLessThanOrEqual(1e-14);
  });
});

describe('hosvd: singular values under the Gram floor', () => {
  // A 3 × 4,096 unfolding (a Gram candidate by width) with σ = (1, 1e-3, 1e-12): the Gram route
  // resolves σ only to ≈ ε·σ₁²/σ (1e-4 absolute for the last), the Jacobi route to ≈ ε·σ₁.
  const sv = [1, 1e-3, 1e-12];
  const { t } = withModeSpectrum([3, 64, 64], 0, sv, 41);
  const check = (s: Float64Array | null) => {
    for (let k = 0; k < 3; k++) expect(Math.abs(s![k] - sv[k])).toBeLessThanOrEqual(1e-14);
  };

  it("method 'svd' reports every singular value to ≈ ε·σ₁, whatever the shape", () => {
    check(hosvd(t, { ranks: [2, null, null] }, { modes: [0], method: 'svd' }).singularValues[0]);
    check(hosvd(t, { modeTol: 0.5 }, { modes: [0], method: 'svd' }).singularValues[0]);
  });

  it("'auto' with a tolerance under the floor, or a rank into it, decides on the Jacobi spectrum", () => {
    const a = hosvd(t, { modeTol: 1e-13 }, { modes: [0] });
    expect(a.ranks[0]).toBe(3);
    check(a.singularValues[0]);
    const b = hosvd(t, { ranks: [3, null, null] }, { modes: [0] });
    check(b.singularValues[0]);
  });
});

describe('hosvd: small cases of its own', () => {
  it('with no factorised mode the core is T itself, in a buffer of its own', () => {
    const t = gaussian([3, 4], 5);
    const before = Array.from(t.data);
    const r = hosvd(t, { ranks: [null, null] }, { modes: [] });
    expect(r.ranks).toEqual([3, 4]);
    expect(Array.from(r.core.data)).toEqual(before);
    expect(r.core.data).not.toBe(t.data);
    r.core.data[0] += 1;
    expect(Array.from(t.data)).toEqual(before);
  });

  it('a spec with no rule lists the keys it got', () => {
    expect(() => hosvd(gaussian([2, 2], 0), { foo: 1, bar: 2 } as never)).toThrow(
      /^hosvd: spec must have exactly one of ranks, tol, relTol, modeTol, rankRatio, rankRule; got keys \[foo, bar\]$/,
    );
  });
});

describe('hosvd with a rankRule: the ranks from every spectrum at once', () => {
  const jacobiSpectrum = (t: Tensor, mode: number) => {
    const I = t.shape[mode];
    return svdRaw(unfoldRaw(t.data, t.shape, mode), I, t.size / I, { wantU: false, wantV: false }).s;
  };

  it('the rule reads each factorised mode’s singular values (null for the others) and its ranks are used as given', () => {
    for (const [shape, modes] of [
      [
        [60, 70],
        [0, 1],
      ], // both modes on the Gram route (the second one tall-side: 70 × 60)
      [
        [6, 9, 3, 3],
        [0, 1],
      ], // Tucker-2 of a small kernel: the Jacobi route
      [
        [50, 20, 5, 5],
        [0, 1],
      ],
    ] as [number[], number[]][]) {
      const t = gaussian(shape, 31);
      const seen: (Float64Array | null)[][] = [];
      // Ties the factorised modes: one rank, the smallest with 90% of every mode's energy.
      const rule = (spectra: readonly (Float64Array | null)[]) => {
        seen.push(spectra.map((s) => (s ? s.slice() : null)));
        const per = spectra.map((s) => {
          if (!s) return Number.POSITIVE_INFINITY;
          const total = s.reduce((a, v) => a + v * v, 0);
          let e = 0;
          let r = 0;
          while (e < 0.9 * total) e += s[r++] ** 2;
          return r;
        });
        const r = Math.min(...per);
        return spectra.map((s) => (s ? r : null));
      };
      const h = hosvd(t, { rankRule: rule }, { modes });
      expect(seen.length).toBe(1);
      shape.forEach((n, i) => {
        if (!modes.includes(i)) {
          expect(seen[0][i]).toBeNull();
          return;
        }
        const ref = jacobiSpectrum(t, i);
        const s = seen[0][i]!;
        expect(s.length).toBe(Math.min(n, t.size / n));
        for (let k = 0; k < s.length; k++) expect(Math.abs(s[k] - ref[k])).toBeLessThanOrEqual(1e-10 * ref[0]);
      });
      const tied = h.ranks.filter((_, i) => modes.includes(i));
      expect(new Set(tied).size).toBe(1);
      const same = hosvd(t, { ranks: h.ranks.map((r, i) => (modes.includes(i) ? r : null)) }, { modes });
      expect(Array.from(h.core.data)).toEqual(Array.from(same.core.data));
    }
  });

  it('a rank the Gram route cannot resolve sends that mode to the Jacobi route, and the rule is asked again', () => {
    // 60 × 60 with σ_k = 10^(−k/6): the last values lie far under GRAM_SVD_FLOOR·σ₁.
    const n = 60;
    const { t } = matrixWithSpectrum(
      n,
      n,
      Array.from({ length: n }, (_, k) => 10 ** (-k / 6)),
      41,
    );
    const calls: number[][] = [];
    // Keeps every value above 1e-9·σ₁: σ_54 = 1e-9 is below what the Gram route resolves.
    const rule = (spectra: readonly (Float64Array | null)[]) => {
      calls.push(spectra.map((s) => s![54]));
      return spectra.map((s) => {
        let r = 0;
        while (r < s!.length && s![r] > 0.99e-9) r++;
        return r;
      });
    };
    const h = hosvd(t, { rankRule: rule });
    expect(calls.length).toBe(3); // Gram for both; then mode 0 on Jacobi; then mode 1 too
    expect(Math.abs(calls[2][0] - 1e-9)).toBeLessThan(1e-14);
    expect(Math.abs(calls[2][1] - 1e-9)).toBeLessThan(1e-14);
    expect(h.ranks).toEqual([55, 55]);
  });

  it('names the rule in its errors: not a function, or ranks out of range', () => {
    const t = gaussian([4, 5], 2);
    expect(() => hosvd(t, { rankRule: 3 as never })).toThrow(/^hosvd: spec.rankRule must be a function of the singular values, got number$/);
    expect(() => hosvd(t, { rankRule: () => [2] })).toThrow(/hosvd: the ranks spec.rankRule returned must have 2 entries/);
    expect(() => hosvd(t, { rankRule: () => [2, 6] })).toThrow(/hosvd: the ranks spec.rankRule returned\[1\] must be an integer in \[1, 5\]/);
    expect(() => hosvd(t, { rankRule: () => [2, 3] }, { modes: [0] })).toThrow(/the ranks spec.rankRule returned\[1\] must be null or 5/);
  });
});

describe('a matrix factorised on both modes: one Gram matrix for the two', () => {
  it('each mode’s factor spans the Jacobi route’s leading singular vectors, wide, tall or square', () => {
    for (const [m, n] of [
      [60, 90],
      [90, 60],
      [64, 64],
    ]) {
      const k = Math.min(m, n);
      const sv = Array.from({ length: k }, (_, j) => 2 ** (-j / 4));
      const { t, u, v } = matrixWithSpectrum(m, n, sv, m + n);
      const r = 12;
      const auto = hosvd(t, { ranks: [r, r] });
      const jacobi = hosvd(t, { ranks: [r, r] }, { method: 'svd' });
      for (const mode of [0, 1]) {
        const size = [m, n][mode];
        const fa = auto.factors[mode]!.data as Float64Array;
        const fj = jacobi.factors[mode]!.data as Float64Array;
        expect(orthError(fa, size, r)).toBeLessThanOrEqual(1e-12);
        expect(projectorGap(fa, r, fj, r, size, r)).toBeLessThanOrEqual(1e-9);
        expect(projectorGap(fa, r, mode === 0 ? u : v, size, size, r)).toBeLessThanOrEqual(1e-9);
        for (let j = 0; j < k; j++) expect(Math.abs(auto.singularValues[mode]![j] - sv[j])).toBeLessThanOrEqual(1e-10); // ε·σ₁²/σ_j on the Gram route
      }
      expect(auto.singularValues[0]).not.toBe(auto.singularValues[1]);
      expect(Math.abs(fro(auto.core.data) - fro(jacobi.core.data))).toBeLessThanOrEqual(1e-12);
    }
  });
});

describe("hosvd's guard on a tolerance under the Gram route's floor", () => {
  it('a modeTol under GRAM_SVD_FLOOR·σ₁ sends the mode to the Jacobi route: the small values come out exact', () => {
    // 60 × 60: σ = 1, 0.5, then 58 values near 1e-8 (far under the floor, squares at rounding level).
    const n = 60;
    const sv = Array.from({ length: n }, (_, k) => (k === 0 ? 1 : k === 1 ? 0.5 : 1e-8 * (1 + (n - k) / 100)));
    const { t } = matrixWithSpectrum(n, n, sv, 51);
    // θ = 2e-7 keeps 2 (the tail's norm is ≈ 1e-7), and σ_2 = 0.5 lies above the floor: only θ itself is under it.
    const h = hosvd(t, { modeTol: 2e-7 });
    expect(h.ranks).toEqual([2, 2]);
    for (const mode of [0, 1]) for (let k = 2; k < n; k++) expect(Math.abs(h.singularValues[mode]![k] - sv[k])).toBeLessThanOrEqual(1e-14);
  });
});
