/**
 * What the scale bench (bench/scale.ts) trains on: the VGG-style network whose cost is in 3×3
 * convolutions, and the data split (Fashion-MNIST from Debian's files, or CIFAR-10 binary batches a
 * user has). Parent and child processes of the bench both import it, so a run's setup is one code path.
 */
import { cifar10FileNames, loadCifar10 } from '../src/data/cifar10.js';
import { subset, take, type Dataset } from '../src/data/dataset.js';
import { loadFashionMnistSplit } from '../src/data/fashion-mnist.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../src/nn/layers.js';
import { Generator } from '../src/tensor/random.js';

export const SCALE_DATASETS = ['fashion-mnist', 'cifar10'] as const;
export type ScaleDataset = (typeof SCALE_DATASETS)[number];

/** Image shape [C, H, W] of each dataset. */
export const INPUT_SHAPES: Record<ScaleDataset, readonly [number, number, number]> = { 'fashion-mnist': [1, 28, 28], cifar10: [3, 32, 32] };

/**
 * VGG-style: three stages of two 3×3 convs (padding 1, no bias) each followed by BatchNorm and ReLU,
 * widths w, 2w, 4w; 2×2 max-pool after stages 1 and 2; global average pool; one linear layer to the
 * classes. Unlike nn.smallVgg (one conv in its last stage, one input channel) it has two convs per
 * stage and takes any input channel count, so that CIFAR-10 runs the same net.
 */
export function vggNet(options: { width: number; inChannels: number; numClasses?: number; generator: Generator }): Sequential {
  const { width: w, inChannels, numClasses = 10, generator } = options;
  if (!Number.isInteger(w) || w < 1) throw new Error(`vggNet: width must be a positive integer, got ${w}`);
  if (!Number.isInteger(inChannels) || inChannels < 1) throw new Error(`vggNet: inChannels must be a positive integer, got ${inChannels}`);
  if (!(generator instanceof Generator)) throw new Error('vggNet: generator must be a Generator (every run is seeded)');
  const block = (cin: number, cout: number) => [new Conv2d(cin, cout, 3, { padding: 1, bias: false, generator }), new BatchNorm2d(cout), new ReLU()];
  return new Sequential(
    ...block(inChannels, w),
    ...block(w, w),
    new MaxPool2d(2),
    ...block(w, 2 * w),
    ...block(2 * w, 2 * w),
    new MaxPool2d(2),
    ...block(2 * w, 4 * w),
    ...block(4 * w, 4 * w),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(4 * w, numClasses, { generator }),
  );
}

/** The architecture in words, for the report. */
export function describeVgg(width: number, input: readonly number[]): string {
  const [c, h] = input;
  const w = width;
  return (
    `conv1 ${c}→${w}, conv2 ${w}→${w} (${h}×${h}), max-pool; conv3 ${w}→${2 * w}, conv4 ${2 * w}→${2 * w} (${h >> 1}×${h >> 1}), max-pool; ` +
    `conv5 ${2 * w}→${4 * w}, conv6 ${4 * w}→${4 * w} (${h >> 2}×${h >> 2}); every conv 3×3, padding 1, no bias, then BatchNorm and ReLU; global average pool; linear ${4 * w}→10`
  );
}

/** Sequential index → conv1..conv6 (the names the report and the rank plots use). */
export function convNames(model: Sequential): Record<string, string> {
  const out: Record<string, string> = {};
  let k = 0;
  model.layers.forEach((layer, i) => {
    if (layer instanceof Conv2d) out[String(i)] = `conv${++k}`;
  });
  return out;
}

export interface DataSpec {
  data: ScaleDataset;
  /** The dataset's folder (Fashion-MNIST: Debian's by default; CIFAR-10: required). */
  dir?: string;
  /** Training images, from the training split minus the validation images; 'all' for every one. */
  trainSize: number | 'all';
  valSize: number;
  testSize: number;
}

export interface ScaleData {
  train: Dataset;
  val: Dataset;
  test: Dataset;
}

/**
 * Validation: the last valSize images of the training split (no method trains on them); training:
 * a fixed seeded subset of the rest; test: the first testSize images of the test split.
 */
export function scaleData(spec: DataSpec): ScaleData {
  const fn = 'scaleData';
  if (!(SCALE_DATASETS as readonly string[]).includes(spec.data))
    throw new Error(`${fn}: data must be one of ${SCALE_DATASETS.join(', ')}, got '${spec.data}'`);
  let load: (split: 'train' | 'test') => Dataset;
  if (spec.data === 'cifar10') {
    const dir = spec.dir;
    if (!dir) throw new Error(`${fn}: CIFAR-10 needs dir, the folder with ${cifar10FileNames('train').join(', ')} and test_batch.bin`);
    load = (split) => loadCifar10(dir, { split });
  } else {
    load = (split) => loadFashionMnistSplit(split, { dir: spec.dir });
  }
  const all = load('train');
  const n = all.labels.length;
  if (!(Number.isInteger(spec.valSize) && spec.valSize > 0 && spec.valSize < n))
    throw new Error(`${fn}: valSize must be an integer in (0, ${n}), got ${spec.valSize}`);
  const pool = n - spec.valSize;
  const size = spec.trainSize === 'all' ? pool : spec.trainSize;
  if (!Number.isInteger(size) || size < 1 || size > pool)
    throw new Error(`${fn}: trainSize must be an integer in [1, ${pool}] or 'all', got ${spec.trainSize}`);
  const order = Int32Array.from({ length: pool }, (_, i) => i);
  const g = new Generator(20261206);
  for (let i = pool - 1; i > 0; i--) {
    const j = Math.floor(g.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const testAll = load('test');
  if (!(Number.isInteger(spec.testSize) && spec.testSize >= 1 && spec.testSize <= testAll.labels.length))
    throw new Error(`${fn}: testSize must be an integer in [1, ${testAll.labels.length}], got ${spec.testSize}`);
  return {
    train: subset(all, order.subarray(0, size)),
    val: subset(
      all,
      Int32Array.from({ length: spec.valSize }, (_, i) => pool + i),
    ),
    test: take(testAll, spec.testSize),
  };
}
