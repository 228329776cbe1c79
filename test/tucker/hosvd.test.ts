import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { svd } from '../../src/linalg/index.js';
import { compressionRatio, hooi, hosvd, multiModeProduct, reconstruct, tuckerParams, unfold } from '../../src/tucker/index.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { diffFro, fro, gaussian, opts, orthError, randomOrthogonal } from '../linalg/helpers.js';

interface TensorCase {
  shape: number[];
  /** multilinear rank of the signal part */
  inner: number[];
  /** noise scale relative to the signal */
  noise: number;
  seed: number;
}

/** Shapes of order 2..4 with dims 1..6; a low-multilinear-rank signal (orthogonal factors × core with graded slices) plus noise. */
const arbTensorCase: fc.Arbitrary<TensorCase> = fc
  .tuple(
    fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }),
    fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 4, maxLength: 4 }),
    fc.constantFrom(0, 1e-8, 1e-3, 0.1, 1),
    fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  )
  .map(([shape, inner, noise, seed]) => ({ shape, inner: shape.map((n, i) => Math.min(n, inner[i])), noise, seed }));

function buildTensor(c: TensorCase): Tensor {
  const g = new Generator(c.seed);
  const coreSize = c.inner.reduce((a, b) => a * b, 1);
  const core = new Float64Array(coreSize);
  for (let i = 0; i < coreSize; i++) core[i] = g.normal() * Math.pow(0.5, i % 5);
  const factors = c.shape.map((n, k) => {
    const q = randomOrthogonal(n, g);
    const r = c.inner[k];
    const u = new Float64Array(n * r);
    for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) u[i * r + j] = q[i * n + j];
    return Tensor.fromData(u, [n, r]);
  });
  const signal = multiModeProduct(Tensor.fromData(core, c.inner), factors);
  const d = signal.data as Float64Array;
  const scale = c.noise * (fro(d) / Math.sqrt(d.length) || 1);
  for (let i = 0; i < d.length; i++) d[i] += scale * g.normal();
  return signal;
}

const arbRanks = (c: TensorCase) => fc.tuple(...c.shape.map((n) => fc.integer({ min: 1, max: n })));
const arbCaseWithRanks = arbTensorCase.chain((c) => arbRanks(c).map((ranks) => ({ c, ranks })));

function err(t: Tensor, core: Tensor, factors: (Tensor | null)[]): number {
  return diffFro(t.data, reconstruct(core, factors).data);
}

