import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { CTORS, firstMismatch, randomArray, randomInts, ravel, sizeOf, unravel } from './cpu-helpers.js';

const backend = new CpuBackend();

/** A shape of rank 1–4 (dims 1–6) and a valid axis. */
const shapeAndAxis = fc
  .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 })
  .chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 })));

/** For each output element, the flat x indices along the axis, in order. */
function fibres(shape: number[], axis: number): number[][] {
  const outShape = shape.filter((_, d) => d !== axis);
  const result: number[][] = [];
  for (let o = 0; o < sizeOf(outShape); o++) {
    const idx = unravel(o, outShape);
    const fibre: number[] = [];
    for (let a = 0; a < shape[axis]; a++) fibre.push(ravel([...idx.slice(0, axis), a, ...idx.slice(axis)], shape));
    result.push(fibre);
  }
  return result;
}

describe('CpuBackend.sumAxis', () => {
  it('matches a per-fibre sum for every axis and dtype', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CTORS), shapeAndAxis, fc.integer(), (ctor, [shape, axis], seed) => {
        const x = randomArray(ctor, sizeOf(shape), seed);
        const out = new ctor(sizeOf(shape) / shape[axis]);
        backend.sumAxis(x, shape, axis, out);
        const expected = new ctor(fibres(shape, axis).map((f) => f.reduce((s, i) => s + x[i], 0)));
        expect(firstMismatch(out, expected, ctor === Float32Array ? 1e-6 : 1e-14)).toBeNull();
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('rejects an axis out of range', () => {
    expect(() => backend.sumAxis(new Float32Array(6), [2, 3], 2, new Float32Array(6))).toThrow(/sumAxis: axis must be an integer in \[0, 1\], got 2/);
  });
});

describe('CpuBackend.extremeAxis', () => {
  it('gives the extreme and the index of its first occurrence, NaN winning', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('max' as const, 'min' as const),
        fc.constantFrom(...CTORS),
        shapeAndAxis,
        fc.integer(),
        fc.boolean(),
        (kind, ctor, [shape, axis], seed, withNaN) => {
          // Small integers produce ties; a few NaNs test propagation.
          const x = randomInts(ctor, sizeOf(shape), seed);
          if (withNaN) for (let i = seed & 3; i < x.length; i += 5) x[i] = NaN;
          const n = sizeOf(shape) / shape[axis];
          const out = new ctor(n);
          const arg = new Int32Array(n);
          backend.extremeAxis(kind, x, shape, axis, out, arg);
          const expVal = new ctor(n);
          const expArg = new Int32Array(n);
          fibres(shape, axis).forEach((f, o) => {
            let best = 0;
            for (let a = 1; a < f.length; a++) {
              const v = x[f[a]];
              const b = x[f[best]];
              if (Number.isNaN(b)) break;
              if (Number.isNaN(v) || (kind === 'max' ? v > b : v < b)) best = a;
            }
            expVal[o] = x[f[best]];
            expArg[o] = best;
          });
          expect(firstMismatch(out, expVal)).toBeNull();
          expect(firstMismatch(arg, expArg)).toBeNull();
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('rejects a bad kind and a missing argIdx', () => {
    expect(() => backend.extremeAxis('mean' as 'max', new Float32Array(2), [2], 0, new Float32Array(1), new Int32Array(1))).toThrow(
      /kind must be 'max' or 'min', got mean/,
    );
    expect(() => backend.extremeAxis('max', new Float32Array(2), [2], 0, new Float32Array(1), [0] as unknown as Int32Array)).toThrow(
      /argIdx must be an Int32Array/,
    );
  });
});

/** A shape of rank 0–5 and a permutation of its axes. */
const shapeAndPerm = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 5 }).chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    fc.shuffledSubarray(
      shape.map((_, i) => i),
      { minLength: shape.length, maxLength: shape.length },
    ),
  ),
);

function permuteReference(x: ArrayLike<number>, shape: number[], perm: number[], out: Float32Array | Float64Array): void {
  const outShape = perm.map((p) => shape[p]);
  for (let o = 0; o < out.length; o++) {
    const oIdx = unravel(o, outShape);
    const xIdx = new Array<number>(shape.length);
    perm.forEach((p, i) => (xIdx[p] = oIdx[i]));
    out[o] = x[ravel(xIdx, shape)];
  }
}

describe('CpuBackend.permute', () => {
  it('matches an index-by-index reference for every permutation and dtype', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CTORS), shapeAndPerm, fc.integer(), (ctor, [shape, perm], seed) => {
        const x = randomArray(ctor, sizeOf(shape), seed);
        const out = new ctor(x.length);
        backend.permute(x, shape, perm, out);
        const expected = new ctor(x.length);
        permuteReference(x, shape, perm, expected);
        expect(firstMismatch(out, expected)).toBeNull();
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it('handles large transposes that span several tiles', () => {
    for (const [shape, perm] of [
      [
        [67, 45],
        [1, 0],
      ],
      [
        [3, 40, 70],
        [0, 2, 1],
      ],
      [
        [5, 33, 2, 35],
        [3, 1, 0, 2],
      ],
    ] as [number[], number[]][]) {
      const x = randomArray(Float32Array, sizeOf(shape), 3);
      const out = new Float32Array(x.length);
      backend.permute(x, shape, perm, out);
      const expected = new Float32Array(x.length);
      permuteReference(x, shape, perm, expected);
      expect(firstMismatch(out, expected)).toBeNull();
    }
  });

  it('rejects a perm that is not a permutation', () => {
    expect(() => backend.permute(new Float32Array(6), [2, 3], [0, 0], new Float32Array(6))).toThrow(
      /permute: perm must be a permutation of 0..1, got \[0, 0\]/,
    );
    expect(() => backend.permute(new Float32Array(6), [2, 3], [0], new Float32Array(6))).toThrow(/permute: perm must hold 2 elements, got 1/);
  });
});
