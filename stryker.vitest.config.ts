import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The tests Stryker runs for each scope of stryker.config.mjs (MUTANTS), with fast-check's numRuns
// capped through stryker.fast-check.ts (MUTATION_RUNS).
const TESTS: Record<string, string[]> = {
  tucker: ['test/tucker/**/*.test.ts'],
  qr: ['test/linalg/qr*.test.ts', 'test/linalg/svd.test.ts'],
  // syrk.test.ts holds svd-gram.ts's Gram routes (gramRows, gramCols, gramRowsGemm); truncation-rank-range
  // holds svd.ts's truncationRank over the whole float64 range.
  svd: ['test/linalg/svd*.test.ts', 'test/linalg/syrk.test.ts', 'test/linalg/truncation-rank-range.test.ts'],
  integrator: [
    'test/lowrank/integrator*.test.ts',
    'test/lowrank/tdlrt-method.test.ts',
    'test/lowrank/truncate-core.test.ts',
    'test/lowrank/layer-point.test.ts',
    'test/lowrank/kstep.test.ts',
    'test/lowrank/new-directions.test.ts',
    'test/lowrank/truncate-blocks.test.ts',
    'test/lowrank/truncation-routes.test.ts',
    'test/lowrank/augment.test.ts',
    'test/lowrank/layer-lanes.test.ts',
    'test/lowrank/step-times.test.ts',
  ],
};
const picked = (process.env.MUTANTS ?? Object.keys(TESTS).join(',')).split(',').map((s) => s.trim());
// MUTATION_TESTS replaces the scopes' tests by a comma-separated list of files or globs. With the
// incremental report this runs in two passes: first the fast unit tests alone (most mutants die
// there, a few seconds each), then the scope's tests again, which reruns only the survivors
// (Stryker reruns a survivor when new tests cover it, and keeps a kill while its test is unchanged).
const only = process.env.MUTATION_TESTS?.split(',').map((s) => s.trim());

export default defineConfig({
  resolve: {
    alias: [
      { find: /^fast-check$/, replacement: fileURLToPath(new URL('./stryker.fast-check.ts', import.meta.url)) },
      { find: /^fast-check-original$/, replacement: fileURLToPath(import.meta.resolve('fast-check')) },
    ],
  },
  test: {
    include: only ?? [...new Set(picked.flatMap((s) => TESTS[s] ?? []))],
    testTimeout: 120_000,
    pool: 'forks',
  },
});
