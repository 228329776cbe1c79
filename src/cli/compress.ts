/**
 * `tuckergrad compress`: compress after training. The full Conv2d/Linear layers of a trained
 * checkpoint are replaced by a truncated HOSVD (Tucker-2 on the channel modes of a conv, or an
 * SVD of the kernel lowered to out × in·kh·kw) / SVD (Linear) at given ranks, a rank ratio or a
 * relative tolerance, then optionally fine-tuned at those ranks: the "post-hoc" path that the
 * rank-adaptive training is measured against.
 */
import { existsSync, rmdirSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { DataLoader } from '../data/loader.js';
import { encodeCheckpoint, restoreModel, saveCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { ensureDir, writeFileAtomic } from '../io/files.js';
import { LowRankLinear } from '../lowrank/low-rank-linear.js';
import { MatrixConv2d } from '../lowrank/matrix-conv2d.js';
import { reportOf } from '../lowrank/methods/report.js';
import type { MethodReport, TrainingMethod } from '../lowrank/methods/types.js';
import { rankReport } from '../lowrank/rank-report.js';
import { TuckerConv2d } from '../lowrank/tucker-conv2d.js';
import { TuckerLayer } from '../lowrank/tucker-layer.js';
import { tuckerLayers, tuckerRanks } from '../lowrank/tucker-layers.js';
import { Conv2d, Linear } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import type { Parameter } from '../nn/parameter.js';
import { crossEntropy } from '../ops/loss.js';
import { SGD } from '../optim/sgd.js';
import { manualSeed } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { evaluate, type EvalResult } from '../train/fit.js';
import { ProgressLine } from '../train/progress.js';
import { hosvd, type HosvdSpec } from '../tucker/hosvd.js';
import { setModuleAt } from '../nn/model-structure.js';
import { flagOf, UsageError, type CommandSpec, type OptionSpecs, type Parsed } from './args.js';
import {
  BACKENDS,
  checkModelFits,
  CliError,
  cliFailure,
  DATA_OPTIONS,
  datasetSpecFrom,
  describeDataset,
  loadDataset,
  pct,
  useBackend,
  writeText,
  type CliIO,
} from './common.js';
import { openCheckpoint, savedDataset } from './eval.js';
import { freshProgress, runLoop } from '../train/loop.js';
import { foldersOf, lockFolder, refuseExisting, removeStaleTemps, sameFolder } from './outdir.js';
import { accuracyCompressionChart, metricsMarkdown, runPlots, writePlots, type LogRecord } from './reports.js';

export const COMPRESS_OPTIONS = {
  ranks: {
    type: 'list',
    split: true,
    placeholder: 'LAYER=RxR',
    description: 'Ranks per layer: a conv in Tucker form takes out×in channel ranks (3=8x16), a matrix layer one rank or two (7=32).',
  },
  rankRatio: { type: 'list', split: true, placeholder: 'X[,X…]', description: 'Ranks as a fraction of each compressed mode (0 < X ≤ 1); a list runs a sweep.' },
  tol: {
    type: 'list',
    split: true,
    placeholder: 'X[,X…]',
    description: 'Relative tolerance per layer: ranks chosen per mode so that ‖W − Ŵ‖F ≤ X·‖W‖F (the HOSVD bound); a list runs a sweep.',
  },
  conv: {
    type: 'string',
    choices: ['tucker', 'matrix'],
    default: 'tucker',
    description: 'Convolutions as Tucker-2 (channel modes) or as a matrix out × in·kh·kw.',
  },
  layers: {
    type: 'list',
    split: true,
    placeholder: 'NAME[,NAME…]',
    description: 'Layers to compress (default: every Conv2d/Linear but the first conv and the last linear).',
  },
  finetuneEpochs: {
    type: 'int',
    min: 0,
    default: 0,
    placeholder: 'N',
    description: 'Fine-tune the compressed model at fixed ranks for N epochs (SGD on cores, factors and the rest).',
  },
  lr: { type: 'number', min: 0, exclusiveMin: true, default: 0.01, description: 'Fine-tune learning rate.' },
  momentum: { type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0.9, description: 'Fine-tune momentum, in [0, 1).' },
  weightDecay: {
    type: 'number',
    min: 0,
    default: 5e-4,
    description: 'Fine-tune weight decay, on cores and full layers only (not on the orthonormal factors).',
  },
  batch: { type: 'int', min: 1, default: 64, description: 'Fine-tune batch size.' },
  seed: { type: 'int', min: 0, default: 0, description: 'Seeds the fine-tune data order.' },
  ...DATA_OPTIONS,
  eval: { type: 'boolean', default: true, description: 'Evaluate before and after compression.' },
  evalBatch: { type: 'int', min: 1, default: 500, description: 'Batch size of the evaluation.' },
  out: {
    type: 'string',
    short: 'o',
    placeholder: 'DIR',
    description: "Output folder (default: <checkpoint folder>/compressed); never the checkpoint's own folder.",
  },
  force: { type: 'boolean', description: 'Replace the files of an earlier compress in --out.' },
  backend: {
    type: 'string',
    choices: BACKENDS,
    description:
      'Kernels to run on: cpu, gpu (gpu.js; in Node it needs an X display, e.g. xvfb-run) or auto (the GPU where it works). Default: TUCKERGRAD_BACKEND, else cpu.',
  },
  quiet: { type: 'boolean', short: 'q', description: 'No progress on stderr.' },
} as const satisfies OptionSpecs;

export const COMPRESS_SPEC: CommandSpec<typeof COMPRESS_OPTIONS> = {
  name: 'compress',
  summary: 'Compress a trained full checkpoint after training (truncated HOSVD / SVD), optionally fine-tune, and report accuracy against compression.',
  description:
    'Give exactly one of --ranks, --rank-ratio, --tol. Writes model.safetensors (one setting) or model-<setting>.safetensors (a sweep),\n' +
    'log.jsonl, metrics.md, accuracy-vs-compression.svg and, with --finetune-epochs, loss.svg and accuracy.svg.',
  positionals: [{ name: 'checkpoint', description: 'A checkpoint with full Conv2d/Linear layers (e.g. runs/full/model.safetensors).', required: true }],
  options: COMPRESS_OPTIONS,
  examples: [
    'tuckergrad compress runs/full/model.safetensors --tol 0.3 --out runs/posthoc',
    'tuckergrad compress runs/full/model.safetensors --ranks 3=12x10,7=20 --finetune-epochs 1 --out runs/posthoc-ft',
    'tuckergrad compress runs/full/model.safetensors --rank-ratio 0.1,0.2,0.4 --conv matrix --out runs/sweep',
  ],
};

type Setting = { label: string; spec: { ranks: Record<string, number[]> } | { tol: number } | { rankRatio: number } };

function numbers(values: string[], flag: string, lo: number, loIncluded: boolean, hi: number): number[] {
  return values.map((v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (loIncluded ? n < lo : n <= lo) || n > hi)
      throw new UsageError(`${flag} values must be numbers in ${loIncluded ? '[' : '('}${lo}, ${hi}], got '${v}'`, 'compress');
    return n;
  });
}

function parseRanks(items: string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const item of items) {
    const m = /^([^=]+)=(\d+(?:[x×]\d+)*)$/.exec(item.trim());
    if (!m) throw new UsageError(`--ranks takes LAYER=R or LAYER=RxR (e.g. 3=8x16), got '${item}'`, 'compress');
    const [, name, ranks] = m;
    if (name in out) throw new UsageError(`--ranks names layer '${name}' twice`, 'compress');
    out[name] = ranks.split(/[x×]/).map(Number);
  }
  return out;
}

