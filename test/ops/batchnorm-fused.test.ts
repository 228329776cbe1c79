/**
 * batchNorm2d on the host runs two fused kernels (src/backend/cpu/batchnorm.ts). Checked against
 * batch normalisation written out here from its definition with the library's differentiable
 * elementwise ops and reductions (an independent route to the same values and gradients): output,
 * running statistics and the gradients of x, γ and β, in training and in eval, with and without
 * the affine parameters, in float64 (to 1e-12) and float32 (to float32 rounding); finite
 * differences in eval mode; a split across the pool gives the single thread's bits.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import * as threads from '../../src/backend/cpu/threads.js';
import { add, div, mul, sqrt, square, sub } from '../../src/ops/elementwise.js';
import { batchNorm2d } from '../../src/ops/normalization.js';
import { mean } from '../../src/ops/reduce.js';
import { reshape } from '../../src/ops/shape.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { fcOptions, randT } from '../helpers.js';

/** y = (x − μ)/√(σ² + eps)·γ + β, μ and σ² (biased) over (N, H, W), or the given running ones. */
function reference(x: Tensor, mu: Tensor | null, v: Tensor | null, w: Tensor | null, b: Tensor | null, eps: number): Tensor {
  const C = x.shape[1];
  const m = mu ? reshape(mu, [1, C, 1, 1]) : mean(x, [0, 2, 3], true);
  const vv = v ? reshape(v, [1, C, 1, 1]) : mean(square(sub(x, m)), [0, 2, 3], true);
  let y = div(sub(x, m), sqrt(add(vv, eps)));
  if (w) y = mul(y, reshape(w, [1, C, 1, 1]));
  if (b) y = add(y, reshape(b, [1, C, 1, 1]));
  return y;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

function asDtype(t: Tensor, dtype: 'float32' | 'float64', requiresGrad: boolean): Tensor {
  return new Tensor(dtype === 'float32' ? Float32Array.from(t.data) : Float64Array.from(t.data), t.shape, requiresGrad);
}

describe('batchNorm2d on the fused host kernels', () => {
  it('equals the definition: output, running statistics and every gradient (training and eval, affine or not, float64 and float32)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('float64' as const, 'float32' as const),
        fc.integer({ min: 0, max: 1e6 }),
        (n, c, hw, training, affine, withBias, dtype, seed) => {
          fc.pre(!training || n * hw * hw >= 2);
          const tol = dtype === 'float64' ? 1e-11 : 2e-5;
          const x0 = randT([n, c, hw, hw], seed, false, 2);
          const shift = randT([c], seed + 9, false, 3);
          // Channels off-centre, so the mean matters.
          for (let i = 0; i < x0.data.length; i++) x0.data[i] += shift.data[Math.floor(i / (hw * hw)) % c];
          const x1 = asDtype(x0, dtype, true);
          const x2 = asDtype(x0, dtype, true);
          const w1 = affine ? asDtype(randT([c], seed + 1, false), dtype, true) : null;
          const w2 = w1 ? asDtype(w1, dtype, true) : null;
          const b1 = withBias ? asDtype(randT([c], seed + 2, false), dtype, true) : null;
          const b2 = b1 ? asDtype(b1, dtype, true) : null;
          const rm = asDtype(randT([c], seed + 3, false), dtype, false);
          const rv = new Tensor(dtype === 'float32' ? new Float32Array(c) : new Float64Array(c), [c]);
          for (let k = 0; k < c; k++) rv.data[k] = 0.5 + ((seed + k) % 7) / 5;
          const rm2 = asDtype(rm, dtype, false);
          const rv2 = asDtype(rv, dtype, false);
          const eps = 1e-5;
          const y = batchNorm2d(x1, rm, rv, w1, b1, { training, momentum: 0.3, eps });
          const yRef = reference(x2, training ? null : rm2, training ? null : rv2, w2, b2, eps);
          expect(maxDiff(y.data, yRef.data)).toBeLessThan(tol);
          if (training) {
            // Running statistics: mean and unbiased variance, momentum 0.3, from the reference's batch statistics.
            const count = n * hw * hw;
            for (let k = 0; k < c; k++) {
              let s = 0;
              let q = 0;
              for (let i = 0; i < n; i++) for (let p = 0; p < hw * hw; p++) s += x0.data[(i * c + k) * hw * hw + p];
              const m = s / count;
              for (let i = 0; i < n; i++) for (let p = 0; p < hw * hw; p++) q += (x0.data[(i * c + k) * hw * hw + p] - m) ** 2;
              expect(Math.abs(rm.data[k] - (0.7 * rm2.data[k] + 0.3 * m))).toBeLessThan(tol * 10);
              expect(Math.abs(rv.data[k] - (0.7 * rv2.data[k] + 0.3 * (q / (count - 1))))).toBeLessThan(tol * 10);
            }
          }
          // Gradients against a fixed upstream gradient.
          const gy = randT([n, c, hw, hw], seed + 4, false);
          const gyT = asDtype(gy, dtype, false);
          y.backward(gyT);
          yRef.backward(asDtype(gy, dtype, false));
          const scale = Math.max(1, ...Array.from(x2.grad!.data, Math.abs));
          expect(maxDiff(x1.grad!.data, x2.grad!.data)).toBeLessThan(tol * scale * 10);
          if (w1 && w2) expect(maxDiff(w1.grad!.data, w2.grad!.data)).toBeLessThan(tol * 100);
          if (b1 && b2) expect(maxDiff(b1.grad!.data, b2.grad!.data)).toBeLessThan(tol * 100);
        },
      ),
      fcOptions(60),
    );
  });

  it('gives γ and β their gradients when x needs none', () => {
    const x = randT([3, 2, 2, 2], 11, false);
    const w = randT([2], 12);
    const b = randT([2], 13);
    const w2 = randT([2], 12);
    const b2 = randT([2], 13);
    const gy = randT([3, 2, 2, 2], 14, false);
    batchNorm2d(x, null, null, w, b, { training: true }).backward(gy);
    reference(x, null, null, w2, b2, 1e-5).backward(gy);
    expect(x.grad).toBeNull();
    expect(maxDiff(w.grad!.data, w2.grad!.data)).toBeLessThan(1e-12);
    expect(maxDiff(b.grad!.data, b2.grad!.data)).toBeLessThan(1e-12);
  });

  it('matches finite differences in eval mode (x, γ, β)', () => {
    const x = randT([2, 3, 2, 2], 5);
    const rm = randT([3], 6, false);
    const rv = new Tensor(new Float64Array([0.5, 1.5, 2]), [3]);
    gradcheck((t, w, b) => batchNorm2d(t, rm, rv, w, b, { training: false }), [x, randT([3], 7), randT([3], 8)]);
  });

  describe('split across the pool', () => {
    const saved = { ...threads.tuning, threads: threads.getNumThreads() };
    beforeAll(() => {
      threads.setNumThreads(3);
      threads.startWorkers();
    });
    afterAll(() => {
      Object.assign(threads.tuning, { elementwiseMin: saved.elementwiseMin, mainShare: saved.mainShare });
      threads.setNumThreads(saved.threads);
    });
    it('gives the single thread’s bits, forward and backward', () => {
      const run = () => {
        const x = new Tensor(new Float32Array(new SharedArrayBuffer(4 * 8 * 6 * 25)), [8, 6, 5, 5], true);
        for (let i = 0; i < x.data.length; i++) x.data[i] = Math.sin(i * 0.37) * 3 + (i % 7);
        const w = new Tensor(Float32Array.from([1, 2, 0.5, -1, 3, 0.25]), [6], true);
        const b = new Tensor(Float32Array.from([0, 1, -1, 2, 0.5, 0]), [6], true);
        const y = batchNorm2d(x, null, null, w, b, { training: true });
        const gy = new Tensor(new Float32Array(new SharedArrayBuffer(4 * 8 * 6 * 25)), [8, 6, 5, 5]);
        for (let i = 0; i < gy.data.length; i++) gy.data[i] = Math.cos(i * 0.11);
        y.backward(gy);
        return [Array.from(y.data), Array.from(x.grad!.data), Array.from(w.grad!.data), Array.from(b.grad!.data)];
      };
      Object.assign(threads.tuning, { elementwiseMin: Infinity });
      const before = threads.stats.workerJobs;
      const one = run();
      expect(threads.stats.workerJobs).toBe(before);
      // The workers run every chunk (the calling thread takes none), so the kernels' worker source runs.
      Object.assign(threads.tuning, { elementwiseMin: 2, mainShare: false });
      const split = run();
      expect(threads.stats.workerJobs).toBeGreaterThan(before);
      expect(split).toEqual(one);
    });
  });
});
