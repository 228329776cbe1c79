/** Peak memory of this test process, for the bounds the integrity and fuzz tests state. */
import { readFileSync } from 'node:fs';

/**
 * The process's peak resident set size in bytes (VmHWM of /proc/self/status, Linux). Elsewhere the
 * current RSS, which only makes a bound checked with it weaker, never wrong.
 */
export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return process.memoryUsage.rss();
}
