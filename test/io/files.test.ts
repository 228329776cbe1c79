import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir, MAX_READ_BYTES, readRegularFile, writeFileAtomic } from '../../src/io/files.js';

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

describe('readRegularFile', () => {
  it('reads a regular file whole, and refuses one above maxBytes', () => {
    const path = join(dir, 'f.bin');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    expect([...readRegularFile(path)]).toEqual([1, 2, 3]);
    expect(() => readRegularFile(path, 2, 'thing')).toThrow(`thing ${path} is 3 bytes, more than the 2 allowed`);
  });

  // Issue #19, defect 5: a file past 2 GiB (a sparse one costs nothing on disk) failed with Node's
  // internal 'The value of "length" is out of range'; now it is refused by its size, before any read.
  it('refuses a file larger than MAX_READ_BYTES by its size, with a clear message', () => {
    const path = join(dir, 'sparse.bin');
    writeFileSync(path, Buffer.from([0x1f, 0x8b]));
    truncateSync(path, MAX_READ_BYTES + 1);
    expect(() => readRegularFile(path, undefined, 'checkpoint')).toThrow(
      `checkpoint ${path} is ${MAX_READ_BYTES + 1} bytes, more than the ${MAX_READ_BYTES} allowed`,
    );
    expect(() => readRegularFile(path, MAX_READ_BYTES + 1)).toThrow(`readRegularFile: maxBytes must be in [0, ${MAX_READ_BYTES}], got ${MAX_READ_BYTES + 1}`);
  });

  it('refuses a FIFO and a directory instead of blocking on them', { timeout: 10_000 }, () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => readRegularFile(fifo, undefined, 'log')).toThrow(`log ${fifo} is not a regular file (it is a FIFO)`);
    expect(() => readRegularFile(dir)).toThrow(`file ${dir} is not a regular file (it is a directory)`);
  });
});
