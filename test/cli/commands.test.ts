import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli.js';
import { loadCheckpoint, restoreModel } from '../../src/train/checkpoint.js';
import { encodeSafetensors } from '../../src/io/safetensors-codec.js';
import { TuckerConv2d } from '../../src/lowrank/tucker-conv2d.js';
import { LowRankLinear } from '../../src/lowrank/low-rank-linear.js';
import type { Conv2d, Linear } from '../../src/nn/layers.js';
import type { Module } from '../../src/nn/module.js';
import type { TuckerLayer } from '../../src/lowrank/tucker-layer.js';
import { runCli, snapshot, tempDir, TINY } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let full: string; // a trained full LeNet-5
let tdlrt: string; // a trained TDLRT LeNet-5
beforeAll(async () => {
  dir = tempDir();
  const r1 = await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--out', join(dir, 'full'));
  expect(r1.code, r1.stderr).toBe(0);
  full = join(dir, 'full', 'model.safetensors');
  const r2 = await runCli(
    'train',
    '--method',
    'tdlrt',
    '--max-rank',
    '6',
    '--rank-ratio',
    '0.1',
    '--warmup-epochs',
    '0',
    '--epochs',
    '1',
    ...TINY,
    '--out',
    join(dir, 'tdlrt'),
  );
  expect(r2.code, r2.stderr).toBe(0);
  tdlrt = join(dir, 'tdlrt', 'model.safetensors');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const layer = (m: Module, name: string) => m.namedModules().find(([n]) => n === name)?.[1];
const frob = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

describe('--help and the launcher', () => {
  it('prints help for every command, with options and examples', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = await runCli(name, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: tuckergrad ${name}`));
      expect(r.stdout).toContain('Examples:');
      expect((await runCli('help', name)).stdout).toBe(r.stdout);
    }
    const g = await runCli('--help');
    expect(g.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(g.stdout).toContain(`  ${name} `);
  });

  it('names an unknown command, and shows usage when there is none', async () => {
    const r = await runCli('trian');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'trian' (did you mean 'train'?)");
    const none = await runCli();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: tuckergrad <command>');
  });

  it('bin/tuckergrad.mjs runs the CLI through tsx, with its exit codes', () => {
    const ok = spawnSync(process.execPath, [join(ROOT, 'bin/tuckergrad.mjs'), 'eval', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Usage: tuckergrad eval <checkpoint> [options]');
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/tuckergrad.mjs'), 'report', '--bogus'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('tuckergrad report: error: unknown option --bogus');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.tuckergrad).toBe('bin/tuckergrad.mjs');
  });
});

describe('eval', () => {
  it('evaluates a checkpoint on the data it was trained on, as text or JSON', async () => {
    const r = await runCli('eval', full);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /model.safetensors: lenet5 \/ full, 431080 parameters, trained on the cpu backend\nmnist test split, 32 images: accuracy \d+\.\d\d%, loss \d\.\d{4}/,
    );
    const j = await runCli('eval', tdlrt, '--json', '--split', 'train');
    expect(j.code, j.stderr).toBe(0);
    const res = JSON.parse(j.stdout) as { accuracy: number; count: number; ranks: Record<string, number[]>; dataset: { name: string } };
    expect(res.count).toBe(128);
    expect(res.dataset.name).toBe('mnist');
    expect(Object.keys(res.ranks)).toEqual(['3', '7']);
  });

  it('evaluates the training checkpoint too, and on another test size', async () => {
    const r = await runCli('eval', join(dir, 'tdlrt', 'checkpoint.safetensors'), '--test-size', '16', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).count).toBe(16);
  });

  it('reports missing, corrupt, foreign and unfitting checkpoints', async () => {
    let r = await runCli('eval');
    expect([r.code, r.stderr]).toEqual([2, "tuckergrad eval: error: missing checkpoint\nRun 'tuckergrad eval --help' for usage.\n"]);
    r = await runCli('eval', join(dir, 'nope.safetensors'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read checkpoint .*nope\.safetensors: ENOENT/);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, readFileSync(full).subarray(0, 1000));
    r = await runCli('eval', cut);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/checkpoint .*cut\.safetensors is corrupt/);
    const foreign = join(dir, 'foreign.safetensors');
    writeFileSync(foreign, encodeSafetensors({ 'conv.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }));
    r = await runCli('eval', foreign);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not a tuckergrad checkpoint');
    r = await runCli('eval', full, '--split', 'validation');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--split must be one of test, train; got 'validation'");
    r = await runCli('eval', full, '--dataset', 'idx', '--data-dir', join(dir, 'no-idx'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot load dataset idx .*no IDX|cannot load dataset idx/);
  });
});

describe('compress', () => {
  it('compresses after training at a tolerance: the HOSVD bound holds for every layer, the model reloads and evaluates', async () => {
    const out = join(dir, 'posthoc-tol');
    // conv2 and the last linear layer (10×500): an SVD of fc1's 500×800 weight takes seconds in a test.
    const r = await runCli('compress', full, '--tol', '0.5', '--layers', '3,9', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    // (A barely trained network has flat spectra: at this tolerance the low-rank form may even be larger.)
    expect(r.stdout).toMatch(
      /tol0.5: ranks 3 \d+×\d+×5×5, 9 \d+×\d+; compressed layers \d+ \/ 30060 \(-?\d+\.\d% fewer\), network \d+ \/ 431080 .*; accuracy \d+\.\d\d%/,
    );
    expect(readdirSync(out).sort()).toEqual(['accuracy-vs-compression.svg', 'log.jsonl', 'metrics.md', 'model.safetensors']);
    const before = restoreModel(loadCheckpoint(full));
    const ckpt = loadCheckpoint(join(out, 'model.safetensors'));
    expect(ckpt.method?.name).toBe('post-hoc');
    const after = restoreModel(ckpt);
    expect(layer(after, '3')).toBeInstanceOf(TuckerConv2d);
    expect(layer(after, '9')).toBeInstanceOf(LowRankLinear);
    for (const name of ['3', '9']) {
      const w = (layer(before, name) as Conv2d | Linear).weight.data;
      const approx = (layer(after, name) as TuckerLayer).fullWeight().data;
      const err = frob(Array.from(w, (v, i) => v - approx[i]));
      expect(err).toBeLessThanOrEqual(0.5 * frob(w) * (1 + 1e-5));
      expect(err).toBeGreaterThan(0);
    }
    // The untouched layers are the trained ones, bit for bit.
    expect(Array.from((layer(after, '0') as Conv2d).weight.data)).toEqual(Array.from((layer(before, '0') as Conv2d).weight.data));
    const ev = await runCli('eval', join(out, 'model.safetensors'), '--json');
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).accuracy).toBe((ckpt.sections.metrics as { testAccuracy: number }).testAccuracy);
    expect(readFileSync(join(out, 'metrics.md'), 'utf8')).toContain('## Accuracy against compression');
  });

  it('compresses at given ranks and fine-tunes at those ranks', async () => {
    const out = join(dir, 'posthoc-ft');
    // (fc1 is left full here: an SVD of its 500×800 weight takes seconds; the tolerance test above covers it.)
    const r = await runCli('compress', full, '--ranks', '3=8x6', '--finetune-epochs', '1', '--batch', '32', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ranks: ranks 3 8×6×5×5; .* after 1 epoch\(s\) of fine-tuning/);
    const m = restoreModel(loadCheckpoint(join(out, 'model.safetensors')));
    expect((layer(m, '3') as TuckerLayer).ranks).toEqual([8, 6, 5, 5]);
    expect(layer(m, '7')?.constructor.name).toBe('Linear');
    for (const f of ['loss.svg', 'accuracy.svg', 'accuracy-vs-compression.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    const svg = readFileSync(join(out, 'accuracy-vs-compression.svg'), 'utf8');
    expect(svg).toContain('post-hoc (no fine-tune)');
    expect(svg).toContain('fine-tuned 1 epoch');
  });

  it('sweeps rank ratios as matrices into one accuracy-against-compression plot', async () => {
    const out = join(dir, 'sweep');
    const r = await runCli('compress', full, '--rank-ratio', '0.05,0.2', '--conv', 'matrix', '--layers', '3', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.safetensors'))
        .sort(),
    ).toEqual(['model-ratio0.05.safetensors', 'model-ratio0.2.safetensors']);
    const ckpt = loadCheckpoint(join(out, 'model-ratio0.05.safetensors'));
    expect(ckpt.layers.map((l) => l.kind)).toEqual(['MatrixConv2d']);
    expect(ckpt.ranks['3']).toEqual([3, 3]); // one matrix rank: 0.05 of min(50, 500), rounded
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { compression?: number });
    expect(log.filter((l) => l.compression !== undefined).map((l) => l.compression! > 0.5)).toEqual([true, true]);
  });

  const bad: [string, string[], number, RegExp][] = [
    ['no setting', [], 2, /give one of --ranks, --rank-ratio or --tol/],
    ['two settings', ['--tol', '0.1', '--rank-ratio', '0.5'], 2, /give only one of --rank-ratio, --tol/],
    ['a tolerance above 1', ['--tol', '2'], 2, /--tol values must be numbers in \[0, 1\], got '2'/],
    ['a ratio that is no number', ['--rank-ratio', 'half'], 2, /--rank-ratio values must be numbers in \(0, 1\], got 'half'/],
    ['malformed ranks', ['--ranks', '3:8'], 2, /--ranks takes LAYER=R or LAYER=RxR/],
    ['a rank too large', ['--ranks', '3=80x6'], 1, /--ranks for '3': rank 80 of mode 0 must be in \[1, 50\]/],
    ['a layer that does not exist', ['--ranks', '12=4'], 1, /the model has no full Conv2d\/Linear layer '12' \(it has: 0, 3, 7, 9\)/],
    ['--layers with --ranks', ['--ranks', '3=4x4', '--layers', '7'], 2, /--layers does not go with --ranks/],
    ['fine-tuning without data', ['--tol', '0.3', '--finetune-epochs', '1', '--no-eval'], 2, /--finetune-epochs needs the data/],
  ];
  it.each(bad)('%s: a clear error, exit %i, nothing written', async (name, argv, code, message) => {
    const out = join(dir, `never-${name.replace(/\W+/g, '-')}`);
    const r = await runCli('compress', full, ...argv, '--out', out);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a checkpoint whose layers are already low-rank', async () => {
    const r = await runCli('compress', tdlrt, '--tol', '0.3', '--out', join(dir, 'never'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'nothing to compress: the model has no full Conv2d/Linear layer besides the first conv and the last linear (already low-rank: 3, 7)',
    );
    const r2 = await runCli('compress', tdlrt, '--ranks', '3=4x4', '--out', join(dir, 'never'));
    expect(r2.stderr).toContain("layer '3' is already low-rank (TuckerConv2d)");
  });
});

describe('report', () => {
  it('prints the rank and compression report and writes the plots', async () => {
    const out = join(dir, 'report');
    const r = await runCli('report', tdlrt, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/method: tdlrt \{"lr":0.05,/);
    expect(r.stdout).toMatch(/epoch \/ step: 1 \/ 4/);
    expect(r.stdout).toMatch(/3 +TuckerConv2d +\[50×20×5×5\] +ranks \[\d, \d, 5, 5\] +params +\d+ \/ 25050 .*FLOPs/);
    expect(r.stdout).toMatch(/factorised layers: \d+ \/ 425550 parameters \(9\d\.\d% fewer/);
    expect(readdirSync(out).sort()).toEqual(['accuracy.svg', 'layers.svg', 'loss.svg', 'ranks.svg', 'report.md']);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| 7 | LowRankLinear | 500×800 |');
    const j = await runCli('report', tdlrt, '--out', out, '--json', '--force');
    const rep = JSON.parse(j.stdout) as { layers: { name: string; ranks: number[]; flops: number }[]; compression: number };
    expect(rep.layers.map((l) => l.name)).toEqual(['3', '7']);
    expect(rep.compression).toBeGreaterThan(0.9);
  });

  it('reports a full model without low-rank layers, and refuses a bad file without writing', async () => {
    const r = await runCli('report', full, '--out', join(dir, 'report-full'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('no low-rank layers; 431080 parameters');
    const before = snapshot(join(dir, 'full'));
    const bad = await runCli('report', join(dir, 'full', 'log.jsonl'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is corrupt/);
    const missing = await runCli('report', full, '--log', join(dir, 'no.jsonl'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no.jsonl does not exist');
    expect(snapshot(join(dir, 'full'))).toEqual(before);
  });
});

describe('bench', () => {
  it('lists the benches of bench/', async () => {
    const r = await runCli('bench', '--list');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain('train-step');
  });

  it('runs a bench by name with its arguments, saves its output and plots accuracy against compression', async () => {
    const benches = join(dir, 'benches');
    mkdirSync(benches, { recursive: true });
    writeFileSync(
      join(benches, 'tiny.ts'),
      [
        "import { writeFileSync } from 'node:fs';",
        'const out = process.env.TUCKERGRAD_OUT as string;',
        "const rows = [{ method: 'tdlrt', compression: 0.9, accuracy: 0.95 }, { method: 'tdlrt', compression: 0.95, accuracy: 0.93 }, { method: 'post-hoc', compression: 0.9, accuracy: 0.5 }];",
        "writeFileSync(`${out}/results.jsonl`, rows.map((r) => JSON.stringify(r)).join('\\n') + '\\n');",
        "console.log('tiny bench', process.argv.slice(2).join(' '));",
      ].join('\n'),
    );
    writeFileSync(join(benches, 'broken.ts'), 'process.exit(3);\n');
    const out = join(dir, 'bench-out');
    mkdirSync(out);
    const r = await runCli('bench', 'tiny', '--dir', benches, '--out', out, '--', '--size', '7');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('tiny bench --size 7\n');
    expect(readFileSync(join(out, 'tiny.txt'), 'utf8')).toBe('tiny bench --size 7\n');
    const svg = readFileSync(join(out, 'accuracy-vs-compression.svg'), 'utf8');
    expect(svg).toContain('tdlrt');
    expect(svg).toContain('post-hoc');
    const b = await runCli('bench', 'broken', '--dir', benches);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('bench broken failed with exit code 3');
  });

  it('names an unknown bench, and asks for one', async () => {
    const r = await runCli('bench', 'train-stp');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no bench named 'train-stp' \(did you mean 'train-step'\?\); the benches are /);
    const none = await runCli('bench');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name a bench to run');
  });
});