describe('tucker.hosvd', () => {
  it('reconstructs exactly at full ranks, with orthonormal factors and nothing discarded', () => {
    fc.assert(
      fc.property(arbTensorCase, (c) => {
        const t = buildTensor(c);
        const r = hosvd(t, { ranks: c.shape });
        expect(r.core.shape).toEqual(c.shape);
        expect(err(t, r.core, r.factors)).toBeLessThanOrEqual(1e-12 * fro(t.data));
        r.factors.forEach((f, i) => expect(orthError(f!.data, c.shape[i], c.shape[i])).toBeLessThanOrEqual(1e-12));
        r.discarded.forEach((x) => expect(x).toBeLessThanOrEqual(1e-24 * fro(t.data) ** 2 + 1e-300));
      }),
      opts(40),
    );
  });

  it('‖T − T̂‖² ≤ Σ discarded, ≤ d·‖T − T_HOOI‖², and HOOI is never worse than its HOSVD', () => {
    fc.assert(
      fc.property(arbCaseWithRanks, ({ c, ranks }) => {
        const t = buildTensor(c);
        const nt = fro(t.data);
        const r = hosvd(t, { ranks });
        expect(r.ranks).toEqual(ranks);
        expect(r.core.shape).toEqual(ranks);
        r.factors.forEach((f, i) => {
          expect(f!.shape).toEqual([c.shape[i], ranks[i]]);
          expect(orthError(f!.data, c.shape[i], ranks[i])).toBeLessThanOrEqual(1e-12);
        });
        const e = err(t, r.core, r.factors);
        const bound = r.discarded.reduce((a, b) => a + b, 0);
        const slack = 1e-12 * nt;
        expect(e * e).toBeLessThanOrEqual(bound + 2 * slack * Math.sqrt(bound) + slack * slack);
        const h = hooi(t, ranks, { maxIter: 30 });
        const eh = err(t, h.core, h.factors);
        expect(Math.abs(eh - h.error)).toBeLessThanOrEqual(1e-12 * nt);
        expect(Math.abs(e - h.hosvdError)).toBeLessThanOrEqual(1e-12 * nt);
        expect(eh).toBeLessThanOrEqual(e);
        expect(e).toBeLessThanOrEqual(Math.sqrt(c.shape.length) * eh + slack);
        h.factors.forEach((f, i) => expect(orthError(f!.data, c.shape[i], ranks[i])).toBeLessThanOrEqual(1e-12));
      }),
      opts(60),
    );
  });

  it('discarded[i] is the tail energy of the singular values of Mat_i(T)', () => {
    fc.assert(
      fc.property(arbCaseWithRanks, ({ c, ranks }) => {
        const t = buildTensor(c);
        const r = hosvd(t, { ranks });
        for (let i = 0; i < c.shape.length; i++) {
          const s = svd(unfold(t, i)).s.data;
          let tail = 0;
          for (let k = s.length - 1; k >= ranks[i]; k--) tail += s[k] * s[k];
          expect(Math.abs(r.discarded[i] - tail)).toBeLessThanOrEqual(1e-12 * fro(t.data) ** 2);
          const sv = r.singularValues[i]!;
          for (let k = 0; k < s.length; k++) expect(Math.abs(sv[k] - s[k])).toBeLessThanOrEqual(1e-12 * fro(t.data));
        }
      }),
      opts(40),
    );
  });

  it('with a total tolerance ϑ: ‖T − T̂‖ ≤ ϑ and every rank is minimal with Σ_{k>r} σ_k² ≤ ϑ²/d', () => {
    fc.assert(
      fc.property(arbTensorCase, fc.double({ min: 0, max: 1, noNaN: true }), (c, rel) => {
        const t = buildTensor(c);
        const nt = fro(t.data);
        const tol = rel * nt;
        const d = c.shape.length;
        const r = hosvd(t, { tol });
        expect(err(t, r.core, r.factors)).toBeLessThanOrEqual(tol + 1e-12 * nt);
        for (let i = 0; i < d; i++) {
          expect(r.discarded[i]).toBeLessThanOrEqual((tol * tol) / d);
          if (r.ranks[i] > 1) {
            const s = r.singularValues[i]!;
            const lower = r.discarded[i] + s[r.ranks[i] - 1] ** 2;
            expect(Math.sqrt(lower)).toBeGreaterThan(tol / Math.sqrt(d));
          }
        }
        // relTol is tol relative to ‖T‖F; modeTol is the per-mode threshold ϑ/√d
        const rr = hosvd(t, { relTol: rel });
        const rm = hosvd(t, { modeTol: tol / Math.sqrt(d) });
        if (nt > 0) {
          for (let i = 0; i < d; i++) {
            expect(Math.abs(rr.ranks[i] - r.ranks[i])).toBeLessThanOrEqual(rel > 0 ? 1 : 0); // rounding of ϑ at a boundary
            expect(rm.ranks[i]).toBe(r.ranks[i]);
          }
        }
      }),
      opts(60),
    );
  });

  it('tol = 0 keeps the numerical ranks and recovers a low-multilinear-rank tensor exactly', () => {
    fc.assert(
      fc.property(arbTensorCase, (c0) => {
        const c = { ...c0, noise: 0 };
        const t = buildTensor(c);
        const nt = fro(t.data);
        const r = hosvd(t, { relTol: 1e-10 });
        expect(err(t, r.core, r.factors)).toBeLessThanOrEqual(1e-10 * nt);
        r.ranks.forEach((ri, i) => expect(ri).toBeLessThanOrEqual(c.inner[i]));
      }),
      opts(40),
    );
  });

  it('Tucker-2: only the chosen modes are factorised (null factors elsewhere) and the bound holds over them', () => {
    fc.assert(
      fc.property(arbCaseWithRanks, ({ c, ranks }) => {
        const t = buildTensor(c);
        const d = c.shape.length;
        const modes = d > 2 ? [0, 1] : [0];
        const spec = ranks.map((r, i) => (modes.includes(i) ? r : null));
        const r = hosvd(t, { ranks: spec }, { modes });
        expect(r.modes).toEqual(modes);
        expect(r.ranks).toEqual(c.shape.map((n, i) => (modes.includes(i) ? ranks[i] : n)));
        expect(r.core.shape).toEqual(r.ranks);
        for (let i = 0; i < d; i++) {
          if (modes.includes(i)) expect(r.factors[i]!.shape).toEqual([c.shape[i], ranks[i]]);
          else {
            expect(r.factors[i]).toBeNull();
            expect(r.discarded[i]).toBe(0);
            expect(r.singularValues[i]).toBeNull();
          }
        }
        const e = err(t, r.core, r.factors);
        const bound = r.discarded.reduce((a, b) => a + b, 0);
        expect(e).toBeLessThanOrEqual(Math.sqrt(bound) + 1e-12 * fro(t.data));
        const h = hooi(t, spec, { modes, maxIter: 20 });
        expect(h.factors.map((f) => f === null)).toEqual(r.factors.map((f) => f === null));
        expect(err(t, h.core, h.factors)).toBeLessThanOrEqual(e);
        expect(h.error).toBeLessThanOrEqual(h.hosvdError);
        // tol over the factorised modes only: each gets ϑ²/|modes|
        const tol = 0.3 * fro(t.data);
        const rt = hosvd(t, { tol }, { modes });
        expect(err(t, rt.core, rt.factors)).toBeLessThanOrEqual(tol + 1e-12 * fro(t.data));
        for (const i of modes) expect(rt.discarded[i]).toBeLessThanOrEqual((tol * tol) / modes.length);
      }),
      opts(40),
    );
  });

  it('rankRatio and minRank', () => {
    const t = gaussian([8, 6, 3, 3], 3);
    expect(hosvd(t, { rankRatio: 0.5 }).ranks).toEqual([4, 3, 2, 2]);
    expect(hosvd(t, { rankRatio: 0.01 }).ranks).toEqual([1, 1, 1, 1]);
    expect(hosvd(t, { rankRatio: 0.5 }, { modes: [0, 1] }).ranks).toEqual([4, 3, 3, 3]);
    expect(hosvd(t, { tol: 1e9 }).ranks).toEqual([1, 1, 1, 1]);
    expect(hosvd(t, { tol: 1e9 }, { minRank: 2 }).ranks).toEqual([2, 2, 2, 2]);
    const z = hosvd(Tensor.fromData(new Float64Array(24), [2, 3, 4]), { tol: 0 });
    expect(z.ranks).toEqual([1, 1, 1]);
    expect(Array.from(reconstruct(z.core, z.factors).data).every((v) => v === 0)).toBe(true);
  });

  it('works on float32 input, with ranks above the rank of the unfolding (completed factors)', () => {
    const t = Tensor.fromData(
      Float32Array.from({ length: 2 * 2 * 6 }, (_, i) => Math.sin(i + 1)),
      [2, 2, 6],
    );
    const r = hosvd(t, { ranks: [2, 2, 6] });
    expect(r.core.dtype).toBe('float64');
    expect(orthError(r.factors[2]!.data, 6, 6)).toBeLessThanOrEqual(1e-12);
    expect(err(t, r.core, r.factors)).toBeLessThanOrEqual(1e-12 * fro(t.data));
  });

  it('is deterministic', () => {
    const t = gaussian([5, 4, 3], 9);
    const a = hosvd(t, { ranks: [3, 2, 2] });
    const b = hosvd(t, { ranks: [3, 2, 2] });
    expect(Array.from(a.core.data)).toEqual(Array.from(b.core.data));
    a.factors.forEach((f, i) => expect(Array.from(f!.data)).toEqual(Array.from(b.factors[i]!.data)));
  });

  it('a 64×32×3×3 kernel: Tucker-2 at rank (16, 8) and full Tucker at (16, 8, 2, 2) meet their bounds', () => {
    const t = buildTensor({ shape: [64, 32, 3, 3], inner: [16, 8, 3, 3], noise: 0.05, seed: 11 });
    const r2 = hosvd(t, { ranks: [16, 8, null, null] }, { modes: [0, 1] });
    const e2 = err(t, r2.core, r2.factors);
    expect(e2 * e2).toBeLessThanOrEqual((r2.discarded[0] + r2.discarded[1]) * (1 + 1e-10));
    const r4 = hosvd(t, { ranks: [16, 8, 2, 2] });
    const e4 = err(t, r4.core, r4.factors);
    expect(e4 * e4).toBeLessThanOrEqual(r4.discarded.reduce((a, b) => a + b, 0) * (1 + 1e-10));
    const h = hooi(t, [16, 8, 2, 2], { maxIter: 10 });
    expect(h.error).toBeLessThanOrEqual(e4);
    expect(e4).toBeLessThanOrEqual(2 * h.error);
  });
});

