/** `tuckergrad report`: the rank and compression report of a checkpoint, and its plots. */
import { existsSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { rankReport } from '../lowrank/rank-report.js';
import { scatterChart } from '../io/svg-plot.js';
import type { CommandSpec, OptionSpecs, Parsed } from './args.js';
import { CliError, pct, writeText, type CliIO } from './common.js';
import { openCheckpoint } from './eval.js';
import { lockFolder, refuseExisting, removeStaleTemps } from './outdir.js';
import { metricsMarkdown, readLogTolerant, runPlots, writePlots } from './reports.js';

export const REPORT_OPTIONS = {
  out: {
    type: 'string',
    short: 'o',
    placeholder: 'DIR',
    description: "Where report.md and the plots go (default: report/ in the checkpoint's folder, so that the run's own plots are kept).",
  },
  force: { type: 'boolean', description: 'Replace the files of an earlier report in --out.' },
  log: {
    type: 'string',
    placeholder: 'FILE',
    description: "The run's JSONL log for the loss, accuracy and rank plots (default: log.jsonl beside the checkpoint).",
  },
  json: { type: 'boolean', description: 'Print the report as JSON instead of a table.' },
} as const satisfies OptionSpecs;

export const REPORT_SPEC: CommandSpec<typeof REPORT_OPTIONS> = {
  name: 'report',
  summary: 'Print the rank and compression report of a checkpoint (ranks, parameters and FLOPs per layer) and write its plots.',
  description: 'Writes report.md and layers.svg (parameters per low-rank layer), and from the log loss.svg, accuracy.svg and ranks.svg.',
  positionals: [{ name: 'checkpoint', description: 'A .safetensors file written by train or compress.', required: true }],
  options: REPORT_OPTIONS,
  examples: ['tuckergrad report runs/tdlrt/model.safetensors', 'tuckergrad report runs/tdlrt/checkpoint.safetensors --out /tmp/plots --json'],
};

export function runReport(parsed: Parsed<typeof REPORT_OPTIONS>, io: CliIO): number {
  const o = parsed.options;
  const path = parsed.positionals[0];
  const { ckpt, model } = openCheckpoint(path, io);
  // Not the checkpoint's folder itself: train wrote loss.svg, accuracy.svg and ranks.svg there.
  const out = o.out ?? join(dirname(path), 'report');
  const logPath = o.log ?? join(dirname(path), 'log.jsonl');
  if (o.log && !existsSync(o.log)) throw new CliError(`--log ${o.log} does not exist`);
  const rank = rankReport(model, { inputShape: ckpt.modelSpec.inputShape });
  const progress = ckpt.sections.progress as { epoch?: number; step?: number } | undefined;
  const metrics = ckpt.sections.metrics as { testAccuracy?: number; epoch?: number; step?: number } | undefined;
  const epoch = progress?.epoch ?? metrics?.epoch;
  const step = progress?.step ?? metrics?.step;
  const { records, torn } = readLogTolerant(logPath);
  if (torn !== null) io.stderr.write(`notice: ignored the half-written last line of ${logPath} (${torn.length} bytes)\n`);
  const title = `${ckpt.modelSpec.builder}${ckpt.method ? ` / ${ckpt.method.name}` : ''}`;
  const plots = records.length ? runPlots(records, title) : {};
  if (rank.layers.length > 0) {
    plots['layers.svg'] = scatterChart({
      title: `${title}: parameters per low-rank layer`,
      xLabel: 'layer (order in the network)',
      yLabel: 'parameters',
      logY: true,
      series: [
        { name: 'held full', points: rank.layers.map((l, i) => [i + 1, l.fullParams] as [number, number]) },
        { name: 'low-rank (stored)', points: rank.layers.map((l, i) => [i + 1, l.params] as [number, number]) },
      ],
    });
  }
  const files = ['report.md', ...Object.keys(plots)];
  const settings: [string, string][] = [
    ['checkpoint', `${path} (${ckpt.kind})`],
    ['model', `${ckpt.modelSpec.builder}, ${ckpt.modelSpec.numClasses} classes, ${ckpt.modelSpec.dtype}, input ${ckpt.modelSpec.inputShape.join('×')}`],
  ];
  if (ckpt.method) settings.push(['method', `${ckpt.method.name} ${JSON.stringify(ckpt.method.options)}`]);
  if (epoch !== undefined) settings.push(['epoch / step', `${epoch} / ${step}`]);
  if (metrics?.testAccuracy !== undefined) settings.push(['test accuracy', pct(metrics.testAccuracy)]);
  const layerNames = rank.layers.map((l, i) => `${i + 1}: ${l.name}`).join(', ');
  const markdown = metricsMarkdown({
    title: `report: ${title}`,
    settings,
    records,
    rank,
    extraSections: rank.layers.length
      ? [
          {
            heading: 'FLOPs per sample',
            body:
              rank.layers.map((l) => `- ${l.name}: ${((l.flops ?? 0) / 1e6).toFixed(3)} MFLOPs (full: ${((l.fullFlops ?? 0) / 1e6).toFixed(3)})`).join('\n') +
              `\n\nlayers.svg numbers the layers ${layerNames}.`,
          },
        ]
      : [],
    files,
  });
  // Like train and compress, report replaces no file it did not write unless told --force.
  const created = !existsSync(out);
  const release = lockFolder(out, io);
  try {
    if (!o.force) refuseExisting(out, files, 'pass --force to replace them, or choose another --out');
    removeStaleTemps(out);
    writeText(join(out, 'report.md'), markdown);
    writePlots(out, plots);
  } finally {
    release();
    if (created) {
      try {
        rmdirSync(out); // only succeeds when nothing was written
      } catch {
        /* written: keep */
      }
    }
  }
  if (o.json) {
    io.stdout.write(
      JSON.stringify({
        checkpoint: path,
        kind: ckpt.kind,
        model: ckpt.modelSpec,
        method: ckpt.method,
        epoch,
        step,
        testAccuracy: metrics?.testAccuracy,
        ...rank,
        table: undefined,
        files: files.map((f) => join(out, f)),
      }) + '\n',
    );
    return 0;
  }
  const lines = settings.map(([k, v]) => `${k}: ${v}`);
  lines.push(rank.layers.length ? rank.table : `no low-rank layers; ${rank.networkParams} parameters`);
  lines.push(`wrote ${files.map((f) => join(out, f)).join(', ')}`);
  io.stdout.write(lines.join('\n') + '\n');
  return 0;
}
