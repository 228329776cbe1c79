/**
 * What do the truncations of training cost, and what do the fast routes buy?
 *  - QR of the augmented basis [U | ∇U] (n × 2r) that the integrator factors every step, per
 *    mode: blocked Householder (compact WY on the GEMM kernel) against the one-reflector loops;
 *  - the SVD of a truncation (U and σ of an unfolding, the integrator; U, σ, V of a lowered
 *    kernel, TRP and LRA): the Gram route against one-sided Jacobi, with the accuracy each gives.
 * Both routes of each pair are in the library, so every ratio is measured in one run.
 *
 *   npx tsx bench/truncation.ts        Writes bench/results/truncation.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { applyQUnblocked, householderUnblocked, qrRaw } from '../src/linalg/qr.js';
import { leftSvdByGram } from '../src/linalg/svd-gram.js';
import { svdRaw } from '../src/linalg/svd.js';
import { truncatedSvd } from '../src/lowrank/methods/lowered.js';
import { Generator } from '../src/tensor/random.js';
import { bestMs } from './timing.js';

function gaussian(n: number, seed: number): Float64Array {
  const g = new Generator(seed);
  return Float64Array.from({ length: n }, () => g.normal());
}

/** A decaying spectrum, as trained weights have (σ_j ∝ e^{-j/20}), so truncation ranks are realistic. */
function decaying(rows: number, cols: number, seed: number): Float64Array {
  const g = new Generator(seed);
  const out = new Float64Array(rows * cols);
  for (let p = 0; p < Math.min(rows, cols); p++) {
    const w = Math.exp(-p / 20);
    const a = Array.from({ length: rows }, () => g.normal());
    const b = Array.from({ length: cols }, () => g.normal() * w);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] += a[i] * b[j];
  }
  return out;
}

function unblockedQ(a: Float64Array, m: number, n: number): Float64Array {
  const h = householderUnblocked(a, m, n, false);
  const qt = new Float64Array(h.k * m);
  for (let j = 0; j < h.k; j++) qt[j * m + j] = 1;
  applyQUnblocked(h, qt, h.k, true);
  return qt;
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  process.stderr.write(`${s}\n`);
};

say('# Truncations of training: fast routes against the reference loops\n');
say(`Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, best of several runs (bench/timing.ts). Command: \`npx tsx bench/truncation.ts\`.\n`);

say('## QR of the augmented basis [U | ∇U], n × 2r (the integrator, every step and mode)\n');
say('| n × 2r | one-reflector loops (ms) | blocked, compact WY (ms) | speed-up |');
say('|---|---|---|---|');
for (const [n, c] of [
  [500, 200],
  [800, 200],
  [500, 100],
  [800, 80],
  [150, 100],
]) {
  const a = gaussian(n * c, n + c);
  const loops = bestMs(() => unblockedQ(a, n, c));
  const blocked = bestMs(() => qrRaw(a, n, c));
  say(`| ${n} × ${c} | ${fmt(loops)} | ${fmt(blocked)} | ${(loops / blocked).toFixed(2)}× |`);
}

say("\n## U and σ of an unfolding (the integrator's truncation)\n");
say('| matrix | Jacobi (ms) | Gram route (ms) | speed-up | max |σ_gram − σ_jacobi| / σ₁ |');
say('|---|---|---|---|---|');
for (const [m, n] of [
  [200, 200],
  [100, 100],
  [60, 540],
  [96, 96],
]) {
  const a = decaying(m, n, m * 7 + n);
  const jac = bestMs(() => svdRaw(a, m, n, { wantU: true, wantV: false }));
  const gram = bestMs(() => leftSvdByGram(a, m, n));
  const s1 = svdRaw(a, m, n, { wantU: false, wantV: false }).s;
  const s2 = leftSvdByGram(a, m, n).s;
  let err = 0;
  for (let j = 0; j < s1.length; j++) err = Math.max(err, Math.abs(s1[j] - s2[j]));
  say(`| ${m} × ${n} | ${fmt(jac)} | ${fmt(gram)} | ${(jac / gram).toFixed(2)}× | ${(err / s1[0]).toExponential(1)} |`);
}

say('\n## Truncated SVD of a lowered kernel at energy 0.9 (TRP; LRA at a fixed rank)\n');
say('| lowered kernel | Jacobi U, σ, V (ms) | truncatedSvd, Gram route (ms) | speed-up | rank | max |approx − Jacobi approx| / σ₁ |');
say('|---|---|---|---|---|---|');
for (const [rows, cols, what] of [
  [500, 800, 'LeNet-5 fc1'],
  [50, 500, 'LeNet-5 conv2, channel-wise'],
  [256, 1152, 'a 3×3 conv, 128 → 256'],
] as const) {
  const data = decaying(rows, cols, rows + cols);
  const jac = bestMs(() => svdRaw(data, rows, cols), { reps: 3 });
  const fast = bestMs(() => truncatedSvd({ data, rows, cols }, { energy: 0.9 }), { reps: 3 });
  const t = truncatedSvd({ data, rows, cols }, { energy: 0.9 });
  const ref = svdRaw(data, rows, cols);
  let err = 0;
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let l = 0; l < t.rank; l++) s += (ref.u as Float64Array)[i * ref.uCols + l] * ref.s[l] * (ref.v as Float64Array)[j * ref.vCols + l];
      err = Math.max(err, Math.abs(s - t.approx[i * cols + j]));
    }
  const route = Math.min(rows, cols) >= 48 ? '' : ' (Jacobi: below the Gram size)';
  say(`| ${rows} × ${cols} (${what}) | ${fmt(jac)} | ${fmt(fast)}${route} | ${(jac / fast).toFixed(2)}× | ${t.rank} | ${(err / ref.s[0]).toExponential(1)} |`);
}

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/truncation.md', `${lines.join('\n')}\n`);
process.stderr.write('wrote bench/results/truncation.md\n');
