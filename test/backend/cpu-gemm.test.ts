import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GemmArgs } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { gemmRangeJs } from '../../src/backend/cpu/gemm-blocked.js';
import { gemmRangeWasm, gemmRangeWasmDot } from '../../src/backend/cpu/gemm-wasm.js';
import { gemmDirect } from '../../src/backend/cpu/gemm.js';
import { createKernelState, type KernelState } from '../../src/backend/cpu/state.js';
import * as threads from '../../src/backend/cpu/threads.js';
import { kernelBytes, simdSupported } from '../../src/backend/cpu/wasm/kernels.js';
import { CTORS, type Ctor, randomArray } from './cpu-helpers.js';

const backend = new CpuBackend();

interface Case {
  ctor: Ctor;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  aOffset: number;
  bOffset: number;
  cOffset: number;
  aPad: number;
  bPad: number;
  cPad: number;
  seed: number;
  /** Operands on SharedArrayBuffers (the zero-copy worker path) or plain ArrayBuffers (staged). */
  shared?: boolean;
}

function onShared(x: Float32Array | Float64Array): Float32Array | Float64Array {
  const s = x instanceof Float32Array ? new Float32Array(new SharedArrayBuffer(x.length * 4)) : new Float64Array(new SharedArrayBuffer(x.length * 8));
  s.set(x);
  return s;
}

