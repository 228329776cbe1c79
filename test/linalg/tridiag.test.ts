/**
 * The blocked tridiagonalisation (several panels, so the GEMM trailing updates are exercised) and
 * eigh on top of it, at sizes past one panel.
 */
import { describe, expect, it } from 'vitest';
import { eighRaw } from '../../src/linalg/eigh.js';
import { TRIDIAG_BLOCK, TRIDIAG_WASM_MIN, formTridiagonalQt, reduceToTridiagonalJs, tridiagonalize } from '../../src/linalg/tridiag.js';
import { reduceToTridiagonalWasm, tridiagWasmBytes } from '../../src/linalg/tridiag-wasm.js';
import { TQL_WASM_MIN, tql2 } from '../../src/linalg/eigh.js';
import { setSimd, simdEnabled } from '../../src/backend/cpu/threads.js';
import { linalgWasm } from '../../src/backend/linalg-kernels.js';
import { Generator } from '../../src/tensor/random.js';
import { fro, mm, orthError, randomOrthogonal, tr } from './helpers.js';

/** Q·diag(λ)·Qᵀ for a random orthogonal Q. */
function symmetricWith(lambda: Float64Array, g: Generator): Float64Array {
  const n = lambda.length;
  const q = randomOrthogonal(n, g);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += q[i * n + p] * lambda[p] * q[j * n + p];
      a[i * n + j] = s;
    }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return a;
}

describe('linalg tridiagonalisation (blocked) and eigh on it', () => {
  for (const n of [TRIDIAG_BLOCK + 3, 2 * TRIDIAG_BLOCK + 2, 3 * TRIDIAG_BLOCK + 7]) {
    it(`n = ${n}: Zᵀ·T·Z = A, Z orthogonal, T tridiagonal; eigh reproduces the spectrum`, () => {
      const g = new Generator(n);
      const lambda = Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 2 : g.uniform() * 4 - 2)).sort();
      const a = symmetricWith(lambda, g);
      const d = new Float64Array(n);
      const e = new Float64Array(n);
      const z = tridiagonalize(a.slice(), n, d, e);
      expect(e[0]).toBe(0);
      expect(orthError(tr(z, n, n), n, n)).toBeLessThan(1e-13);
      const t = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        t[i * n + i] = d[i];
        if (i > 0) t[i * n + i - 1] = t[(i - 1) * n + i] = e[i];
      }
      const back = mm(mm(tr(z, n, n), n, n, t, n), n, n, z, n);
      let err = 0;
      for (let i = 0; i < n * n; i++) err = Math.max(err, Math.abs(back[i] - a[i]));
      expect(err).toBeLessThan(1e-13 * fro(a));
      const { values, vectors } = eighRaw(a, n);
      for (let i = 0; i < n; i++) expect(Math.abs(values[i] - lambda[i])).toBeLessThan(1e-13 * 2 * n);
      expect(orthError(vectors, n, n)).toBeLessThan(1e-13);
      const rec = mm(
        mm(
          vectors,
          n,
          n,
          Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? values[k / (n + 1)] : 0)),
          n,
        ),
        n,
        n,
        tr(vectors, n, n),
        n,
      );
      let r = 0;
      for (let i = 0; i < n * n; i++) r = Math.max(r, Math.abs(rec[i] - a[i]));
      expect(r).toBeLessThan(1e-13 * fro(a));
    });
  }
});

describe('tridiagonalisation on the WebAssembly kernels against the JavaScript loops', () => {
  it('has the kernels on this runtime, so the default route above is the wasm one', () => {
    expect(linalgWasm(0)).not.toBeNull();
    expect(TRIDIAG_WASM_MIN).toBeLessThanOrEqual(TRIDIAG_BLOCK + 3);
  });
  // Odd and even orders, one panel and several, a last panel of one reflector (n − 2 = 2·32 + 1).
  for (const n of [5, TRIDIAG_BLOCK + 3, 2 * TRIDIAG_BLOCK + 3, 3 * TRIDIAG_BLOCK + 7, 130]) {
    it(`n = ${n}: both routes give Zᵀ·T·Z = A with Z orthogonal and the same spectrum`, () => {
      const g = new Generator(1000 + n);
      const lambda = Float64Array.from({ length: n }, () => g.uniform() * 4 - 2).sort();
      const a = symmetricWith(lambda, g);
      const spectra: Float64Array[] = [];
      for (const route of ['js', 'wasm'] as const) {
        const d = new Float64Array(n);
        const e = new Float64Array(n);
        const before = a.slice();
        const h = route === 'js' ? reduceToTridiagonalJs(a.slice(), n, d, e) : reduceToTridiagonalWasm(a, n, d, e, linalgWasm(tridiagWasmBytes(n))!);
        if (route === 'wasm') expect(a).toEqual(before);
        const z = formTridiagonalQt(h, n);
        expect(orthError(tr(z, n, n), n, n)).toBeLessThan(1e-13);
        const t = new Float64Array(n * n);
        for (let i = 0; i < n; i++) {
          t[i * n + i] = d[i];
          if (i > 0) t[i * n + i - 1] = t[(i - 1) * n + i] = e[i];
        }
        const back = mm(mm(tr(z, n, n), n, n, t, n), n, n, z, n);
        let err = 0;
        for (let i = 0; i < n * n; i++) err = Math.max(err, Math.abs(back[i] - a[i]));
        expect(err).toBeLessThan(1e-13 * fro(a));
        tql2(null, d, e, n);
        spectra.push(d);
      }
      for (let i = 0; i < n; i++) {
        expect(Math.abs(spectra[0][i] - lambda[i])).toBeLessThan(1e-13 * 2 * n);
        expect(Math.abs(spectra[1][i] - spectra[0][i])).toBeLessThan(1e-13 * 2 * n);
      }
    });
  }
});

describe('QL with vectors: rotations applied by the wasm drotSeq kernel', () => {
  // Orders below and above the wasm threshold, odd and not multiples of the kernel's 8 columns.
  for (const n of [TQL_WASM_MIN - 1, TQL_WASM_MIN + 1, 45, 100]) {
    it(`n = ${n}: the same eigenvalues and vectors, bit for bit, as the JavaScript rotations`, () => {
      const g = new Generator(2000 + n);
      const d0 = Float64Array.from({ length: n }, () => g.uniform() * 4 - 2);
      const e0 = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : g.uniform() - 0.5));
      const runs: { d: Float64Array; z: Float64Array }[] = [];
      const was = simdEnabled();
      try {
        for (const simd of [false, true]) {
          setSimd(simd);
          const d = d0.slice();
          const z = new Float64Array(n * n);
          for (let i = 0; i < n; i++) z[i * n + i] = 1;
          tql2(z, d, e0.slice(), n);
          runs.push({ d, z });
        }
      } finally {
        setSimd(was);
      }
      expect(runs[1].d).toEqual(runs[0].d);
      expect(runs[1].z).toEqual(runs[0].z);
      // And they are eigenpairs of the tridiagonal: ‖T·z_j − λ_j·z_j‖ small, Z orthogonal.
      const z = runs[1].z;
      let res = 0;
      for (let j = 0; j < n; j++)
        for (let i = 0; i < n; i++) {
          let t = (d0[i] - runs[1].d[j]) * z[j * n + i];
          if (i > 0) t += e0[i] * z[j * n + i - 1];
          if (i + 1 < n) t += e0[i + 1] * z[j * n + i + 1];
          res = Math.max(res, Math.abs(t));
        }
      expect(res).toBeLessThan(1e-13 * n);
      expect(orthError(tr(z, n, n), n, n)).toBeLessThan(1e-13);
    });
  }
});
