/** Small SVG line charts as strings (no DOM needed to build them; the page sets innerHTML). */

export interface Series {
  name: string;
  points: [number, number][];
  color: string;
  dashed?: boolean;
  /** Draw as a step function (ranks). */
  step?: boolean;
  /** Draw dots at the points (sparse series such as test accuracy). */
  dots?: boolean;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  yLog?: boolean;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Horizontal reference lines (e.g. chance level). */
  hLines?: { y: number; label: string }[];
  legend?: boolean;
}

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) out.push(Math.abs(v) < 1e-12 ? 0 : v);
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

/** Keeps at most `max` points (every k-th, plus the last): long loss curves stay cheap to draw. */
export function thin(points: [number, number][], max = 600): [number, number][] {
  if (points.length <= max) return points;
  const k = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % k === 0);
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]);
  return out;
}

/** 1-2-5 ticks of a log axis between 10^lo and 10^hi (at least the decades; more when the range is short). */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const decades = hi - lo;
  const mults = decades <= 1.5 ? [1, 2, 5] : decades <= 3 ? [1, 3] : [1];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of mults) {
      const v = m * 10 ** e;
      const l = Math.log10(v);
      if (l >= lo - 1e-9 && l <= hi + 1e-9) out.push(v);
    }
  }
  return out;
}

export function lineChart(series: Series[], o: ChartOptions = {}): string {
  const W = o.width ?? 460;
  const H = o.height ?? 230;
  const legendItems = o.legend !== false && series.length > 1 ? series : [];
  // The legend sits above the plot, wrapped into rows.
  const rows: { s: Series; x: number }[][] = [];
  {
    let row: { s: Series; x: number }[] = [];
    let lx = 0;
    for (const s of legendItems) {
      const w = 28 + s.name.length * 5.6;
      if (lx + w > W - 60 && row.length) {
        rows.push(row);
        row = [];
        lx = 0;
      }
      row.push({ s, x: lx });
      lx += w;
    }
    if (row.length) rows.push(row);
  }
  const m = { l: 48, r: 12, t: 8 + rows.length * 13, b: 34 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.yLog || y > 0));
  let xMin = o.xMin ?? Math.min(...all.map((p) => p[0]));
  let xMax = o.xMax ?? Math.max(...all.map((p) => p[0]));
  let yMin = o.yMin ?? Math.min(...all.map((p) => p[1]));
  let yMax = o.yMax ?? Math.max(...all.map((p) => p[1]));
  if (!Number.isFinite(xMin) || !Number.isFinite(xMax)) [xMin, xMax] = [0, 1];
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) [yMin, yMax] = o.yLog ? [0.01, 1] : [0, 1];
  if (xMax <= xMin) xMax = xMin + 1;
  if (yMax <= yMin) {
    if (o.yLog) [yMin, yMax] = [yMin / 2, yMax * 2];
    else [yMin, yMax] = [yMin - 1, yMax + 1];
  }
  // Headroom so that a line at the maximum is not drawn on the frame.
  if (o.yMax === undefined) yMax = o.yLog ? yMax * 1.25 : yMax + 0.04 * (yMax - yMin);
  if (o.yLog && o.yMin === undefined) yMin /= 1.25;
  const ty = (y: number) => (o.yLog ? Math.log10(y) : y);
  const [ly0, ly1] = [ty(yMin), ty(yMax)];
  const X = (x: number) => m.l + ((x - xMin) / (xMax - xMin)) * pw;
  const Y = (y: number) => m.t + ph - ((ty(y) - ly0) / (ly1 - ly0)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" class="chart">`);
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="#fff" stroke="#d4d4d8"/>`);
  const yTicks = o.yLog ? logTicks(ly0, ly1) : niceTicks(yMin, yMax, 4);
  for (const v of yTicks) {
    const y = Y(v).toFixed(1);
    parts.push(
      `<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#f0f0f3"/><text x="${m.l - 4}" y="${y}" text-anchor="end" dominant-baseline="middle" class="tick">${fmt(v)}</text>`,
    );
  }
  for (const v of niceTicks(xMin, xMax, 5)) {
    const x = X(v).toFixed(1);
    parts.push(`<text x="${x}" y="${m.t + ph + 13}" text-anchor="middle" class="tick">${fmt(v)}</text>`);
  }
  for (const h of o.hLines ?? []) {
    if (ty(h.y) < ly0 || ty(h.y) > ly1) continue;
    const y = Y(h.y).toFixed(1);
    parts.push(
      `<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#a1a1aa" stroke-dasharray="2 3"/><text x="${m.l + pw - 3}" y="${Number(y) - 3}" text-anchor="end" class="tick">${esc(h.label)}</text>`,
    );
  }
  const clampY = (y: number) => Math.min(m.t + ph, Math.max(m.t, Y(y)));
  for (const s of series) {
    const pts = thin(s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.yLog || y > 0)));
    if (pts.length === 0) continue;
    let d = '';
    pts.forEach(([x, y], i) => {
      const px = X(x).toFixed(1);
      const py = clampY(y).toFixed(1);
      if (i === 0) d += `M${px},${py}`;
      else if (s.step) d += `H${px}V${py}`;
      else d += `L${px},${py}`;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    if (s.dots) for (const [x, y] of pts) parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${clampY(y).toFixed(1)}" r="2.4" fill="${s.color}"/>`);
  }
  if (o.xLabel) parts.push(`<text x="${m.l + pw / 2}" y="${H - 4}" text-anchor="middle" class="label">${esc(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(11 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" class="label">${esc(o.yLabel)}</text>`);
  rows.forEach((row, r) => {
    const ly = 10 + r * 13;
    for (const { s, x } of row) {
      const lx = m.l + x;
      parts.push(
        `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 3}" y2="${ly - 3}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 2"' : ''}/><text x="${lx + 20}" y="${ly}" class="legend">${esc(s.name)}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('');
}
