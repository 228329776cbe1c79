/**
 * Issue #19: nothing a user has is lost or silently altered. Each test names the defect it covers;
 * each failed on the main branch before the fix.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, restoreModel, saveCheckpoint } from '../../src/train/checkpoint.js';
import { readJsonl } from '../../src/io/jsonl.js';
import { encodeSafetensors } from '../../src/io/safetensors-codec.js';
import { fromTensor } from '../../src/io/safetensors-tensor.js';
import { runCli, snapshot, tempDir, TINY } from './helpers.js';

/** The lock file of a run folder (src/cli/outdir.ts), spelt out so that this file runs against older versions. */
const LOCK_FILE = '.tuckergrad.lock';

let dir: string;
let run: string; // a finished full run, shared by the compress tests
beforeAll(async () => {
  dir = tempDir('tuckergrad-integrity-');
  run = join(dir, 'run');
  const r = await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--out', run);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compress never replaces its input run (defect 2)', () => {
  it("refuses an --out that is the checkpoint's own folder, however it is spelt, and changes nothing", async () => {
    const before = snapshot(run);
    for (const out of [run, `${run}/`, join(run, '..', 'run')]) {
      const r = await runCli('compress', join(run, 'model.safetensors'), '--tol', '0.3', '--no-eval', '-q', '--out', out);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is the folder of the checkpoint .*model\.safetensors; .*Choose another --out/);
    }
    expect(snapshot(run)).toEqual(before);
  });

  it("follows a symlinked input: its target's folder is refused too, even with --force", async () => {
    const before = snapshot(run);
    const links = join(dir, 'links');
    mkdirSync(links);
    const link = join(links, 'latest.safetensors');
    symlinkSync(join(run, 'model.safetensors'), link);
    const r = await runCli('compress', link, '--tol', '0.3', '--no-eval', '-q', '--force', '--out', run);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is the folder of the checkpoint .*latest\.safetensors \(the folder its symlink leads to\); .*Choose another --out/);
    expect(snapshot(run)).toEqual(before);
  });

  it('refuses an --out holding files it would write unless --force; its size warning survives -q', async () => {
    const out = join(dir, 'posthoc');
    mkdirSync(out);
    writeFileSync(join(out, 'metrics.md'), 'my notes\n');
    const before = snapshot(out);
    // Full ranks 50×20 of a 50×20×5×5 conv store more than the full layer: the warning must reach a quiet user.
    const args = ['compress', join(run, 'model.safetensors'), '--ranks', '3=50x20', '--no-eval', '-q', '--out', out];
    const r = await runCli(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/posthoc already holds metrics\.md, which this command would overwrite; pass --force/);
    expect(snapshot(out)).toEqual(before);
    const forced = await runCli(...args, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/layer '3' at ranks 50×20×5×5 holds \d+ parameters, not fewer than the 25050 of the full layer/);
    expect(readFileSync(join(out, 'metrics.md'), 'utf8')).not.toBe('my notes\n');
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });
});