/** The settings to run, from --ranks / --rank-ratio / --tol (exactly one). */
function settingsOf(o: Parsed<typeof COMPRESS_OPTIONS>['options']): Setting[] {
  const given = [o.ranks.length && '--ranks', o.rankRatio.length && '--rank-ratio', o.tol.length && '--tol'].filter(Boolean);
  if (given.length !== 1)
    throw new UsageError(given.length === 0 ? 'give one of --ranks, --rank-ratio or --tol' : `give only one of ${given.join(', ')}`, 'compress');
  if (o.ranks.length) {
    if (o.layers.length) throw new UsageError('--layers does not go with --ranks (the layers are the ones --ranks names)', 'compress');
    return [{ label: 'ranks', spec: { ranks: parseRanks(o.ranks) } }];
  }
  if (o.rankRatio.length) return numbers(o.rankRatio, '--rank-ratio', 0, false, 1).map((r) => ({ label: `ratio${r}`, spec: { rankRatio: r } }));
  return numbers(o.tol, '--tol', 0, true, 1).map((t) => ({ label: `tol${t}`, spec: { tol: t } }));
}

/** Conv2d/Linear layers to compress: the named ones, or all but the first conv and the last linear. */
function targetLayers(model: Module, names: readonly string[] | null): [string, Conv2d | Linear][] {
  const all = model.namedModules().filter((e): e is [string, Conv2d | Linear] => e[1] instanceof Conv2d || e[1] instanceof Linear);
  if (names) {
    const known = new Map(all);
    return names.map((n) => {
      const l = known.get(n);
      if (!l) {
        const lowRank = model.namedModules().find(([k, m]) => k === n && m instanceof TuckerLayer);
        throw new CliError(
          lowRank
            ? `layer '${n}' is already low-rank (${lowRank[1].constructor.name}); compress takes full Conv2d/Linear layers`
            : `the model has no full Conv2d/Linear layer '${n}' (it has: ${all.map(([k]) => k).join(', ') || 'none'})`,
        );
      }
      return [n, l];
    });
  }
  const convs = all.filter(([, l]) => l instanceof Conv2d);
  const linears = all.filter(([, l]) => l instanceof Linear);
  const skip = new Set([convs[0]?.[0], linears[linears.length - 1]?.[0]]);
  const picked = all.filter(([n]) => !skip.has(n));
  if (picked.length === 0) {
    const lowRank = tuckerLayers(model).map(([n]) => n);
    throw new CliError(
      `nothing to compress: the model has no full Conv2d/Linear layer besides the first conv and the last linear${lowRank.length ? ` (already low-rank: ${lowRank.join(', ')})` : ''}`,
    );
  }
  return picked;
}

