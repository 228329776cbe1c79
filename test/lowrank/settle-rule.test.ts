/**
 * The settling rule on its own (src/lowrank/settle-rule.ts), factorize's rankRule, and TDLRT's
 * switch from the full warm-up, which converts the trained weights straight to the settled ranks:
 * it must land where the exact full-rank conversion followed by settleRanks lands.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { svdRaw } from '../../src/linalg/svd.js';
import { factorize } from '../../src/lowrank/factorize.js';
import { RankAdaptiveIntegrator } from '../../src/lowrank/integrator.js';
import { FullMethod } from '../../src/lowrank/methods/full.js';
import { TdlrtMethod } from '../../src/lowrank/methods/tdlrt.js';
import { rankCap, settledRank, settleRankRule } from '../../src/lowrank/settle-rule.js';
import { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { Conv2d, Flatten, Linear, ReLU, Sequential } from '../../src/nn/layers.js';
import type { Module } from '../../src/nn/module.js';
import { randn } from '../../src/tensor/creation.js';
import { Generator } from '../../src/tensor/random.js';
import { reconstruct } from '../../src/tucker/product.js';
import { unfoldRaw } from '../../src/tucker/unfold.js';
import { fcOptions } from '../helpers.js';

/** The fixed point recomputed by its definition: r ← smallest r' with tail(r') ≤ τ·‖σ_1..σ_r‖, clamped. */
function fixedPointRef(s: number[], tau: number, lo: number, hi: number): number {
  let r = s.length;
  for (;;) {
    const kept = Math.sqrt(s.slice(0, r).reduce((a, v) => a + v * v, 0));
    let next = r;
    for (let c = 0; c <= r; c++) {
      const tail = Math.sqrt(s.slice(c, r).reduce((a, v) => a + v * v, 0));
      if (tail <= tau * kept) {
        next = c;
        break;
      }
    }
    next = Math.min(hi, Math.max(lo, next));
    if (next >= r) return r;
    r = next;
  }
}

function net(seed: number): Sequential {
  const g = new Generator(seed);
  return new Sequential(
    new Conv2d(1, 6, 3, { generator: g }),
    new ReLU(),
    new Conv2d(6, 12, 3, { generator: g }),
    new ReLU(),
    new Flatten(),
    new Linear(12 * 4 * 4, 24, { generator: g }),
    new ReLU(),
    new Linear(24, 10, { generator: g }),
  );
}

/** Each low-rank layer's kernel (core ×_i U_i), by name. */
function kernels(model: Module): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, m] of model.namedModules())
    if (m instanceof TuckerLayer) {
      const k = reconstruct(
        m.core.to('float64'),
        m.factors.map((f) => (f ? f.to('float64') : null)),
      );
      out.set(name, k.data as Float64Array);
    }
  return out;
}

describe('settledRank', () => {
  it('is the fixed point of the tail rule, clamped to [lo, hi], recomputed from its definition', () => {
    fc.assert(
      fc.property(
        // Values whose squares neither overflow nor underflow (the reference sums plain squares).
        fc.array(
          fc.integer({ min: 0, max: 10_000 }).map((v) => v / 1000),
          { minLength: 1, maxLength: 24 },
        ),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 30 }),
        (raw, tau, lo, extra) => {
          const s = [...raw].sort((a, b) => b - a);
          const hi = Math.max(1, Math.min(s.length, lo + extra));
          expect(settledRank(Float64Array.from(s), tau, lo, hi)).toBe(fixedPointRef(s, tau, lo, hi));
        },
      ),
      fcOptions(200),
    );
  });

  it('rankCap: the cap as a number or a function, at most the size; a bad cap names the layer and mode', () => {
    expect(rankCap(undefined, 'a', 0, 7)).toBe(7);
    expect(rankCap(3, 'a', 0, 7)).toBe(3);
    expect(rankCap(30, 'a', 0, 7)).toBe(7);
    expect(rankCap((l, m, n) => (l === 'a' && m === 1 ? n - 2 : 1), 'a', 1, 7)).toBe(5);
    expect(() => rankCap(0, 'fc', 1, 7)).toThrow(/maxRank for fc mode 1 must be a positive integer, got 0/);
    expect(() => settleRankRule({ tau: 1 })).toThrow(/settleRankRule: tau must be ≥ 0 and < 1, got 1/);
    expect(() => settleRankRule({ tau: 0.1, minRank: 0 })).toThrow(/settleRankRule: minRank must be a positive integer, got 0/);
  });
});

