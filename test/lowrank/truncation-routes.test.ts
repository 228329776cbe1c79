/**
 * Which route the truncation takes (truncate-core.ts, gramCutTrusted), on a core whose spectrum is
 * known by construction: r resolved values and a tail of exact zeros, below the Gram route's
 * resolution. A cut at the cap or at a fixed rank is decided the same on either route, so the
 * Gram route is kept (the step bench's τ = 0 at a cap reached Jacobi on every step before);
 * a cut by a tolerance below the resolution needs Jacobi to tell the zeros from small real values.
 * Either way the kept ranks and the projection are what the construction says.
 */
import { describe, expect, it } from 'vitest';
import { truncateCore } from '../../src/lowrank/truncate-core.js';
import { Generator } from '../../src/tensor/random.js';

function gaussian(n: number, gen: Generator): Float64Array {
  const a = new Float64Array(n);
  for (let k = 0; k < a.length; k++) a[k] = gen.normal();
  return a;
}

/**
 * A [2r, 2r, 3, 3] core of multilinear rank (r, r, 3, 3): a random r × r × 3 × 3 block in the
 * corner and zeros elsewhere, as the augmented core of a step whose new directions carry
 * nothing. Every unfolding has exactly r non-zero singular values, and its Gram matrix a zero
 * block, so the Gram route's tail is zero too (below JACOBI_FLOOR: no value to keep).
 */
function planted(r: number, gen: Generator): { c1: Float64Array; shape: number[] } {
  const n = 2 * r;
  const shape = [n, n, 3, 3];
  const block = gaussian(r * r * 9, gen);
  const c1 = new Float64Array(n * n * 9);
  for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) for (let s = 0; s < 9; s++) c1[(a * n + b) * 9 + s] = block[(a * r + b) * 9 + s];
  return { c1, shape };
}

describe('truncateCore: the route of each mode when the tail is below the Gram resolution', () => {
  const r = 20;
  const n = 2 * r;
  const gen = new Generator(11);
  const { c1, shape } = planted(r, gen);
  const eye = new Float64Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  const base = { shape, c1, bases: [eye, eye, null, null], fullShape: [n, n, 3, 3], keep: shape, velocity: null };
  const norm = Math.sqrt(c1.reduce((s, v) => s + v * v, 0));

  it('τ = 0 with the cap at r: the Gram route, ranks (r, r), and the core kept whole', () => {
    const t = truncateCore({
      ...base,
      thresholds: [0, 0, null, null],
      bounds: [
        [2, r],
        [2, r],
        [3, 3],
        [3, 3],
      ],
    });
    expect(t.routes.slice(0, 2)).toEqual(['gram', 'gram']);
    expect(t.coreShape).toEqual([r, r, 3, 3]);
    expect(t.truncationError()).toBeLessThan(1e-12 * norm);
  });

  it('a fixed rank r (no tolerance): the Gram route, and the core kept whole', () => {
    const t = truncateCore({
      ...base,
      thresholds: [null, null, null, null],
      keep: [r, r, 3, 3],
      bounds: [
        [2, n],
        [2, n],
        [3, 3],
        [3, 3],
      ],
    });
    expect(t.routes.slice(0, 2)).toEqual(['gram', 'gram']);
    expect(t.coreShape).toEqual([r, r, 3, 3]);
    expect(t.truncationError()).toBeLessThan(1e-12 * norm);
  });

  it('a tolerance below the Gram resolution (ϑ = 1e-9‖Ĉ1‖) without a binding cap: Jacobi decides, and keeps exactly the r real values', () => {
    const theta = 1e-9 * norm;
    const t = truncateCore({
      ...base,
      thresholds: [theta, theta, null, null],
      bounds: [
        [2, n],
        [2, n],
        [3, 3],
        [3, 3],
      ],
    });
    expect(t.routes.slice(0, 2)).toEqual(['jacobi', 'jacobi']);
    expect(t.coreShape).toEqual([r, r, 3, 3]);
    expect(t.truncationError()).toBeLessThan(1e-12 * norm);
  });
});
