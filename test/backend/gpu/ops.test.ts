/**
 * The op properties of the CPU backend, run again on the GPU backend: for random shapes (seeded,
 * fast-check), every op's forward value and its input gradients on the GPU match the CPU backend
 * in float32 to |gpu − cpu| ≤ 1e-4 + 1e-4·|cpu| (long reductions: 1e-3 relative to the scale).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { getDevice, initBackend, kernelReport, resetKernelReport } from '../../../src/backend/index.js';
import { lenet5 } from '../../../src/nn/models.js';
import { cumsum } from '../../../src/ops/cumsum.js';
import { tidy } from '../../../src/tensor/storage.js';
import { Generator } from '../../../src/tensor/random.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import * as F from '../../../src/nn/functional.js';
import { rawBinary } from '../../../src/ops/util.js';
import { arbBroadcastPair, fcOptions } from '../../helpers.js';
import { gpuAvailable } from './support.js';
import { Parameter } from '../../../src/nn/parameter.js';
import type { Optimizer } from '../../../src/optim/optimizer.js';
import { SGD } from '../../../src/optim/sgd.js';
import { Adam, AdamW } from '../../../src/optim/adam.js';

const available = await gpuAvailable();

interface Run {
  out: Float32Array;
  grads: (Float32Array | null)[];
}

type Init = 'normal' | 'positive' | 'awayFromZero';

function values(n: number, seed: number, init: Init): Float32Array {
  const g = new Generator(seed);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const z = g.normal();
    d[i] = init === 'normal' ? z : init === 'positive' ? 0.5 + 1.5 * g.uniform() : Math.sign(z || 1) * (0.5 + Math.abs(z));
  }
  return d;
}

/** Runs f on fresh float32 leaves, backpropagates Σ y ⊙ w for a seeded w, returns values and grads. */
async function runOn(backend: 'cpu' | 'gpu', shapes: number[][], seed: number, f: (xs: Tensor[]) => Tensor, init: Init = 'normal', grad = true): Promise<Run> {
  await initBackend(backend);
  const xs = shapes.map(
    (s, i) =>
      new Tensor(
        values(
          s.reduce((a, b) => a * b, 1),
          seed + 17 * i,
          init,
        ),
        s,
        grad,
      ),
  );
  const y = f(xs);
  const out = y.data.slice() as Float32Array;
  if (grad) {
    const w = new Tensor(values(y.size, seed + 999, 'normal'), y.shape);
    y.mul(w).sum().backward();
  }
  return { out, grads: xs.map((x) => (x.grad ? (x.grad.data.slice() as Float32Array) : null)) };
}

function close(gpu: Float32Array, cpu: Float32Array, what: string, rtol = 1e-4, atol = 1e-4): void {
  expect(gpu.length, `${what}: length`).toBe(cpu.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < cpu.length; i++) {
    const err = Math.abs(gpu[i] - cpu[i]) - (atol + rtol * Math.abs(cpu[i]));
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Infinity : err;
      at = i;
    }
  }
  if (at >= 0) expect.fail(`${what}: element ${at}: gpu ${gpu[at]} vs cpu ${cpu[at]}`);
}

async function same(
  shapes: number[][],
  seed: number,
  f: (xs: Tensor[]) => Tensor,
  options: { init?: Init; grad?: boolean; rtol?: number; atol?: number } = {},
): Promise<void> {
  const cpu = await runOn('cpu', shapes, seed, f, options.init, options.grad ?? true);
  const gpu = await runOn('gpu', shapes, seed, f, options.init, options.grad ?? true);
  await initBackend('cpu');
  close(gpu.out, cpu.out, 'forward', options.rtol, options.atol);
  cpu.grads.forEach((g, i) => {
    if (g === null) expect(gpu.grads[i]).toBeNull();
    else close(gpu.grads[i]!, g, `gradient of input ${i}`, options.rtol, options.atol);
  });
}

const shape = (maxRank = 4, maxDim = 5) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank });
const seed = fc.integer({ min: 0, max: 1 << 20 });