/** The low-rank replacement of one full layer by truncated HOSVD / SVD. */
export function compressLayer(layer: Conv2d | Linear, name: string, setting: Setting['spec'], conv: 'tucker' | 'matrix'): TuckerLayer {
  const w = layer.weight;
  const bias = layer.bias ? new Tensor(layer.bias.data.slice(), layer.bias.shape) : null;
  const isConv = layer instanceof Conv2d;
  if (isConv && layer.groups !== 1) throw new CliError(`layer '${name}' is a grouped conv (groups ${layer.groups}); only groups = 1 can be compressed`);
  const matrix = !isConv || conv === 'matrix';
  const shape = matrix ? [w.shape[0], w.size / w.shape[0]] : [...w.shape];
  const modes = [0, 1].filter((i) => shape[i] >= 2); // the channel modes (or the two modes of a matrix)
  if (modes.length === 0) throw new CliError(`layer '${name}' of shape [${w.shape.join(', ')}] has no mode to compress`);
  let spec: HosvdSpec;
  if ('ranks' in setting) {
    const given = setting.ranks[name];
    const want = given.length === 1 ? [given[0], given[0]] : given;
    if (want.length !== 2) throw new CliError(`--ranks for '${name}' must give one rank or two (out×in), got ${given.join('x')}`);
    want.forEach((r, i) => {
      if (r < 1 || r > shape[i]) throw new CliError(`--ranks for '${name}': rank ${r} of mode ${i} must be in [1, ${shape[i]}]`);
    });
    spec = { ranks: shape.map((n, i) => (modes.includes(i) ? Math.min(n, want[i]) : null)) };
  } else if ('tol' in setting) spec = { relTol: setting.tol };
  else if (matrix) {
    // A matrix has one rank: the ratio applies to the smaller side (per-mode ratios would keep a wide, rank-deficient core).
    const r = Math.max(1, Math.round(setting.rankRatio * Math.min(shape[0], shape[1])));
    spec = { ranks: [r, r] };
  } else spec = { rankRatio: setting.rankRatio };
  const h = hosvd(matrix ? new Tensor(w.data, shape) : w, spec, { modes });
  const core = h.core.to(w.dtype);
  const factors = h.factors.map((f) => (f ? f.to(w.dtype) : null));
  if (!isConv) return new LowRankLinear(shape, core, factors, bias, modes);
  const geometry = { stride: layer.stride, padding: layer.padding, dilation: layer.dilation };
  if (matrix) return new MatrixConv2d([...w.shape], core, factors, bias, modes, geometry);
  return new TuckerConv2d([...w.shape], core, factors, bias, modes, geometry);
}

