// fast-check with every property's numRuns capped at MUTATION_RUNS (default 5): a mutation run
// reruns the tests once per mutant, so it trades depth per property for breadth over mutants.
// Only stryker.vitest.config.ts aliases 'fast-check' to this file; CI runs the full counts.
// @ts-expect-error: 'fast-check-original' is an alias of stryker.vitest.config.ts for the real package.
import * as real from 'fast-check-original';

const cap = Number(process.env.MUTATION_RUNS ?? 5);
type AssertParams = { numRuns?: number } & Record<string, unknown>;
const assert = (property: unknown, params?: AssertParams) =>
  (real.assert as (p: unknown, q?: AssertParams) => unknown)(property, { ...params, numRuns: Math.min(params?.numRuns ?? 100, cap) });

export default { ...real.default, assert };
