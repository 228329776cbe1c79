/**
 * erf and erfc to near machine precision, for the exact gelu. Float64 gradient checks compare
 * against finite differences of gelu itself, so a cheap 1e-7 approximation (Abramowitz–Stegun)
 * would show up as gradient error; these two expansions stay within a few ulps.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;
/** Below this, the series converges fast and has no cancellation; above, the continued fraction does. */
const SWITCH = 3;

/**
 * erf(x) = 2/√π · e^{-x²} · Σ_n 2ⁿ x^{2n+1} / (1·3·…·(2n+1)). Every term is positive, so unlike the
 * Taylor series of erf there is no cancellation; the sum is accurate to rounding for |x| < SWITCH.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * erfc(x) for x ≥ SWITCH by Laplace's continued fraction
 * e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up with enough terms
 * for full precision at x = SWITCH (fewer are needed further out, but the cost is negligible).
 */
function erfcFraction(x: number): number {
  let t = x;
  for (let k = 60; k >= 1; k--) t = x + k / 2 / t;
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / t;
}

export function erf(x: number): number {
  if (x !== x) return NaN;
  const ax = Math.abs(x);
  if (ax < SWITCH) return x < 0 ? -erfSeries(ax) : erfSeries(ax);
  if (ax > 6) return x < 0 ? -1 : 1; // erfc(6) ≈ 2e-17: below half an ulp of 1.
  const r = 1 - erfcFraction(ax);
  return x < 0 ? -r : r;
}

/** erfc keeps relative precision in the tail, where 1 - erf(x) would cancel to zero. */
export function erfc(x: number): number {
  if (x !== x) return NaN;
  if (x >= SWITCH) return x > 27 ? 0 : erfcFraction(x);
  if (x <= -SWITCH) return x < -6 ? 2 : 2 - erfcFraction(-x);
  return 1 - (x < 0 ? -erfSeries(-x) : erfSeries(x));
}

const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

/** Standard normal CDF Φ(x) = erfc(-x/√2)/2; via erfc so that the left tail keeps relative precision. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * INV_SQRT2);
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}