if (available) {
  afterAll(async () => {
    await initBackend('cpu');
  });

  describe('GPU backend (gpu.js) against the CPU backend', () => {
    it('runs in a real GL mode, not a silent fallback', async () => {
      const choice = await initBackend('gpu');
      expect(choice.backend).toBe('gpu');
      expect(['headlessgl', 'webgl2', 'webgl']).toContain(choice.mode);
      expect(getDevice()!.mode).toBe(choice.mode);
      await initBackend('cpu');
    });

    const unaries: [string, (x: Tensor) => Tensor, Init][] = [
      ['relu', (x) => x.relu(), 'normal'],
      ['exp', (x) => x.exp(), 'normal'],
      ['log', (x) => x.log(), 'positive'],
      ['sqrt', (x) => x.sqrt(), 'positive'],
      ['tanh', (x) => x.tanh(), 'normal'],
      ['sigmoid', (x) => x.sigmoid(), 'normal'],
      ['gelu', (x) => x.gelu(), 'normal'],
      ['abs', (x) => x.abs(), 'awayFromZero'],
      ['neg', (x) => x.neg(), 'normal'],
      ['square', (x) => x.square(), 'normal'],
      ['reciprocal', (x) => x.pow(-1), 'awayFromZero'],
    ];
    for (const [name, f, init] of unaries) {
      it(`unary ${name}`, async () => {
        await fc.assert(
          fc.asyncProperty(shape(), seed, async (s, sd) => same([s], sd, ([x]) => f(x), { init, rtol: 2e-4 })),
          fcOptions(6),
        );
      });
    }

    const binaries: [string, (a: Tensor, b: Tensor) => Tensor, Init][] = [
      ['add', (a, b) => a.add(b), 'normal'],
      ['sub', (a, b) => a.sub(b), 'normal'],
      ['mul', (a, b) => a.mul(b), 'normal'],
      ['div', (a, b) => a.div(b), 'awayFromZero'],
      ['pow', (a, b) => a.pow(b), 'positive'],
      ['maximum', (a, b) => a.maximum(b), 'normal'],
      ['minimum', (a, b) => a.minimum(b), 'normal'],
    ];
    for (const [name, f, init] of binaries) {
      it(`broadcasting ${name}`, async () => {
        await fc.assert(
          fc.asyncProperty(arbBroadcastPair(4, 5), seed, async ([sa, sb], sd) => same([sa, sb], sd, ([a, b]) => f(a, b), { init, rtol: 2e-4 })),
          fcOptions(6),
        );
      });
    }

    it('clamp (its masks are comparisons)', async () => {
      await fc.assert(
        fc.asyncProperty(shape(), seed, async (s, sd) => same([s], sd, ([x]) => x.clamp(-0.5, 0.7))),
        fcOptions(6),
      );
    });

    it('comparisons (no gradient)', async () => {
      await fc.assert(
        fc.asyncProperty(arbBroadcastPair(3, 4), seed, async ([sa, sb], sd) => {
          for (const op of ['gt', 'ge', 'lt', 'le', 'eq'] as const) await same([sa, sb], sd, ([a, b]) => rawBinary(op, a, b, op), { grad: false });
        }),
        fcOptions(4),
      );
    });

    it('sum, mean, max, min over axes, keepdim', async () => {
      await fc.assert(
        fc.asyncProperty(shape(4, 5), seed, fc.boolean(), fc.nat(), async (s, sd, keep, pick) => {
          const axis = pick % s.length;
          await same([s], sd, ([x]) => x.sum(axis, keep));
          await same([s], sd, ([x]) => x.mean(undefined, keep));
          await same([s], sd, ([x]) => x.max(axis, keep));
          await same([s], sd, ([x]) => x.min([axis], keep));
        }),
        fcOptions(6),
      );
    });

    it('reductions whose inner dimension exceeds 1,000 (gpu.js stops argument-bounded loops there)', async () => {
      // 1,152 = a 3×3 conv over 128 channels; 5,000 runs far past the cap.
      for (const n of [1152, 5000]) {
        await same([[3, n]], n, ([x]) => x.sum(1), { rtol: 1e-3, atol: 1e-3 });
        await same([[3, n]], n, ([x]) => x.max(1));
        await same(
          [
            [4, n],
            [n, 3],
          ],
          n,
          ([a, b]) => a.matmul(b),
          { rtol: 1e-3, atol: 1e-3 },
        );
      }
    });

    it('sizes above one texture tile (100,003 elements; a 200×300 product)', async () => {
      await same([[100_003]], 5, ([x]) => x.tanh().mul(2));
      await same(
        [
          [200, 37],
          [37, 300],
        ],
        6,
        ([a, b]) => a.matmul(b),
        { rtol: 1e-3 },
      );
    });

    it('permute, transpose, reshape, broadcastTo', async () => {
      await fc.assert(
        fc.asyncProperty(shape(4, 4), seed, async (s, sd) => {
          const perm = s.map((_, i) => i).reverse();
          await same([s], sd, ([x]) => x.permute(perm).mul(1));
          await same([s], sd, ([x]) => x.reshape([-1]).mul(1));
          await same([s], sd, ([x]) => x.unsqueeze(0).broadcastTo([3, ...s]));
        }),
        fcOptions(6),
      );
    });

    it('matmul (batched, broadcast, vectors) and linear', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 1, max: 3 }),
          seed,
          async (m, k, n, b, sd) => {
            await same(
              [
                [m, k],
                [k, n],
              ],
              sd,
              ([x, y]) => x.matmul(y),
            );
            await same(
              [
                [b, m, k],
                [b, k, n],
              ],
              sd,
              ([x, y]) => x.matmul(y),
            );
            await same(
              [
                [b, m, k],
                [k, n],
              ],
              sd,
              ([x, y]) => x.matmul(y),
            );
            await same([[k], [k, n]], sd, ([x, y]) => x.matmul(y));
            await same([[b, m, k], [n, k], [n]], sd, ([x, w, c]) => F.linear(x, w, c));
          },
        ),
        fcOptions(6),
      );
    });

    it('conv2d: stride, padding, dilation, odd sizes, with and without bias', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            n: fc.integer({ min: 1, max: 3 }),
            c: fc.integer({ min: 1, max: 3 }),
            oc: fc.integer({ min: 1, max: 4 }),
            h: fc.integer({ min: 3, max: 9 }),
            w: fc.integer({ min: 3, max: 9 }),
            k: fc.integer({ min: 1, max: 3 }),
            stride: fc.integer({ min: 1, max: 2 }),
            pad: fc.integer({ min: 0, max: 1 }),
            dil: fc.integer({ min: 1, max: 2 }),
            bias: fc.boolean(),
          }),
          seed,
          async (g, sd) => {
            if ((g.k - 1) * g.dil + 1 > Math.min(g.h, g.w) + 2 * g.pad) return;
            const shapes = [[g.n, g.c, g.h, g.w], [g.oc, g.c, g.k, g.k], ...(g.bias ? [[g.oc]] : [])];
            await same(shapes, sd, ([x, w, b]) => F.conv2d(x, w, b ?? null, { stride: g.stride, padding: g.pad, dilation: g.dil }), { rtol: 3e-4 });
          },
        ),
        fcOptions(10),
      );
    });

    it('maxPool2d and avgPool2d (padding, countIncludePad both ways)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 2 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 4, max: 9 }),
          fc.integer({ min: 2, max: 3 }),
          fc.integer({ min: 1, max: 2 }),
          fc.integer({ min: 0, max: 1 }),
          fc.boolean(),
          seed,
          async (n, c, h, k, stride, pad, include, sd) => {
            await same([[n, c, h, h + 1]], sd, ([x]) => F.maxPool2d(x, k, { stride, padding: pad }));
            await same([[n, c, h, h + 1]], sd, ([x]) => F.avgPool2d(x, k, { stride, padding: pad, countIncludePad: include }));
          },
        ),
        fcOptions(8),
      );
    });

    it('optimizer steps on device buffers: SGD (momentum, Nesterov, weight decay) and Adam/AdamW', async () => {
      const configs: [string, (ps: Parameter[]) => Optimizer][] = [
        ['SGD', (ps) => new SGD(ps, { lr: 0.1 })],
        ['SGD momentum + weight decay', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, weightDecay: 1e-2 })],
        ['SGD Nesterov', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true })],
        ['Adam (coupled weight decay)', (ps) => new Adam(ps, { lr: 0.01, weightDecay: 1e-2 })],
        ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
      ];
      for (const [name, make] of configs) {
        const finals: Float32Array[] = [];
        for (const backend of ['cpu', 'gpu'] as const) {
          await initBackend(backend);
          const p = new Parameter(new Tensor(values(37 * 5, 11, 'normal'), [37, 5]));
          const w = new Tensor(values(37 * 5, 12, 'normal'), [37, 5]);
          const opt = make([p]);
          for (let step = 0; step < 4; step++) {
            opt.zeroGrad();
            p.mul(w).sum().add(p.square().sum().mul(0.1)).backward();
            opt.step();
          }
          // The update itself ran on the device: the parameter's values live only there until read.
          expect(p.storage.deviceOnly, `${name} on ${backend}`).toBe(backend === 'gpu');
          finals.push(p.data.slice() as Float32Array);
        }
        await initBackend('cpu');
        close(finals[1], finals[0], name, 1e-5, 1e-5);
      }
    });

    it('grouped conv2d runs on the device too (one batched GEMM over the groups)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 2, max: 3 }),
          fc.integer({ min: 1, max: 2 }),
          fc.integer({ min: 1, max: 2 }),
          fc.boolean(),
          seed,
          async (groups, cg, ocg, bias, sd) => {
            const shapes = [[2, groups * cg, 6, 5], [groups * ocg, cg, 3, 3], ...(bias ? [[groups * ocg]] : [])];
            await same(shapes, sd, ([x, w, b]) => F.conv2d(x, w, b ?? null, { padding: 1, groups }), { rtol: 3e-4 });
          },
        ),
        fcOptions(4),
      );
    });

    it('cumsum, the worked example of docs/design.md §3.6, on its device kernel', async () => {
      await fc.assert(
        fc.asyncProperty(shape(3, 5), fc.nat(), seed, async (s, axisSeed, sd) => {
          await same([s], sd, ([x]) => cumsum(x, axisSeed % s.length));
        }),
        fcOptions(6),
      );
    });

    it('a LeNet-5 training step runs every kernel on the device (the kernel report shows no fallback)', async () => {
      await initBackend('gpu');
      try {
        const model = lenet5({ generator: new Generator(3) });
        const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
        const x = new Tensor(values(4 * 784, 5, 'normal'), [4, 1, 28, 28]);
        resetKernelReport();
        tidy(() => {
          opt.zeroGrad();
          F.crossEntropy(model.forward(x), [1, 2, 3, 4]).backward();
          opt.step();
        });
        const report = kernelReport();
        expect(report.length).toBeGreaterThan(5);
        expect(report.filter((r) => r.host > 0).map((r) => `${r.kernel}: ${JSON.stringify(r.fallbacks)}`)).toEqual([]);
      } finally {
        await initBackend('cpu');
      }
    });

    it('softmax, logSoftmax and crossEntropy', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 12 }), seed, async (n, c, sd) => {
          const labels = Array.from({ length: n }, (_, i) => (i * 7 + sd) % c);
          await same([[n, c]], sd, ([x]) => F.softmax(x, 1));
          await same([[n, c]], sd, ([x]) => F.logSoftmax(x, 1));
          await same([[n, c]], sd, ([x]) => F.crossEntropy(x, labels));
        }),
        fcOptions(6),
      );
    });
  });
} else {
  describe('GPU backend where gpu.js has no GL context', () => {
    it("'auto' falls back to the CPU and says why; 'gpu' fails with a clear error", async () => {
      const choice = await initBackend('auto');
      expect(choice.backend).toBe('cpu');
      expect(choice.reason).toMatch(/no GL context/);
      await expect(initBackend('gpu')).rejects.toThrow(/no GL context/);
    });
  });
}
