/**
 * In-place image augmentation for the DataLoader: an augment function rewrites one image
 * (C·H·W floats) with random numbers drawn only from the generator it is given, and allocates nothing.
 */
import type { Generator } from '../tensor/random.js';

export type ImageShape = readonly [number, number, number];
export type AugmentFn = (img: Float32Array, shape: ImageShape, gen: Generator) => void;

function checkImage(img: Float32Array, shape: ImageShape, fn: string): void {
  if (!(img instanceof Float32Array)) throw new Error(`${fn}: img must be a Float32Array, got ${img === null ? 'null' : typeof img}`);
  const [c, h, w] = shape;
  if (img.length !== c * h * w)
    throw new Error(`${fn}: img must hold C·H·W = ${c}·${h}·${w} = ${c * h * w} values for shape [${shape.join(', ')}], got ${img.length}`);
}

/** Mirrors every row in place (a horizontal flip). */
export function flipHorizontal(img: Float32Array, shape: ImageShape): void {
  checkImage(img, shape, 'flipHorizontal');
  const [c, h, w] = shape;
  for (let r = 0; r < c * h; r++) {
    for (let a = r * w, b = a + w - 1; a < b; a++, b--) {
      const t = img[a];
      img[a] = img[b];
      img[b] = t;
    }
  }
}

/**
 * Shifts the image in place: `out[c][y][x] = in[c][y + dy][x + dx]`, `fill[c]` where that falls outside.
 * This is a crop at offset (dy, dx) of the image padded with `fill` (torchvision's RandomCrop with
 * padding has dy, dx ∈ [−pad, pad]). The traversal order follows the signs of dy, dx so that every
 * value is read before it is overwritten.
 */
export function shiftImage(img: Float32Array, shape: ImageShape, dy: number, dx: number, fill: number | readonly number[] = 0): void {
  checkImage(img, shape, 'shiftImage');
  const [c, h, w] = shape;
  if (!Number.isInteger(dy) || !Number.isInteger(dx)) throw new Error(`shiftImage: dy and dx must be integers, got dy=${dy}, dx=${dx}`);
  if (dy === 0 && dx === 0) return;
  const y0 = dy >= 0 ? 0 : h - 1;
  const ys = dy >= 0 ? 1 : -1;
  const x0 = dx >= 0 ? 0 : w - 1;
  const xs = dx >= 0 ? 1 : -1;
  for (let ch = 0; ch < c; ch++) {
    const f = typeof fill === 'number' ? fill : fill[ch];
    const plane = ch * h * w;
    for (let k = 0, y = y0; k < h; k++, y += ys) {
      const sy = y + dy;
      const row = plane + y * w;
      if (sy < 0 || sy >= h) {
        for (let x = 0; x < w; x++) img[row + x] = f;
        continue;
      }
      const srow = plane + sy * w;
      for (let j = 0, x = x0; j < w; j++, x += xs) {
        const sx = x + dx;
        img[row + x] = sx >= 0 && sx < w ? img[srow + sx] : f;
      }
    }
  }
}

export interface CifarAugmentOptions {
  /** Zero-padding of the random crop on each side (default 4; 0 turns the crop off). */
  pad?: number;
  /** Random horizontal flip with probability 1/2 (default true). */
  flip?: boolean;
  /**
   * The padding value, one number or one per channel (default 0). The images are already
   * normalised, so 0 is the mean colour; torchvision pads black before normalising, which is
   * −mean_c/std_c here.
   */
  fill?: number | readonly number[];
}

/**
 * The standard CIFAR augmentation: random horizontal flip, then a random crop of the image padded
 * by `pad` on each side. Draws (per image, in this order): one uniform for the flip (when flip),
 * two integers for the crop offset (when pad > 0).
 */
export function cifarAugment(options: CifarAugmentOptions = {}): AugmentFn {
  const { pad = 4, flip = true, fill = 0 } = options;
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`cifarAugment: pad must be a non-negative integer, got ${pad}`);
  if (typeof flip !== 'boolean') throw new Error(`cifarAugment: flip must be a boolean, got ${typeof flip}`);
  const fills = typeof fill === 'number' ? null : Array.from(fill);
  if (typeof fill === 'number' ? !Number.isFinite(fill) : !fills!.every((v) => Number.isFinite(v))) {
    throw new Error(`cifarAugment: fill must be a finite number or per-channel numbers, got ${JSON.stringify(fill)}`);
  }
  return (img, shape, gen) => {
    if (fills && fills.length !== shape[0]) {
      throw new Error(`cifarAugment: fill must have one value per channel (${shape[0]}), got ${fills.length}`);
    }
    if (flip && gen.uniform() < 0.5) flipHorizontal(img, shape);
    if (pad > 0) {
      const dy = gen.int(-pad, pad + 1);
      const dx = gen.int(-pad, pad + 1);
      shiftImage(img, shape, dy, dx, fills ?? (fill as number));
    }
  };
}

/** Applies augment functions one after another. */
export function composeAugment(...fns: AugmentFn[]): AugmentFn {
  for (let i = 0; i < fns.length; i++) {
    if (typeof fns[i] !== 'function') throw new Error(`composeAugment: argument ${i} must be an augment function, got ${typeof fns[i]}`);
  }
  return (img, shape, gen) => {
    for (const f of fns) f(img, shape, gen);
  };
}
