import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cifarAugment, composeAugment, flipHorizontal, shiftImage, type ImageShape } from '../../src/data/index.js';
import { Generator } from '../../src/tensor/random.js';

/** Distinct values per pixel so that any misplaced copy shows. */
function ramp(shape: ImageShape): Float32Array {
  const n = shape[0] * shape[1] * shape[2];
  return Float32Array.from({ length: n }, (_, i) => i + 1);
}

/** The definition, with a fresh output buffer. */
function shiftReference(img: Float32Array, [c, h, w]: ImageShape, dy: number, dx: number, fill: number | number[]): Float32Array {
  const out = new Float32Array(img.length);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sy = y + dy;
        const sx = x + dx;
        const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        out[(ch * h + y) * w + x] = inside ? img[(ch * h + sy) * w + sx] : typeof fill === 'number' ? fill : fill[ch];
      }
    }
  }
  return out;
}

function flipReference(img: Float32Array, [c, h, w]: ImageShape): Float32Array {
  const out = new Float32Array(img.length);
  for (let r = 0; r < c * h; r++) for (let x = 0; x < w; x++) out[r * w + x] = img[r * w + (w - 1 - x)];
  return out;
}

describe('flipHorizontal / shiftImage', () => {
  it('flips every row of every channel; twice is the identity', () => {
    const shape: ImageShape = [2, 3, 5];
    const img = ramp(shape);
    const orig = img.slice();
    flipHorizontal(img, shape);
    expect(img).toEqual(flipReference(orig, shape));
    expect(Array.from(img.subarray(0, 5))).toEqual([5, 4, 3, 2, 1]);
    flipHorizontal(img, shape);
    expect(img).toEqual(orig);
  });

  it('shifts in place exactly as the out-of-place definition (property, seeded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: -8, max: 8 }),
        fc.integer({ min: -8, max: 8 }),
        fc.boolean(),
        (c, h, w, dy, dx, perChannel) => {
          const shape: ImageShape = [c, h, w];
          const img = ramp(shape);
          const fill = perChannel ? Array.from({ length: c }, (_, i) => -1 - i) : -0.5;
          const want = shiftReference(img, shape, dy, dx, fill);
          shiftImage(img, shape, dy, dx, fill);
          expect(img).toEqual(want);
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });

  it('rejects an image of the wrong length and non-integer offsets', () => {
    expect(() => shiftImage(new Float32Array(10), [1, 3, 3], 1, 0)).toThrow('shiftImage: img must hold C·H·W = 1·3·3 = 9 values for shape [1, 3, 3], got 10');
    expect(() => shiftImage(new Float32Array(9), [1, 3, 3], 0.5, 0)).toThrow('shiftImage: dy and dx must be integers, got dy=0.5, dx=0');
    expect(() => flipHorizontal(new Float32Array(8), [1, 3, 3])).toThrow(/flipHorizontal: img must hold/);
  });
});

describe('cifarAugment', () => {
  const shape: ImageShape = [3, 8, 8];

  it('applies flip then crop with the documented draws (uniform, then two ints)', () => {
    const aug = cifarAugment({ pad: 2, flip: true });
    const gen = new Generator(4);
    const mirror = new Generator(4);
    for (let t = 0; t < 50; t++) {
      const img = ramp(shape);
      let want: Float32Array = img.slice();
      if (mirror.uniform() < 0.5) want = flipReference(want, shape);
      const dy = mirror.int(-2, 3);
      const dx = mirror.int(-2, 3);
      want = shiftReference(want, shape, dy, dx, 0);
      aug(img, shape, gen);
      expect(img).toEqual(want);
    }
  });

  it('keeps the shape, is deterministic in the generator seed, and covers flips and all offsets', () => {
    const aug = cifarAugment();
    const run = (seed: number): Float32Array[] => {
      const gen = new Generator(seed);
      return Array.from({ length: 20 }, () => {
        const img = ramp(shape);
        aug(img, shape, gen);
        expect(img.length).toBe(3 * 8 * 8);
        return img;
      });
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
    // Distribution of the draws over many images.
    const gen = new Generator(9);
    const offsets = new Set<number>();
    let flips = 0;
    for (let t = 0; t < 400; t++) {
      if (gen.uniform() < 0.5) flips++;
      offsets.add(gen.int(-4, 5));
      offsets.add(gen.int(-4, 5));
    }
    expect(flips).toBeGreaterThan(150);
    expect(flips).toBeLessThan(250);
    expect([...offsets].sort((a, b) => a - b)).toEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4]);
  });

  it('is the identity with pad 0 and no flip, and pads with a per-channel fill', () => {
    const img = ramp(shape);
    cifarAugment({ pad: 0, flip: false })(img, shape, new Generator(0));
    expect(img).toEqual(ramp(shape));
    const aug = cifarAugment({ pad: 8, flip: false, fill: [7, 8, 9] });
    const gen = new Generator(3);
    let sawFill = false;
    for (let t = 0; t < 10; t++) {
      const x = ramp(shape);
      aug(x, shape, gen);
      for (let c = 0; c < 3; c++) {
        const plane = x.subarray(c * 64, (c + 1) * 64);
        for (const v of plane) {
          if (v === 7 + c) sawFill = true;
          // Every value is either the fill of its channel or a pixel of the same channel.
          expect(v === 7 + c || (v > c * 64 && v <= (c + 1) * 64)).toBe(true);
        }
      }
    }
    expect(sawFill).toBe(true);
  });

  it('composes augment functions in order', () => {
    const flipAll = composeAugment(cifarAugment({ pad: 0, flip: true }), (img) => img.fill(1, 0, 1));
    const img = ramp(shape);
    flipAll(img, shape, new Generator(0));
    expect(img[0]).toBe(1);
  });

  it('rejects bad options', () => {
    expect(() => cifarAugment({ pad: -1 })).toThrow('cifarAugment: pad must be a non-negative integer, got -1');
    expect(() => cifarAugment({ fill: [0, Number.NaN, 0] })).toThrow(/cifarAugment: fill must be a finite number or per-channel numbers/);
    expect(() => cifarAugment({ fill: [0, 0] })(ramp(shape), shape, new Generator(0))).toThrow('cifarAugment: fill must have one value per channel (3), got 2');
    expect(() => composeAugment(42 as never)).toThrow('composeAugment: argument 0 must be an augment function, got number');
  });
});
