import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../../src/io/files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tuckergrad-files-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes text and bytes, replaces old content, leaves no temp file', () => {
    const path = join(dir, 'out.txt');
    writeFileAtomic(path, 'héllo\n');
    expect(readFileSync(path, 'utf8')).toBe('héllo\n');
    writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    writeFileAtomic(path, new Uint8Array(0));
    expect(readFileSync(path).length).toBe(0);
    expect(readdirSync(dir)).toEqual(['out.txt']);
  });

  it('writes a sequence of chunks in order', () => {
    const path = join(dir, 'chunks.bin');
    writeFileAtomic(path, ['ab', new Uint8Array([0x63]), 'd']);
    expect(readFileSync(path, 'utf8')).toBe('abcd');
  });

  it('keeps the old content and removes the temp file when the data throws mid-write', () => {
    const path = join(dir, 'keep.txt');
    writeFileSync(path, 'old content');
    function* failing(): Generator<string> {
      yield 'new content, part one';
      throw new Error('producer failed');
    }
    expect(() => writeFileAtomic(path, failing())).toThrow(new RegExp(`could not write ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: producer failed`));
    expect(readFileSync(path, 'utf8')).toBe('old content');
    expect(readdirSync(dir)).toEqual(['keep.txt']);
  });

  it('rejects a bad chunk without touching the target', () => {
    const path = join(dir, 'bad.txt');
    writeFileSync(path, 'old');
    expect(() => writeFileAtomic(path, [42 as unknown as string])).toThrow(/chunks must be strings or Uint8Arrays/);
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['bad.txt']);
  });

  it('names the path when the directory does not exist, and creates nothing', () => {
    const path = join(dir, 'missing', 'x.txt');
    expect(() => writeFileAtomic(path, 'x')).toThrow(/could not write .*missing.x\.txt: .*ENOENT/);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('cleans up when the final rename fails (target is a directory)', () => {
    const path = join(dir, 'taken');
    mkdirSync(join(path, 'inner'), { recursive: true });
    expect(() => writeFileAtomic(path, 'x')).toThrow(/could not write .*taken/);
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readdirSync(path)).toEqual(['inner']);
  });
});

describe('ensureDir', () => {
  it('creates nested directories and accepts existing ones', () => {
    const nested = join(dir, 'a', 'b', 'c');
    expect(ensureDir(nested)).toBe(nested);
    expect(existsSync(nested)).toBe(true);
    expect(() => ensureDir(nested)).not.toThrow();
  });

  it('names the directory when a file is in the way', () => {
    writeFileSync(join(dir, 'file'), '');
    expect(() => ensureDir(join(dir, 'file', 'sub'))).toThrow(/ensureDir: could not create directory .*file.sub/);
  });
});
