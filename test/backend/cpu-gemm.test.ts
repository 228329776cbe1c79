import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GemmArgs } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { KC, MC, NC, gemmBlocked } from '../../src/backend/cpu/gemm-blocked.js';
import { gemmDirect } from '../../src/backend/cpu/gemm.js';
import { CTORS, type Ctor, randomArray } from './cpu-helpers.js';

const backend = new CpuBackend();

interface Case {
  ctor: Ctor;
  m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  alpha: number; beta: number;
  aOffset: number; bOffset: number; cOffset: number;
  aPad: number; bPad: number; cPad: number;
  seed: number;
}

function build(t: Case): GemmArgs {
  const aRows = t.transA ? t.k : t.m, aCols = t.transA ? t.m : t.k;
  const bRows = t.transB ? t.n : t.k, bCols = t.transB ? t.k : t.n;
  const lda = Math.max(1, aCols) + t.aPad;
  const ldb = Math.max(1, bCols) + t.bPad;
  const ldc = Math.max(1, t.n) + t.cPad;
  // One spare element past the end catches writes beyond the last row.
  const a = randomArray(t.ctor, t.aOffset + aRows * lda + 1, t.seed);
  const b = randomArray(t.ctor, t.bOffset + bRows * ldb + 1, t.seed + 1);
  const c = randomArray(t.ctor, t.cOffset + t.m * ldc + 1, t.seed + 2);
  // beta = 0 must overwrite C, so poison the elements that will be written.
  if (t.beta === 0) for (let i = 0; i < t.m; i++) c.fill(NaN, t.cOffset + i * ldc, t.cOffset + i * ldc + t.n);
  return { transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha, a, aOffset: t.aOffset, lda, b, bOffset: t.bOffset, ldb, beta: t.beta, c, cOffset: t.cOffset, ldc };
}

/** Naive triple loop in float64; also returns Σ|terms| per element to scale the tolerance. */
function reference(g: GemmArgs): { c: Float64Array; mag: Float64Array } {
  const c = Float64Array.from(g.c);
  const mag = new Float64Array(g.c.length);
  for (let i = 0; i < g.m; i++) {
    for (let j = 0; j < g.n; j++) {
      let s = 0;
      let sAbs = 0;
      for (let p = 0; p < g.k; p++) {
        const av = g.transA ? g.a[g.aOffset + p * g.lda + i] : g.a[g.aOffset + i * g.lda + p];
        const bv = g.transB ? g.b[g.bOffset + j * g.ldb + p] : g.b[g.bOffset + p * g.ldb + j];
        s += av * bv;
        sAbs += Math.abs(av * bv);
      }
      const ci = g.cOffset + i * g.ldc + j;
      const old = g.c[ci];
      c[ci] = g.beta === 0 ? g.alpha * s : g.alpha * s + g.beta * old;
      mag[ci] = Math.abs(g.alpha) * sAbs + (g.beta === 0 ? 0 : Math.abs(g.beta * old)) + 1;
    }
  }
  return { c, mag };
}

function check(t: Case, run: (g: GemmArgs) => void = (g) => backend.gemm(g)): void {
  const g = build(t);
  const before = Float64Array.from(g.c);
  const { c: expected, mag } = reference(g);
  run(g);
  const eps = t.ctor === Float32Array ? 2e-6 : 1e-14;
  for (let i = 0; i < expected.length; i++) {
    const got = g.c[i];
    const want = expected[i];
    const isOutput = mag[i] !== 0;
    if (!isOutput) {
      // Elements outside the m×n window (offsets, ld padding, the spare tail) must be untouched.
      if (!Object.is(got, before[i])) throw new Error(`c[${i}] outside the output was changed: ${before[i]} → ${got}`);
      continue;
    }
    if (!(Math.abs(got - want) <= eps * mag[i])) {
      throw new Error(`c[${i}] = ${got}, expected ${want} (${JSON.stringify({ ...t, ctor: t.ctor.name })})`);
    }
  }
}

const flags = {
  ctor: fc.constantFrom(...CTORS),
  transA: fc.boolean(),
  transB: fc.boolean(),
  alpha: fc.constantFrom(1, -1, 0.5, 2.25, 0),
  beta: fc.constantFrom(0, 1, -0.75, 2),
  aOffset: fc.integer({ min: 0, max: 5 }),
  bOffset: fc.integer({ min: 0, max: 5 }),
  cOffset: fc.integer({ min: 0, max: 5 }),
  aPad: fc.integer({ min: 0, max: 3 }),
  bPad: fc.integer({ min: 0, max: 3 }),
  cPad: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
};