describe('no partly written output', () => {
  it('compress that fails on a later layer, after earlier ones were compressed, writes nothing and leaves no folder', async () => {
    const out = join(dir, 'half-compressed');
    const r = await runCli('compress', join(run, 'model.safetensors'), '--ranks', '3=5x5,7=600', '--no-eval', '-q', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--ranks for '7': rank 600 of mode 0 must be in \[1, 500\]/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('plain safetensors files from other tools (defect 1: checkpoints)', () => {
  it('compress and eval read a plain state dict with a warning that it carries no checksum, even under -q', async () => {
    const { modelState } = loadCheckpoint(join(run, 'model.safetensors'));
    const plain = join(dir, 'plain', 'weights.safetensors');
    mkdirSync(join(dir, 'plain'));
    writeFileSync(plain, encodeSafetensors(Object.fromEntries(Object.entries(modelState).map(([k, t]) => [k, fromTensor(t)]))));
    const warning =
      /warning: .*weights\.safetensors is a plain safetensors file without tuckergrad metadata: it carries no checksum.*Read as the state dict of model 'lenet5' \(10 classes, float32\)/;
    const data = ['--dataset', 'mnist', '--train-size', '128', '--test-size', '32', '--json'];
    const ev = await runCli('eval', plain, ...data);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toMatch(warning);
    const ours = await runCli('eval', join(run, 'model.safetensors'), ...data);
    expect(JSON.parse(ev.stdout).accuracy).toBe(JSON.parse(ours.stdout).accuracy);
    expect(ours.stderr).not.toMatch(/warning/);
    const out = join(dir, 'plain-compressed');
    const r = await runCli('compress', plain, '--tol', '0.3', '--no-eval', '-q', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(warning);
    // What compress writes is a tuckergrad checkpoint again, with its checksum.
    expect(loadCheckpoint(join(out, 'model.safetensors')).verified).toBe(true);
  });
});

describe('train never overwrites files it did not write (defect 3)', () => {
  it.each(['metrics.md', 'log.jsonl', 'loss.svg', 'model.safetensors'])("an --out holding the user's %s is refused without --force", async (file) => {
    const out = join(dir, `occupied-${file}`);
    mkdirSync(out);
    writeFileSync(join(out, file), "the user's own file\n");
    const before = snapshot(out);
    const r = await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--max-steps', '1', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`already holds ${file}, which this command would overwrite; pass --force to replace them`);
    expect(snapshot(out)).toEqual(before);
  });

  it('--force replaces them', async () => {
    const out = join(dir, 'occupied-force');
    mkdirSync(out);
    writeFileSync(join(out, 'metrics.md'), 'old\n');
    const r = await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--force', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'metrics.md'), 'utf8')).not.toBe('old\n');
  });
});

describe('report never overwrites the run it reports on (defect 3)', () => {
  // report wrote report.md and its own loss.svg, accuracy.svg and ranks.svg into the checkpoint's
  // folder, over train's plots and any report.md of the user's, with exit 0.
  it("writes into report/ beside the checkpoint, keeps the run's files, and replaces its own only with --force", async () => {
    const copy = join(dir, 'reported');
    cpSync(run, copy, { recursive: true });
    writeFileSync(join(copy, 'report.md'), 'my notes\n');
    const before = snapshot(copy);
    const r = await runCli('report', join(copy, 'model.safetensors'));
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(copy, 'report'))).toContain('report.md');
    const after = snapshot(copy);
    expect(Object.fromEntries(Object.entries(after).filter(([f]) => !f.startsWith('report/')))).toEqual(before);
    const again = await runCli('report', join(copy, 'model.safetensors'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/report already holds report\.md, .*which this command would overwrite; pass --force to replace them/);
    expect(snapshot(copy)).toEqual(after);
    expect((await runCli('report', join(copy, 'model.safetensors'), '--force')).code).toBe(0);
    const into = await runCli('report', join(copy, 'model.safetensors'), '--out', copy);
    expect(into.code).toBe(1);
    expect(into.stderr).toMatch(/already holds report\.md, loss\.svg, accuracy\.svg, which this command would overwrite/);
    expect(readFileSync(join(copy, 'report.md'), 'utf8')).toBe('my notes\n');
  });
});

describe('resume and logs (defect 6)', () => {
  it('a half-written last line of log.jsonl is dropped with a notice, and the run resumes', async () => {
    const out = join(dir, 'torn');
    expect((await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--max-steps', '2', '--out', out)).code).toBe(0);
    appendFileSync(join(out, 'log.jsonl'), '{"type":"step","step":3,"los');
    const r = await runCli('train', '--out', out, '--resume', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/notice: dropped the half-written last line of .*log\.jsonl \(\d+ bytes\)/);
    const log = readJsonl<{ type: string }>(join(out, 'log.jsonl'));
    expect(log.map((l) => l.type)).toEqual(['run', 'step', 'resume', 'step', 'epoch', 'final']);
  });

  it('the backend is saved with the run: in its checkpoints and log, reused by --resume, reported by eval', async () => {
    const out = join(dir, 'backend');
    const r1 = await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--max-steps', '2', '--backend', 'cpu', '--out', out);
    expect(r1.code, r1.stderr).toBe(0);
    const ckptPath = join(out, 'checkpoint.safetensors');
    const ckpt = loadCheckpoint(ckptPath);
    expect(ckpt.sections.backend).toBe('cpu');
    const r2 = await runCli('train', '--out', out, '--resume', '--quiet');
    expect(r2.code, r2.stderr).toBe(0);
    const log = readJsonl<{ type: string; backend?: string }>(join(out, 'log.jsonl'));
    expect(log.filter((l) => l.type === 'run' || l.type === 'resume').map((l) => [l.type, l.backend])).toEqual([
      ['run', 'cpu'],
      ['resume', 'cpu'],
    ]);
    expect(loadCheckpoint(join(out, 'model.safetensors')).sections.backend).toBe('cpu');
    const ev = await runCli('eval', join(out, 'model.safetensors'), '--json');
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout)).toMatchObject({ backend: 'cpu', trainedOn: 'cpu' });
    // A saved backend this version cannot run is named, before anything in the folder changes.
    const bad = join(dir, 'backend-bad');
    mkdirSync(bad);
    const model = restoreModel(ckpt);
    saveCheckpoint(join(bad, 'checkpoint.safetensors'), {
      model,
      modelSpec: ckpt.modelSpec,
      kind: 'training',
      method: ckpt.method,
      state: ckpt.state,
      sections: { ...ckpt.sections, backend: 'tpu' },
    });
    const before = snapshot(bad);
    const r3 = await runCli('train', '--out', bad, '--resume', '--quiet');
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/its saved backend \(tuckergrad.backend\) must be "cpu" or "gpu", got "tpu"/);
    expect(snapshot(bad)).toEqual(before);
  });

  it('a log.jsonl replaced by a FIFO stops --resume with a clear error instead of blocking, and changes nothing', { timeout: 60_000 }, async () => {
    const out = join(dir, 'fifo-log');
    expect((await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--max-steps', '2', '--out', out)).code).toBe(0);
    const ckpt = readFileSync(join(out, 'checkpoint.safetensors'));
    rmSync(join(out, 'log.jsonl'));
    execFileSync('mkfifo', [join(out, 'log.jsonl')]);
    const r = await runCli('train', '--out', out, '--resume', '--quiet');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read ${join(out, 'log.jsonl')}: log ${join(out, 'log.jsonl')} is not a regular file (it is a FIFO)`);
    expect(readFileSync(join(out, 'checkpoint.safetensors')).equals(ckpt)).toBe(true);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });

  it('a damaged line that is not the last still stops the resume', async () => {
    const out = join(dir, 'damaged');
    expect((await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--max-steps', '2', '--out', out)).code).toBe(0);
    const text = readFileSync(join(out, 'log.jsonl'), 'utf8');
    writeFileSync(join(out, 'log.jsonl'), text.replace('"type":"step"', '"type":"st'));
    const r = await runCli('train', '--out', out, '--resume', '--quiet');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/log\.jsonl:2: invalid JSON/);
  });

  it('--checkpoint-every and --log-every are saved with the run and kept on --resume', async () => {
    const out = join(dir, 'schedule');
    const r1 = await runCli(
      'train',
      '--method',
      'full',
      '--epochs',
      '2',
      ...TINY,
      '--checkpoint-every',
      '3',
      '--log-every',
      '1',
      '--max-steps',
      '2',
      '--out',
      out,
    );
    expect(r1.code, r1.stderr).toBe(0);
    const r2 = await runCli('train', '--out', out, '--resume', '--quiet', '--max-steps', '6');
    expect(r2.code, r2.stderr).toBe(0);
    expect(loadCheckpoint(join(out, 'checkpoint.safetensors')).sections.schedule).toEqual({ checkpointEvery: 3, logEvery: 1, evalBatch: 500 });
    // Every step is logged after the resume, as before it (the default would log only steps 1, 4 and the epoch ends).
    const steps = readJsonl<{ type: string; step: number }>(join(out, 'log.jsonl'))
      .filter((l) => l.type === 'step')
      .map((l) => l.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a folder locked by a live process is refused; two runs never write one folder', async () => {
    const out = join(dir, 'locked');
    mkdirSync(out);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(join(out, LOCK_FILE), `${other.pid}\n`);
      const r = await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--out', out);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`is in use by another tuckergrad process (pid ${other.pid}`);
      expect(readFileSync(join(out, LOCK_FILE), 'utf8')).toBe(`${other.pid}\n`);
    } finally {
      other.kill();
    }
  });

  it('a lock file that is not a small regular file (a FIFO) is taken over as unreadable instead of blocking', { timeout: 60_000 }, async () => {
    const out = join(dir, 'fifo-lock');
    mkdirSync(out);
    execFileSync('mkfifo', [join(out, LOCK_FILE)]);
    const r = await runCli('train', '--method', 'full', '--epochs', '1', ...TINY, '--max-steps', '1', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`notice: taking over the stale lock ${join(out, LOCK_FILE)} (unreadable)`);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  });

  it('a stale lock and stale temp files of a dead process are removed with a notice', async () => {
    const out = join(dir, 'stale');
    mkdirSync(out);
    const dead = 999_999_999; // above any pid_max: no such process
    writeFileSync(join(out, LOCK_FILE), `${dead}\n`);
    for (const f of [`.ranks.svg.${dead}.0a1b2c.tmp`, `.metrics.md.${dead}.ffff.tmp`]) writeFileSync(join(out, f), 'partial');
    const r = await runCli(
      'train',
      '--method',
      'full',
      '--epochs',
      '1',
      '--train-size',
      '128',
      '--test-size',
      '32',
      '--batch',
      '32',
      '--max-steps',
      '1',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`notice: taking over the stale lock ${join(out, LOCK_FILE)} (pid ${dead} is not running)`);
    expect(r.stderr).toMatch(/notice: removed 2 temp file\(s\) a stopped process left/);
    expect(snapshot(out)).not.toHaveProperty(`.ranks.svg.${dead}.0a1b2c.tmp`);
    expect(Object.keys(snapshot(out)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('method flags (defect 7)', () => {
  const usage: [string, string[], RegExp][] = [
    [
      '--tau with --method full',
      ['--method', 'full', '--tau', '0.1'],
      /--tau does not apply to --method full, which would ignore it \(it applies to dlrt-matrix, tdlrt\)/,
    ],
    [
      'a misspelt --opt key',
      ['--method', 'trp', '--opt', 'trpEnergyy=0.9'],
      /--opt trpEnergyy: no training method has an option 'trpEnergyy' \(did you mean 'trpEnergy'\?\)/,
    ],
    ['an --opt key of another method', ['--method', 'tdlrt', '--opt', 'lraInterval=5'], /--opt lraInterval does not apply to --method tdlrt/],
    ['--momentum 50', ['--momentum', '50'], /--momentum must be < 1, got 50/],
    ['--tau 1', ['--tau', '1'], /--tau must be < 1, got 1/],
    ['an unknown --integrator', ['--integrator', 'euler'], /--integrator must be one of bug, parallel; got 'euler'/],
    ['--integrator with --method full', ['--method', 'full', '--integrator', 'bug'], /--integrator does not apply to --method full/],
  ];
  it.each(usage)('%s: exit 2 at parsing, nothing written', async (_, argv, message) => {
    const out = join(dir, 'never');
    const r = await runCli('train', ...argv, '--out', out);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  // compress's fine-tuning flags without --finetune-epochs, and its data flags under --no-eval, were ignored with exit 0.
  const ignoredByCompress: [string, string[], RegExp][] = [
    [
      '--lr without --finetune-epochs',
      ['--lr', '0.5'],
      /--lr applies to the fine-tuning, which runs only with --finetune-epochs N > 0; without it compress would ignore it/,
    ],
    ['--seed without --finetune-epochs', ['--seed', '3'], /--seed applies to the fine-tuning/],
    [
      '--train-size under --no-eval',
      ['--no-eval', '--train-size', '100'],
      /--train-size applies to the evaluation, which --no-eval turns off; compress would ignore it/,
    ],
    ['--eval-batch under --no-eval', ['--no-eval', '--eval-batch', '50'], /--eval-batch applies to the evaluation/],
  ];
  it.each(ignoredByCompress)('compress with %s: exit 2 at parsing, nothing written', async (_, argv, message) => {
    const out = join(dir, 'never-compressed');
    const r = await runCli('compress', join(run, 'model.safetensors'), '--tol', '0.3', ...argv, '-q', '--out', out);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('--integrator bug reaches the method and is saved with the run; --resume refuses another', async () => {
    const out = join(dir, 'integrator');
    const r = await runCli('train', '--method', 'tdlrt', '--integrator', 'bug', '--max-rank', '4', '--epochs', '1', ...TINY, '--max-steps', '1', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const ckpt = loadCheckpoint(join(out, 'checkpoint.safetensors'));
    expect((ckpt.sections.run as { methodOptions: Record<string, unknown> }).methodOptions.integrator).toBe('bug');
    expect(ckpt.method?.options.integrator).toBe('bug');
    const r2 = await runCli('train', '--out', out, '--resume', '--integrator', 'parallel');
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('--integrator "parallel" (the checkpoint has "bug")');
  });
});