/** Fine-tuning at fixed ranks: SGD with momentum; weight decay on cores and full layers, not on factors. */
class FixedRankFinetune implements TrainingMethod {
  readonly name = 'finetune';
  private model: Module | null = null;
  private decayed: SGD | null = null;
  private factorOpt: SGD | null = null;
  constructor(private readonly o: { lr: number; momentum: number; weightDecay: number }) {}
  setup(model: Module): Module {
    this.model = model;
    const factors = new Set<Parameter>();
    for (const m of model.modules()) if (m instanceof TuckerLayer) for (const f of m.factors) if (f) factors.add(f);
    const rest = model.parameters().filter((p) => !factors.has(p));
    if (rest.length) this.decayed = new SGD(rest, { lr: this.o.lr, momentum: this.o.momentum, weightDecay: this.o.weightDecay });
    if (factors.size) this.factorOpt = new SGD(factors, { lr: this.o.lr, momentum: this.o.momentum });
    return model;
  }
  step(x: Tensor, y: Int32Array): { loss: number; logits: Tensor } {
    const model = this.model as Module;
    model.zeroGrad();
    const logits = model.forward(x);
    const loss = crossEntropy(logits, y);
    loss.backward();
    this.decayed?.step();
    this.factorOpt?.step();
    return { loss: loss.item(), logits };
  }
  finalize(): Module {
    return this.model as Module;
  }
  report(): MethodReport {
    return reportOf(this.model as Module);
  }
}

interface Outcome {
  label: string;
  file: string;
  ranks: Record<string, number[]>;
  report: MethodReport;
  compression: number;
  networkCompression: number;
  before?: EvalResult;
  after?: EvalResult;
}

/** Flags that only the fine-tuning reads, and those that only the evaluation reads. */
const FINETUNE_FLAGS = ['lr', 'momentum', 'weightDecay', 'batch', 'seed'] as const;
const EVAL_FLAGS = ['dataset', 'dataDir', 'trainSize', 'testSize', 'evalBatch'] as const;

/** A flag that compress would ignore is a mistake, not a no-op (as train's flags a method ignores). */
function checkIgnoredFlags(o: Parsed<typeof COMPRESS_OPTIONS>['options'], given: ReadonlySet<string>): void {
  const fineTuneFlag = FINETUNE_FLAGS.find((k) => given.has(k));
  if (o.finetuneEpochs === 0 && fineTuneFlag)
    throw new UsageError(
      `${flagOf(fineTuneFlag)} applies to the fine-tuning, which runs only with --finetune-epochs N > 0; without it compress would ignore it`,
      'compress',
    );
  const evalFlag = EVAL_FLAGS.find((k) => given.has(k));
  if (!o.eval && evalFlag)
    throw new UsageError(`${flagOf(evalFlag)} applies to the evaluation, which --no-eval turns off; compress would ignore it`, 'compress');
}

