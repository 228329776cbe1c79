/**
 * The long benches' run logs hold hours of finished runs: starting a bench without --resume must
 * not drop them unless --force says so (it used to empty them before anything else).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loggedRuns, startRunLog } from '../../bench/run-log.js';

describe('startRunLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-runlog-'));
  it('refuses a log with runs in it, naming the file, the count and the ways out', () => {
    const path = join(dir, 'a.runs.jsonl');
    writeFileSync(path, '{"key":"1"}\n{"key":"2"}\n');
    expect(() => startRunLog(path, false, 'bench/x')).toThrow(
      `bench/x: ${path} holds 2 finished run(s); pass --resume to continue them, --force to start over (they are dropped), or --out DIR to write elsewhere`,
    );
    expect(readFileSync(path, 'utf8')).toBe('{"key":"1"}\n{"key":"2"}\n');
  });
  it('starts over with force, and without it where the log is missing or empty', () => {
    const path = join(dir, 'b.runs.jsonl');
    writeFileSync(path, '{"key":"1"}\n');
    startRunLog(path, true, 'bench/x');
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(loggedRuns(path)).toBe(0);
    writeFileSync(path, '\n\n');
    expect(() => startRunLog(path, false, 'bench/x')).not.toThrow();
    expect(() => startRunLog(join(dir, 'none.jsonl'), false, 'bench/x')).not.toThrow();
    expect(loggedRuns(join(dir, 'none.jsonl'))).toBe(0);
  });
});
