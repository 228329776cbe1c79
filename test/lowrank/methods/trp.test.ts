import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { svdRaw } from '../../../src/linalg/svd.js';
import { energyRank, lowerWeight, raiseWeight, truncatedSvd } from '../../../src/lowrank/methods/lowered.js';
import { TrpMethod } from '../../../src/lowrank/methods/trp.js';
import { TwoStageConv2d, TwoStageLinear } from '../../../src/lowrank/methods/two-stage.js';
import type { Conv2d, Linear, Sequential } from '../../../src/nn/layers.js';
import { fcOptions } from '../../helpers.js';
import { batch, ctx, maxDiff, smallNet } from './nets.js';

const energy = (s: ArrayLike<number>, k = s.length) =>
  Array.from(s)
    .slice(0, k)
    .reduce((a, x) => a + x * x, 0);

describe('TRP', () => {
  it('energyRank is the smallest rank keeping energy e (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (raw, e) => {
          const s = raw.slice().sort((a, b) => b - a);
          const k = energyRank(s, e);
          const total = energy(s);
          expect(k).toBeGreaterThanOrEqual(1);
          if (total === 0) return;
          expect(energy(s, k)).toBeGreaterThanOrEqual(e * total * (1 - 1e-12));
          if (k > 1) expect(energy(s, k - 1)).toBeLessThan(e * total);
        },
      ),
      fcOptions(100),
    );
    expect(() => energyRank([1], 0)).toThrow(/energy must be in \(0, 1\]/);
  });

  it('lowering a kernel channel- or spatial-wise and raising it back is the identity (property)', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        fc.constantFrom('channel' as const, 'spatial' as const),
        (shape, how) => {
          const size = shape.reduce((a, b) => a * b, 1);
          const w = Float64Array.from({ length: size }, (_, i) => Math.sin(i + 1));
          const m = lowerWeight(w, shape, how);
          expect(m.rows * m.cols).toBe(size);
          expect(Array.from(raiseWeight(m.data, shape, how))).toEqual(Array.from(w));
          // Spatial-wise: entry (i, h) × (o, w) holds W[o, i, h, w].
          if (how === 'spatial') {
            const [o, i, kh, kw] = shape;
            expect(m.data[((i - 1) * kh + kh - 1) * (o * kw) + (o - 1) * kw + kw - 1]).toBe(w[size - 1]);
          }
        },
      ),
      fcOptions(40),
    );
  });

  for (const reshaping of ['channel', 'spatial'] as const) {
    it(`a truncation keeps energy ≥ e and is the best approximation of its rank (${reshaping}-wise)`, () => {
      for (const e of [0.5, 0.8, 0.95]) {
        const model = smallNet(3);
        const before = new Map(['2', '5'].map((n) => [n, Float64Array.from((model.layers[Number(n)] as Conv2d | Linear).weight.data)]));
        const trp = new TrpMethod({ lr: 0.1, energy: e, reshaping });
        trp.setup(model, ctx());
        trp.truncate();
        for (const name of ['2', '5']) {
          const layer = model.layers[Number(name)] as Conv2d | Linear;
          const shape = [...layer.weight.shape];
          const orig = before.get(name) as Float64Array;
          const s0 = svdRaw(lowerWeight(orig, shape, reshaping).data, ...dims(shape, reshaping), { wantU: false, wantV: false }).s;
          const lowered = lowerWeight(layer.weight.data, shape, reshaping);
          const s1 = svdRaw(lowered.data, lowered.rows, lowered.cols, { wantU: false, wantV: false }).s;
          const k = trp.ranks[name];
          expect(k).toBe(energyRank(s0, e));
          expect(energy(s1)).toBeGreaterThanOrEqual(e * energy(s0) * (1 - 1e-12));
          // Rank k exactly, and the error is the discarded tail (Eckart–Young).
          for (let j = k; j < s1.length; j++) expect(s1[j]).toBeLessThan(1e-10 * s0[0]);
          const err = orig.reduce((a, x, i) => a + (x - layer.weight.data[i]) ** 2, 0);
          expect(err).toBeCloseTo(energy(s0) - energy(s0, k), 10);
        }
      }
    });
  }

  it('adds the nuclear-norm subgradient λ·U_kV_kᵀ to the gradient', () => {
    const { x, y } = batch(5);
    const run = (nuclear: number) => {
      const model = smallNet(4);
      const trp = new TrpMethod({ lr: 0.1, momentum: 0, weightDecay: 0, energy: 0.9, nuclear });
      trp.setup(model, ctx());
      trp.step(x, y);
      return { model, trp };
    };
    const a = run(0);
    const b = run(0.5);
    for (const name of ['2', '5']) {
      const wa = (a.model.layers[Number(name)] as Conv2d | Linear).weight;
      const wb = (b.model.layers[Number(name)] as Conv2d | Linear).weight;
      // Same truncation at step 0, so the difference is −lr·λ·UVᵀ of the truncated weight.
      const shape = [...wa.shape];
      const trunc = truncatedSvd(lowerWeight(Float64Array.from(wa.data), shape, 'channel'), a.trp.ranks[name]);
      const diff = Float64Array.from(wb.data, (v, i) => (v - wa.data[i]) / (-0.1 * 0.5));
      // The difference has singular values 1 (k of them): it is a partial isometry U_kV_kᵀ.
      const sd = svdRaw(diff, ...dims(shape, 'channel'), { wantU: false, wantV: false }).s;
      expect(Array.from(sd.slice(0, trunc.rank)).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
      expect(sd[trunc.rank] ?? 0).toBeLessThan(1e-6);
    }
  });

  for (const geometry of [{}, { stride: 2, padding: 1 }]) {
    for (const reshaping of ['channel', 'spatial'] as const) {
      it(`finalize decomposes each layer into two that compute its energy-e truncation (${reshaping}-wise, ${JSON.stringify(geometry)})`, () => {
        const model = smallNet(6, geometry);
        const trp = new TrpMethod({ lr: 0.05, energy: 0.9, interval: 3, reshaping });
        trp.setup(model, ctx());
        const { x, y } = batch(7);
        for (let s = 0; s < 4; s++) trp.step(x, y);
        // Reference: the same model with each compressed weight replaced by its energy-e truncation.
        const ref = smallNet(6, geometry);
        ref.loadStateDict(model.stateDict());
        const ranks: Record<string, number> = {};
        for (const name of ['2', '5']) {
          const w = (ref.layers[Number(name)] as Conv2d | Linear).weight;
          const t = truncatedSvd(lowerWeight(w.data, [...w.shape], reshaping), { energy: 0.9 });
          w.data.set(raiseWeight(t.approx, [...w.shape], reshaping));
          ranks[name] = t.rank;
        }
        const deployed = trp.finalize() as Sequential;
        expect(deployed.layers[2]).toBeInstanceOf(TwoStageConv2d);
        expect(deployed.layers[5]).toBeInstanceOf(TwoStageLinear);
        expect(trp.ranks).toEqual(ranks);
        expect(maxDiff(noGrad(() => deployed.forward(x)).data, noGrad(() => ref.forward(x)).data)).toBeLessThan(1e-10);
        const rep = trp.report();
        const conv = deployed.layers[2] as TwoStageConv2d;
        expect(rep.layers.find((l) => l.name === '2')?.params).toBe(conv.paramCount());
        expect(conv.paramCount()).toBe(ranks['2'] * (reshaping === 'channel' ? 8 + 4 * 9 : 4 * 3 + 8 * 3) + 8);
        expect(() => trp.step(x, y)).toThrow(/decomposed by finalize/);
        expect(trp.finalize()).toBe(deployed);
      });
    }
  }

  it('checks its options, naming them', () => {
    expect(() => new TrpMethod({ lr: 0.1, energy: 1.5 })).toThrow(/energy must be in \(0, 1\], got 1.5/);
    expect(() => new TrpMethod({ lr: 0.1, interval: 0 })).toThrow(/interval \(m\) must be a positive integer, got 0/);
    expect(() => new TrpMethod({ lr: 0.1, reshaping: 'diagonal' as never })).toThrow(/reshaping must be 'channel' or 'spatial'/);
    expect(() => new TrpMethod({ lr: -1 })).toThrow(/lr must be a positive number, got -1/);
  });
});

function dims(shape: number[], how: 'channel' | 'spatial'): [number, number] {
  if (shape.length === 2 || how === 'channel') return [shape[0], shape.slice(1).reduce((a, b) => a * b, 1)];
  return [shape[1] * shape[2], shape[0] * shape[3]];
}