describe("factorize's rankRule", () => {
  it('reads each stored mode’s spectrum of the weight, and its ranks are made feasible (one rank for a matrix)', () => {
    const model = net(4);
    const layers = new Map(model.namedModules());
    const seen = new Map<string, (Float64Array | null)[]>();
    // Mode 0 keeps 5, mode 1 keeps 3: feasible for the conv, one rank (3) for the matrix.
    factorize(model, {
      init: 'weights',
      rankRule: (name, spectra, shape) => {
        seen.set(name, [...spectra]);
        return shape.map((n, i) => Math.min(n, i === 0 ? 5 : 3));
      },
    });
    expect([...seen.keys()]).toEqual(['2', '5']);
    for (const [name, spectra] of seen) {
      const w = (layers.get(name) as unknown as { weight: { data: Float32Array; shape: number[] } }).weight;
      const data = Float64Array.from(w.data);
      spectra.forEach((s, i) => {
        if (i >= 2) return expect(s).toBeNull();
        const n = w.shape[i];
        const ref = svdRaw(unfoldRaw(data, w.shape, i), n, data.length / n, { wantU: false, wantV: false }).s;
        expect(s!.length).toBe(ref.length);
        for (let k = 0; k < ref.length; k++) expect(Math.abs(s![k] - ref[k])).toBeLessThanOrEqual(1e-10 * ref[0]);
      });
    }
    const ranks = model.namedModules().flatMap(([n, m]) => (m instanceof TuckerLayer ? [[n, m.ranks]] : []));
    expect(ranks).toEqual([
      ['2', [5, 3, 3, 3]],
      ['5', [3, 3]],
    ]);
  });

  it('names what is wrong: a random init, ranks as well, a bad result', () => {
    const rule = (_: string, __: readonly (Float64Array | null)[], shape: readonly number[]) => shape.map(() => 2);
    expect(() => factorize(net(1), { init: 'random', rankRule: rule })).toThrow(
      /rankRule reads the weights' spectra, so it needs init 'weights', got init 'random'/,
    );
    expect(() => factorize(net(1), { ranks: { '5': [2, 2] }, rankRule: rule })).toThrow(/give ranks or rankRule, not both/);
    expect(() => factorize(net(1), { rankRule: 'tau' as never })).toThrow(/rankRule must be a function, got string/);
    expect(() => factorize(net(1), { rankRule: () => [2] })).toThrow(/rankRule for '2' must return 4 ranks \(one per mode of \[12, 6, 3, 3\]\), got 2/);
    expect(() => factorize(net(1), { rankRule: (_, __, shape) => shape.map((n) => n + 1) })).toThrow(
      /rankRule gave rank 13 for mode 0 of '2'; it must be an integer in \[1, 12\]/,
    );
  });
});

describe("TDLRT's switch from the full warm-up", () => {
  it('lands where the exact conversion and settleRanks land: the same ranks and kernels, settled.before the full ranks', () => {
    for (const [tau, maxRank, conv] of [
      [0.3, undefined, 'tucker'],
      [0.1, 4, 'tucker'],
      [0.05, (layer: string, mode: number, n: number) => (layer === '5' ? 7 : n - mode), 'tucker'],
      [0.1, undefined, 'matrix'], // dlrt-matrix: the conv lowered to a matrix U S Vᵀ
    ] as const) {
      const g = new Generator(3);
      const x = randn([16, 1, 8, 8], { generator: g });
      const y = Int32Array.from({ length: 16 }, (_, i) => i % 10);
      const method = new TdlrtMethod({ lr: 0.05, tau, maxRank, warmupSteps: 3, factorize: { conv } });
      const model = method.setup(net(1), { stepsPerEpoch: 3, epochs: 2, generator: new Generator(2) });
      const full = new FullMethod({ lr: 0.05 });
      const ref = full.setup(net(1), { stepsPerEpoch: 3, epochs: 2, generator: new Generator(2) });
      for (let s = 0; s < 3; s++) {
        method.step(x, y);
        full.step(x, y);
      }
      // The old switch: exact conversion at full rank, then settleRanks.
      factorize(ref, { init: 'weights', rankRatio: 1, conv });
      const integ = new RankAdaptiveIntegrator(ref, { lr: 0.05, tau, maxRank });
      integ.settleRanks();
      expect(method.state?.ranks()).toEqual(integ.ranks());
      expect(method.state?.settled).toEqual({ ...integ.settled, step: 0 });
      const a = kernels(model);
      const b = kernels(ref);
      for (const [name, k] of a) {
        const kb = b.get(name)!;
        const scale = Math.max(...kb.map(Math.abs));
        // Both are float32 parameters; the old path rounded a full-rank form to float32 once more.
        for (let i = 0; i < k.length; i++) expect(Math.abs(k[i] - kb[i])).toBeLessThanOrEqual(1e-5 * scale);
      }
    }
  });
});
