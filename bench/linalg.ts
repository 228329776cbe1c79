/**
 * bench/linalg.ts — how long do the float64 factorisations of linalg/ and tucker/ take?
 * SVD of random square matrices (64², 256², 512²), thin SVD of the wide cores the integrator
 * meets (100×2000), QR, and HOSVD / Tucker-2 / HOOI of a 256×256×3×3 conv kernel.
 * Run: npx tsx bench/linalg.ts   (median of a few runs; accuracy printed beside each timing)
 */
import { qr, svd } from '../src/linalg/index.js';
import { hooi, hosvd, reconstruct } from '../src/tucker/index.js';
import { Generator } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

function gaussian(shape: number[], seed: number): Tensor {
  const g = new Generator(seed);
  const d = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < d.length; i++) d[i] = g.normal();
  return Tensor.fromData(d, shape);
}

function fro(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

function time<T>(runs: number, f: () => T): { ms: number; out: T } {
  const ts: number[] = [];
  let out!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { ms: ts[Math.floor(ts.length / 2)], out };
}

function svdResidual(a: Tensor, r: ReturnType<typeof svd>): number {
  const [m, n] = a.shape;
  const k = r.s.data.length;
  const rec = new Float64Array(m * n);
  for (let p = 0; p < k; p++) for (let i = 0; i < m; i++) {
    const f = r.u.data[i * k + p] * r.s.data[p];
    for (let j = 0; j < n; j++) rec[i * n + j] += f * r.vt.data[p * n + j];
  }
  let e = 0;
  for (let i = 0; i < rec.length; i++) e += (rec[i] - a.data[i]) ** 2;
  return Math.sqrt(e) / fro(a.data);
}

const rows: string[] = [];
const line = (what: string, ms: number, note = '') => {
  const s = `${what.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms  ${note}`;
  rows.push(s);
  console.log(s);
};

console.log(`node ${process.version}, ${process.arch}`);
for (const [m, n, runs] of [[64, 64, 5], [256, 256, 3], [512, 512, 1], [100, 2000, 3], [2000, 100, 3]] as const) {
  const a = gaussian([m, n], m * 7 + n);
  const { ms, out } = time(runs, () => svd(a));
  line(`svd ${m}×${n} (thin, U and V)`, ms, `‖A−UΣVᵀ‖/‖A‖ = ${svdResidual(a, out).toExponential(1)}`);
}
{
  const a = gaussian([512, 512], 3);
  const { ms } = time(1, () => qr(a));
  line('qr 512×512 (reduced)', ms);
  const b = gaussian([2000, 200], 4);
  line('qr 2000×200 (reduced)', time(3, () => qr(b)).ms);
}
{
  const w = gaussian([256, 256, 3, 3], 5);
  const nw = fro(w.data);
  const full = time(1, () => hosvd(w, { ranks: [64, 64, 3, 3] }));
  const e1 = fro(reconstruct(full.out.core, full.out.factors).data.map((v, i) => v - w.data[i])) / nw;
  line('hosvd 256×256×3×3 → (64, 64, 3, 3)', full.ms, `rel err ${e1.toFixed(4)}`);
  const t2 = time(1, () => hosvd(w, { ranks: [64, 64, null, null] }, { modes: [0, 1] }));
  line('hosvd Tucker-2 256×256×3×3 → (64, 64)', t2.ms);
  const tol = time(1, () => hosvd(w, { relTol: 0.5 }, { modes: [0, 1] }));
  line('hosvd Tucker-2 relTol 0.5', tol.ms, `ranks ${tol.out.ranks.join('×')}`);
  const h = time(1, () => hooi(w, [64, 64, 3, 3], { maxIter: 5 }));
  line('hooi 256×256×3×3 → (64, 64, 3, 3), 5 sweeps', h.ms, `rel err ${(h.out.error / nw).toFixed(4)} (hosvd ${(h.out.hosvdError / nw).toFixed(4)})`);
}
