/** `tuckergrad eval`: test accuracy and loss of a checkpoint on a dataset. */
import { DataLoader } from '../data/loader.js';
import { loadCheckpoint, restoreModel, type LoadedCheckpoint } from '../train/checkpoint.js';
import type { Module } from '../nn/module.js';
import { evaluate } from '../train/fit.js';
import type { CommandSpec, OptionSpecs, Parsed } from './args.js';
import {
  BACKENDS,
  checkModelFits,
  CliError,
  DATA_OPTIONS,
  datasetSpecFrom,
  describeDataset,
  loadDataset,
  pct,
  useBackend,
  type CliIO,
  type DatasetSpec,
} from './common.js';

export const EVAL_OPTIONS = {
  ...DATA_OPTIONS,
  split: { type: 'string', choices: ['test', 'train'], default: 'test', description: 'Which split to evaluate.' },
  batch: { type: 'int', min: 1, default: 500, description: 'Batch size.' },
  backend: {
    type: 'string',
    choices: BACKENDS,
    description:
      'Kernels to run on: cpu, gpu (gpu.js; in Node it needs an X display, e.g. xvfb-run) or auto (the GPU where it works). Default: TUCKERGRAD_BACKEND, else cpu.',
  },
  json: { type: 'boolean', description: 'Print one JSON object instead of text.' },
} as const satisfies OptionSpecs;

export const EVAL_SPEC: CommandSpec<typeof EVAL_OPTIONS> = {
  name: 'eval',
  summary: 'Evaluate a checkpoint (a training checkpoint or a final/compressed model) on a dataset.',
  description: 'The dataset defaults to the one the checkpoint was trained on (recorded in its metadata).',
  positionals: [{ name: 'checkpoint', description: 'A .safetensors file written by train or compress.', required: true }],
  options: EVAL_OPTIONS,
  examples: [
    'tuckergrad eval runs/tdlrt/model.safetensors',
    'tuckergrad eval runs/full/model.safetensors --dataset fashion-mnist --test-size 1000 --json',
    'tuckergrad eval runs/tdlrt/checkpoint.safetensors --split train',
  ],
};

/**
 * Reads a checkpoint and rebuilds its model; every failure becomes a CliError naming the file. A plain
 * safetensors file (a state dict from another tool) is read too, with a warning on stderr that it
 * carries no checksum: a warning, not progress, so --quiet does not hide it.
 */
export function openCheckpoint(path: string, io: CliIO): { ckpt: LoadedCheckpoint; model: Module } {
  let ckpt: LoadedCheckpoint;
  try {
    ckpt = loadCheckpoint(path, { allowPlain: true });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (!ckpt.verified) {
    const m = ckpt.modelSpec;
    io.stderr.write(
      `warning: ${path} is a plain safetensors file without tuckergrad metadata: it carries no checksum, so a damaged or altered weight cannot be detected. ` +
        `Read as the state dict of model '${m.builder}' (${m.numClasses} classes, ${m.dtype}).\n`,
    );
  }
  try {
    return { ckpt, model: restoreModel(ckpt) };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** The dataset a checkpoint was trained on, if it records one. */
export function savedDataset(ckpt: LoadedCheckpoint): DatasetSpec | undefined {
  const run = ckpt.sections.run as { dataset?: DatasetSpec } | undefined;
  return run?.dataset && typeof run.dataset.name === 'string' ? run.dataset : undefined;
}

export async function runEval(parsed: Parsed<typeof EVAL_OPTIONS>, io: CliIO): Promise<number> {
  const o = parsed.options;
  const backend = await useBackend(o.backend, io);
  const path = parsed.positionals[0];
  const { ckpt, model } = openCheckpoint(path, io);
  // The backend the model was trained on, when the checkpoint records it: results on another may differ in the last digits.
  const trainedOn = typeof ckpt.sections.backend === 'string' ? ckpt.sections.backend : undefined;
  const spec = datasetSpecFrom(o, savedDataset(ckpt), 'eval');
  const data = loadDataset(spec, { train: o.split === 'train' });
  const set = o.split === 'train' ? data.train : data.test;
  if (!set) throw new CliError('no data to evaluate');
  checkModelFits(ckpt.modelSpec, set);
  const t0 = performance.now();
  const ev = evaluate(model, new DataLoader(set, { batchSize: o.batch }));
  const seconds = (performance.now() - t0) / 1000;
  const params = model.parameters().reduce((n, p) => n + p.size, 0);
  if (o.json) {
    io.stdout.write(
      JSON.stringify({
        checkpoint: path,
        dataset: spec,
        split: o.split,
        accuracy: ev.accuracy,
        loss: ev.loss,
        count: ev.count,
        params,
        backend,
        trainedOn,
        ranks: ckpt.ranks,
        seconds,
      }) + '\n',
    );
  } else {
    const ranks = Object.entries(ckpt.ranks)
      .map(([n, r]) => `${n} ${r.join('×')}`)
      .join(', ');
    io.stdout.write(
      `${path}: ${ckpt.modelSpec.builder}${ckpt.method ? ` / ${ckpt.method.name}` : ''}, ${params} parameters${ranks ? ` (ranks: ${ranks})` : ''}` +
        `${trainedOn ? `, trained on the ${trainedOn} backend` : ''}\n` +
        `${describeDataset(spec)} ${o.split} split, ${ev.count} images: accuracy ${pct(ev.accuracy)}, loss ${ev.loss.toFixed(4)} (${seconds.toFixed(1)} s)\n`,
    );
  }
  return 0;
}
