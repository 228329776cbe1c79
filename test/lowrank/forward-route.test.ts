/**
 * TuckerLayer.forwardRoute: 'auto' takes the dense kernel exactly where the factored products cost
 * more multiply-adds, counted here from the layer shapes by hand; both routes give the same output
 * and the same gradients of core, factors, bias and input (float64).
 */
import { describe, expect, it, vi } from 'vitest';
import { randomCore, randomOrthonormal } from '../../src/lowrank/init.js';
import { LowRankLinear } from '../../src/lowrank/low-rank-linear.js';
import { MatrixConv2d } from '../../src/lowrank/matrix-conv2d.js';
import { TuckerConv2d } from '../../src/lowrank/tucker-conv2d.js';
import type { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { sum } from '../../src/ops/reduce.js';
import { Generator } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { maxAbsDiff, randT } from '../helpers.js';

function tuckerConv(out: number, inC: number, k: number, rOut: number, rIn: number, seed: number, stride = 1, padding = 1): TuckerConv2d {
  const g = new Generator(seed);
  const shape = [out, inC, k, k];
  const ranks = [rOut, rIn, k, k];
  return new TuckerConv2d(
    shape,
    randomCore(ranks, shape, inC * k * k, 'float64', g),
    [randomOrthonormal(out, rOut, 'float64', g), randomOrthonormal(inC, rIn, 'float64', g), null, null],
    randT([out], seed + 1, false),
    [0, 1],
    { stride, padding },
  );
}

function lowRankLinear(out: number, inF: number, r1: number, r2: number, seed: number): LowRankLinear {
  const g = new Generator(seed);
  return new LowRankLinear(
    [out, inF],
    randomCore([r1, r2], [out, inF], inF, 'float64', g),
    [randomOrthonormal(out, r1, 'float64', g), randomOrthonormal(inF, r2, 'float64', g)],
    randT([out], seed + 1, false),
  );
}

/** A tensor's gradient buffer (read through a call: the assignment above would narrow x.grad to null). */
const gradOf = (t: Tensor): Float64Array => (t.grad as Tensor).data as Float64Array;

/** Output and the gradients of every parameter and of the input, for one route. */
function run(layer: TuckerLayer, x: Tensor, route: 'factored' | 'dense'): Float64Array[] {
  layer.forwardRoute = route;
  layer.zeroGrad();
  x.grad = null;
  const y = layer.forward(x);
  // A weighted sum, so that every output entry has its own weight in the gradient.
  const w = randT([...y.shape], 99, false);
  sum(y.mul(w)).backward();
  return [y.data as Float64Array, ...layer.parameters().map(gradOf), gradOf(x)];
}

describe('TuckerLayer.forwardRoute', () => {
  it('factoredCostRatio counts the factored multiply-adds against the dense ones and the reconstruction', () => {
    // 16×8×3×3 at ranks (4, 2) on one 10×10 image, padding 1, stride 1: 8·2 per input pixel, then
    // 4·2·9 and 4·16 per output pixel, against 16·8·9 per output pixel plus the reconstruction
    // C ×_0 U_0 (16·4·2·9) ×_1 U_1 (8·2·16·9).
    const recon = 16 * 4 * 2 * 9 + 8 * 2 * 16 * 9;
    expect(tuckerConv(16, 8, 3, 4, 2, 1).reconstructMacs()).toBe(recon);
    expect(tuckerConv(16, 8, 3, 4, 2, 1).factoredCostRatio(randT([1, 8, 10, 10], 2, false))).toBeCloseTo(
      (16 * 100 + (72 + 64) * 100) / (1152 * 100 + recon),
      12,
    );
    // Stride 2 on 10×10, padding 1: 5×5 outputs, the first 1×1 conv still at 10×10; two images.
    expect(tuckerConv(16, 8, 3, 4, 2, 1, 2).factoredCostRatio(randT([2, 8, 10, 10], 2, false))).toBeCloseTo(
      (2 * 16 * 100 + (72 + 64) * 50) / (1152 * 50 + recon),
      12,
    );
    // At full ranks the three convs cost more than the one: 8·8 + 16·8·9 + 16·16 per pixel; the
    // reconstruction (16·16·8·9 + 8·8·16·9) is amortised over 8 images, not over one.
    const fullRecon = 16 * 16 * 8 * 9 + 8 * 8 * 16 * 9;
    expect(tuckerConv(16, 8, 3, 16, 8, 1).factoredCostRatio(randT([8, 8, 10, 10], 2, false))).toBeCloseTo(
      (8 * 64 * 100 + (1152 + 256) * 800) / (1152 * 800 + fullRecon),
      12,
    );
    expect(tuckerConv(16, 8, 3, 16, 8, 1).factoredCostRatio(randT([1, 8, 4, 4], 2, false))).toBeLessThan(1);
    // A linear layer, per row of x: x·V, ·Sᵀ, ·Uᵀ against x·Wᵀ, W = U·S·Vᵀ formed once.
    expect(lowRankLinear(30, 40, 5, 6, 1).factoredCostRatio(randT([3, 40], 2, false))).toBeCloseTo(
      (3 * (40 * 6 + 30 + 5 * 30)) / (3 * 1200 + 30 * 5 * 6 + 40 * 6 * 30),
      12,
    );
    const g = new Generator(3);
    const mc = new MatrixConv2d(
      [4, 3, 3, 3],
      randomCore([2, 5], [4, 27], 27, 'float64', g),
      [randomOrthonormal(4, 2, 'float64', g), randomOrthonormal(27, 5, 'float64', g)],
      null,
      [0, 1],
    );
    // 5×5 input, no padding: 3×3 outputs.
    expect(mc.factoredCostRatio(randT([1, 3, 5, 5], 2, false))).toBeCloseTo((9 * (5 * 27 + 10 + 8)) / (9 * 108 + 4 * 2 * 5 + 27 * 5 * 4), 12);
    expect(mc.factoredCostRatio(randT([3, 5], 2, false))).toBe(0);
  });

  it("'auto' forms the dense kernel exactly where the factored route costs more", () => {
    const cases: [TuckerLayer, Tensor, boolean][] = [
      [tuckerConv(16, 8, 3, 4, 2, 1), randT([2, 8, 6, 6], 2, false), false],
      [tuckerConv(16, 8, 3, 16, 8, 1), randT([8, 8, 10, 10], 2, false), true],
      [tuckerConv(16, 8, 3, 16, 8, 1), randT([1, 8, 4, 4], 2, false), false],
      [lowRankLinear(30, 40, 5, 6, 1), randT([3, 40], 2, false), false],
      [lowRankLinear(30, 40, 30, 40, 1), randT([64, 40], 2, false), true],
      [lowRankLinear(30, 40, 30, 40, 1), randT([3, 40], 2, false), false],
    ];
    for (const [layer, x, dense] of cases) {
      const spy = vi.spyOn(layer, 'reconstruct');
      layer.forward(x);
      expect(spy.mock.calls.length).toBe(dense ? 1 : 0);
      expect(layer.factoredCostRatio(x) > 1).toBe(dense);
      spy.mockRestore();
    }
  });

  it('both routes give the same output and gradients (core, factors, bias, input)', () => {
    const layers: [TuckerLayer, Tensor][] = [
      [tuckerConv(6, 5, 3, 3, 2, 4), randT([2, 5, 5, 5], 5)],
      [tuckerConv(6, 5, 3, 6, 5, 6, 2, 0), randT([2, 5, 7, 7], 7)],
      [lowRankLinear(7, 9, 3, 4, 8), randT([4, 9], 9)],
    ];
    for (const [layer, x] of layers) {
      const factored = run(layer, x, 'factored');
      const dense = run(layer, x, 'dense');
      expect(dense.length).toBe(factored.length);
      dense.forEach((d, k) => expect(maxAbsDiff(d, factored[k])).toBeLessThan(1e-12));
    }
  });

  it('rejects a route it does not know', () => {
    const layer = tuckerConv(6, 5, 3, 3, 2, 4);
    (layer as { forwardRoute: string }).forwardRoute = 'fast';
    expect(() => layer.forward(randT([1, 5, 5, 5], 1, false))).toThrow(/forwardRoute must be 'auto', 'factored' or 'dense', got fast/);
  });
});
