import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/common.js';
import { LOCK_FILE, lockFolder, removeStaleLock, removeStaleTemps } from '../../src/cli/outdir.js';

const dir = mkdtempSync(join(tmpdir(), 'tg-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function quietIO(): CliIO & { err: string } {
  const io = {
    err: '',
    stdout: { write: () => true },
    stderr: {
      write: (s: string) => {
        io.err += s;
        return true;
      },
    },
  };
  return io as unknown as CliIO & { err: string };
}

describe('the run-folder lock', () => {
  it('takes a stale lock over only while it still holds what was judged stale', () => {
    const path = join(dir, 'a.lock');
    writeFileSync(path, '999999999\n');
    // Another process took the lock over first and holds it now: its lock is left as it is.
    writeFileSync(path, '4242\n');
    expect(removeStaleLock(path, '999999999')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('4242\n');
    // Still the stale content: removed.
    expect(removeStaleLock(path, '4242')).toBe(true);
    expect(existsSync(path)).toBe(false);
    // Already gone (the other process removed it first): nothing to do, and the caller retries.
    expect(removeStaleLock(path, '4242')).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('a.lock'))).toEqual([]);
  });

  it('writes the lock whole, leaves no file of its own behind, and releases only its own lock', () => {
    const out = join(dir, 'run');
    const io = quietIO();
    const release = lockFolder(out, io);
    expect(readFileSync(join(out, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    expect(readdirSync(out)).toEqual([LOCK_FILE]);
    // This process holds it: a second lock of the same folder is refused.
    expect(() => lockFolder(out, quietIO())).toThrow(/is in use by another tuckergrad process/);
    release();
    expect(readdirSync(out)).toEqual([]);
    const dead = 999_999_999;
    writeFileSync(join(out, LOCK_FILE), `${dead}\n`);
    const again = lockFolder(out, io);
    expect(io.err).toContain(`pid ${dead} is not running`);
    expect(readFileSync(join(out, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    again();
  });

  it("cleans the lock's own files that a killed process left, not a live one's", () => {
    const out = join(dir, 'left');
    const dead = 999_999_999;
    const io = quietIO();
    lockFolder(out, io)();
    for (const f of [`${LOCK_FILE}.${dead}`, `${LOCK_FILE}.stale.${dead}`, `${LOCK_FILE}.${process.pid}`]) writeFileSync(join(out, f), `${dead}\n`);
    expect(removeStaleTemps(out).sort()).toEqual([`${LOCK_FILE}.${dead}`, `${LOCK_FILE}.stale.${dead}`]);
    expect(readdirSync(out)).toEqual([`${LOCK_FILE}.${process.pid}`]);
  });
});
