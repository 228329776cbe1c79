import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BinaryOp, UnaryOp } from '../../src/backend/backend.js';
import { CpuBackend, erf, erfc, gelu, geluGrad } from '../../src/backend/cpu/index.js';
import { CTORS, firstMismatch, randomArray, ravel, sizeOf, unravel } from './cpu-helpers.js';

const backend = new CpuBackend();

/**
 * erf to ~40 digits with BigInt fixed point, from the alternating Taylor series (cancellation is
 * harmless with 60 guard digits). Independent of the kernel's series/continued-fraction split.
 */
const DIGITS = 60n;
const SCALE = 10n ** DIGITS;
const TWO_OVER_SQRT_PI = 112837916709551257389615890312154517168810125865799771368817n; // ×10^-59
function erfExact(x: number): number {
  if (x === 0 || Number.isNaN(x)) return x;
  if (Math.abs(x) >= 7) return Math.sign(x); // erfc(7) ≈ 4e-23, far below an ulp of 1
  // x = X / 2^60 exactly for |x| < 8 with a double's 53-bit mantissa.
  const X = BigInt(Math.round(x * 2 ** 60));
  const xs = (X * SCALE) / 2n ** 60n;
  const x2 = (xs * xs) / SCALE;
  let term = xs; // x^(2n+1)/n!
  let sum = xs;
  for (let n = 1n; n < 400n; n++) {
    term = (term * x2) / SCALE / n;
    const t = term / (2n * n + 1n);
    if (t === 0n) break;
    sum += n % 2n === 1n ? -t : t;
  }
  const r = (sum * TWO_OVER_SQRT_PI) / 10n ** 59n; // scaled by 10^60
  return Number(r / 10n ** 40n) / 1e20;
}

