/**
 * The CPU backend against the GPU backend (gpu.js) in one run, float32: GEMM n = 128…512, the
 * LeNet conv stack (conv 1→20 5×5, relu, maxpool 2, conv 20→50 5×5, relu, maxpool 2; batch 32)
 * forward and forward+backward, and a LeNet-5 training step (batch 64, SGD momentum). Prints which
 * gpu.js mode ran and a table of times and GPU/CPU ratios; writes bench/results/backends.md.
 *
 * Every GPU timing ends in a read-back of the result (GEMM, conv forward) or of the loss (training
 * step), since gpu.js queues GL work and only a read-back waits for it; inputs and parameters stay
 * on the device between repetitions, as in training. Times are the best of several runs after
 * warm-up (the first call of each shape also compiles its kernels).
 *
 * In Node, gpu.js reaches a GPU through headless-gl, which needs an X display: run under
 * `xvfb-run -a` on Linux (Mesa's llvmpipe: a software rasteriser on the CPU cores, so expect the
 * "GPU" to lose there) or on a desktop session with the vendor's GL driver for a real GPU.
 * Run: npx tsx bench/backends.ts [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/index.js';
import { manualSeed, nn, optim, randn, tidy, type Tensor } from '../src/index.js';
import { crossEntropy } from '../src/ops/loss.js';
import { sgdStep } from '../src/optim/model-step.js';
import { bestMs } from './timing.js';

const quick = process.argv.includes('--quick');
const here = path.dirname(fileURLToPath(import.meta.url));

interface Row {
  name: string;
  cpu: number;
  gpu: number;
  unit: string;
}

/** Builds the workload once per backend (so its tensors live there), then times it. */
async function measure(name: string, build: () => () => void, unit = 'ms'): Promise<Row> {
  const times: Record<'cpu' | 'gpu', number> = { cpu: NaN, gpu: NaN };
  for (const backend of ['cpu', 'gpu'] as const) {
    await initBackend(backend);
    manualSeed(0);
    const run = build();
    times[backend] = bestMs(() => tidy(run), { reps: quick ? 3 : 6, budgetMs: 8000 });
  }
  await initBackend('cpu');
  const row = { name, cpu: times.cpu, gpu: times.gpu, unit };
  console.log(
    `${name.padEnd(40)} cpu ${row.cpu.toFixed(2).padStart(9)} ms   gpu ${row.gpu.toFixed(2).padStart(9)} ms   gpu/cpu ${(row.gpu / row.cpu).toFixed(2)}×`,
  );
  return row;
}

function convStack(): nn.Module {
  return new nn.Sequential(new nn.Conv2d(1, 20, 5), new nn.MaxPool2d(2), new nn.ReLU(), new nn.Conv2d(20, 50, 5), new nn.MaxPool2d(2), new nn.ReLU());
}

const choice = await initBackend('gpu').catch((e: Error) => {
  console.error(`bench/backends: ${e.message}`);
  process.exit(2);
});
const mode = choice.mode;
console.log(`gpu.js mode: ${mode}; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})`);
await initBackend('cpu');

const rows: Row[] = [];
for (const n of quick ? [128, 256] : [128, 256, 512]) {
  rows.push(
    await measure(`GEMM ${n}×${n}×${n} (with read-back)`, () => {
      const a = randn([n, n]);
      const b = randn([n, n]);
      return () => void a.matmul(b).data;
    }),
  );
}
rows.push(
  await measure('LeNet conv stack forward, batch 32', () => {
    const m = convStack();
    const x = randn([32, 1, 28, 28]);
    return () => void m.forward(x).data;
  }),
);
rows.push(
  await measure('LeNet conv stack forward+backward, batch 32', () => {
    const m = convStack();
    const x = randn([32, 1, 28, 28]);
    return () => {
      m.zeroGrad();
      const y = m.forward(x);
      y.sum().backward();
      void (m.parameters()[0].grad as Tensor).data[0];
    };
  }),
);
rows.push(
  await measure('LeNet-5 training step, batch 64', () => {
    const m = nn.lenet5();
    const opt = new optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = randn([64, 1, 28, 28]);
    const y = Int32Array.from({ length: 64 }, (_, i) => i % 10);
    return () => void sgdStep(m, opt, x, y, crossEntropy).loss;
  }),
);

const lines = [
  '# CPU backend against GPU backend (gpu.js)',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} by \`npx tsx bench/backends.ts${quick ? ' --quick' : ''}\` on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}; gpu.js ran in **${mode}** mode. Float32, best of several runs, GPU times include the read-back that waits for the GL work.`,
  '',
  '| workload | CPU backend (ms) | GPU backend (ms) | GPU / CPU |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${r.cpu.toFixed(2)} | ${r.gpu.toFixed(2)} | ${(r.gpu / r.cpu).toFixed(2)}× |`),
  '',
];
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'backends.md'), lines.join('\n'));
console.log(`wrote bench/results/backends.md`);
