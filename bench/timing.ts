/**
 * The timing rules of the benches: the best of several runs after warm-up where one configuration
 * is timed alone (on a shared machine the best run is the least disturbed figure), and the median
 * of interleaved rounds where configurations are compared round by round. Never a mean.
 */
import { realpathSync } from 'node:fs';
export interface BestOptions {
  /** Timed runs (at least 2 are kept once past the budget). */
  reps?: number;
  /** Untimed runs first (JIT, kernel compilation, caches). */
  warm?: number;
  /** Keep warming up until this many ms have passed too (lets the JIT optimise short kernels). */
  minWarmMs?: number;
  /** Stop timing once this many ms have passed (after at least 3 runs, or 2 with budget hit). */
  budgetMs?: number;
}

export function bestMs(run: () => void, options: BestOptions = {}): number {
  const { reps = 8, warm = 2, minWarmMs = 0, budgetMs = 4000 } = options;
  const w0 = performance.now();
  for (let i = 0; i < warm || (minWarmMs > 0 && performance.now() - w0 < minWarmMs); i++) run();
  let best = Infinity;
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    run();
    best = Math.min(best, performance.now() - t);
    if (r >= 2 && performance.now() - t0 > budgetMs) break;
  }
  return best;
}

/**
 * The middle value of interleaved rounds (the upper middle for an even count): the rule of the
 * benches that compare several configurations round by round, so that a change of machine load
 * falls on every configuration alike.
 */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

/** median() of each key's rounds. */
export function medians(rounds: Record<string, readonly number[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, median(v)]));
}

/**
 * The BLAS/LAPACK library that Debian's alternatives give PyTorch (python3-torch links the generic
 * libblas.so.3): the reference BLAS unless libopenblas0-* is installed, and the two differ by
 * several times on GEMM-bound work, so every PyTorch figure names it.
 */
export function systemBlas(): string {
  const names = ['/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3'];
  for (const name of names) {
    try {
      return realpathSync(name);
    } catch {
      // not this architecture
    }
  }
  return 'unknown (no libblas.so.3 found)';
}
