/**
 * "Nice" axis ticks (Heckbert, Graphics Gems 1990): steps of 1, 2 or 5 × 10^k, ticks at integer
 * multiples of the step, and labels with just enough decimals for that step.
 */

export interface Ticks {
  /** Axis domain. With expand, it is the outermost ticks; otherwise the requested range. */
  min: number;
  max: number;
  /** Tick spacing (linear axes); 0 for log axes. */
  step: number;
  ticks: number[];
  labels: string[];
}

/** The nice number near x: 1, 2, 5 or 10 × 10^k; rounded to nearest, else the one above. */
export function niceNumber(x: number, round: boolean): number {
  const exponent = Math.floor(Math.log10(x));
  const f = x / 10 ** exponent;
  let nice: number;
  if (round) nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * 10 ** exponent;
}

/** Decimals needed to print multiples of `step` exactly (0 for step ≥ 1). */
function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** Formats a tick value for an axis whose ticks are `step` apart. */
export function formatTick(value: number, step: number): string {
  const decimals = decimalsFor(step);
  if (Math.abs(value) >= 1e6 || decimals > 6) return value === 0 ? '0' : compactExponent(value);
  return (value === 0 ? 0 : value).toFixed(decimals);
}

function compactExponent(value: number): string {
  return Number(value.toPrecision(12)).toExponential().replace('e+', 'e');
}

/**
 * Widens a degenerate or non-finite range to one an axis can show: a constant (or a range too
 * narrow for its magnitude) gets ±10% around it; values are clamped to ±1e300 so spans stay finite.
 */
export function paddedRange(min: number, max: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min > max) [min, max] = [max, min];
  min = Math.max(min, -1e300);
  max = Math.min(max, 1e300);
  const magnitude = Math.max(Math.abs(min), Math.abs(max));
  if (max - min <= magnitude * 1e-12 || max - min < 1e-200) {
    const mid = (min + max) / 2;
    let pad = Math.abs(mid) * 0.1;
    if (!(pad >= 1e-200)) pad = 1;
    return [mid - pad, mid + pad];
  }
  return [min, max];
}

/**
 * Ticks for a linear axis over [min, max], about `maxTicks` of them. With `expand` (the default)
 * the domain grows to the enclosing ticks (up to float noise of 1e-9 of a step, so that data at
 * 0.1 + 0.2 does not add a tick above 0.3); without it the domain stays [min, max] and only the
 * ticks inside are kept.
 */
export function niceTicks(min: number, max: number, options: { maxTicks?: number; expand?: boolean } = {}): Ticks {
  const maxTicks = Math.max(2, options.maxTicks ?? 6);
  const expand = options.expand ?? true;
  [min, max] = paddedRange(min, max);
  const range = niceNumber(max - min, false);
  const step = niceNumber(range / (maxTicks - 1), true);
  // step = m × 10^e exactly; k·step is written as the decimal (k·m)e(e) so ticks are exact.
  let e = Math.floor(Math.log10(step) + 1e-9);
  let m = Math.round(step / 10 ** e);
  if (m === 10) {
    m = 1;
    e += 1;
  }
  const snap = (k: number): number => (k === 0 ? 0 : Number(`${k * m}e${e}`));
  const eps = step * 1e-9;
  const first = expand ? Math.floor(min / step + 1e-9) : Math.ceil((min - eps) / step);
  const last = expand ? Math.ceil(max / step - 1e-9) : Math.floor((max + eps) / step);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(snap(k));
  return {
    min: expand ? snap(first) : min,
    max: expand ? snap(last) : max,
    step,
    ticks,
    labels: ticks.map((t) => formatTick(t, step)),
  };
}

/**
 * Ticks for a log axis over [min, max] (both > 0): the domain grows to whole decades; ticks at
 * decades (every k-th when there are many), plus 2× and 5× when the axis spans two decades or less.
 */
export function logTicks(min: number, max: number, options: { expand?: boolean } = {}): Ticks {
  const expand = options.expand ?? true;
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [1, 10];
  if (min > max) [min, max] = [max, min];
  min = Math.min(Math.max(min, 1e-300), 1e300); // keep every decade and 5× tick finite
  max = Math.min(Math.max(max, 1e-300), 1e300);
  let lo = Math.floor(Math.log10(min) + 1e-12);
  let hi = Math.ceil(Math.log10(max) - 1e-12);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const domainMin = expand ? pow10(lo, 1) : min;
  const domainMax = expand ? pow10(hi, 1) : max;
  const decades = hi - lo;
  const every = Math.max(1, Math.ceil(decades / 8));
  const ticks: number[] = [];
  const inside = (v: number): boolean => v >= domainMin * (1 - 1e-12) && v <= domainMax * (1 + 1e-12);
  for (let e = lo; e <= hi; e++) {
    const mantissas = decades <= 2 ? [1, 2, 5] : (e - lo) % every === 0 ? [1] : [];
    for (const m of mantissas) {
      const v = pow10(e, m);
      if (inside(v)) ticks.push(v);
    }
  }
  return { min: domainMin, max: domainMax, step: 0, ticks, labels: ticks.map(formatLogTick) };
}

function pow10(e: number, mantissa: number): number {
  return Number(`${mantissa}e${e}`);
}

function formatLogTick(v: number): string {
  return String(v).replace('e+', 'e');
}