describe('CpuBackend.gemm', () => {
  it('matches a naive triple loop on small shapes (direct path), every flag combination', () => {
    fc.assert(
      fc.property(fc.record({ ...flags, m: fc.integer({ min: 0, max: 12 }), n: fc.integer({ min: 0, max: 12 }), k: fc.integer({ min: 0, max: 12 }) }), (t) => check(t)),
      { seed: 42, numRuns: 400 },
    );
  });

  it('matches a naive triple loop on blocked-path shapes that are not multiples of the blocks', () => {
    fc.assert(
      fc.property(fc.record({ ...flags, m: fc.integer({ min: 1, max: 2 * MC + 7 }), n: fc.integer({ min: 1, max: 150 }), k: fc.integer({ min: 1, max: KC + 40 }) }), (t) => check(t)),
      { seed: 42, numRuns: 120 },
    );
  });

  it('runs each path on the sizes of the other too: blocked on tiny shapes, direct on larger ones', () => {
    const shapes = (max: number) => ({ m: fc.integer({ min: 1, max }), n: fc.integer({ min: 1, max }), k: fc.integer({ min: 1, max }) });
    // gemmBlocked expects C already scaled by beta, so run it with beta = 1.
    fc.assert(fc.property(fc.record({ ...flags, ...shapes(9), beta: fc.constant(1) }), (t) => check(t, gemmBlocked)), { seed: 42, numRuns: 300 });
    fc.assert(fc.property(fc.record({ ...flags, ...shapes(40) }), (t) => check(t, gemmDirect)), { seed: 42, numRuns: 60 });
  });

  it('crosses every block boundary (m > MC, n > NC, k > KC) for each transpose combination', () => {
    for (const ctor of CTORS) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          check({ ctor, transA, transB, m: MC + 5, n: NC + 3, k: KC + 9, alpha: 0.5, beta: -0.75, aOffset: 3, bOffset: 1, cOffset: 2, aPad: 2, bPad: 1, cPad: 3, seed: 7 });
        }
      }
    }
  });

  it('with beta = 0 overwrites NaN in C, on both paths', () => {
    for (const [m, n, k] of [[3, 3, 3], [40, 50, 60]]) {
      const c = new Float64Array(m * n).fill(NaN);
      backend.gemm({ transA: false, transB: false, m, n, k, alpha: 1, a: new Float64Array(m * k).fill(1), aOffset: 0, lda: k, b: new Float64Array(k * n).fill(2), bOffset: 0, ldb: n, beta: 0, c, cOffset: 0, ldc: n });
      expect(Array.from(c).every((v) => v === 2 * k)).toBe(true);
    }
  });

  it('with k = 0 or alpha = 0 only scales C', () => {
    const c = new Float32Array([1, 2, 3, 4]);
    backend.gemm({ transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: new Float32Array(0), aOffset: 0, lda: 1, b: new Float32Array(0), bOffset: 0, ldb: 2, beta: 3, c, cOffset: 0, ldc: 2 });
    expect(Array.from(c)).toEqual([3, 6, 9, 12]);
  });

  it('rejects bad arguments with a message naming the argument', () => {
    const ok = (): GemmArgs => ({ transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 1, a: new Float64Array(4), aOffset: 0, lda: 2, b: new Float64Array(4), bOffset: 0, ldb: 2, beta: 0, c: new Float64Array(4), cOffset: 0, ldc: 2 });
    expect(() => backend.gemm({ ...ok(), lda: 1 })).toThrow(/lda must be ≥ max\(1, k\) = 2, got 1/);
    expect(() => backend.gemm({ ...ok(), m: -1 })).toThrow(/m must be a non-negative integer, got -1/);
    expect(() => backend.gemm({ ...ok(), b: new Float64Array(3) })).toThrow(/b must hold at least 4 elements.*got 3/);
    expect(() => backend.gemm({ ...ok(), c: new Float32Array(4) })).toThrow(/c must have the same dtype as a/);
    expect(() => backend.gemm({ ...ok(), cOffset: 1 })).toThrow(/c must hold at least 5 elements/);
  });
});
