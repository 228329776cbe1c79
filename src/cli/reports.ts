/** The files every run leaves in its output folder: metrics.md and SVG plots built from log.jsonl. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl, readJsonlTolerant } from '../io/jsonl.js';
import { lineChart, scatterChart, stepChart, type ChartSeries } from '../io/svg-plot.js';
import type { RankReport } from '../lowrank/rank-report.js';
import type { EpochLog, LogRecord, StepLog } from '../train/loop.js';
import { pct, writeText } from './common.js';

export type { EpochLog, LogRecord, StepLog } from '../train/loop.js';

export function readLog(path: string): LogRecord[] {
  if (!existsSync(path)) return [];
  return readJsonl<LogRecord>(path).filter(isRecord);
}

const isRecord = (r: LogRecord) => r !== null && typeof r === 'object' && typeof r.type === 'string';

/** readLog that drops a torn last line (a process stopped mid-write) and returns it, instead of failing. */
export function readLogTolerant(path: string): { records: LogRecord[]; torn: string | null } {
  if (!existsSync(path)) return { records: [], torn: null };
  const { records, torn } = readJsonlTolerant<LogRecord>(path);
  return { records: records.filter(isRecord), torn };
}

const isEpoch = (r: LogRecord): r is EpochLog => r.type === 'epoch';
const isStep = (r: LogRecord): r is StepLog => r.type === 'step';

/** Loss and accuracy per epoch (train and test) and ranks per layer over steps, as SVG documents. */
export function runPlots(records: readonly LogRecord[], title: string): Record<string, string> {
  const epochs = records.filter(isEpoch);
  const series = (key: 'trainLoss' | 'testLoss' | 'trainAccuracy' | 'testAccuracy', scale = 1): [number, number][] =>
    epochs.filter((e) => typeof e[key] === 'number').map((e) => [e.epoch, (e[key] as number) * scale]);
  const plots: Record<string, string> = {
    'loss.svg': lineChart({
      title: `${title}: loss per epoch`,
      xLabel: 'epoch',
      yLabel: 'cross-entropy loss',
      markers: true,
      series: [
        { name: 'train', points: series('trainLoss') },
        { name: 'test', points: series('testLoss'), dashed: true },
      ],
    }),
    'accuracy.svg': lineChart({
      title: `${title}: accuracy per epoch`,
      xLabel: 'epoch',
      yLabel: 'accuracy (%)',
      markers: true,
      series: [
        { name: 'train', points: series('trainAccuracy', 100) },
        { name: 'test', points: series('testAccuracy', 100), dashed: true },
      ],
    }),
  };
  const rankSeries = new Map<string, [number, number][]>();
  for (const r of records) {
    if (!(isStep(r) || isEpoch(r)) || !r.ranks) continue;
    for (const [layer, ranks] of Object.entries(r.ranks)) {
      ranks.forEach((rank, mode) => {
        const key = `${layer} mode ${mode}`;
        if (!rankSeries.has(key)) rankSeries.set(key, []);
        const pts = rankSeries.get(key) as [number, number][];
        if (pts.length === 0 || pts[pts.length - 1][0] !== r.step) pts.push([r.step, rank]);
      });
    }
  }
  // Spatial modes (2, 3) that never change (held full) only crowd the chart.
  const varying = [...rankSeries].filter(([name, pts]) => pts.some((p) => p[1] !== pts[0][1]) || /mode [01]$/.test(name));
  if (varying.length > 0) {
    plots['ranks.svg'] = stepChart({
      title: `${title}: ranks per layer over steps`,
      xLabel: 'step',
      yLabel: 'rank',
      series: varying.map(([name, points]) => ({ name, points })),
    });
  }
  return plots;
}

export interface CompressionPoint {
  series: string;
  label?: string;
  /** 1 − params/fullParams of the compressed layers (or the network), in [0, 1]. */
  compression: number;
  /** Test accuracy in [0, 1]. */
  accuracy: number;
}

