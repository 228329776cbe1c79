import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { factorize } from '../../src/lowrank/factorize.js';
import { randomCore, randomOrthonormal } from '../../src/lowrank/init.js';
import { LowRankLinear } from '../../src/lowrank/low-rank-linear.js';
import { MatrixConv2d } from '../../src/lowrank/matrix-conv2d.js';
import { rankReport } from '../../src/lowrank/rank-report.js';
import { TuckerConv2d } from '../../src/lowrank/tucker-conv2d.js';
import { lenet5 } from '../../src/nn/models.js';
import { conv2d } from '../../src/ops/conv.js';
import { linear } from '../../src/ops/matmul.js';
import { reshape } from '../../src/ops/shape.js';
import { randn } from '../../src/tensor/creation.js';
import { Generator } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { fcOptions, maxAbsDiff, randT } from '../helpers.js';
import { orthoError } from './fixtures.js';

const arbConv = fc.record({
  out: fc.integer({ min: 2, max: 5 }),
  inC: fc.integer({ min: 2, max: 4 }),
  k: fc.integer({ min: 1, max: 3 }),
  r1: fc.integer({ min: 1, max: 5 }),
  r2: fc.integer({ min: 1, max: 4 }),
  r3: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 1 }),
  allModes: fc.boolean(),
  bias: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('low-rank layers', () => {
  it('TuckerConv2d: the three-conv forward and the dense route equal conv2d with the reconstructed kernel, and their gradients match finite differences', () => {
    fc.assert(
      fc.property(arbConv, (c) => {
        const g = new Generator(c.seed);
        const shape = [c.out, c.inC, c.k, c.k];
        const r = [Math.min(c.r1, c.out), Math.min(c.r2, c.inC), Math.min(c.r3, c.k), Math.min(c.r3, c.k)];
        const stored = c.allModes ? [true, true, true, true] : [true, true, false, false];
        const ranks = r.map((x, i) => (stored[i] ? x : shape[i]));
        const core = randomCore(ranks, shape, c.inC * c.k * c.k, 'float64', g);
        const factors = shape.map((n, i) => (stored[i] ? randomOrthonormal(n, ranks[i], 'float64', g) : null));
        const bias = c.bias ? randT([c.out], c.seed + 1, false) : null;
        const layer = new TuckerConv2d(
          shape,
          core,
          factors,
          bias,
          stored.flatMap((s, i) => (s ? [i] : [])),
          { stride: c.stride, padding: c.padding },
        );
        const x = randT([2, c.inC, 4, 4], c.seed + 2, false);
        const ref = noGrad(() => conv2d(x, layer.fullWeight(), bias, { stride: c.stride, padding: c.padding }));
        for (const route of ['factored', 'dense'] as const) {
          layer.forwardRoute = route;
          expect(maxAbsDiff(layer.forward(x).data, ref.data)).toBeLessThan(1e-12);
          const params = layer.parameters();
          gradcheck(
            (...ps: Tensor[]) => {
              layer.core = ps[0] as never;
              let k = 1;
              layer.factors = layer.factors.map((f) => (f ? (ps[k++] as never) : null));
              return layer.forward(x);
            },
            params.filter((p) => p !== layer.bias),
          );
        }
      }),
      fcOptions(20),
    );
  });

  it('LowRankLinear and MatrixConv2d equal their full counterparts', () => {
    const g = new Generator(3);
    const lin = new LowRankLinear(
      [6, 9],
      randomCore([3, 4], [6, 9], 9, 'float64', g),
      [randomOrthonormal(6, 3, 'float64', g), randomOrthonormal(9, 4, 'float64', g)],
      randT([6], 1, false),
    );
    const x = randT([5, 9], 2, false);
    for (const route of ['factored', 'dense'] as const) {
      lin.forwardRoute = route;
      expect(maxAbsDiff(lin.forward(x).data, linear(x, lin.fullWeight(), lin.bias).data)).toBeLessThan(1e-12);
    }
    const mc = new MatrixConv2d(
      [4, 3, 3, 3],
      randomCore([2, 5], [4, 27], 27, 'float64', g),
      [randomOrthonormal(4, 2, 'float64', g), randomOrthonormal(27, 5, 'float64', g)],
      null,
      [0, 1],
      { padding: 1 },
    );
    const xi = randT([2, 3, 5, 5], 4, false);
    const ref = conv2d(xi, reshape(mc.fullWeight(), [4, 3, 3, 3]), null, { padding: 1 });
    for (const route of ['factored', 'dense'] as const) {
      mc.forwardRoute = route;
      expect(maxAbsDiff(mc.forward(xi).data, ref.data)).toBeLessThan(1e-12);
    }
  });

  it('factorize at full rank from the weights reproduces the model; ranks and skip follow the options', () => {
    const model = lenet5({ dtype: 'float64', generator: new Generator(1) });
    const x = randn([3, 1, 28, 28], { dtype: 'float64', generator: new Generator(2) });
    const before = noGrad(() => model.forward(x));
    factorize(model, { rankRatio: 1 });
    const after = noGrad(() => model.forward(x));
    expect(maxAbsDiff(after.data, before.data)).toBeLessThan(1e-10);
    const rep = rankReport(model, { inputShape: [1, 28, 28] });
    expect(rep.layers.map((l) => l.name)).toEqual(['3', '7']);
    expect(rep.layers[0].ranks).toEqual([50, 20, 5, 5]);
    const small = factorize(lenet5({ generator: new Generator(1) }), {
      ranks: { '3': [10, 8, 5, 5], '7': [20, 20] },
      init: 'random',
      generator: new Generator(4),
    });
    const r2 = rankReport(small, { inputShape: [1, 28, 28] });
    expect(r2.layers[0].ranks).toEqual([10, 8, 5, 5]);
    expect(r2.layers[1].params).toBe(500 * 20 + 20 * 20 + 800 * 20 + 500);
    expect(r2.layers[0].flops).toBeLessThan(r2.layers[0].fullFlops as number);
    for (const p of small.namedParameters()) if (p[0].includes('factors')) expect(orthoError(p[1].to('float64'))).toBeLessThan(1e-6);
    expect(() => factorize(lenet5(), { skip: ['nope'] })).toThrow(/skip names a layer 'nope'/);
    expect(() => factorize(lenet5(), { ranks: { '3': [60, 8, 5, 5] } })).toThrow(/rank 60 of mode 0 of '3' must be in \[1, 50\]/);
  });

  it('a random factorisation has the variance of the full layer init', () => {
    const model = factorize(lenet5({ generator: new Generator(1) }), { rankRatio: 0.5, init: 'random', generator: new Generator(9) });
    const w = (model.namedModules().find(([n]) => n === '3')?.[1] as TuckerConv2d).fullWeight();
    const variance = Array.from(w.data).reduce((s, v) => s + v * v, 0) / w.size;
    expect(variance / (1 / (3 * 500))).toBeGreaterThan(0.7);
    expect(variance / (1 / (3 * 500))).toBeLessThan(1.3);
  });

  it('a low-rank model round-trips through stateDict even after its ranks changed', () => {
    const a = factorize(lenet5({ generator: new Generator(1) }), { ranks: { '3': [6, 5, 5, 5], '7': [9, 9] }, init: 'random', generator: new Generator(2) });
    const b = factorize(lenet5({ generator: new Generator(3) }), { rankRatio: 0.3, init: 'random', generator: new Generator(4) });
    b.loadStateDict(a.stateDict());
    const x = randn([2, 1, 28, 28], { generator: new Generator(5) });
    expect(Array.from(noGrad(() => b.forward(x)).data)).toEqual(Array.from(noGrad(() => a.forward(x)).data));
  });

  it('rejects inconsistent core and factor shapes', () => {
    const g = new Generator(1);
    expect(
      () =>
        new TuckerConv2d(
          [4, 3, 3, 3],
          randomCore([2, 2, 3, 3], [4, 3, 3, 3], 27, 'float32', g),
          [randomOrthonormal(4, 3, 'float32', g), randomOrthonormal(3, 2, 'float32', g), null, null],
          null,
          [0, 1],
        ),
    ).toThrow(/factor 0 must be \[4, 2\], got \[4, 3\]/);
  });
});
