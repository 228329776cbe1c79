/**
 * The run logs of the long benches (methods.runs.jsonl, scale.runs.jsonl) hold hours of finished
 * runs. Starting a bench over must not drop them unasked: without --resume or --force an existing
 * log with runs in it stops the bench before anything runs or is written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../src/io/files.js';

/** Runs in the log at `path` (0 when there is none). */
export function loggedRuns(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

/**
 * Makes `path` ready for a bench that does not resume: an empty log is (re)started, one with runs
 * only with force. `who` names the bench in the error.
 */
export function startRunLog(path: string, force: boolean, who: string): void {
  const runs = loggedRuns(path);
  if (runs > 0 && !force)
    throw new Error(
      `${who}: ${path} holds ${runs} finished run(s); pass --resume to continue them, --force to start over (they are dropped), or --out DIR to write elsewhere`,
    );
  if (existsSync(path)) writeFileAtomic(path, '');
}
