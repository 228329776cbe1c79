/**
 * Standalone SVG charts for reports: line charts (loss curves), scatter charts (accuracy against
 * compression) and step charts (ranks over steps). Deterministic: the same input gives the same
 * bytes. Points with a non-finite coordinate (or y ≤ 0 on a log axis) are skipped and break the
 * line there; an empty chart still draws its axes, legend and a "no data" note.
 */
import { el, escapeXml, num, text, textWidth } from './svg-xml.js';
import { logTicks, niceTicks, type Ticks } from './svg-ticks.js';

export interface ChartSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Dashed line. */
  dashed?: boolean;
  /** Draw a line through the points: default true for line/step charts, false for scatter charts. */
  line?: boolean;
  /** Draw a marker at each point: default false for line/step charts (unless options.markers), true for scatter. */
  markers?: boolean;
  /** CSS colour; defaults to the palette. */
  color?: string;
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly ChartSeries[];
  /** Pixels; default 640 × 400. */
  width?: number;
  height?: number;
  /** Fixed axis bounds; a bound left out follows the data (rounded out to a tick). */
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Logarithmic y axis (points with y ≤ 0 are skipped). */
  logY?: boolean;
  /** Markers on every series of a line or step chart. */
  markers?: boolean;
}

/** Okabe–Ito colour-blind-safe palette, reordered for contrast on white (yellow last). */
export const PALETTE: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

type Kind = 'line' | 'scatter' | 'step';
type Shape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangleDown' | 'cross';
const SHAPES: readonly Shape[] = ['circle', 'square', 'triangle', 'diamond', 'triangleDown', 'cross'];

const FONT = 12;
const MAX_NAME = 40;

/** Lines through each series' points, in the given order. */
export function lineChart(options: ChartOptions): string {
  return render('line', options, 'lineChart');
}

/** Markers at each point (a line too where a series sets `line: true`). */
export function scatterChart(options: ChartOptions): string {
  return render('scatter', options, 'scatterChart');
}

/** Piecewise-constant lines: each value holds until the next point's x (e.g. ranks over steps). */
export function stepChart(options: ChartOptions): string {
  return render('step', options, 'stepChart');
}

