/**
 * hosvd/hooi on the Gram route ('auto' at sizes where it applies, or forced with 'gram') against
 * the Jacobi route ('svd'), and the accuracy guard that sends 'auto' back to Jacobi when the
 * decision would rest on Gram noise.
 */
import { describe, expect, it } from 'vitest';
import { hooi, hosvd, multiModeProduct, reconstruct } from '../../src/tucker/index.js';
import { gramCandidate, gramIsEnough } from '../../src/tucker/hosvd.js';
import { GRAM_SVD_FLOOR } from '../../src/linalg/svd-gram.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { diffFro, fro, mm, orthError, randomOrthogonal, tr } from '../linalg/helpers.js';

/** A tensor of multilinear rank `inner` (orthogonal factors, Gaussian core) plus Gaussian noise of relative size `noise`. */
function lowRankPlusNoise(shape: number[], inner: number[], noise: number, seed: number): Tensor {
  const g = new Generator(seed);
  const coreSize = inner.reduce((a, b) => a * b, 1);
  const core = Float64Array.from({ length: coreSize }, () => g.normal());
  const factors = shape.map((n, k) => {
    const q = randomOrthogonal(n, g);
    const u = new Float64Array(n * inner[k]);
    for (let i = 0; i < n; i++) for (let j = 0; j < inner[k]; j++) u[i * inner[k] + j] = q[i * n + j];
    return Tensor.fromData(u, [n, inner[k]]);
  });
  const t = multiModeProduct(Tensor.fromData(core, inner), factors);
  const d = t.data as Float64Array;
  const scale = (noise * fro(d)) / Math.sqrt(d.length);
  for (let i = 0; i < d.length; i++) d[i] += scale * g.normal();
  return t;
}

/** ‖U·Uᵀ − W·Wᵀ‖_F for two n×r orthonormal bases. */
function projectorGap(u: ArrayLike<number>, w: ArrayLike<number>, n: number, r: number): number {
  return diffFro(mm(u, n, r, tr(u, n, r), n), mm(w, n, r, tr(w, n, r), n));
}

const recErr = (t: Tensor, core: Tensor, factors: (Tensor | null)[]) => diffFro(t.data, reconstruct(core, factors).data);

