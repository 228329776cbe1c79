/**
 * Test helpers for linalg/ and tucker/: plain matrix arithmetic written independently of the code
 * under test, random orthogonal matrices (products of Householder reflections of Gaussian vectors)
 * and matrices with a prescribed spectrum.
 */
import fc from 'fast-check';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** Every property is seeded (LINALG_SEED overrides the default 1234 to explore other cases). */
export const SEED = Number(process.env.LINALG_SEED ?? 1234);
export const opts = (numRuns: number) => ({ seed: SEED, numRuns });

export function mm(a: ArrayLike<number>, m: number, k: number, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  return c;
}

export function tr(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

export function fro(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

export function diffFro(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`diffFro: lengths ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** max |QᵀQ − I| for an m×c matrix with orthonormal columns expected. */
export function orthError(q: ArrayLike<number>, m: number, c: number): number {
  const g = mm(tr(q, m, c), c, m, q, c);
  let e = 0;
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) e = Math.max(e, Math.abs(g[i * c + j] - (i === j ? 1 : 0)));
  return e;
}

/** A random n×n orthogonal matrix (n Householder reflections of Gaussian vectors). */
export function randomOrthogonal(n: number, g: Generator): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let r = 0; r < n; r++) {
    const v = new Float64Array(n);
    let nv = 0;
    for (let i = 0; i < n; i++) {
      v[i] = g.normal();
      nv += v[i] * v[i];
    }
    if (nv === 0) continue;
    // q ← q·(I − 2vvᵀ/vᵀv)
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < n; j++) d += q[i * n + j] * v[j];
      const f = (2 * d) / nv;
      for (let j = 0; j < n; j++) q[i * n + j] -= f * v[j];
    }
  }
  return q;
}

export type SpectrumKind = 'random' | 'repeated' | 'clustered' | 'rankDeficient' | 'graded' | 'zero' | 'one';
export const SPECTRUM_KINDS: SpectrumKind[] = ['random', 'repeated', 'clustered', 'rankDeficient', 'graded', 'zero', 'one'];

/** k singular values, descending, of the given kind. */
export function spectrum(kind: SpectrumKind, k: number, g: Generator): Float64Array {
  const s = new Float64Array(k);
  const scale = Math.pow(10, g.int(-3, 4));
  for (let i = 0; i < k; i++) {
    switch (kind) {
      case 'random':
        s[i] = g.uniform() + 0.01;
        break;
      case 'repeated':
        s[i] = i < Math.ceil(k / 2) ? 2 : 0.5;
        break;
      case 'clustered':
        s[i] = 1 + 1e-9 * g.uniform();
        break;
      case 'rankDeficient':
        s[i] = i < Math.floor(k / 2) ? g.uniform() + 0.1 : 0;
        break;
      case 'graded':
        s[i] = Math.pow(10, -i);
        break;
      case 'zero':
        s[i] = 0;
        break;
      case 'one':
        s[i] = i === 0 ? 1 : 0;
        break;
    }
  }
  const sorted = Array.from(s).sort((a, b) => b - a);
  for (let i = 0; i < k; i++) s[i] = sorted[i] * scale;
  return s;
}

/** A = U[:, :k]·diag(σ)·V[:, :k]ᵀ with random orthogonal U (m×m), V (n×n). */
export function withSpectrum(m: number, n: number, sigma: ArrayLike<number>, g: Generator): Float64Array {
  const k = Math.min(m, n);
  const u = randomOrthogonal(m, g);
  const v = randomOrthogonal(n, g);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += u[i * m + p] * sigma[p] * v[j * n + p];
      a[i * n + j] = s;
    }
  return a;
}

export interface MatrixCase {
  m: number;
  n: number;
  kind: SpectrumKind;
  seed: number;
}

/**
 * Shapes 1..maxDim (tall, wide, square, 1×n, n×1), one case in five with an extreme aspect ratio
 * (1..3 × 4·maxDim or the reverse), with every spectrum kind.
 */
export const arbMatrixCase = (maxDim = 12): fc.Arbitrary<MatrixCase> => {
  const kind = fc.constantFrom(...SPECTRUM_KINDS);
  const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 });
  const regular = fc.record({ m: fc.integer({ min: 1, max: maxDim }), n: fc.integer({ min: 1, max: maxDim }), kind, seed });
  const extreme = fc
    .record({ small: fc.integer({ min: 1, max: 3 }), large: fc.integer({ min: maxDim, max: 4 * maxDim }), tall: fc.boolean(), kind, seed })
    .map(({ small, large, tall, kind: k, seed: sd }) => ({ m: tall ? large : small, n: tall ? small : large, kind: k, seed: sd }));
  return fc.oneof({ arbitrary: regular, weight: 4 }, { arbitrary: extreme, weight: 1 });
};

export function buildCase(c: MatrixCase): { a: Float64Array; sigma: Float64Array; t: Tensor } {
  const g = new Generator(c.seed);
  const sigma = spectrum(c.kind, Math.min(c.m, c.n), g);
  const a = withSpectrum(c.m, c.n, sigma, g);
  return { a, sigma, t: Tensor.fromData(a, [c.m, c.n]) };
}

/** A Gaussian tensor of the given shape. */
export function gaussian(shape: number[], seed: number, scale = 1): Tensor {
  const g = new Generator(seed);
  const d = new Float64Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < d.length; i++) d[i] = scale * g.normal();
  return Tensor.fromData(d, shape);
}
