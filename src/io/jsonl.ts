/** JSON Lines logs: one JSON value per line, appended as training runs, read back for reports. */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir } from './files.js';

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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
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
      const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
      throw new Error(`readJsonl: ${path}:${i + 1}: invalid JSON (${err instanceof Error ? err.message : String(err)}): ${shown}`, { cause: err });
    }
  }
  return out;
}