describe('tucker parameter counts', () => {
  it('tuckerParams and compressionRatio', () => {
    expect(tuckerParams([64, 32, 3, 3], [16, 8, 3, 3])).toBe(16 * 8 * 9 + 64 * 16 + 32 * 8 + 9 + 9);
    expect(tuckerParams([64, 32, 3, 3], [16, 8, null, null], [0, 1])).toBe(16 * 8 * 9 + 64 * 16 + 32 * 8);
    expect(compressionRatio([64, 32, 3, 3], [16, 8, null, null], [0, 1])).toBeCloseTo((64 * 32 * 9) / (16 * 8 * 9 + 64 * 16 + 32 * 8), 12);
    fc.assert(
      fc.property(arbCaseWithRanks, ({ c, ranks }) => {
        const r = hosvd(buildTensor(c), { ranks });
        const stored = r.core.data.length + r.factors.reduce((a, f) => a + (f ? f.data.length : 0), 0);
        expect(tuckerParams(c.shape, ranks)).toBe(stored);
      }),
      opts(30),
    );
  });
});

describe('tucker bad input', () => {
  const t = gaussian([4, 3, 2], 0);
  it('names the argument and shows expected against actual', () => {
    expect(() => hosvd(t, { ranks: [2, 2] })).toThrow(
      /hosvd: spec.ranks must have 3 entries \(one per mode of a 3-D tensor of shape \[4, 3, 2\]\), got 2: \[2, 2\]/,
    );
    expect(() => hosvd(t, { ranks: [2, 4, 2] })).toThrow(/hosvd: spec.ranks\[1\] must be an integer in \[1, 3\] \(the size of mode 1\), got 4/);
    expect(() => hosvd(t, { ranks: [0, 2, 2] })).toThrow(/hosvd: spec.ranks\[0\] must be an integer in \[1, 4\] \(the size of mode 0\), got 0/);
    expect(() => hosvd(t, { ranks: [2, 2, 1] }, { modes: [0, 1] })).toThrow(/hosvd: spec.ranks\[2\] must be null or 2 \(mode 2 is not factorised\), got 1/);
    expect(() => hosvd(t, { tol: -0.1 })).toThrow(/hosvd: spec.tol must be a finite number ≥ 0, got -0.1/);
    expect(() => hosvd(t, { relTol: NaN })).toThrow(/hosvd: spec.relTol must be a finite number ≥ 0, got NaN/);
    expect(() => hosvd(t, { rankRatio: 1.5 })).toThrow(/hosvd: spec.rankRatio must be a number in \(0, 1\], got 1.5/);
    expect(() => hosvd(t, { tol: 1, ranks: [1, 1, 1] } as never)).toThrow(
      /hosvd: spec must have exactly one of ranks, tol, relTol, modeTol, rankRatio, rankRule; got ranks and tol/,
    );
    expect(() => hosvd(t, {} as never)).toThrow(/hosvd: spec must have exactly one of .*got keys \[\]/);
    expect(() => hosvd(t, { tol: 1 }, { modes: [0, 3] })).toThrow(/hosvd: options.modes\[1\] must be an integer in \[0, 2\] .* got 3/);
    expect(() => hosvd(t, { tol: 1 }, { modes: [1, 1] })).toThrow(/hosvd: options.modes must be distinct, got \[1, 1\]/);
    expect(() => hosvd(Tensor.fromData(Float64Array.from([1, Infinity, 0, 0]), [2, 2]), { tol: 0 })).toThrow(
      /hosvd: t must hold finite values, got Infinity at flat index 1/,
    );
    expect(() => hooi(t, [2, 2, 3])).toThrow(/hooi: ranks\[2\] must be an integer in \[1, 2\] \(the size of mode 2\), got 3/);
    expect(() => hooi(t, [2, 2, 2], { maxIter: -1 })).toThrow(/hooi: options.maxIter must be an integer ≥ 0, got -1/);
    expect(() => hooi(t, [2, 2, 2], { tol: -1 })).toThrow(/hooi: options.tol must be a finite number ≥ 0, got -1/);
    const r = hosvd(t, { ranks: [2, 2, 2] });
    expect(() => reconstruct(r.core, r.factors.slice(0, 2))).toThrow(
      /reconstruct: factors must have 3 entries \(one per mode of the core, shape \[2, 2, 2\]; null for an unfactorised mode\), got 2/,
    );
    expect(() => reconstruct(r.core, [r.factors[0], gaussian([3, 3], 1), r.factors[2]])).toThrow(
      /reconstruct: factors\[1\] must be 2-D \[n_1, 2\] .* got \[3, 3\]/,
    );
    expect(() => tuckerParams([4, 3], [5, 1])).toThrow(/tuckerParams: ranks\[0\] must be an integer in \[1, 4\] \(the size of mode 0\), got 5/);
    expect(() => compressionRatio([4, 0], [1, 1])).toThrow(/compressionRatio: shape must be a non-empty array of positive integers, got \[4, 0\]/);
  });
});