describe('erf', () => {
  it('agrees with a 60-digit reference to 1e-14 absolute over [-7, 7]', () => {
    fc.assert(
      fc.property(fc.double({ min: -7, max: 7, noNaN: true }), (x) => {
        expect(Math.abs(erf(x) - erfExact(x))).toBeLessThan(1e-14);
        expect(Math.abs(erfc(x) - (1 - erfExact(x)))).toBeLessThan(1e-14);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('is accurate at the series / continued-fraction switch and at table values', () => {
    for (const x of [2.999999, 3, 3.000001, 0.5, 1, 2, 2.5]) expect(Math.abs(erf(x) - erfExact(x))).toBeLessThan(1e-15);
    expect(erfc(3)).toBeCloseTo(2.209049699858544e-5, 18);
    expect(Math.abs(erfc(5) / 1.5374597944280349e-12 - 1)).toBeLessThan(1e-13); // relative in the tail
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });

  it('gelu is x·Φ(x) and geluGrad is its derivative', () => {
    fc.assert(
      fc.property(fc.double({ min: -8, max: 8, noNaN: true }), (x) => {
        const phi = 0.5 * (1 + erfExact(x / Math.SQRT2));
        expect(Math.abs(gelu(x) - x * phi)).toBeLessThan(1e-14 * Math.max(1, Math.abs(x)));
        const h = 1e-5;
        const fd = (gelu(x + h) - gelu(x - h)) / (2 * h);
        expect(Math.abs(geluGrad(x) - fd)).toBeLessThan(1e-9);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

const UNARY_REFERENCE: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  relu: (x) => (x > 0 ? x : Number.isNaN(x) ? NaN : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  gelu: (x) => 0.5 * x * (1 + erfExact(x / Math.SQRT2)),
  geluGrad: (x) => 0.5 * (1 + erfExact(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
  square: (x) => x * x,
  sign: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0),
  reciprocal: (x) => 1 / x,
  step: (x) => (x > 0 ? 1 : 0),
};
const UNARY_OPS = Object.keys(UNARY_REFERENCE) as UnaryOp[];

describe('CpuBackend.unary', () => {
  it('matches the scalar definition for every op and dtype', () => {
    fc.assert(
      fc.property(fc.constantFrom(...UNARY_OPS), fc.constantFrom(...CTORS), fc.integer({ min: 0, max: 70 }), fc.integer(), (op, ctor, n, seed) => {
        const x = randomArray(ctor, n, seed).map((v) => v * 6);
        if (n > 3) {
          x[0] = 0;
          x[1] = NaN;
          x[2] = -Infinity;
          x[3] = 40;
        }
        const out = new ctor(n);
        backend.unary(op, x, out);
        const expected = new ctor(n).map((_, i) => UNARY_REFERENCE[op](x[i]));
        const tol = ctor === Float32Array ? 1e-6 : 1e-14;
        expect(firstMismatch(out, expected, tol)).toBeNull();
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('sign and relu return +0 (never -0), relu maps -Infinity to 0, sigmoid stays finite at the extremes', () => {
    const out = new Float64Array(3);
    backend.unary('sign', new Float64Array([-0, 2, -3]), out);
    expect(Object.is(out[0], 0)).toBe(true);
    backend.unary('relu', new Float64Array([-0.5, -Infinity, Infinity]), out);
    expect(Object.is(out[0], 0)).toBe(true);
    expect(Array.from(out)).toEqual([0, 0, Infinity]);
    backend.unary('sigmoid', new Float64Array([-800, 800, 0]), out);
    expect(Array.from(out)).toEqual([0, 1, 0.5]);
  });

  it('rejects an unknown op and mismatched buffers', () => {
    expect(() => backend.unary('cube' as UnaryOp, new Float32Array(1), new Float32Array(1))).toThrow(/unary: op must be one of .* got cube/);
    expect(() => backend.unary('neg', new Float32Array(3), new Float32Array(2))).toThrow(/unary: out must hold at least 3 elements, got 2/);
    expect(() => backend.unary('neg', new Float32Array(3), new Float64Array(3))).toThrow(/out must have the same dtype as x/);
  });
});

const BINARY_REFERENCE: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  max: Math.max,
  min: Math.min,
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  eq: (a, b) => +(a === b),
};
const BINARY_OPS = Object.keys(BINARY_REFERENCE) as BinaryOp[];

/** An output shape and two operand shapes whose dims are each either out's or 1. */
const broadcastShapes = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 })
  .chain((out) => fc.tuple(fc.constant(out), fc.tuple(...out.map((d) => fc.constantFrom(d, 1))), fc.tuple(...out.map((d) => fc.constantFrom(d, 1)))));

function binaryReference(
  op: BinaryOp,
  a: ArrayLike<number>,
  aShape: number[],
  b: ArrayLike<number>,
  bShape: number[],
  outShape: number[],
  out: Float32Array | Float64Array,
): void {
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, outShape);
    const ai = ravel(
      idx.map((v, d) => (aShape[d] === 1 ? 0 : v)),
      aShape,
    );
    const bi = ravel(
      idx.map((v, d) => (bShape[d] === 1 ? 0 : v)),
      bShape,
    );
    out[i] = BINARY_REFERENCE[op](a[ai], b[bi]);
  }
}

describe('CpuBackend.binary', () => {
  it('matches an index-by-index broadcasting reference for every op, dtype and shape pattern', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BINARY_OPS), fc.constantFrom(...CTORS), broadcastShapes, fc.integer(), (op, ctor, [outShape, aShape, bShape], seed) => {
        // Small integers make eq/ge/le and max/min ties actually happen.
        const a = randomArray(ctor, sizeOf(aShape), seed).map((v) => Math.round(v * 3));
        const b = randomArray(ctor, sizeOf(bShape), seed + 1).map((v) => Math.round(v * 3));
        if (op === 'pow') a.forEach((v, i) => (a[i] = Math.abs(v) + 0.5));
        const out = new ctor(sizeOf(outShape));
        backend.binary(op, a, aShape, b, bShape, out, outShape);
        const expected = new ctor(out.length);
        binaryReference(op, a, aShape, b, bShape, outShape, expected);
        expect(firstMismatch(out, expected)).toBeNull();
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('covers the fast paths: equal shapes, scalar operands, a bias row and a per-channel bias', () => {
    const cases: [number[], number[], number[]][] = [
      [
        [3, 7],
        [3, 7],
        [3, 7],
      ],
      [
        [3, 7],
        [3, 7],
        [1, 1],
      ],
      [
        [3, 7],
        [1, 1],
        [3, 7],
      ],
      [
        [33, 17],
        [33, 17],
        [1, 17],
      ],
      [
        [2, 5, 4, 3],
        [2, 5, 4, 3],
        [1, 5, 1, 1],
      ],
      [
        [4, 6],
        [4, 1],
        [1, 6],
      ],
    ];
    for (const ctor of CTORS) {
      for (const [outShape, aShape, bShape] of cases) {
        const a = randomArray(ctor, sizeOf(aShape), 1);
        const b = randomArray(ctor, sizeOf(bShape), 2);
        const out = new ctor(sizeOf(outShape));
        backend.binary('sub', a, aShape, b, bShape, out, outShape);
        const expected = new ctor(out.length);
        binaryReference('sub', a, aShape, b, bShape, outShape, expected);
        expect(firstMismatch(out, expected)).toBeNull();
      }
    }
  });

  it('propagates NaN through max/min', () => {
    const out = new Float64Array(2);
    backend.binary('max', new Float64Array([NaN, 1]), [2], new Float64Array([0, NaN]), [2], out, [2]);
    expect(out.every(Number.isNaN)).toBe(true);
  });

  it('rejects shapes that do not broadcast and ranks that are not aligned', () => {
    const x = new Float32Array(6);
    expect(() => backend.binary('add', x, [2, 3], x, [3, 2], x, [2, 3])).toThrow(/binary: shapes \[2, 3\] and \[3, 2\] do not broadcast to \[2, 3\]/);
    expect(() => backend.binary('add', x, [6], x, [2, 3], x, [2, 3])).toThrow(/left-padded to outShape's rank 2/);
    expect(() => backend.binary('mod' as BinaryOp, x, [6], x, [6], x, [6])).toThrow(/op must be one of .* got mod/);
  });
});
