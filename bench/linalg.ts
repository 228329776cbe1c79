/**
 * bench/linalg.ts — how long do the float64 factorisations of linalg/ and tucker/ take, against
 * PyTorch on the same machine in the same run?
 *
 * SVD of random square matrices (64², 256², 512², both routes), thin SVD of the wide and tall
 * shapes the integrator meets (100×2000), eigh, QR, and HOSVD / Tucker-2 / HOOI of 64×64×3×3 and
 * 256×256×3×3 conv kernels (the 256 HOSVD also as one thread's CPU time, which a loaded machine
 * disturbs least; SVD and eigh 512 also on one thread each as CPU time, PyTorch too), and Tucker-2
 * of a 512×512×3×3 VGG layer. When `/usr/bin/python3 -c 'import torch'` works, the same shapes are
 * timed in a python subprocess (torch.linalg in float64, 2 threads, HOSVD written with
 * torch.linalg.svd of each unfolding, HOOI with 5 sweeps), and a PyTorch column and the ratio are
 * printed; otherwise the table says that PyTorch was not found. Timings are the best of several
 * runs (bench/timing.ts); the machine load (uptime) before and after is written beside them.
 *
 * Run: npx tsx bench/linalg.ts   (writes bench/results/linalg.md)
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { eigh, qr, svd } from '../src/linalg/index.js';
import { hooi, hosvd, reconstruct } from '../src/tucker/index.js';
import { Generator } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { getNumThreads, setNumThreads } from '../src/backend/cpu/threads.js';
import { bestMs, systemBlas } from './timing.js';

const PYTHON = '/usr/bin/python3';

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

/** ‖A − UΣVᵀ‖/‖A‖ and max(|UᵀU − I|, |VᵀV − I|). */
function svdAccuracy(a: Tensor, r: ReturnType<typeof svd>): string {
  const [m, n] = a.shape;
  const k = r.s.data.length;
  const u = r.u.data;
  const vt = r.vt.data;
  const rec = new Float64Array(m * n);
  for (let p = 0; p < k; p++)
    for (let i = 0; i < m; i++) {
      const f = u[i * k + p] * r.s.data[p];
      for (let j = 0; j < n; j++) rec[i * n + j] += f * vt[p * n + j];
    }
  let e = 0;
  for (let i = 0; i < rec.length; i++) e += (rec[i] - a.data[i]) ** 2;
  let orth = 0;
  for (let p = 0; p < k; p++)
    for (let q = p; q < k; q++) {
      let su = 0;
      for (let i = 0; i < m; i++) su += u[i * k + p] * u[i * k + q];
      let sv = 0;
      for (let j = 0; j < n; j++) sv += vt[p * n + j] * vt[q * n + j];
      const id = p === q ? 1 : 0;
      orth = Math.max(orth, Math.abs(su - id), Math.abs(sv - id));
    }
  return `residual ${(Math.sqrt(e) / fro(a.data)).toExponential(1)}, orthogonality ${orth.toExponential(1)}`;
}

interface Row {
  key: string;
  what: string;
  ms: number;
  note: string;
}
const rows: Row[] = [];
const add = (key: string, what: string, ms: number, note = '') => {
  rows.push({ key, what, ms, note });
  console.log(`${what.padEnd(48)} ${ms.toFixed(1).padStart(9)} ms  ${note}`);
};
// Short operations warm up for half a second first: the first calls in the process run on V8's
// baseline tiers (an SVD 64 takes 40–100 ms for its first few calls and ≈ 25 calls to reach its
// steady 1.3 ms), which two warm-up runs do not cover; PyTorch's column is timed warm too.
const opts = (slow: boolean) => (slow ? { reps: 3, warm: 1, budgetMs: 8000 } : { reps: 8, warm: 2, minWarmMs: 500 });