describe('tucker.hosvd: the Gram route', () => {
  const shape = [64, 64, 3, 3];

  it('applies to the unfoldings of a 64×64×3×3 kernel (the 3-row ones as they are 4,096+ wide), not to small or tall ones', () => {
    expect([0, 1, 2, 3].map((m) => gramCandidate(shape, m))).toEqual([true, true, true, true]);
    expect([0, 1, 2, 3].map((m) => gramCandidate([16, 16, 3, 3], m))).toEqual([false, false, false, false]);
    expect(gramCandidate([512, 512, 3, 3], 2)).toBe(true); // 3 × 786,432: wide enough whatever its height
    expect(gramCandidate([64, 2, 2], 0)).toBe(false); // 64 × 4 is tall
  });

  it('gives the ranks, subspaces, discarded energies, errors and (leading) singular values of the Jacobi route', () => {
    const t = lowRankPlusNoise(shape, [16, 16, 3, 3], 0.05, 1);
    const nt = fro(t.data);
    const ranks = [16, 16, 2, 3];
    const a = hosvd(t, { ranks });
    const s = hosvd(t, { ranks }, { method: 'svd' });
    for (let i = 0; i < 4; i++) {
      expect(orthError(a.factors[i]!.data, shape[i], ranks[i])).toBeLessThanOrEqual(1e-13);
      expect(projectorGap(a.factors[i]!.data, s.factors[i]!.data, shape[i], ranks[i])).toBeLessThan(1e-10);
      expect(Math.abs(a.discarded[i] - s.discarded[i])).toBeLessThanOrEqual(1e-12 * nt * nt);
      const sa = a.singularValues[i]!;
      const ss = s.singularValues[i]!;
      for (let k = 0; k < ss.length; k++) if (ss[k] >= 1e-3 * ss[0]) expect(Math.abs(sa[k] - ss[k])).toBeLessThanOrEqual(1e-12 * ss[0]);
    }
    expect(Math.abs(recErr(t, a.core, a.factors) - recErr(t, s.core, s.factors))).toBeLessThanOrEqual(1e-12 * nt);
    const e = recErr(t, a.core, a.factors);
    expect(e * e).toBeLessThanOrEqual(a.discarded.reduce((x, y) => x + y, 0) * (1 + 1e-10));
    // tolerance rules pick the same ranks on both routes
    for (const relTol of [0.02, 0.1, 0.5]) expect(hosvd(t, { relTol }).ranks).toEqual(hosvd(t, { relTol }, { method: 'svd' }).ranks);
  });

  it('a full-rank request stays exact on the Gram route', () => {
    const t = lowRankPlusNoise(shape, [64, 64, 3, 3], 0, 2);
    for (const method of ['auto', 'gram'] as const) {
      const r = hosvd(t, { ranks: shape }, { method });
      expect(recErr(t, r.core, r.factors)).toBeLessThanOrEqual(1e-12 * fro(t.data));
      r.factors.forEach((f, i) => expect(orthError(f!.data, shape[i], shape[i])).toBeLessThanOrEqual(1e-13));
    }
  });

  it('the guard: a tolerance under the Gram floor, or a rank into the noise, goes to Jacobi', () => {
    const t = lowRankPlusNoise(shape, [8, 8, 3, 3], 0, 3);
    const nt = fro(t.data);
    // relTol 1e-10 is far below GRAM_SVD_FLOOR·σ₁: auto must keep the exact numerical ranks, as Jacobi does.
    const a = hosvd(t, { relTol: 1e-10 });
    expect(a.ranks).toEqual([8, 8, 3, 3]);
    expect(recErr(t, a.core, a.factors)).toBeLessThanOrEqual(1e-10 * nt);
    // Rank 12 > 8 reaches into the noise: auto reports the Jacobi spectrum (tails at rounding level).
    const b = hosvd(t, { ranks: [12, 12, 3, 3] });
    const s = hosvd(t, { ranks: [12, 12, 3, 3] }, { method: 'svd' });
    for (let i = 0; i < 2; i++) expect(Array.from(b.singularValues[i]!)).toEqual(Array.from(s.singularValues[i]!));
    // The guard itself.
    const sig = Float64Array.from([1, 0.5, 1e-3, 1e-9]);
    expect(gramIsEnough(sig, 3, null)).toBe(true);
    expect(gramIsEnough(sig, 4, null)).toBe(false);
    expect(gramIsEnough(sig, 2, GRAM_SVD_FLOOR * 2)).toBe(true);
    expect(gramIsEnough(sig, 2, GRAM_SVD_FLOOR / 2)).toBe(false);
  });

  it('hooi on the Gram route: never worse than its HOSVD, and as good as on the Jacobi route', () => {
    const t = lowRankPlusNoise(shape, [16, 16, 3, 3], 0.3, 4);
    const nt = fro(t.data);
    const ranks = [12, 12, 3, 3];
    const a = hooi(t, ranks, { maxIter: 5 });
    const s = hooi(t, ranks, { maxIter: 5, method: 'svd' });
    expect(a.error).toBeLessThanOrEqual(a.hosvdError);
    expect(Math.abs(a.error - s.error)).toBeLessThanOrEqual(1e-10 * nt);
    expect(Math.abs(recErr(t, a.core, a.factors) - a.error)).toBeLessThanOrEqual(1e-12 * nt);
    a.factors.forEach((f, i) => expect(orthError(f!.data, shape[i], ranks[i])).toBeLessThanOrEqual(1e-13));
  });

  it('rejects an unknown method', () => {
    const t = lowRankPlusNoise([4, 3, 2], [2, 2, 2], 0, 5);
    expect(() => hosvd(t, { ranks: [2, 2, 2] }, { method: 'qr' as never })).toThrow(/hosvd: options\.method must be 'auto', 'svd' or 'gram', got qr/);
    expect(() => hooi(t, [2, 2, 2], { method: 'qr' as never })).toThrow(/hooi: options\.method must be 'auto', 'svd' or 'gram', got qr/);
  });
});

describe('tucker.hosvd: the Gram route at extreme scales', () => {
  it('entries of size 1e-170 or 1e170 (whose squares leave the float64 range) are decomposed as accurately as at size 1', () => {
    const t = lowRankPlusNoise([64, 64, 3, 3], [8, 8, 3, 3], 0.01, 6);
    const ref = hosvd(t, { ranks: [8, 8, 3, 3] }, { method: 'svd' });
    for (const scale of [1e-170, 1e170]) {
      const ts = Tensor.fromData(
        (t.data as Float64Array).map((v) => v * scale),
        t.shape,
      );
      const r = hosvd(ts, { ranks: [8, 8, 3, 3] }, { method: 'gram' });
      for (let i = 0; i < 4; i++) {
        const sv = r.singularValues[i]!;
        const s0 = ref.singularValues[i]!;
        for (let k = 0; k < 3; k++) expect(Math.abs(sv[k] / scale - s0[k])).toBeLessThanOrEqual(1e-12 * s0[0]);
      }
      const rec = (reconstruct(r.core, r.factors).data as Float64Array).map((v) => v / scale);
      expect(diffFro(t.data, rec)).toBeCloseTo(recErr(t, ref.core, ref.factors), 10);
    }
  });
});
