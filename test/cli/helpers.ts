/** Runs the CLI in-process with captured output, and small helpers for output folders. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(...argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

export function tempDir(prefix = 'tuckergrad-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every file under dir (recursively) with its SHA-256, size and mtime: equal snapshots mean nothing changed. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${prefix}${f}/`);
      else out[`${prefix}${f}`] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${st.size} ${st.mtimeMs}`;
    }
  };
  walk(dir, '');
  return out;
}

/** The tiny run every CLI test uses: LeNet-5 on embedded MNIST digits. */
export const TINY = ['--train-size', '128', '--test-size', '32', '--batch', '32', '--quiet'];