export async function runCompress(parsed: Parsed<typeof COMPRESS_OPTIONS>, io: CliIO): Promise<number> {
  const o = parsed.options;
  await useBackend(o.backend, io);
  const settings = settingsOf(o);
  checkIgnoredFlags(o, parsed.given);
  const path = parsed.positionals[0];
  const out = o.out ?? join(dirname(path), 'compressed');
  // The input's folder holds its run (model, log, plots): writing there would replace them. A
  // symlinked input is followed, so that its target's folder is refused as well.
  if (foldersOf(path).some((folder) => sameFolder(out, folder)))
    throw new UsageError(
      `--out ${out} is the folder of the checkpoint ${path}${sameFolder(out, dirname(path)) ? '' : ' (the folder its symlink leads to)'}; compress writes model.safetensors, log.jsonl and metrics.md, which would replace the run's own. Choose another --out`,
      'compress',
    );
  const outFiles = compressFiles(settings, o.eval, o.finetuneEpochs > 0);
  if (!o.force) refuseExisting(out, outFiles, 'pass --force to replace them, or choose another --out');
  const { ckpt, model: original } = openCheckpoint(path, io);
  const spec = datasetSpecFrom(o, savedDataset(ckpt), 'compress');
  if (o.finetuneEpochs > 0 && !o.eval) throw new UsageError('--finetune-epochs needs the data: drop --no-eval', 'compress');
  const data = o.eval ? loadDataset(spec, { train: o.finetuneEpochs > 0 }) : null;
  if (data) checkModelFits(ckpt.modelSpec, data.test);
  const testLoader = data ? new DataLoader(data.test, { batchSize: o.evalBatch }) : null;
  // Validate the layer choice once on the original, before any work.
  const layerNames = 'ranks' in settings[0].spec ? Object.keys(settings[0].spec.ranks) : o.layers.length ? o.layers : null;
  targetLayers(original, layerNames);

  const bar = new ProgressLine(o.quiet ? null : (io.stderr as NodeJS.WriteStream));
  // Everything is computed in memory first: a bad rank or layer stops the command before any file is written.
  const logRecords: LogRecord[] = [];
  const logger = { log: (r: LogRecord) => logRecords.push(r) };
  const models: { file: string; save: () => void }[] = [];
  const baseline = testLoader ? evaluate(original, testLoader) : undefined;
  const fullParams = original.parameters().reduce((n, p) => n + p.size, 0);
  logger.log({ type: 'compress', step: 0, label: 'uncompressed', checkpoint: path, params: fullParams, accuracy: baseline?.accuracy, loss: baseline?.loss });
  const outcomes: Outcome[] = [];
  const single = settings.length === 1;
  let finetuneRecords: LogRecord[] = [];
  for (const setting of settings) {
    const model = restoreModel(ckpt as LoadedCheckpoint);
    for (const [name, layer] of targetLayers(model, layerNames)) {
      const low = compressLayer(layer, name, setting.spec, o.conv as 'tucker' | 'matrix');
      if (low.paramCount() >= low.fullParamCount()) {
        // a warning, not progress: --quiet keeps it
        io.stderr.write(
          `compress ${setting.label}: layer '${name}' at ranks ${low.ranks.join('×')} holds ${low.paramCount()} parameters, not fewer than the ${low.fullParamCount()} of the full layer\n`,
        );
      }
      setModuleAt(model, name, low);
    }
    const before = testLoader ? evaluate(model, testLoader) : undefined;
    let after: EvalResult | undefined;
    if (o.finetuneEpochs > 0 && data?.train && testLoader) {
      manualSeed(o.seed);
      const method = new FixedRankFinetune({ lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
      method.setup(model);
      const loader = new DataLoader(data.train, { batchSize: o.batch, shuffle: true, seed: o.seed });
      const records: LogRecord[] = [];
      runLoop({
        fail: cliFailure,
        method,
        model,
        loader,
        testLoader,
        epochs: o.finetuneEpochs,
        progress: freshProgress(),
        checkpointEvery: 0,
        logEvery: 10,
        checkpoint: () => {},
        bar,
        label: `fine-tune ${setting.label}`,
        log: (r) => {
          const rec = { ...r, setting: setting.label };
          records.push(rec);
          logger.log(rec);
        },
      });
      if (single) finetuneRecords = records;
      after = evaluate(model, testLoader);
    }
    const report = reportOf(model);
    const ranks = tuckerRanks(model);
    const file = single ? 'model.safetensors' : `model-${setting.label}.safetensors`;
    const compressInfo = {
      from: path,
      setting: setting.spec,
      conv: o.conv,
      finetuneEpochs: o.finetuneEpochs,
      lr: o.lr,
      momentum: o.momentum,
      weightDecay: o.weightDecay,
      seed: o.seed,
    };
    const run = { ...(ckpt.sections.run as Record<string, unknown> | undefined), dataset: spec };
    const content = {
      model,
      modelSpec: ckpt.modelSpec,
      kind: 'model' as const,
      method: { name: o.finetuneEpochs > 0 ? 'post-hoc+finetune' : 'post-hoc', options: compressInfo },
      sections: {
        run,
        compress: compressInfo,
        metrics: { accuracyBefore: before?.accuracy, accuracyAfter: after?.accuracy, testAccuracy: (after ?? before)?.accuracy, report },
      },
    };
    encodeCheckpoint(content); // fails now, before any file is written, if the model cannot be described
    models.push({ file, save: () => saveCheckpoint(join(out, file), content) });
    const outcome: Outcome = {
      label: setting.label,
      file,
      ranks,
      report,
      before,
      after,
      compression: 1 - report.params / Math.max(1, report.fullParams),
      networkCompression: 1 - report.networkParams / Math.max(1, report.fullNetworkParams),
    };
    outcomes.push(outcome);
    logger.log({
      type: 'compress',
      step: 0,
      label: setting.label,
      ranks,
      params: report.networkParams,
      compression: outcome.compression,
      accuracy: before?.accuracy,
      loss: before?.loss,
      finetunedAccuracy: after?.accuracy,
    });
    if (!o.quiet)
      io.stderr.write(
        `compress ${setting.label}: ${pct(outcome.compression, 1)} fewer parameters in the compressed layers${before ? `, accuracy ${pct(before.accuracy)}` : ''}${after ? ` → ${pct(after.accuracy)} after fine-tuning` : ''}\n`,
      );
  }

  // Files, under the folder's lock; the existence check is repeated there, as another process may have written meanwhile.
  const created = !existsSync(out);
  const release = lockFolder(out, io);
  try {
    if (!o.force) refuseExisting(out, outFiles, 'pass --force to replace them, or choose another --out');
    removeStaleTemps(out);
    return writeOutputs();
  } finally {
    release();
    if (created) {
      try {
        rmdirSync(out);
      } catch {
        /* written: keep */
      }
    }
  }

  function writeOutputs(): number {
    ensureDir(out);
    for (const m of models) m.save();
    writeFileAtomic(join(out, 'log.jsonl'), logRecords.map((r) => JSON.stringify(r) + '\n').join(''));
    const files = ['log.jsonl', 'metrics.md', ...outcomes.map((x) => x.file)];
    const plots: Record<string, string> = {};
    if (baseline) {
      const points = [{ series: 'uncompressed', compression: 0, accuracy: baseline.accuracy }];
      for (const x of outcomes) if (x.before) points.push({ series: 'post-hoc (no fine-tune)', compression: x.compression, accuracy: x.before.accuracy });
      for (const x of outcomes)
        if (x.after)
          points.push({
            series: `fine-tuned ${o.finetuneEpochs} epoch${o.finetuneEpochs > 1 ? 's' : ''}`,
            compression: x.compression,
            accuracy: x.after.accuracy,
          });
      plots['accuracy-vs-compression.svg'] = accuracyCompressionChart(points, `${ckpt.modelSpec.builder}: accuracy against compression (post-hoc ${o.conv})`);
    }
    if (finetuneRecords.length) Object.assign(plots, runPlots(finetuneRecords, `${ckpt.modelSpec.builder} fine-tune`));
    files.push(...writePlots(out, plots));
    const rank = single ? rankReport(restoreModelFor(out, outcomes[0].file, io), { inputShape: ckpt.modelSpec.inputShape }) : undefined;
    const table = ['| setting | ranks | compressed layers | whole network | accuracy | after fine-tune |', '| --- | --- | ---: | ---: | ---: | ---: |'];
    for (const x of outcomes) {
      table.push(
        `| ${x.label} | ${Object.entries(x.ranks)
          .map(([n, r]) => `${n}: ${r.join('×')}`)
          .join(
            '; ',
          )} | ${pct(x.compression, 1)} fewer | ${pct(x.networkCompression, 1)} fewer | ${x.before ? pct(x.before.accuracy) : ''} | ${x.after ? pct(x.after.accuracy) : ''} |`,
      );
    }
    writeText(
      join(out, 'metrics.md'),
      metricsMarkdown({
        title: `compress ${basename(path)} (${ckpt.modelSpec.builder})`,
        settings: [
          ['checkpoint', path],
          ['dataset', data ? `${describeDataset(spec)}: ${data.test.labels.length} test images` : 'not evaluated'],
          ['uncompressed', `${fullParams} parameters${baseline ? `, accuracy ${pct(baseline.accuracy)}` : ''}`],
          ['convolutions as', o.conv],
          [
            'fine-tune',
            o.finetuneEpochs > 0
              ? `${o.finetuneEpochs} epochs, lr ${o.lr}, momentum ${o.momentum}, weight decay ${o.weightDecay} (cores and full layers only), batch ${o.batch}`
              : 'none',
          ],
        ],
        records: finetuneRecords,
        rank,
        extraSections: [{ heading: 'Accuracy against compression', body: table.join('\n') }],
        files,
      }),
    );

    const lines = [`${path}: ${ckpt.modelSpec.builder}, ${fullParams} parameters${baseline ? `, accuracy ${pct(baseline.accuracy)}` : ''}`];
    for (const x of outcomes) {
      lines.push(
        `${x.label}: ranks ${Object.entries(x.ranks)
          .map(([n, r]) => `${n} ${r.join('×')}`)
          .join(', ')}; compressed layers ${x.report.params} / ${x.report.fullParams} (${pct(x.compression, 1)} fewer), ` +
          `network ${x.report.networkParams} / ${x.report.fullNetworkParams} (${pct(x.networkCompression, 1)} fewer)` +
          (x.before ? `; accuracy ${pct(x.before.accuracy)}` : '') +
          (x.after ? `, ${pct(x.after.accuracy)} after ${o.finetuneEpochs} epoch(s) of fine-tuning` : ''),
      );
    }
    lines.push(`wrote ${files.map((f) => join(out, f)).join(', ')}`);
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
}

/** Every file a compress run may write in --out (the refusal checks all of them, before any work). */
function compressFiles(settings: Setting[], evaluated: boolean, finetuned: boolean): string[] {
  const single = settings.length === 1;
  const models = settings.map((s) => (single ? 'model.safetensors' : `model-${s.label}.safetensors`));
  return [
    'log.jsonl',
    'metrics.md',
    ...models,
    ...(evaluated ? ['accuracy-vs-compression.svg'] : []),
    ...(finetuned && single ? ['loss.svg', 'accuracy.svg', 'ranks.svg'] : []),
  ];
}

/** Reopens a written model (the report reads it back as any later tool would). */
function restoreModelFor(dir: string, file: string, io: CliIO): Module {
  return openCheckpoint(join(dir, file), io).model;
}
