import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBaseModel, MODEL_BUILDERS } from '../../src/nn/zoo.js';
import { loadCheckpoint, restoreModel } from '../../src/train/checkpoint.js';
import { readJsonl } from '../../src/io/jsonl.js';
import { loadSafetensors } from '../../src/io/safetensors-file.js';
import { METHOD_NAMES } from '../../src/lowrank/methods/registry.js';
import { runCli, snapshot, tempDir, TINY } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every tensor of a safetensors file, for a bit-for-bit comparison with a message naming the first difference. */
function expectSameTensors(a: string, b: string): void {
  const x = loadSafetensors(a).tensors;
  const y = loadSafetensors(b).tensors;
  expect(Object.keys(y).sort()).toEqual(Object.keys(x).sort());
  for (const k of Object.keys(x)) {
    const bx = Buffer.from(x[k].data.buffer, x[k].data.byteOffset, x[k].data.byteLength);
    const by = Buffer.from(y[k].data.buffer, y[k].data.byteOffset, y[k].data.byteLength);
    expect(by.equals(bx), `tensor ${k} differs`).toBe(true);
  }
}

describe('train', () => {
  it('trains, checkpoints and reports: the files of the output folder, the report on stdout, progress on stderr', async () => {
    const out = join(dir, 'full');
    const r = await runCli('train', '--method', 'full', '--epochs', '1', ...TINY.filter((a) => a !== '--quiet'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lenet5 \/ full on mnist: 1 epochs, 4 steps, seed 0\ntest accuracy \d+\.\d\d% \(loss \d\.\d{4}\) on 32 images/);
    expect(r.stdout).toContain('no compressed layers (full): 431080 parameters');
    expect(r.stderr).toContain('tuckergrad train: lenet5 / full on mnist, 128 images, 1 epochs × 4 steps');
    expect(r.stderr).toMatch(/epoch 1\/1: train loss \d\.\d{4} acc/);
    expect(readdirSync(out).sort()).toEqual(['accuracy.svg', 'checkpoint.safetensors', 'log.jsonl', 'loss.svg', 'metrics.md', 'model.safetensors']);
    const log = readJsonl<{ type: string; step: number; testAccuracy?: number }>(join(out, 'log.jsonl'));
    expect(log.map((l) => l.type)).toEqual(['run', 'step', 'step', 'epoch', 'final']);
    expect(log.map((l) => l.step)).toEqual([0, 1, 4, 4, 4]);
    const final = log[4];
    const md = readFileSync(join(out, 'metrics.md'), 'utf8');
    expect(md).toContain('| epoch | step | train loss | train acc | test loss | test acc | seconds | img/s | ranks |');
    expect(md).toContain(`Test accuracy ${(100 * (final.testAccuracy as number)).toFixed(2)}%`);
    for (const svg of ['loss.svg', 'accuracy.svg']) expect(readFileSync(join(out, svg), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n?$/);
    // The final model reads back and carries its metrics; eval agrees with what train measured.
    const ckpt = loadCheckpoint(join(out, 'model.safetensors'));
    expect(ckpt.kind).toBe('model');
    expect((ckpt.sections.metrics as { testAccuracy: number }).testAccuracy).toBe(final.testAccuracy);
    const ev = await runCli('eval', join(out, 'model.safetensors'), '--json');
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).accuracy).toBe(final.testAccuracy);
  });

  it('trains TDLRT with ranks in the report and a rank plot', async () => {
    const out = join(dir, 'tdlrt');
    const r = await runCli(
      'train',
      '--method',
      'tdlrt',
      '--max-rank',
      '8',
      '--rank-ratio',
      '0.1',
      '--tau',
      '0.1',
      '--warmup-epochs',
      '0',
      '--epochs',
      '1',
      ...TINY,
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 +TuckerConv2d +\[50×20×5×5\] +ranks \[\d, \d, 5, 5\]/);
    expect(r.stdout).toMatch(/7 +LowRankLinear +\[500×800\] +ranks \[\d, \d\]/);
    expect(r.stdout).toMatch(/compression \(tdlrt\): compressed layers \d+ \/ 425550 parameters \(9\d\.\d% fewer\)/);
    expect(readFileSync(join(out, 'ranks.svg'), 'utf8')).toContain('ranks per layer over steps');
    expect(r.stderr).toBe(''); // --quiet
    const ckpt = loadCheckpoint(join(out, 'checkpoint.safetensors'));
    expect(Object.keys(ckpt.ranks)).toEqual(['3', '7']);
    expect(ckpt.method?.name).toBe('tdlrt');
  });

  it.each([
    ['full', []],
    ['tdlrt', ['--max-rank', '8', '--rank-ratio', '0.1', '--tau', '0.1', '--warmup-epochs', '0.5']],
  ])('%s: stopped mid-epoch and resumed (twice, across an epoch end), it ends bit for bit where an uninterrupted run ends', async (method, extra) => {
    const common = ['train', '--method', method, ...extra, '--epochs', '2', ...TINY];
    const a = join(dir, `straight-${method}`);
    const b = join(dir, `resumed-${method}`);
    expect((await runCli(...common, '--out', a)).code).toBe(0);
    const s1 = await runCli(...common, '--out', b, '--max-steps', '3');
    expect(s1.code, s1.stderr).toBe(0);
    expect(s1.stdout).toContain('stopped at step 3 (epoch 1, step 3); resume with: tuckergrad train --out');
    expect(existsSync(join(b, 'model.safetensors'))).toBe(false);
    const progress = loadCheckpoint(join(b, 'checkpoint.safetensors')).sections.progress as { step: number; stepInEpoch: number };
    expect([progress.step, progress.stepInEpoch]).toEqual([3, 3]);
    const s2 = await runCli('train', '--out', b, '--resume', '--max-steps', '6', '--quiet');
    expect(s2.code, s2.stderr).toBe(0);
    expect(s2.stdout).toContain('stopped at step 6 (epoch 2, step 2)');
    const s3 = await runCli('train', '--out', b, '--resume', '--quiet');
    expect(s3.code, s3.stderr).toBe(0);
    expectSameTensors(join(a, 'model.safetensors'), join(b, 'model.safetensors'));
    expect(readFileSync(join(b, 'model.safetensors')).equals(readFileSync(join(a, 'model.safetensors')))).toBe(true);
    expect(readFileSync(join(b, 'checkpoint.safetensors')).equals(readFileSync(join(a, 'checkpoint.safetensors')))).toBe(true);
    // The log tells the same story: same epoch losses and accuracies, with the resumes marked.
    const epochs = (p: string) =>
      readJsonl<{ type: string; trainLoss: number; testAccuracy: number }>(join(p, 'log.jsonl'))
        .filter((l) => l.type === 'epoch')
        .map((l) => [l.trainLoss, l.testAccuracy]);
    expect(epochs(b)).toEqual(epochs(a));
    expect(readJsonl<{ type: string }>(join(b, 'log.jsonl')).filter((l) => l.type === 'resume')).toHaveLength(2);
    // Resuming a finished run changes nothing.
    const before = snapshot(b);
    const s4 = await runCli('train', '--out', b, '--resume');
    expect(s4.code).toBe(0);
    expect(s4.stderr).toContain('is already complete (2 epochs, 8 steps); nothing to do');
    expect(snapshot(b)).toEqual(before);
  });

  // Every method of the registry (read at run time), on the small MLP so that the SVDs of TRP, LRA and
  // post-hoc stay cheap: each keeps its state in its optimizers, integrator, counters and caches, or in
  // its own getState/setState. TDLRT runs with its default full-model warm-up (no --max-rank), stopped
  // once inside the warm-up and once after the switch to Tucker form.
  it.each(METHOD_NAMES.map((m) => [m]))('method %s resumes bit for bit from mid-epoch stops', async (method) => {
    // Each method gets only the flags it reads: a flag a method would ignore is a usage error.
    const own: Record<string, string[]> = {
      'tucker-fixed': ['--budget', '0.1'],
      'matrix-fixed': ['--budget', '0.1'],
      elrt: ['--budget', '0.1'],
      'post-hoc': ['--budget', '0.1'],
      lra: ['--budget', '0.1', '--opt', 'lraInterval=3'],
      trp: ['--opt', 'trpInterval=2'],
      tdlrt: ['--warmup-epochs', '0.5'],
      'dlrt-matrix': ['--warmup-epochs', '0.5'],
    };
    const common = [
      'train',
      '--model',
      'mlp',
      '--method',
      method,
      ...(own[method] ?? []),
      '--epochs',
      '2',
      '--train-size',
      '64',
      '--test-size',
      '16',
      '--batch',
      '16',
      '--quiet',
    ];
    const a = join(dir, `all-${method}-a`);
    const b = join(dir, `all-${method}-b`);
    const r = await runCli(...common, '--out', a);
    expect(r.code, r.stderr).toBe(0);
    expect((await runCli(...common, '--out', b, '--max-steps', '1')).code).toBe(0);
    expect((await runCli('train', '--out', b, '--resume', '--max-steps', '3', '--quiet')).code).toBe(0);
    expect((await runCli('train', '--out', b, '--resume', '--max-steps', '6', '--quiet')).code).toBe(0);
    const r2 = await runCli('train', '--out', b, '--resume', '--quiet');
    expect(r2.code, r2.stderr).toBe(0);
    expectSameTensors(join(a, 'checkpoint.safetensors'), join(b, 'checkpoint.safetensors'));
    expect(readFileSync(join(b, 'model.safetensors')).equals(readFileSync(join(a, 'model.safetensors')))).toBe(true);
  });

  it('a real process killed with SIGKILL mid-epoch resumes to the same final weights', async () => {
    const args = ['--method', 'full', '--epochs', '2', '--train-size', '384', '--test-size', '32', '--batch', '32', '--quiet'];
    const a = join(dir, 'kill-straight');
    const b = join(dir, 'kill-resumed');
    expect((await runCli('train', ...args, '--out', a)).code).toBe(0);
    const child = spawn(process.execPath, [join(ROOT, 'bin/tuckergrad.mjs'), 'train', ...args, '--checkpoint-every', '1', '--out', b], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    const ckpt = join(b, 'checkpoint.safetensors');
    let killedAt = -1;
    for (let i = 0; i < 1200 && killedAt < 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      if (!existsSync(ckpt)) continue;
      let step = 0;
      try {
        step = (loadCheckpoint(ckpt).sections.progress as { step: number }).step;
      } catch {
        continue; // a reader racing the rename sees the old or the new file, never half of one; retry
      }
      if (step >= 5) {
        child.kill('SIGKILL');
        killedAt = step;
      }
    }
    await exited;
    expect(killedAt).toBeGreaterThanOrEqual(5);
    // The kill left a whole checkpoint (from step killedAt or a step or two later), and no final model.
    const progress = loadCheckpoint(ckpt).sections.progress as { step: number; epoch: number };
    expect(progress.step).toBeGreaterThanOrEqual(killedAt);
    expect(progress.epoch).toBeLessThan(2);
    expect(existsSync(join(b, 'model.safetensors'))).toBe(false);
    const r = await runCli('train', '--out', b, '--resume', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(b, 'model.safetensors')).equals(readFileSync(join(a, 'model.safetensors')))).toBe(true);
    expect(readdirSync(b).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('trains from an IDX folder (gzipped files)', async () => {
    const data = join(dir, 'idx');
    mkdirSync(data, { recursive: true });
    const images = (n: number) => {
      const b = Buffer.alloc(16 + n * 784);
      b.writeUInt32BE(2051, 0);
      b.writeUInt32BE(n, 4);
      b.writeUInt32BE(28, 8);
      b.writeUInt32BE(28, 12);
      for (let i = 16; i < b.length; i++) b[i] = (i * 37) % 256;
      return b;
    };
    const labels = (n: number) => {
      const b = Buffer.alloc(8 + n);
      b.writeUInt32BE(2049, 0);
      b.writeUInt32BE(n, 4);
      for (let i = 0; i < n; i++) b[8 + i] = i % 10;
      return b;
    };
    writeFileSync(join(data, 'train-images-idx3-ubyte.gz'), gzipSync(images(40)));
    writeFileSync(join(data, 'train-labels-idx1-ubyte.gz'), gzipSync(labels(40)));
    writeFileSync(join(data, 't10k-images-idx3-ubyte.gz'), gzipSync(images(10)));
    writeFileSync(join(data, 't10k-labels-idx1-ubyte.gz'), gzipSync(labels(10)));
    const out = join(dir, 'idx-run');
    const r = await runCli('train', '--method', 'full', '--dataset', 'idx', '--data-dir', data, '--epochs', '1', '--batch', '20', '--quiet', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('lenet5 / full on idx: 1 epochs, 2 steps');
    expect(r.stdout).toContain('on 10 images');
  });

  it('trains ResNet-20 on a CIFAR-10 folder', async () => {
    const data = join(dir, 'cifar-10-batches-bin');
    mkdirSync(data, { recursive: true });
    const batch = (n: number, seed: number) =>
      Buffer.from(Array.from({ length: n * 3073 }, (_, i) => (i % 3073 === 0 ? (i / 3073 + seed) % 10 : (i * 31 + seed) % 256)));
    for (let k = 1; k <= 5; k++) writeFileSync(join(data, `data_batch_${k}.bin`), batch(1, k));
    writeFileSync(join(data, 'test_batch.bin'), batch(2, 9));
    const out = join(dir, 'cifar-run');
    const r = await runCli(
      'train',
      '--model',
      'resnet20',
      '--method',
      'full',
      '--dataset',
      'cifar10',
      '--data-dir',
      dir,
      '--epochs',
      '1',
      '--batch',
      '5',
      '--quiet',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('resnet20 / full on cifar10: 1 epochs, 1 steps');
    const model = restoreModel(loadCheckpoint(join(out, 'model.safetensors')));
    const count = (m: { parameters(): { size: number }[] }) => m.parameters().reduce((n, p) => n + p.size, 0);
    expect(count(model)).toBe(count(buildBaseModel({ builder: 'resnet20', numClasses: 10, dtype: 'float32', inputShape: [3, 32, 32] })));
  });
});

describe('train: bad input gives a clear error and a non-zero exit code', () => {
  const usage: [string, string[], RegExp][] = [
    ['a misspelt flag', ['--epoch', '2'], /unknown option --epoch \(did you mean --epochs\?\)/],
    ['a negative learning rate', ['--lr', '-1'], /--lr must be > 0, got -1/],
    ['a learning rate that is no number', ['--lr', 'fast'], /--lr must be a number, got 'fast'/],
    ['zero epochs', ['--epochs', '0'], /--epochs must be ≥ 1, got 0/],
    ['an unknown method', ['--method', 'magic'], new RegExp(`--method must be one of ${METHOD_NAMES.join(', ')}; got 'magic'`)],
    ['an unknown model', ['--model', 'vgg16'], new RegExp(`--model must be one of ${Object.keys(MODEL_BUILDERS).join(', ')}; got 'vgg16'`)],
    ['an IDX dataset without its folder', ['--dataset', 'idx'], /--dataset idx needs --data-dir DIR/],
    ['a bad --opt', ['--opt', 'energy'], /--opt takes key=value, got 'energy'/],
    ['--resume with --force', ['--resume', '--force'], /--resume and --force contradict each other/],
    ['a stray argument', ['lenet5'], /unexpected argument 'lenet5' \(this command takes only options\)/],
  ];
  it.each(usage)('%s: exit 2 with a pointer to --help', async (_, argv, message) => {
    const out = join(dir, 'never');
    const r = await runCli('train', ...argv, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain("Run 'tuckergrad train --help' for usage.");
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('a model that does not fit the data, missing data, too many digits: exit 1', async () => {
    const out = join(dir, 'never2');
    let r = await runCli('train', '--model', 'resnet20', '--out', out, ...TINY);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model resnet20 takes 3×32×32 images, but mnist-embedded:train has 1×28×28 \(models that fit: lenet5, small-vgg, mlp\)/);
    r = await runCli('train', '--dataset', 'cifar10', '--data-dir', join(dir, 'nowhere'), '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot load dataset cifar10 \(.*nowhere\): loadCifar10: dir .*nowhere is not a directory/);
    r = await runCli('train', '--train-size', '9000', '--test-size', '2000', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the embedded MNIST set has 10,000 digits');
    expect(existsSync(out)).toBe(false);
  });

  describe('an existing run', () => {
    let run: string;
    beforeAll(async () => {
      run = join(dir, 'existing');
      const r = await runCli('train', '--method', 'full', '--epochs', '2', ...TINY, '--max-steps', '2', '--out', run);
      expect(r.code, r.stderr).toBe(0);
    });

    it('is not overwritten by a new run, and --resume with nothing to resume says so', async () => {
      const before = snapshot(run);
      let r = await runCli('train', '--method', 'full', ...TINY, '--out', run);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/existing already holds a run \(checkpoint.safetensors\); pass --resume to continue it, --force to start over/);
      r = await runCli('train', '--resume', '--out', join(dir, 'empty'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/nothing to resume: .*empty\/checkpoint.safetensors does not exist/);
      expect(snapshot(run)).toEqual(before);
    });

    it('refuses flags that would change the resumed run, changing nothing', async () => {
      const before = snapshot(run);
      const r = await runCli('train', '--resume', '--out', run, '--lr', '0.1', '--batch', '16', '--method', 'tdlrt');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'the checkpoint does not match the flags: --method "tdlrt" (the checkpoint has "full"); --batch 16 (the checkpoint has 32); --lr 0.1 (the checkpoint has 0.05)',
      );
      expect(snapshot(run)).toEqual(before);
    });

    const damage: [string, (b: Buffer) => Buffer, RegExp][] = [
      ['truncated', (b) => b.subarray(0, b.length - 100), /cannot resume: checkpoint .* is corrupt: safetensors: .*exceed the data buffer/],
      [
        'with a flipped byte',
        (b) => {
          const c = Buffer.from(b);
          c[c.length - 7] ^= 1;
          return c;
        },
        /cannot resume: checkpoint .* is corrupt: checksum mismatch/,
      ],
      ['empty', () => Buffer.alloc(0), /cannot resume: checkpoint .* is corrupt: safetensors: file is 0 bytes/],
    ];
    it.each(damage)('a checkpoint %s is reported as corrupt, and nothing on disk changes', async (_, hurt, message) => {
      const copy = join(dir, `damaged-${Math.random().toString(36).slice(2)}`);
      mkdirSync(copy);
      for (const f of readdirSync(run)) copyFileSync(join(run, f), join(copy, f));
      writeFileSync(join(copy, 'checkpoint.safetensors'), hurt(readFileSync(join(run, 'checkpoint.safetensors'))));
      const before = snapshot(copy);
      const r = await runCli('train', '--resume', '--out', copy);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(snapshot(copy)).toEqual(before);
    });

    it('a checkpoint of another model is a mismatch, and nothing on disk changes', async () => {
      const other = join(dir, 'other-model');
      expect(
        (await runCli('train', '--method', 'tdlrt', '--max-rank', '4', '--rank-ratio', '0.05', '--epochs', '1', ...TINY, '--max-steps', '1', '--out', other))
          .code,
      ).toBe(0);
      const copy = join(dir, 'mismatched');
      mkdirSync(copy);
      for (const f of readdirSync(run)) copyFileSync(join(run, f), join(copy, f));
      // The model and method state of the tdlrt run under the run settings of the full run: as if files were mixed up.
      const { encodeCheckpoint } = await import('../../src/train/checkpoint.js');
      const { saveSafetensors } = await import('../../src/io/safetensors-file.js');
      const mine = loadSafetensors(join(run, 'checkpoint.safetensors'));
      const theirs = loadSafetensors(join(other, 'checkpoint.safetensors'));
      expect(typeof encodeCheckpoint).toBe('function');
      saveSafetensors(join(copy, 'checkpoint.safetensors'), theirs.tensors, { ...theirs.metadata, 'tuckergrad.run': mine.metadata['tuckergrad.run'] });
      const before = snapshot(copy);
      const r = await runCli('train', '--resume', '--out', copy);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot resume from .*checkpoint.safetensors: its model state was saved by method 'tdlrt', but its run settings name 'full'/);
      expect(snapshot(copy)).toEqual(before);
      // A final model is not a training state.
      rmSync(join(copy, 'checkpoint.safetensors'));
      const full = join(dir, 'full', 'model.safetensors');
      if (existsSync(full)) {
        copyFileSync(full, join(copy, 'checkpoint.safetensors'));
        const r2 = await runCli('train', '--resume', '--out', copy);
        expect(r2.code).toBe(1);
        expect(r2.stderr).toContain("it holds a final model (kind 'model'), not a training state");
      }
    });
  });
});
