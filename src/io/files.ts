/**
 * Crash-safe file writes: a reader sees either the old file or the whole new one, never a prefix.
 * The data goes to a temporary file in the target's directory, is fsynced, then renamed over the
 * target (rename is atomic within one file system). On any error the temporary file is removed.
 */
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** What writeFileAtomic accepts: text (written as UTF-8), bytes, or a sequence of chunks. */
export type FileData = string | Uint8Array | Iterable<string | Uint8Array>;

/** Creates `dir` and its parents if missing (no error if it exists). Returns `dir`. */
export function ensureDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`ensureDir: could not create directory ${dir}: ${messageOf(err)}`, { cause: err });
  }
  return dir;
}

/**
 * Writes `data` to `path` atomically. The parent directory must exist (see ensureDir).
 * An iterable of chunks is written chunk by chunk (no concatenation); if iterating it throws,
 * the target keeps its previous content.
 */
export function writeFileAtomic(path: string, data: FileData): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(temp, 'wx');
    created = true;
    for (const chunk of chunksOf(data)) writeAll(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
    created = false;
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing: keep the first error */
      }
    }
    if (created) removeQuietly(temp);
    throw new Error(`writeFileAtomic: could not write ${path}: ${messageOf(err)}`, { cause: err });
  }
  syncDirectory(dirname(path));
}

function* chunksOf(data: FileData): Iterable<Uint8Array> {
  if (typeof data === 'string') {
    yield Buffer.from(data, 'utf8');
  } else if (data instanceof Uint8Array) {
    yield data;
  } else {
    for (const chunk of data) {
      if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
      else if (chunk instanceof Uint8Array) yield chunk;
      else throw new Error(`data chunks must be strings or Uint8Arrays, got ${typeof chunk}`);
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* best effort: the temp file may not exist */
  }
}

/** Persists the rename itself; best effort, as some platforms cannot fsync a directory. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported here (e.g. Windows): the rename is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The most readRegularFile reads: 2 GiB − 1, the largest length one read call takes. Far above any
 * file this library reads (a CIFAR-10 batch is 30 MB, MNIST's training images 47 MB, a training
 * checkpoint of the zoo's largest model, LeNet-5 in float64, about 12 MB), and it keeps a large
 * (or sparse) file from costing gigabytes of memory before its contents are checked; above it
 * Node's read call fails with an internal range error.
 */
export const MAX_READ_BYTES = 2 ** 31 - 1;

/**
 * Reads a whole regular file, refusing anything else (a FIFO would block forever, a device would
 * never end) and any file larger than `maxBytes` (at most MAX_READ_BYTES). The file is opened
 * non-blocking and checked with fstat on the open descriptor, so a FIFO put in place of the file
 * cannot block either.
 */
export function readRegularFile(path: string, maxBytes = MAX_READ_BYTES, what = 'file'): Buffer {
  if (typeof path !== 'string' || path === '') throw new Error(`readRegularFile: path must be a non-empty string, got ${JSON.stringify(path)}`);
  if (!(maxBytes >= 0 && maxBytes <= MAX_READ_BYTES)) throw new Error(`readRegularFile: maxBytes must be in [0, ${MAX_READ_BYTES}], got ${maxBytes}`);
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw Object.assign(new Error(`${what} ${path} is not a regular file (it is ${kindOf(st)})`), {
        code: st.isDirectory() ? 'EISDIR' : 'ENOTREG',
        kind: kindOf(st),
      });
    if (st.size > maxBytes) throw new Error(`${what} ${path} is ${st.size} bytes, more than the ${maxBytes} allowed`);
    const out = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < out.length) {
      const n = readSync(fd, out, done, out.length - done, done);
      if (n === 0) throw new Error(`${what} ${path} shrank while being read (${done} of ${st.size} bytes)`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a plain file';
}