/** Best CPU time (user + system) of the process over a few runs, in ms. */
function bestCpuMs(run: () => void, reps = 5): number {
  run();
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    run();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

const threads = getNumThreads();
const loadBefore = loadavg();
console.log(`node ${process.version}, ${process.arch}, ${getNumThreads()} threads`);
for (const [m, n] of [
  [64, 64],
  [256, 256],
  [512, 512],
  [100, 2000],
  [2000, 100],
] as const) {
  const a = gaussian([m, n], m * 7 + n);
  let out!: ReturnType<typeof svd>;
  const ms = bestMs(
    () => {
      out = svd(a);
    },
    opts(m * n >= 200_000),
  );
  add(`svd_${m}x${n}`, `svd ${m}×${n} (thin, U and V)`, ms, svdAccuracy(a, out));
}
for (const n of [256, 512]) {
  const a = gaussian([n, n], n + 1);
  let out!: ReturnType<typeof svd>;
  const ms = bestMs(
    () => {
      out = svd(a, { method: 'jacobi' });
    },
    { reps: 2, warm: 0, budgetMs: 1 },
  );
  add(`svdj_${n}`, `svd ${n}×${n}, method 'jacobi' (reference)`, ms, svdAccuracy(a, out));
}
for (const n of [256, 512]) {
  const g = gaussian([n, n], n + 2);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = g.data[i * n + j] + g.data[j * n + i];
  const a = Tensor.fromData(s, [n, n]);
  add(
    `eigh_${n}`,
    `eigh ${n}×${n}`,
    bestMs(() => eigh(a), opts(n >= 512)),
  );
}
{
  // SVD and eigh 512 on one thread each, as CPU time (process.cpuUsage here, time.process_time in
  // the PyTorch script): the ratio a loaded machine disturbs least (PyTorch's two OpenMP threads
  // spin-wait for a busy core, which can cost it several times its idle time).
  setNumThreads(1);
  const a = gaussian([512, 512], 512 * 7 + 512);
  add(
    'svd_512_1t',
    '  svd 512×512, 1 thread each, CPU time',
    bestCpuMs(() => svd(a)),
  );
  const g = gaussian([512, 512], 512 + 2);
  const s = new Float64Array(512 * 512);
  for (let i = 0; i < 512; i++) for (let j = 0; j < 512; j++) s[i * 512 + j] = g.data[i * 512 + j] + g.data[j * 512 + i];
  const sym = Tensor.fromData(s, [512, 512]);
  add(
    'eigh_512_1t',
    '  eigh 512×512, 1 thread each, CPU time',
    bestCpuMs(() => eigh(sym)),
  );
  setNumThreads(threads);
}
{
  const a = gaussian([512, 512], 3);
  add(
    'qr_512',
    'qr 512×512 (reduced)',
    bestMs(() => qr(a), opts(true)),
  );
}
for (const [I, r] of [
  [64, 64],
  [256, 64],
] as const) {
  const w = gaussian([I, I, 3, 3], 5);
  const nw = fro(w.data);
  let h!: ReturnType<typeof hosvd>;
  const ms = bestMs(
    () => {
      h = hosvd(w, { ranks: [r, r, 3, 3] });
    },
    opts(I >= 256),
  );
  const e = fro(reconstruct(h.core, h.factors).data.map((v, i) => v - w.data[i])) / nw;
  add(`hosvd_${I}_${r}`, `hosvd ${I}×${I}×3×3 → (${r}, ${r}, 3, 3)`, ms, `rel err ${e.toExponential(2)}`);
  if (I === 256) {
    add(
      `hosvd_${I}_svd`,
      `  the same, method 'svd' (Jacobi route)`,
      bestMs(() => hosvd(w, { ranks: [r, r, 3, 3] }, { method: 'svd' }), { reps: 1, warm: 0 }),
    );
    // The same on one thread, as CPU time of this process (process.cpuUsage): the figure a
    // loaded machine disturbs least (no waiting for a busy core), next to the wall time above.
    setNumThreads(1);
    add(
      `hosvd_${I}_cpu`,
      `  the same, 1 thread, CPU time`,
      bestCpuMs(() => hosvd(w, { ranks: [r, r, 3, 3] })),
    );
    setNumThreads(threads);
    add(
      `tucker2_${I}`,
      `hosvd Tucker-2 ${I}×${I}×3×3 → (${r}, ${r})`,
      bestMs(() => hosvd(w, { ranks: [r, r, null, null] }, { modes: [0, 1] }), opts(true)),
    );
    let ho!: ReturnType<typeof hooi>;
    const hm = bestMs(
      () => {
        ho = hooi(w, [r, r, 3, 3], { maxIter: 5, tol: 0 });
      },
      // One warm-up run, as the PyTorch script's best() makes: the first run pays V8's warm-up.
      { reps: 2, warm: 1 },
    );
    add(
      `hooi_${I}`,
      `hooi ${I}×${I}×3×3 → (${r}, ${r}, 3, 3), 5 sweeps`,
      hm,
      `rel err ${(ho.error / nw).toFixed(4)} (hosvd ${(ho.hosvdError / nw).toFixed(4)}), ${(hm / ms).toFixed(1)}× the hosvd`,
    );
  }
}
{
  // A VGG layer as `tuckergrad compress` meets it: Tucker-2 of a 512×512×3×3 kernel.
  const w = gaussian([512, 512, 3, 3], 6);
  add(
    'tucker2_512',
    'hosvd Tucker-2 512×512×3×3 → (128, 128)',
    bestMs(() => hosvd(w, { ranks: [128, 128, null, null] }, { modes: [0, 1] }), opts(true)),
  );
}
const loadAfter = loadavg();

// ---------------------------------------------------------------------------------------------
// PyTorch, same shapes, in a subprocess of this run.
const TORCH_SCRIPT = String.raw`
import json, time, torch
torch.set_num_threads(2)
torch.manual_seed(0)
f64 = torch.float64
def best(fn, reps):
    fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t.append((time.perf_counter() - t0) * 1e3)
    return min(t)
def unfold(x, n):
    return torch.movedim(x, n, 0).reshape(x.shape[n], -1)
def mode_mult(x, u, n):
    # x ×_n uᵀ (u is I_n × r): contract mode n
    y = torch.tensordot(x, u, dims=([n], [0]))
    return torch.movedim(y, -1, n)
def hosvd(x, ranks):
    us = [torch.linalg.svd(unfold(x, n), full_matrices=False)[0][:, :r] for n, r in enumerate(ranks)]
    c = x
    for n, u in enumerate(us): c = mode_mult(c, u, n)
    return c, us
def hooi(x, ranks, sweeps):
    c, us = hosvd(x, ranks)
    for _ in range(sweeps):
        for n in range(x.dim()):
            y = x
            for k, u in enumerate(us):
                if k != n: y = mode_mult(y, u, k)
            us[n] = torch.linalg.svd(unfold(y, n), full_matrices=False)[0][:, :ranks[n]]
        c = x
        for n, u in enumerate(us): c = mode_mult(c, u, n)
    return c, us
out = {'version': torch.__version__, 'threads': torch.get_num_threads()}
for m, n in [(64, 64), (256, 256), (512, 512), (100, 2000), (2000, 100)]:
    a = torch.randn(m, n, dtype=f64)
    out['svd_%dx%d' % (m, n)] = best(lambda: torch.linalg.svd(a, full_matrices=False), 3 if m * n >= 200000 else 8)
for n in [256, 512]:
    g = torch.randn(n, n, dtype=f64); s = g + g.T
    out['eigh_%d' % n] = best(lambda: torch.linalg.eigh(s), 3)
a = torch.randn(512, 512, dtype=f64)
out['qr_512'] = best(lambda: torch.linalg.qr(a), 3)
for I, r in [(64, 64), (256, 64)]:
    w = torch.randn(I, I, 3, 3, dtype=f64)
    out['hosvd_%d_%d' % (I, r)] = best(lambda: hosvd(w, [r, r, 3, 3]), 5 if I == 64 else 3)
    if I == 256:
        out['tucker2_%d' % I] = best(lambda: hosvd(w, [r, r]), 3)
        out['hooi_%d' % I] = best(lambda: hooi(w, [r, r, 3, 3], 5), 2)
w = torch.randn(512, 512, 3, 3, dtype=f64)
out['tucker2_512'] = best(lambda: hosvd(w, [128, 128]), 2)
def best_cpu(fn, reps):
    fn()
    t = []
    for _ in range(reps):
        t0 = time.process_time(); fn(); t.append((time.process_time() - t0) * 1e3)
    return min(t)
torch.set_num_threads(1)
a = torch.randn(512, 512, dtype=f64)
out['svd_512_1t'] = best_cpu(lambda: torch.linalg.svd(a, full_matrices=False), 5)
g = torch.randn(512, 512, dtype=f64); s = g + g.T
out['eigh_512_1t'] = best_cpu(lambda: torch.linalg.eigh(s), 5)
print(json.dumps(out))
`;

let torch: Record<string, number | string> | null = null;
let torchNote = '';
const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
if (probe.status === 0) {
  const res = spawnSync(PYTHON, ['-c', TORCH_SCRIPT], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (res.status === 0) torch = JSON.parse(res.stdout.trim().split('\n').pop()!);
  else torchNote = `PyTorch failed: ${res.stderr.trim().split('\n').pop()}`;
} else torchNote = `PyTorch not found (\`${PYTHON} -c 'import torch'\` failed): no PyTorch column.`;
const loadTorch = loadavg();

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const lines: string[] = [];
lines.push('# Linear algebra: tuckergrad against PyTorch (float64)');
lines.push('');
lines.push(
  `${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${getNumThreads()} threads; best of several runs (bench/timing.ts). Command: \`npx tsx bench/linalg.ts\`.`,
);
lines.push(
  torch
    ? `PyTorch ${torch.version} (${torch.threads} threads, float64; BLAS/LAPACK: ${systemBlas()}), timed by a python subprocess of the same run, same shapes (random data).`
    : torchNote,
);
const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
lines.push(
  `Machine load (1, 5, 15 min): ${la(loadBefore)} before, ${la(loadAfter)} after tuckergrad${torch ? `, ${la(loadTorch)} after PyTorch` : ''}. The machine is shared: compare the ratios, taken minutes apart, rather than the absolute figures.`,
);
lines.push('');
lines.push(torch ? '| operation | tuckergrad (ms) | PyTorch (ms) | ratio | accuracy (tuckergrad) |' : '| operation | tuckergrad (ms) | accuracy |');
lines.push(torch ? '|---|---|---|---|---|' : '|---|---|---|');
for (const r of rows) {
  const t = torch?.[r.key];
  if (torch)
    lines.push(
      `| ${r.what.trim()} | ${fmt(r.ms)} | ${typeof t === 'number' ? fmt(t) : '–'} | ${typeof t === 'number' ? `${(r.ms / t).toFixed(2)}×` : '–'} | ${r.note} |`,
    );
  else lines.push(`| ${r.what.trim()} | ${fmt(r.ms)} | ${r.note} |`);
}
lines.push('');
lines.push(
  'Ratio: tuckergrad time / PyTorch time (below 1: tuckergrad is faster). PyTorch HOSVD/HOOI: torch.linalg.svd of each unfolding, tensordot mode products.',
);
const md = lines.join('\n') + '\n';
console.log('\n' + md);
writeFileSync(new URL('./results/linalg.md', import.meta.url), md);
