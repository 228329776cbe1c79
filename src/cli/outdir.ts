/**
 * Output folders that never lose what a user has: a command refuses an --out holding files it would
 * write (unless told --force or --resume), a lock file keeps two processes from writing one folder,
 * and temp files that a killed process left are removed on the next start.
 */
import { existsSync, linkSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ensureDir, readRegularFile } from '../io/files.js';
import { CliError, type CliIO } from './common.js';

export const LOCK_FILE = '.tuckergrad.lock';

/** The files of `names` that exist in `dir`. */
export function existingFiles(dir: string, names: readonly string[]): string[] {
  return names.filter((f) => existsSync(join(dir, f)));
}

/** Throws unless none of `names` exists in `dir`; `how` says what lets the command replace them. */
export function refuseExisting(dir: string, names: readonly string[], how: string): void {
  const found = existingFiles(dir, names);
  if (found.length > 0) throw new CliError(`${dir} already holds ${found.join(', ')}, which this command would overwrite; ${how}`);
}

/** The real path of an existing path, or the absolute path of one that does not exist yet. */
function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** Whether two paths name the same folder (symlinks and relative paths resolved). */
export function sameFolder(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

/**
 * The folders that hold a file: the one its path names and, when the path is a symlink (or passes
 * through one), the folder of the file it resolves to. Writing into either may replace the file
 * itself, or files that belong with it.
 */
export function foldersOf(file: string): string[] {
  return [dirname(file), dirname(canonical(file))];
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid text of a lock file: at most 64 bytes of a regular file. */
function lockText(path: string): string {
  return readRegularFile(path, 64, 'lock file').toString('utf8').trim();
}

/** Text of a lock file, or '' when it cannot be read (gone meanwhile, or not a small regular file). */
function lockTextOrEmpty(path: string): string {
  try {
    // A lock is a few digits; one that is not a small regular file (a FIFO would block) is unreadable.
    return lockText(path);
  } catch {
    return '';
  }
}

/**
 * Removes the lock at `path` only if it still holds `staleText`, the content judged stale; true when
 * it did (or the lock was already gone). The lock is first renamed to a name of this process's own,
 * which is atomic, so two processes that both judged the same lock stale cannot both remove it: the
 * second renames either nothing or the lock the first has just created, whose content differs, and
 * then links it back (link never replaces a file) and leaves it.
 */
export function removeStaleLock(path: string, staleText: string): boolean {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  const text = lockTextOrEmpty(aside);
  if (text !== staleText) {
    try {
      linkSync(aside, path);
    } catch {
      /* a third process locked meanwhile: its lock stands, and the one set aside is lost */
    }
    rmSync(aside, { force: true });
    return false;
  }
  rmSync(aside, { force: true });
  return true;
}

/**
 * Takes the folder's lock file, holding this pid. The file appears whole: the pid is written to a
 * file of this process's own and linked to the lock's name, which fails if the lock exists (the
 * O_EXCL of link), so no process ever reads a lock that is still empty. A lock held by a live
 * process is an error; one left by a dead process is taken over (removeStaleLock), with a notice
 * on stderr. Returns the release function (idempotent).
 */
export function lockFolder(dir: string, io: CliIO): () => void {
  ensureDir(dir);
  const path = join(dir, LOCK_FILE);
  const mine = `${path}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CliError(`cannot lock ${dir}: ${(err as Error).message}`);
        const text = lockTextOrEmpty(path);
        const pid = /^\d+$/.test(text) ? Number(text) : Number.NaN;
        if (alive(pid))
          throw new CliError(`${dir} is in use by another tuckergrad process (pid ${pid}, lock file ${path}); wait for it to finish or choose another --out`);
        if (removeStaleLock(path, text))
          io.stderr.write(`notice: taking over the stale lock ${path} (${Number.isNaN(pid) ? 'unreadable' : `pid ${pid} is not running`})\n`);
        continue;
      }
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        try {
          if (lockText(path) === String(process.pid)) rmSync(path, { force: true });
        } catch {
          /* already gone */
        }
      };
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new CliError(`cannot lock ${dir}: another process keeps re-creating ${path}`);
}

/**
 * Temp files of atomic writes (.<file>.<pid>.<hex>.tmp) that a process that is no longer running
 * left in `dir`: any file name, so plots and reports are cleaned as well as checkpoints; and the
 * lock's own (.tuckergrad.lock.<pid>, .tuckergrad.lock.stale.<pid>, see lockFolder).
 * Returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(f) ?? /^\.tuckergrad\.lock\.(?:stale\.)?(\d+)$/.exec(f);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(join(dir, f), { force: true });
    removed.push(f);
  }
  return removed;
}
