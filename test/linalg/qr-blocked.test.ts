import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCKED_APPLY_MIN, BLOCKED_QR_MIN, applyQ, applyQUnblocked, formQt, householderUnblocked, qrRaw } from '../../src/linalg/qr.js';
import { QR_BLOCK, applyQBlocked, householderBlocked } from '../../src/linalg/qr-blocked.js';
import { buildCase, diffFro, fro, mm, opts, orthError, SPECTRUM_KINDS } from './helpers.js';

// Sizes around and past the blocked threshold: several panels, a ragged last panel, tall and wide.
const arbBlockedCase = fc.record({
  m: fc.integer({ min: BLOCKED_QR_MIN, max: 3 * QR_BLOCK + 7 }),
  n: fc.integer({ min: BLOCKED_QR_MIN, max: 3 * QR_BLOCK + 7 }),
  kind: fc.constantFrom(...SPECTRUM_KINDS),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

describe('blocked Householder QR (compact WY)', () => {
  it('gives the reflectors of the unblocked loops, up to rounding (well-conditioned A: elsewhere the trailing reflectors are made of rounding noise)', () => {
    fc.assert(
      fc.property(arbBlockedCase, (c) => {
        const { a } = buildCase({ ...c, kind: 'random' });
        const b = householderBlocked(a, c.m, c.n);
        const u = householderUnblocked(a, c.m, c.n, false);
        const scale = Math.max(1, fro(a));
        expect(diffFro(b.at, u.at)).toBeLessThanOrEqual(1e-11 * scale * Math.sqrt(c.m * c.n));
        expect(diffFro(b.tau, u.tau)).toBeLessThanOrEqual(1e-11 * Math.sqrt(b.tau.length));
      }),
      opts(12),
    );
  });

  it('qrRaw on the blocked path: A = QR, QᵀQ = I, R upper triangular with diag ≥ 0, for every spectrum', () => {
    fc.assert(
      fc.property(arbBlockedCase, (c) => {
        const { a } = buildCase(c);
        const { q, r, qCols } = qrRaw(a, c.m, c.n);
        expect(qCols).toBe(Math.min(c.m, c.n));
        expect(diffFro(a, mm(q, c.m, qCols, r, c.n))).toBeLessThanOrEqual(1e-12 * Math.max(fro(a), 1e-300) + 1e-300);
        expect(orthError(q, c.m, qCols)).toBeLessThanOrEqual(1e-12);
        for (let i = 0; i < qCols; i++) {
          for (let j = 0; j < i; j++) expect(r[i * c.n + j]).toBe(0);
          expect(r[i * c.n + i]).toBeGreaterThanOrEqual(0);
        }
      }),
      opts(12),
    );
  });

  it('applies Q blocked as the unblocked loops do, to identity columns and to arbitrary vectors', () => {
    fc.assert(
      fc.property(arbBlockedCase, fc.integer({ min: 1, max: 70 }), (c, count) => {
        const { a } = buildCase(c);
        const h = householderUnblocked(a, c.m, c.n, false);
        const vectors = buildCase({ m: count, n: c.m, kind: 'random', seed: c.seed + 1 }).a;
        const x = vectors.slice();
        const y = vectors.slice();
        applyQBlocked(h, x, count);
        applyQUnblocked(h, y, count);
        expect(diffFro(x, y)).toBeLessThanOrEqual(1e-12 * Math.max(1, fro(vectors)));
        const cols = Math.min(c.m, h.k + 5);
        const qt = formQt(h, cols);
        const ref = new Float64Array(cols * c.m);
        for (let j = 0; j < cols; j++) ref[j * c.m + j] = 1;
        applyQUnblocked(h, ref, cols, true);
        expect(diffFro(qt, ref)).toBeLessThanOrEqual(1e-12 * Math.sqrt(cols));
      }),
      opts(10),
    );
  });

  it(`applyQ goes blocked from BLOCKED_APPLY_MIN = ${BLOCKED_APPLY_MIN} reflectors on, below the factorisation's threshold, and agrees with the loops there`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: BLOCKED_APPLY_MIN - 1, max: BLOCKED_QR_MIN }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom(...SPECTRUM_KINDS),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        (k, extra, count, kind, seed, identityInit) => {
          // k reflectors: a tall m×k matrix (the tridiagonal reduction's Q of an (k+2)-order matrix has k).
          const m = k + extra;
          const { a } = buildCase({ m, n: k, kind, seed });
          const h = householderUnblocked(a, m, k, false);
          const c = identityInit ? Math.min(count, m) : count;
          const start = new Float64Array(c * m);
          if (identityInit) for (let j = 0; j < c; j++) start[j * m + j] = 1;
          else start.set(buildCase({ m: c, n: m, kind: 'random', seed: seed + 1 }).a);
          const viaDispatch = start.slice();
          const blocked = start.slice();
          const loops = start.slice();
          applyQ(h, viaDispatch, c, identityInit);
          applyQBlocked(h, blocked, c, identityInit);
          applyQUnblocked(h, loops, c, identityInit);
          // The route, exactly: the same operations in the same order.
          expect(Array.from(viaDispatch)).toEqual(Array.from(h.k >= BLOCKED_APPLY_MIN ? blocked : loops));
          expect(diffFro(blocked, loops)).toBeLessThanOrEqual(1e-12 * Math.max(1, fro(start)));
        },
      ),
      opts(16),
    );
  });

  it('handles zero columns (τ = 0 reflectors) and a zero matrix', () => {
    const m = 90;
    const n = 70;
    const { a } = buildCase({ m, n, kind: 'random', seed: 5 });
    for (let i = 0; i < m; i++) for (const j of [0, 33, 69]) a[i * n + j] = 0;
    const { q, r, qCols } = qrRaw(a, m, n);
    expect(diffFro(a, mm(q, m, qCols, r, n))).toBeLessThanOrEqual(1e-12 * fro(a));
    expect(orthError(q, m, qCols)).toBeLessThanOrEqual(1e-12);
    const z = qrRaw(new Float64Array(m * n), m, n);
    expect(orthError(z.q, m, z.qCols)).toBeLessThanOrEqual(1e-15);
    expect(fro(z.r)).toBe(0);
    // The dispatching entry point takes the blocked route at this size.
    const h = householderUnblocked(a, m, n, false);
    const v1 = new Float64Array(3 * m).fill(1);
    const v2 = v1.slice();
    applyQ(h, v1, 3);
    applyQUnblocked(h, v2, 3);
    expect(diffFro(v1, v2)).toBeLessThanOrEqual(1e-12 * fro(v2));
  });
});
