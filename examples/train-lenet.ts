/**
 * Trains the full LeNet-5 on the 10,000 embedded MNIST digits (8,000 train / 2,000 test), with the
 * demo's settings: batch 64, SGD momentum 0.9, weight decay 5e-4, lr cosine-annealed per epoch
 * (optim.CosineAnnealingLR over the epochs; --schedule constant keeps --lr throughout).
 * Run: npx tsx examples/train-lenet.ts [--epochs 5] [--lr 0.05] [--schedule cosine|constant] [--seed 0]
 */
import { data, getBackend, initBackend, manualSeed, nn, optim, train } from '../src/index.js';

// TUCKERGRAD_BACKEND=gpu (or auto) trains on gpu.js (in Node under `xvfb-run -a` on Linux).
await initBackend();
console.log(`backend: ${getBackend().name}`);

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new Error(`--${name} needs a value`);
  return v;
};
const arg = (name: string, def: number): number => {
  const v = value(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${v}'`);
  return n;
};
const epochs = arg('epochs', 5);
const seed = arg('seed', 0);
const schedule = value('schedule') ?? 'cosine';
if (schedule !== 'cosine' && schedule !== 'constant') throw new Error(`--schedule must be 'cosine' or 'constant', got '${schedule}'`);
manualSeed(seed);
const { train: trainSet, test: testSet } = data.loadMnistEmbedded({ seed });
const loader = new data.DataLoader(trainSet, { batchSize: 64, shuffle: true, seed });
const testLoader = new data.DataLoader(testSet, { batchSize: 500 });
const model = nn.lenet5();
console.log(nn.summary(model, [1, 28, 28]).table);
const optimizer = new optim.SGD(model.parameters(), { lr: arg('lr', 0.05), momentum: 0.9, weightDecay: 5e-4 });
const scheduler = schedule === 'cosine' ? new optim.CosineAnnealingLR(optimizer, epochs) : undefined;
const records = train.fit(model, loader, { epochs, optimizer, scheduler, testLoader, logFile: 'runs/lenet/log.jsonl' });
const last = records[records.length - 1];
console.log(`final test accuracy ${(100 * (last.testAccuracy ?? 0)).toFixed(2)}% after ${epochs} epochs`);
