/**
 * vitest globalSetup: says once, loudly, which Debian packages are missing and which tests run their
 * without-package checks because of it; under CI=true (or TUCKERGRAD_REQUIRE_SYSTEM=1) a missing
 * package fails the run before any test starts.
 */
import { SYSTEM_PACKAGES, missingPackages, systemRequired } from './system.js';

export function setup(): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const debs = missing.map((k) => SYSTEM_PACKAGES[k].debian).join(' ');
  const lines = [
    `Missing Debian packages: ${debs}`,
    ...missing.map((k) => `  ${SYSTEM_PACKAGES[k].debian}: ${SYSTEM_PACKAGES[k].usedBy}`),
    `Install them with \`npm run setup\` (or: sudo apt-get install -y ${debs}).`,
  ];
  if (systemRequired()) throw new Error(`${lines.join('\n')}\nCI requires them.`);
  const bar = '='.repeat(100);
  process.stderr.write(`\n${bar}\n${lines.join('\n')}\nUntil then the tests that need them run only their without-package checks.\n${bar}\n\n`);
}