/** Test accuracy (%) against compression (% fewer parameters), one series per method. */
export function accuracyCompressionChart(points: readonly CompressionPoint[], title = 'accuracy against compression'): string {
  const by = new Map<string, [number, number][]>();
  for (const p of points) {
    if (!by.has(p.series)) by.set(p.series, []);
    (by.get(p.series) as [number, number][]).push([100 * p.compression, 100 * p.accuracy]);
  }
  const series: ChartSeries[] = [...by].map(([name, pts]) => ({ name, points: pts.sort((a, b) => a[0] - b[0]), line: pts.length > 1 }));
  return scatterChart({ title, xLabel: 'parameters removed (%)', yLabel: 'test accuracy (%)', series });
}

/** Writes the plots into `dir`; returns the file names written. */
export function writePlots(dir: string, plots: Record<string, string>): string[] {
  for (const [name, svg] of Object.entries(plots)) writeText(join(dir, name), svg);
  return Object.keys(plots);
}

export interface MetricsDoc {
  title: string;
  settings: [string, string][];
  records: readonly LogRecord[];
  /** Final evaluation of the deployed model. */
  final?: { accuracy: number; loss: number; count: number };
  rank?: RankReport;
  extraSections?: { heading: string; body: string }[];
  files: string[];
}

/** metrics.md: settings, a table per epoch, the final accuracy and the rank/compression report. */
export function metricsMarkdown(doc: MetricsDoc): string {
  const lines = [`# ${doc.title}`, '', '| setting | value |', '| --- | --- |', ...doc.settings.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`), ''];
  const epochs = doc.records.filter(isEpoch);
  if (epochs.length > 0) {
    lines.push(
      '## Per epoch',
      '',
      '| epoch | step | train loss | train acc | test loss | test acc | seconds | img/s | ranks |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const e of epochs) {
      const ranks = e.ranks
        ? Object.entries(e.ranks)
            .map(([n, r]) => `${n}: ${r.join('×')}`)
            .join('; ')
        : '';
      lines.push(
        `| ${e.epoch} | ${e.step} | ${e.trainLoss.toFixed(4)} | ${pct(e.trainAccuracy)} | ${e.testLoss?.toFixed(4) ?? ''} | ${e.testAccuracy !== undefined ? pct(e.testAccuracy) : ''} | ${e.seconds.toFixed(1)} | ${e.imagesPerSecond.toFixed(0)} | ${ranks} |`,
      );
    }
    if (doc.records.some((r) => r.type === 'resume'))
      lines.push('', 'The run was resumed from a checkpoint; seconds and img/s of a resumed epoch cover only the part run after the resume.');
    lines.push('');
  }
  if (doc.final)
    lines.push('## Final model', '', `Test accuracy ${pct(doc.final.accuracy)} (loss ${doc.final.loss.toFixed(4)}) on ${doc.final.count} images.`, '');
  if (doc.rank) {
    const r = doc.rank;
    if (r.layers.length > 0) {
      lines.push(
        '## Ranks and compression',
        '',
        '| layer | kind | full shape | ranks | params | full params | fewer |',
        '| --- | --- | --- | --- | ---: | ---: | ---: |',
      );
      for (const l of r.layers)
        lines.push(`| ${l.name} | ${l.kind} | ${l.fullShape.join('×')} | ${l.ranks.join('×')} | ${l.params} | ${l.fullParams} | ${pct(l.compression, 1)} |`);
      lines.push(
        '',
        `Factorised layers: ${r.params} / ${r.fullParams} parameters (${pct(r.compression, 1)} fewer). Whole network: ${r.networkParams} / ${r.fullNetworkParams} (${pct(r.networkCompression, 1)} fewer).`,
        '',
      );
    } else {
      lines.push('## Ranks and compression', '', `No low-rank layers: the network holds ${r.networkParams} parameters.`, '');
    }
  }
  for (const s of doc.extraSections ?? []) lines.push(`## ${s.heading}`, '', s.body, '');
  lines.push('## Files', '', ...doc.files.map((f) => `- ${f}`), '');
  return lines.join('\n');
}