function render(kind: Kind, o: ChartOptions, fn: string): string {
  if (!o || !Array.isArray(o.series)) throw new Error(`${fn}: options.series must be an array of { name, points }`);
  const width = checkSize(o.width ?? 640, 'width', fn);
  const height = checkSize(o.height ?? 400, 'height', fn);
  const logY = o.logY === true;
  const usable = (p: unknown): p is readonly [number, number] => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!logY || p[1] > 0);
  o.series.forEach((s, i) => {
    if (!s || !Array.isArray(s.points)) throw new Error(`${fn}: series[${i}].points must be an array of [x, y] pairs`);
  });

  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of o.series) {
    for (const p of s.points) {
      if (!usable(p)) continue;
      xs.push(p[0]);
      ys.push(p[1]);
    }
  }
  const hasData = xs.length > 0;

  // Layout: title on top, legend on the right, tick labels and axis labels left and below.
  const names = o.series.map((s) => truncate(String(s.name ?? '')));
  const legendWidth = names.length ? 16 + 28 + Math.max(...names.map((n) => textWidth(n, FONT))) : 0;
  const clipPad = 6; // data on the plot's edge stays whole (half a line width, a marker's radius)
  const top = o.title ? 40 : 14;
  const bottom = 28 + (o.xLabel ? 22 : 0) + 6;
  const plotTop = top;
  const plotBottom = height - bottom;
  const yTicks = axisTicks(ys, o.yMin, o.yMax, logY, Math.max(2, Math.min(10, Math.floor((plotBottom - plotTop) / 45))), 'y', fn);
  const yLabelWidth = Math.max(0, ...yTicks.labels.map((l) => textWidth(l, FONT)));
  const plotLeft = 10 + (o.yLabel ? 22 : 0) + yLabelWidth + 10;
  // Room on the right for the legend, or at least for half of the last x tick label.
  const plotRight = width - (legendWidth > 0 ? 12 + legendWidth : 28);
  if (plotRight - plotLeft < 40 || plotBottom - plotTop < 40) {
    throw new Error(`${fn}: a ${width} × ${height} chart leaves no room to plot; make it larger (or shorten series names)`);
  }
  const xTicks = axisTicks(xs, o.xMin, o.xMax, false, Math.max(2, Math.min(10, Math.floor((plotRight - plotLeft) / 80))), 'x', fn);

  const sx = scale(xTicks.min, xTicks.max, plotLeft, plotRight, false);
  const sy = scale(yTicks.min, yTicks.max, plotBottom, plotTop, logY);
  const clipId = `tg-clip-${fnv1a(JSON.stringify([kind, o]))}`;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="Helvetica, Arial, sans-serif" font-size="${FONT}">`,
  );
  if (o.title) out.push(el('title', {}, escapeXml(o.title)));
  out.push(
    el(
      'defs',
      {},
      el(
        'clipPath',
        { id: clipId },
        el('rect', { x: plotLeft - clipPad, y: plotTop - clipPad, width: plotRight - plotLeft + 2 * clipPad, height: plotBottom - plotTop + 2 * clipPad }),
      ),
    ),
  );
  out.push(el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }));
  if (o.title) out.push(text({ x: width / 2, y: 24, 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold', fill: '#222222' }, o.title));

  // Grid, axes, ticks.
  const grid: string[] = [];
  const labels: string[] = [];
  xTicks.ticks.forEach((t, i) => {
    const x = sx(t);
    grid.push(el('line', { x1: x, y1: plotTop, x2: x, y2: plotBottom }));
    labels.push(el('line', { x1: x, y1: plotBottom, x2: x, y2: plotBottom + 5, stroke: '#444444' }));
    labels.push(text({ x, y: plotBottom + 18, 'text-anchor': 'middle' }, xTicks.labels[i]));
  });
  yTicks.ticks.forEach((t, i) => {
    const y = sy(t);
    grid.push(el('line', { x1: plotLeft, y1: y, x2: plotRight, y2: y }));
    labels.push(el('line', { x1: plotLeft - 5, y1: y, x2: plotLeft, y2: y, stroke: '#444444' }));
    labels.push(text({ x: plotLeft - 8, y: y + 4, 'text-anchor': 'end' }, yTicks.labels[i]));
  });
  out.push(el('g', { stroke: '#e3e3e3', 'stroke-width': 1 }, grid.join('')));
  out.push(el('g', { fill: '#333333' }, labels.join('')));
  out.push(el('path', { d: `M${num(plotLeft)} ${num(plotTop)}V${num(plotBottom)}H${num(plotRight)}`, fill: 'none', stroke: '#444444', 'stroke-width': 1 }));
  if (o.xLabel) out.push(text({ x: (plotLeft + plotRight) / 2, y: height - 10, 'text-anchor': 'middle', fill: '#222222' }, o.xLabel));
  if (o.yLabel) {
    const cx = 16;
    const cy = (plotTop + plotBottom) / 2;
    out.push(text({ x: cx, y: cy, 'text-anchor': 'middle', transform: `rotate(-90 ${num(cx)} ${num(cy)})`, fill: '#222222' }, o.yLabel));
  }

  // Series, clipped to the plot area.
  const drawn: string[] = [];
  const legend: string[] = [];
  o.series.forEach((s, i) => {
    const style = styleOf(kind, s, i, o);
    const runs = splitRuns(s.points, usable).map((run) => run.map(([x, y]) => [sx(x), sy(y)] as const));
    const parts: string[] = [];
    if (style.line) {
      const d = runs
        .filter((r) => r.length > 1)
        .map((r) => pathOf(r, kind === 'step'))
        .join('');
      if (d)
        parts.push(
          el('path', {
            d,
            fill: 'none',
            stroke: style.color,
            'stroke-width': 2,
            'stroke-dasharray': style.dash,
            'stroke-linejoin': 'round',
            'stroke-linecap': 'round',
          }),
        );
    }
    for (const run of runs) {
      // A lone point has no line to show it: it always gets a marker.
      if (style.markers || run.length === 1) for (const [x, y] of run) parts.push(marker(style.shape, x, y, kind === 'scatter' ? 4.5 : 3.5));
    }
    drawn.push(el('g', { fill: style.color, stroke: style.color }, parts.join('')));

    const ly = plotTop + 8 + i * 20;
    const lx = plotRight + 16;
    const sample: string[] = [];
    if (style.line) sample.push(el('line', { x1: lx, y1: ly, x2: lx + 22, y2: ly, 'stroke-width': 2, 'stroke-dasharray': style.dash }));
    if (style.markers || !style.line) sample.push(marker(style.shape, lx + 11, ly, kind === 'scatter' ? 4.5 : 3.5));
    legend.push(el('g', { fill: style.color, stroke: style.color }, sample.join('')));
    legend.push(text({ x: lx + 28, y: ly + 4, fill: '#222222' }, names[i]));
  });
  out.push(el('g', { 'clip-path': `url(#${clipId})` }, drawn.join('')));
  if (legend.length) out.push(el('g', { class: 'legend' }, legend.join('')));
  if (!hasData) out.push(text({ x: (plotLeft + plotRight) / 2, y: (plotTop + plotBottom) / 2, 'text-anchor': 'middle', fill: '#888888' }, 'no data'));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function checkSize(v: number, name: string, fn: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${fn}: ${name} must be a positive number of pixels, got ${String(v)}`);
  return v;
}

function checkBound(v: number | undefined, name: string, fn: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${fn}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

function axisTicks(values: number[], lo: number | undefined, hi: number | undefined, log: boolean, maxTicks: number, axis: 'x' | 'y', fn: string): Ticks {
  lo = checkBound(lo, `${axis}Min`, fn);
  hi = checkBound(hi, `${axis}Max`, fn);
  if (lo !== undefined && hi !== undefined && lo >= hi) throw new Error(`${fn}: ${axis}Min must be below ${axis}Max, got ${lo} and ${hi}`);
  if (log && ((lo !== undefined && lo <= 0) || (hi !== undefined && hi <= 0)))
    throw new Error(`${fn}: a log axis needs ${axis}Min and ${axis}Max > 0, got ${lo} and ${hi}`);
  let dataMin = Infinity;
  let dataMax = -Infinity;
  for (const v of values) {
    if (v < dataMin) dataMin = v;
    if (v > dataMax) dataMax = v;
  }
  // The range to tick: the data, with any fixed bound in place of the data's own.
  let a = lo ?? dataMin;
  let b = hi ?? dataMax;
  if (!(a < b) && !(values.length > 0 && lo === undefined && hi === undefined)) {
    // No data, or a single fixed bound beyond all the data: span one unit (a decade) from that bound.
    if (lo !== undefined) b = log ? lo * 10 : lo + 1;
    else if (hi !== undefined) a = log ? hi / 10 : hi - 1;
    else [a, b] = log ? [1, 10] : [0, 1];
  }
  const t = log ? logTicks(a, b) : niceTicks(a, b, { maxTicks });
  const min = lo ?? t.min;
  const max = hi ?? t.max;
  const keep = t.ticks.map((v, i) => [v, t.labels[i]] as const).filter(([v]) => v >= min - Math.abs(min) * 1e-12 && v <= max + Math.abs(max) * 1e-12);
  return { min, max, step: t.step, ticks: keep.map(([v]) => v), labels: keep.map(([, l]) => l) };
}

/** Maps data to pixels; far-out values are clamped (they are clipped from view anyway). */
function scale(d0: number, d1: number, p0: number, p1: number, log: boolean): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const a = f(d0);
  const span = f(d1) - a;
  return (v) => {
    const t = (f(v) - a) / span;
    return p0 + (Number.isFinite(t) ? Math.max(-1e4, Math.min(1e4, t)) : t > 0 ? 1e4 : -1e4) * (p1 - p0);
  };
}

function splitRuns(points: ReadonlyArray<readonly [number, number]>, usable: (p: unknown) => p is readonly [number, number]): [number, number][][] {
  const runs: [number, number][][] = [];
  let run: [number, number][] = [];
  for (const p of points) {
    if (usable(p)) {
      run.push([p[0], p[1]]);
    } else if (run.length) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

function pathOf(run: ReadonlyArray<readonly [number, number]>, step: boolean): string {
  let d = `M${num(run[0][0])} ${num(run[0][1])}`;
  for (let i = 1; i < run.length; i++) d += step ? `H${num(run[i][0])}V${num(run[i][1])}` : `L${num(run[i][0])} ${num(run[i][1])}`;
  return d;
}

function styleOf(kind: Kind, s: ChartSeries, i: number, o: ChartOptions) {
  const cycle = Math.floor(i / PALETTE.length);
  const dashes = [undefined, '2 3', '8 3 2 3'];
  return {
    color: s.color ?? PALETTE[i % PALETTE.length],
    dash: s.dashed ? '6 4' : dashes[cycle % dashes.length],
    shape: SHAPES[i % SHAPES.length],
    line: s.line ?? kind !== 'scatter',
    markers: s.markers ?? (kind === 'scatter' ? true : o.markers === true),
  };
}

function marker(shape: Shape, x: number, y: number, r: number): string {
  switch (shape) {
    case 'circle':
      return el('circle', { cx: x, cy: y, r, stroke: 'none' });
    case 'square':
      return el('rect', { x: x - r * 0.85, y: y - r * 0.85, width: r * 1.7, height: r * 1.7, stroke: 'none' });
    case 'triangle':
      return el('path', { d: `M${num(x)} ${num(y - r)}L${num(x + r)} ${num(y + r * 0.8)}L${num(x - r)} ${num(y + r * 0.8)}Z`, stroke: 'none' });
    case 'triangleDown':
      return el('path', { d: `M${num(x)} ${num(y + r)}L${num(x + r)} ${num(y - r * 0.8)}L${num(x - r)} ${num(y - r * 0.8)}Z`, stroke: 'none' });
    case 'diamond':
      return el('path', { d: `M${num(x)} ${num(y - r * 1.2)}L${num(x + r)} ${num(y)}L${num(x)} ${num(y + r * 1.2)}L${num(x - r)} ${num(y)}Z`, stroke: 'none' });
    case 'cross':
      return el('path', {
        d: `M${num(x - r)} ${num(y - r)}L${num(x + r)} ${num(y + r)}M${num(x + r)} ${num(y - r)}L${num(x - r)} ${num(y + r)}`,
        fill: 'none',
        'stroke-width': 2,
      });
  }
}

function truncate(name: string): string {
  const chars = [...name];
  return chars.length > MAX_NAME ? chars.slice(0, MAX_NAME - 1).join('') + '…' : name;
}

/** FNV-1a 32-bit hash, hex: a stable id so several charts can share one HTML page. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