function build(t: Case): GemmArgs {
  const aRows = t.transA ? t.k : t.m,
    aCols = t.transA ? t.m : t.k;
  const bRows = t.transB ? t.n : t.k,
    bCols = t.transB ? t.k : t.n;
  const lda = Math.max(1, aCols) + t.aPad;
  const ldb = Math.max(1, bCols) + t.bPad;
  const ldc = Math.max(1, t.n) + t.cPad;
  // One spare element past the end catches writes beyond the last row.
  let a = randomArray(t.ctor, t.aOffset + aRows * lda + 1, t.seed);
  let b = randomArray(t.ctor, t.bOffset + bRows * ldb + 1, t.seed + 1);
  let c = randomArray(t.ctor, t.cOffset + t.m * ldc + 1, t.seed + 2);
  // beta = 0 must overwrite C, so poison the elements that will be written.
  if (t.beta === 0) for (let i = 0; i < t.m; i++) c.fill(NaN, t.cOffset + i * ldc, t.cOffset + i * ldc + t.n);
  if (t.shared) {
    a = onShared(a);
    b = onShared(b);
    c = onShared(c);
  }
  return {
    transA: t.transA,
    transB: t.transB,
    m: t.m,
    n: t.n,
    k: t.k,
    alpha: t.alpha,
    a,
    aOffset: t.aOffset,
    lda,
    b,
    bOffset: t.bOffset,
    ldb,
    beta: t.beta,
    c,
    cOffset: t.cOffset,
    ldc,
  };
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

/**
 * Tolerance relative to Σ|terms|: float64 accumulates in doubles on every path; float32 may
 * accumulate in float32 (the SIMD kernels, as any sgemm), whose worst-case rounding error is
 * ≈ (k + 2)·2⁻²⁴ of Σ|terms|, plus the rounding of alpha·s + beta·c.
 */
function tolerance(t: Case): number {
  return t.ctor === Float32Array ? Math.max(2e-6, (t.k + 4) * 2 ** -23) : 1e-14;
}

/** References of the fixed cases, shared by the configurations (the triple loop dominates the run time). */
const memo = new Map<string, { c: Float64Array; mag: Float64Array }>();

function check(t: Case, run: (g: GemmArgs) => void = (g) => backend.gemm(g), memoize = false): void {
  const g = build(t);
  const before = Float64Array.from(g.c);
  const key = JSON.stringify({ ...t, ctor: t.ctor.name });
  const { c: expected, mag } = (memoize && memo.get(key)) || reference(g);
  if (memoize) memo.set(key, { c: expected, mag });
  run(g);
  const eps = tolerance(t);
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
  shared: fc.boolean(),
};

/**
 * The configurations every GEMM property runs on: plain JS and WebAssembly SIMD, one thread and
 * several, with the split thresholds lowered so that small products are split too (by rows,
 * columns or k, at boundaries that are not multiples of the blocks or the thread share).
 */
interface Config {
  name: string;
  simd: boolean;
  threads: number;
  mainShare?: boolean;
}
const CONFIGS: Config[] = [
  { name: 'JS, 1 thread', simd: false, threads: 1 },
  { name: 'SIMD, 1 thread', simd: true, threads: 1 },
  { name: 'JS, 2 threads, every chunk on the worker', simd: false, threads: 2, mainShare: false },
  { name: 'SIMD, 2 threads, every chunk on the worker', simd: true, threads: 2, mainShare: false },
  { name: 'SIMD, 3 threads, shared schedule', simd: true, threads: 3 },
];

const saved = { ...threads.tuning, threads: threads.getNumThreads(), simd: threads.simdEnabled() };

function configure(cfg: Config): void {
  threads.setSimd(cfg.simd);
  threads.setNumThreads(cfg.threads);
  threads.tuning.parMinMacsWasm = 1;
  threads.tuning.parMinMacsWasmF64 = 1;
  threads.tuning.parMinMacsJs = 1;
  threads.tuning.mainShare = cfg.mainShare ?? true;
}

afterAll(() => {
  threads.tuning.mainShare = true;
  threads.tuning.parMinMacsWasm = saved.parMinMacsWasm;
  threads.tuning.parMinMacsWasmF64 = saved.parMinMacsWasmF64;
  threads.tuning.parMinMacsJs = saved.parMinMacsJs;
  threads.setNumThreads(saved.threads);
  threads.setSimd(saved.simd);
});

describe('CPU backend runtime', () => {
  it('has WebAssembly SIMD on this runtime (Node ≥ 16.4), so the SIMD configurations below test it', () => {
    expect(simdSupported()).toBe(true);
  });

  it("starts worker threads from the kernels' source text under this loader", () => {
    threads.setNumThreads(3);
    expect(threads.startWorkers()).toBe(2);
    expect(threads.poolDisabled()).toBe(false);
    threads.setNumThreads(saved.threads);
  });

  it('reports a failing chunk on a worker as an error on the calling thread, and keeps working', () => {
    threads.setNumThreads(2);
    expect(threads.startWorkers()).toBe(1);
    const bad = { kind: 'nope' } as unknown as threads.Job;
    const ok = {
      kind: 'gemm',
      path: 'js',
      g: build({
        ctor: Float64Array,
        m: 1,
        n: 1,
        k: 1,
        transA: false,
        transB: false,
        alpha: 1,
        beta: 0,
        aOffset: 0,
        bOffset: 0,
        cOffset: 0,
        aPad: 0,
        bPad: 0,
        cPad: 0,
        seed: 1,
      }),
      i0: 0,
      i1: 0,
      j0: 0,
      j1: 0,
      p0: 0,
      p1: 0,
      out: new Float64Array(new SharedArrayBuffer(8)),
      outOffset: 0,
      ldo: 1,
      alpha: 1,
      beta: 0,
    } as threads.Job;
    threads.tuning.mainShare = false;
    try {
      expect(() => threads.runChunks([ok, bad, ok], 1)).toThrow(/worker thread: .*unknown job kind nope/);
      expect(() => threads.runChunks([ok, ok], 1)).not.toThrow();
    } finally {
      threads.tuning.mainShare = true;
    }
    // On the calling thread the same chunk throws the kernel's own error.
    expect(() => threads.runChunks([bad], 0)).toThrow(/unknown job kind nope/);
    threads.setNumThreads(saved.threads);
  });

  it('splitGuided covers [0, total) in levels·threads aligned, ordered chunks, larger ones first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 6 }),
        (total, t, align, levels) => {
          const b = threads.splitGuided(total, t, align, levels);
          const n = levels * t;
          expect(b.length).toBe(n + 1);
          expect(b[0]).toBe(0);
          expect(b[n]).toBe(total);
          for (let i = 0; i < n; i++) {
            expect(b[i + 1]).toBeGreaterThanOrEqual(b[i]);
            if (i > 0 && b[i] < total) expect(b[i] % align).toBe(0);
          }
          if (levels > 1 && total >= 100 * align * n) expect(b[1] - b[0]).toBeGreaterThan(b[n] - b[n - 1]);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  it('splitRange covers [0, total) in aligned, ordered chunks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 9 }), (total, parts, align) => {
        const b = threads.splitRange(total, parts, align);
        expect(b.length).toBe(parts + 1);
        expect(b[0]).toBe(0);
        expect(b[parts]).toBe(total);
        for (let t = 0; t < parts; t++) {
          expect(b[t + 1]).toBeGreaterThanOrEqual(b[t]);
          if (t > 0 && b[t] < total) expect(b[t] % align).toBe(0);
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

for (const cfg of CONFIGS) {
  describe(`CpuBackend.gemm (${cfg.name})`, () => {
    beforeAll(() => configure(cfg));

    it('matches a naive triple loop on small shapes, every flag combination', () => {
      configure(cfg);
      fc.assert(
        fc.property(fc.record({ ...flags, m: fc.integer({ min: 0, max: 12 }), n: fc.integer({ min: 0, max: 12 }), k: fc.integer({ min: 0, max: 12 }) }), (t) =>
          check(t),
        ),
        { seed: 42, numRuns: 150 },
      );
    });

    it('matches a naive triple loop on blocked shapes that are not multiples of the blocks or the thread split', () => {
      configure(cfg);
      fc.assert(
        fc.property(
          fc.record({ ...flags, m: fc.integer({ min: 1, max: 140 }), n: fc.integer({ min: 1, max: 150 }), k: fc.integer({ min: 1, max: 300 }) }),
          (t) => check(t),
        ),
        { seed: 42, numRuns: 40 },
      );
    });

    it('handles thin products: split by k (m, n tiny) and long dot products', () => {
      configure(cfg);
      fc.assert(
        fc.property(
          fc.record({ ...flags, m: fc.integer({ min: 1, max: 5 }), n: fc.integer({ min: 1, max: 9 }), k: fc.integer({ min: 100, max: 1300 }) }),
          (t) => check(t),
        ),
        { seed: 42, numRuns: 25 },
      );
    });

    it('crosses the default cache blocks (m > MC, k > KC) for each transpose combination', () => {
      configure(cfg);
      for (const ctor of CTORS) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            check(
              {
                ctor,
                transA,
                transB,
                m: 133,
                n: 301,
                k: 525,
                alpha: 0.5,
                beta: -0.75,
                aOffset: 3,
                bOffset: 1,
                cOffset: 2,
                aPad: 2,
                bPad: 1,
                cPad: 3,
                seed: 7,
                shared: transA,
              },
              undefined,
              true,
            );
          }
        }
      }
    });

    it('with beta = 0 overwrites NaN in C, with k = 0 or alpha = 0 only scales C', () => {
      configure(cfg);
      for (const [m, n, k] of [
        [3, 3, 3],
        [40, 50, 60],
      ]) {
        const c = new Float64Array(m * n).fill(NaN);
        backend.gemm({
          transA: false,
          transB: false,
          m,
          n,
          k,
          alpha: 1,
          a: new Float64Array(m * k).fill(1),
          aOffset: 0,
          lda: k,
          b: new Float64Array(k * n).fill(2),
          bOffset: 0,
          ldb: n,
          beta: 0,
          c,
          cOffset: 0,
          ldc: n,
        });
        expect(Array.from(c).every((v) => v === 2 * k)).toBe(true);
        const c32 = new Float32Array(m * n).fill(NaN);
        backend.gemm({
          transA: false,
          transB: true,
          m,
          n,
          k,
          alpha: 1,
          a: new Float32Array(m * k).fill(1),
          aOffset: 0,
          lda: k,
          b: new Float32Array(k * n).fill(2),
          bOffset: 0,
          ldb: k,
          beta: 0,
          c: c32,
          cOffset: 0,
          ldc: n,
        });
        expect(Array.from(c32).every((v) => v === 2 * k)).toBe(true);
      }
      const c = new Float32Array([1, 2, 3, 4]);
      backend.gemm({
        transA: false,
        transB: false,
        m: 2,
        n: 2,
        k: 0,
        alpha: 1,
        a: new Float32Array(0),
        aOffset: 0,
        lda: 1,
        b: new Float32Array(0),
        bOffset: 0,
        ldb: 2,
        beta: 3,
        c,
        cOffset: 0,
        ldc: 2,
      });
      expect(Array.from(c)).toEqual([3, 6, 9, 12]);
    });
  });
}

describe('GEMM range kernels with tiny cache blocks (every loop of the nest runs several times)', () => {
  const tiny = (): KernelState => {
    const st = createKernelState(simdSupported() ? new WebAssembly.Module(kernelBytes() as BufferSource) : null);
    Object.assign(st, { jsKc: 5, jsMc: 6, jsNc: 9, wKc: 7, wMc: 10, wNc: 17, wKcDot: 12 });
    return st;
  };

  /**
   * Runs a kernel as four blocks of the output cut at (iCut, jCut), each in two k-slices cut at
   * pCut, the second accumulating onto the first (beta = 1): the range contract the threads use.
   */
  function runBlocks(range: typeof gemmRangeJs, st: KernelState, t: Case, [iCut, jCut, pCut]: [number, number, number]): void {
    check(t, (g) => {
      const ic = iCut % (g.m + 1),
        jc = jCut % (g.n + 1),
        pc = pCut % (g.k + 1);
      for (const [a0, a1] of [
        [0, ic],
        [ic, g.m],
      ]) {
        for (const [b0, b1] of [
          [0, jc],
          [jc, g.n],
        ]) {
          if (a1 <= a0 || b1 <= b0) continue;
          const off = g.cOffset + a0 * g.ldc + b0;
          range(st, g, a0, a1, b0, b1, 0, pc, g.c, off, g.ldc, g.alpha, g.beta);
          range(st, g, a0, a1, b0, b1, pc, g.k, g.c, off, g.ldc, g.alpha, 1);
        }
      }
    });
  }

  const shapes = { m: fc.integer({ min: 1, max: 30 }), n: fc.integer({ min: 1, max: 40 }), k: fc.integer({ min: 1, max: 30 }) };
  const split = fc.tuple(fc.nat(40), fc.nat(40), fc.nat(40));

  it('plain JS (float32 and float64)', () => {
    const st = tiny();
    fc.assert(
      fc.property(fc.record({ ...flags, ...shapes }), split, (t, s) => runBlocks(gemmRangeJs, st, t, s)),
      { seed: 42, numRuns: 150 },
    );
  });

  it('WebAssembly SIMD outer-product kernel (float32), packing A whole or per block', () => {
    const st = tiny();
    fc.assert(
      fc.property(fc.record({ ...flags, ...shapes, ctor: fc.constant(Float32Array as Ctor) }), split, fc.boolean(), (t, s, small) => {
        st.wPackBudget = small ? 64 : 8 << 20;
        runBlocks(gemmRangeWasm, st, t, s);
      }),
      { seed: 42, numRuns: 150 },
    );
  });

  it('WebAssembly SIMD f64x2 outer-product kernel (float64), packing A whole or per block', () => {
    const st = tiny();
    fc.assert(
      fc.property(fc.record({ ...flags, ...shapes, ctor: fc.constant(Float64Array as Ctor) }), split, fc.boolean(), (t, s, small) => {
        st.wPackBudget = small ? 64 : 8 << 20;
        // The float64 route is gemmRangeWasm with f64 = true, as the thread pool's 'wasm64' jobs run it.
        runBlocks(
          (st1, g, i0, i1, j0, j1, p0, p1, out, outOffset, ldo, alpha, beta) =>
            gemmRangeWasm(st1, g, i0, i1, j0, j1, p0, p1, out, outOffset, ldo, alpha, beta, true),
          st,
          t,
          s,
        );
      }),
      { seed: 42, numRuns: 150 },
    );
  });

  it('WebAssembly SIMD dot-product kernel (float32, A·Bᵀ)', () => {
    const st = tiny();
    fc.assert(
      fc.property(
        fc.record({ ...flags, ...shapes, ctor: fc.constant(Float32Array as Ctor), transA: fc.constant(false), transB: fc.constant(true) }),
        split,
        (t, s) => runBlocks(gemmRangeWasmDot, st, t, s),
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  it('the direct loop on the sizes of the blocked paths', () => {
    fc.assert(
      fc.property(fc.record({ ...flags, ...shapes }), (t) => check(t, gemmDirect)),
      { seed: 42, numRuns: 60 },
    );
  });
});

describe('CpuBackend.gemm argument checks', () => {
  it('rejects bad arguments with a message naming the argument', () => {
    const ok = (): GemmArgs => ({
      transA: false,
      transB: false,
      m: 2,
      n: 2,
      k: 2,
      alpha: 1,
      a: new Float64Array(4),
      aOffset: 0,
      lda: 2,
      b: new Float64Array(4),
      bOffset: 0,
      ldb: 2,
      beta: 0,
      c: new Float64Array(4),
      cOffset: 0,
      ldc: 2,
    });
    expect(() => backend.gemm({ ...ok(), lda: 1 })).toThrow(/lda must be ≥ max\(1, k\) = 2, got 1/);
    expect(() => backend.gemm({ ...ok(), m: -1 })).toThrow(/m must be a non-negative integer, got -1/);
    expect(() => backend.gemm({ ...ok(), b: new Float64Array(3) })).toThrow(/b must hold at least 4 elements.*got 3/);
    expect(() => backend.gemm({ ...ok(), c: new Float32Array(4) })).toThrow(/c must have the same dtype as a/);
    expect(() => backend.gemm({ ...ok(), cOffset: 1 })).toThrow(/c must hold at least 5 elements/);
  });
});
