// Mutation testing of the numerical core (issue #18): `npm run mutants`. Not part of CI (too slow
// for 2 cores); results and survivors go to bench/results/mutation.md.
//
// MUTANTS picks the scopes (comma-separated; default: all): tucker, qr, svd, integrator. Each scope
// mutates its files and runs only the tests that guard them (see stryker.vitest.config.ts, which
// reads the same variable). MUTATION_RUNS caps every fast-check property's numRuns (default 5).
// MUTATE=path[,path] narrows the mutated files within those scopes; MUTATION_TESTS=file[,file]
// replaces the scopes' tests (see stryker.vitest.config.ts: a fast first pass on a file's direct
// tests, then the scope's tests on the survivors through the incremental report).
// Incremental (MUTATION_INCREMENTAL=0 turns it off): reruns only mutants whose code or tests changed
// since reports/stryker-incremental.json.
const SCOPES = {
  tucker: ['src/tucker/**/*.ts'],
  qr: ['src/linalg/qr*.ts'],
  svd: ['src/linalg/svd*.ts'],
  integrator: [
    'src/lowrank/integrator.ts',
    'src/lowrank/layer-point.ts',
    'src/lowrank/kstep.ts',
    'src/lowrank/augment.ts',
    'src/lowrank/truncate-core.ts',
    'src/lowrank/layer-update.ts',
    'src/lowrank/layer-lanes.ts',
  ],
};
const picked = (process.env.MUTANTS ?? Object.keys(SCOPES).join(',')).split(',').map((s) => s.trim());
for (const s of picked)
  if (!(s in SCOPES)) throw new Error(`stryker.config.mjs: MUTANTS names an unknown scope '${s}' (known: ${Object.keys(SCOPES).join(', ')})`);

export default {
  testRunner: 'vitest',
  vitest: { configFile: 'stryker.vitest.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  // MUTATE narrows the mutated files to a comma-separated list (one file per run keeps a run short);
  // the tests run are still those of the MUTANTS scopes.
  mutate: process.env.MUTATE ? process.env.MUTATE.split(',').map((f) => f.trim()) : picked.flatMap((s) => SCOPES[s]),
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants) would rerun every test; they are reported, not run.
  ignoreStatic: true,
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1),
  incremental: process.env.MUTATION_INCREMENTAL !== '0',
  incrementalFile: 'reports/stryker-incremental.json',
  timeoutFactor: 3,
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: process.env.MUTATION_REPORT ?? 'reports/mutation/mutation.json' },
  // Two runs side by side need their own sandboxes (cleanTempDir removes the whole folder).
  tempDirName: process.env.MUTATION_TMP ?? '.stryker-tmp',
  cleanTempDir: true,
};
