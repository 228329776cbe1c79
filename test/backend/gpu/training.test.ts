/**
 * Training on the GPU backend: device memory stays flat over a long loop, and LeNet-5 learns the
 * same as on the CPU from the same initialisation and batches.
 */
import { describe, expect, it } from 'vitest';
import { getDevice, initBackend } from '../../../src/backend/index.js';
import { tidy } from '../../../src/tensor/storage.js';
import { manualSeed } from '../../../src/tensor/random.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import * as nn from '../../../src/nn/index.js';
import { SGD } from '../../../src/optim/sgd.js';
import { sgdStep } from '../../../src/optim/model-step.js';
import { countCorrect } from '../../../src/train/fit.js';
import { loadMnistEmbedded } from '../../../src/data/mnist-embedded.js';
import { DataLoader } from '../../../src/data/loader.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { gpuAvailable } from './support.js';
import { createMethod } from '../../../src/lowrank/methods/registry.js';
import { TuckerLayer } from '../../../src/lowrank/tucker-layer.js';
import { Generator } from '../../../src/tensor/random.js';

const available = await gpuAvailable();

function smallNet(): nn.Module {
  return new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(4 * 3 * 3, 10));
}

if (available) {
  describe('training on the GPU backend', () => {
    it('keeps device memory flat over a 1,000-step loop (no texture or kernel leaks)', async () => {
      await initBackend('gpu');
      try {
        manualSeed(1);
        const model = smallNet();
        const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
        const x = new Tensor(
          Float32Array.from({ length: 8 * 64 }, (_, i) => Math.sin(i)),
          [8, 1, 8, 8],
        );
        const y = Int32Array.from({ length: 8 }, (_, i) => i % 10);
        const device = getDevice()!;
        const seen: { live: number; kernels: number; rss: number }[] = [];
        let first = Infinity;
        let last = 0;
        for (let step = 1; step <= 1000; step++) {
          const loss = tidy(() => sgdStep(model, opt, x, y).loss);
          if (step === 1) first = loss;
          last = loss;
          if (step === 50 || step === 1000)
            seen.push({
              live: device.liveBuffers(),
              kernels: (device as unknown as { compiledKernels(): number }).compiledKernels(),
              rss: process.memoryUsage().rss,
            });
        }
        // Parameters, their gradients and momentum buffers: 3 per parameter tensor.
        expect(seen[0].live).toBe(3 * model.parameters().length);
        expect(seen[1].live).toBe(seen[0].live);
        expect(seen[1].kernels).toBe(seen[0].kernels);
        expect(seen[1].rss - seen[0].rss).toBeLessThan(150e6);
        expect(last).toBeLessThan(first * 0.5);
      } finally {
        await initBackend('cpu');
      }
    });

    it('trains LeNet-5 on the embedded MNIST like the CPU backend does (same init, same batches)', async () => {
      const steps = 30;
      const { train, test } = loadMnistEmbedded({ seed: 0 });
      const run = async (backend: 'cpu' | 'gpu') => {
        await initBackend(backend);
        manualSeed(0);
        const model = nn.lenet5();
        const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
        const losses: number[] = [];
        for (const b of new DataLoader(train, { batchSize: 64, shuffle: true, seed: 0 })) {
          losses.push(tidy(() => sgdStep(model, opt, b.x, b.y).loss));
          if (losses.length === steps) break;
        }
        let correct = 0;
        let count = 0;
        model.eval();
        noGrad(() => {
          for (const b of new DataLoader(test, { batchSize: 250 })) {
            correct += tidy(() => countCorrect(model.forward(b.x), b.y));
            count += b.y.length;
            if (count >= 1000) break;
          }
        });
        await initBackend('cpu');
        return { losses, accuracy: correct / count };
      };
      const cpu = await run('cpu');
      const gpu = await run('gpu');
      console.log(
        `LeNet-5, ${steps} steps: loss ${cpu.losses[0].toFixed(3)} → cpu ${cpu.losses[steps - 1].toFixed(4)} / gpu ${gpu.losses[steps - 1].toFixed(4)}; test accuracy cpu ${(100 * cpu.accuracy).toFixed(2)}%, gpu ${(100 * gpu.accuracy).toFixed(2)}%`,
      );
      // float32 on both sides, summed in different orders: the trajectories agree closely.
      for (let i = 0; i < steps; i++) expect(Math.abs(gpu.losses[i] - cpu.losses[i]), `loss at step ${i + 1}`).toBeLessThan(0.02 + 0.02 * cpu.losses[i]);
      expect(cpu.accuracy).toBeGreaterThan(0.7);
      expect(Math.abs(gpu.accuracy - cpu.accuracy)).toBeLessThan(0.02);
      // Mesa's software rasteriser takes 1–2 minutes for this on 2 cores, more on a loaded machine.
    }, 300_000);

    it('runs the TDLRT integrator on GPU tensors: same losses and ranks as the CPU, memory flat', async () => {
      const { train } = loadMnistEmbedded({ seed: 0 });
      const run = async (backend: 'cpu' | 'gpu') => {
        await initBackend(backend);
        manualSeed(0);
        const loader = new DataLoader(train, { batchSize: 32, shuffle: true, seed: 0 });
        const method = createMethod('tdlrt', { lr: 0.02, tau: 0.1, maxRank: 64, momentum: 0.9, weightDecay: 5e-4, warmupEpochs: 4 / loader.length });
        const model = method.setup(nn.lenet5({ generator: new Generator(1) }), { stepsPerEpoch: loader.length, epochs: 1, generator: new Generator(2) });
        const losses: number[] = [];
        const live: number[] = [];
        for (const b of loader) {
          losses.push(tidy(() => method.step(b.x, b.y).loss));
          live.push(getDevice()?.liveBuffers() ?? 0);
          if (losses.length === 12) break;
        }
        const ranks = model
          .modules()
          .filter((m): m is TuckerLayer => m instanceof TuckerLayer)
          .map((m) => m.ranks.join('×'));
        await initBackend('cpu');
        return { losses, live, ranks };
      };
      const cpu = await run('cpu');
      const gpu = await run('gpu');
      for (let i = 0; i < cpu.losses.length; i++)
        expect(Math.abs(gpu.losses[i] - cpu.losses[i]), `loss at step ${i + 1}`).toBeLessThan(0.01 + 0.01 * cpu.losses[i]);
      expect(gpu.ranks).toEqual(cpu.ranks);
      expect(gpu.live[gpu.live.length - 1]).toBe(gpu.live[6]);
    });
  });
} else {
  describe('training where gpu.js has no GL context', () => {
    it("asking for 'auto' trains on the CPU backend and says so", async () => {
      const choice = await initBackend('auto');
      expect(choice).toMatchObject({ backend: 'cpu', mode: 'cpu' });
      expect(getDevice()).toBeUndefined();
    });
  });
}
