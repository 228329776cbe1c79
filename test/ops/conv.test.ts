import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { conv2d } from '../../src/ops/conv.js';
import { type Tensor, tensor } from '../../src/tensor/tensor.js';
import { fcOptions, maxAbsDiff, randT } from '../helpers.js';

/** Direct nested-loop convolution: the definition the fast path is checked against. */
function convRef(x: Tensor, w: Tensor, b: Tensor | null, s: number, p: number, d: number, groups: number): Float64Array {
  const [N, C, H, W] = x.shape;
  const [OC, Cg, kH, kW] = w.shape;
  const oH = Math.floor((H + 2 * p - d * (kH - 1) - 1) / s) + 1;
  const oW = Math.floor((W + 2 * p - d * (kW - 1) - 1) / s) + 1;
  const out = new Float64Array(N * OC * oH * oW);
  const OCg = OC / groups;
  for (let n = 0; n < N; n++)
    for (let oc = 0; oc < OC; oc++) {
      const g = Math.floor(oc / OCg);
      for (let i = 0; i < oH; i++)
        for (let j = 0; j < oW; j++) {
          let acc = b ? b.data[oc] : 0;
          for (let c = 0; c < Cg; c++)
            for (let ki = 0; ki < kH; ki++)
              for (let kj = 0; kj < kW; kj++) {
                const h = i * s - p + ki * d;
                const ww = j * s - p + kj * d;
                if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
                acc += x.data[((n * C + g * Cg + c) * H + h) * W + ww] * w.data[((oc * Cg + c) * kH + ki) * kW + kj];
              }
          out[((n * OC + oc) * oH + i) * oW + j] = acc;
        }
    }
  return out;
}

const arbConv = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  groups: fc.integer({ min: 1, max: 2 }),
  cPerG: fc.integer({ min: 1, max: 2 }),
  ocPerG: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 3, max: 6 }),
  w: fc.integer({ min: 3, max: 6 }),
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  bias: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('conv2d', () => {
  it('matches the direct definition and finite differences (stride, padding, dilation, groups)', () => {
    fc.assert(
      fc.property(arbConv, (c) => {
        const eff = c.dilation * (c.k - 1) + 1;
        fc.pre(c.h + 2 * c.padding >= eff && c.w + 2 * c.padding >= eff);
        const x = randT([c.n, c.cPerG * c.groups, c.h, c.w], c.seed);
        const w = randT([c.ocPerG * c.groups, c.cPerG, c.k, c.k], c.seed + 1);
        const b = c.bias ? randT([c.ocPerG * c.groups], c.seed + 2) : null;
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
        const y = conv2d(x, w, b, opts);
        expect(maxAbsDiff(y.data, convRef(x, w, b, c.stride, c.padding, c.dilation, c.groups))).toBeLessThan(1e-12);
        gradcheck((xx, ww, bb) => conv2d(xx, ww, bb ?? null, opts), b ? [x, w, b] : [x, w]);
      }),
      fcOptions(30),
    );
  });
  it('1×1 at stride 1 without padding (the per-image product route, and im2col where the weight is too wide for it) matches the definition and finite differences', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 2 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        (n, c, oc, h, dilation, bias, seed) => {
          // h = 1 and c = oc ≥ 3: OC·C > H·W·(C + OC), so the im2col route runs; the rest take the product route.
          const x = randT([n, c, h, h + 1], seed);
          const w = randT([oc, c, 1, 1], seed + 1);
          const b = bias ? randT([oc], seed + 2) : null;
          const opts = { dilation };
          expect(maxAbsDiff(conv2d(x, w, b, opts).data, convRef(x, w, b, 1, 0, dilation, 1))).toBeLessThan(1e-12);
          gradcheck((xx, ww, bb) => conv2d(xx, ww, bb ?? null, opts), b ? [x, w, b] : [x, w]);
        },
      ),
      fcOptions(30),
    );
  });
  it('float32 agrees with float64 to single precision on a LeNet-sized layer', () => {
    const x = randT([4, 20, 12, 12], 1, false);
    const w = randT([50, 20, 5, 5], 2, false, 0.05);
    const y64 = conv2d(x, w);
    const y32 = conv2d(x.to('float32'), w.to('float32'));
    expect(maxAbsDiff(y32.data, y64.data)).toBeLessThan(1e-4);
  });
  it('errors name the argument and shapes', () => {
    const x = tensor(new Float32Array(1 * 3 * 5 * 5), { shape: [1, 3, 5, 5] });
    expect(() => conv2d(x, tensor(new Float32Array(20 * 25), { shape: [20, 5, 5] }))).toThrow(
      /conv2d: weight must be 4-D \[outC, inC\/groups, kH, kW\], got \[20, 5, 5\]/,
    );
    expect(() => conv2d(x, tensor(new Float32Array(4 * 2 * 9), { shape: [4, 2, 3, 3] }))).toThrow(
      /conv2d: weight must be \[outC, inC\/groups, kH, kW\] = \[4, 3, 3, 3\]/,
    );
    expect(() => conv2d(x, tensor(new Float32Array(4 * 3 * 49), { shape: [4, 3, 7, 7] }))).toThrow(/too small/);
  });
});
