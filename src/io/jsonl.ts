/** JSON Lines logs: one JSON value per line, appended as training runs, read back for reports. */
import { appendFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir, readRegularFile } from './files.js';

export interface JsonlLoggerOptions {
  /** Start from an empty file instead of appending to an existing one. Default false. */
  truncate?: boolean;
}

/** Appends one JSON line per `log` call to `path`, creating its directory. Writes are synchronous. */
export class JsonlLogger {
  readonly path: string;

  constructor(path: string, options: JsonlLoggerOptions = {}) {
    this.path = path;
    ensureDir(dirname(path));
    if (options.truncate) writeFileSync(path, '');
  }

  /** Appends `record` as one line. NaN and ±Infinity become null, as JSON.stringify writes them. */
  log(record: unknown): void {
    let line: string | undefined;
    try {
      line = JSON.stringify(record);
    } catch (err) {
      throw new Error(`JsonlLogger(${this.path}).log: record is not serialisable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (line === undefined) throw new Error(`JsonlLogger(${this.path}).log: record must be a JSON value, got ${typeof record}`);
    appendFileSync(this.path, line + '\n');
  }
}

/** Reads every non-blank line of a JSONL file; a bad line throws with the file and line number. */
export function readJsonl<T = unknown>(path: string): T[] {
  return parseJsonl<T>(path, false).records;
}

/**
 * readJsonl, except that an unparsable last line that does not end in a newline (an append a
 * stopped process left half-written) is dropped and returned as `torn`. A bad line elsewhere, or a
 * complete bad last line, still throws: that is damage, not an interrupted append.
 */
export function readJsonlTolerant<T = unknown>(path: string): { records: T[]; torn: string | null } {
  return parseJsonl<T>(path, true);
}

function parseJsonl<T>(path: string, tolerateTornTail: boolean): { records: T[]; torn: string | null } {
  let text: string;
  try {
    // A log replaced by a FIFO or a link to a device would block the reader or never end.
    text = readRegularFile(path, undefined, 'log').toString('utf8');
  } catch (err) {
    throw new Error(`readJsonl: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch (err) {
      // The last element of split('\n') is the text after the final newline: an unfinished line.
      if (tolerateTornTail && i === lines.length - 1) return { records: out, torn: lines[i] };
      const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
      throw new Error(`readJsonl: ${path}:${i + 1}: invalid JSON (${err instanceof Error ? err.message : String(err)}): ${shown}`, { cause: err });
    }
  }
  return { records: out, torn: null };
}
