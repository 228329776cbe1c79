/**
 * The Debian packages some tests need beyond Node, in one place (docs/design.md §7.4). On a developer
 * machine without one, the tests that need it run their without-package checks instead (the error
 * that names the package) and the run says so loudly (system-notice.ts); under CI=true, or with
 * TUCKERGRAD_REQUIRE_SYSTEM=1, a missing package fails the run. `npm run setup` installs them.
 */
import { existsSync } from 'node:fs';

export interface SystemPackage {
  /** The Debian package that provides it. */
  debian: string;
  /** What needs it. */
  usedBy: string;
  present(): boolean;
}

export const SYSTEM_PACKAGES = {
  chromium: {
    debian: 'chromium',
    usedBy: 'test/web/page.e2e.test.ts (the browser page, driven by playwright-core)',
    present: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
  },
  fashionMnist: {
    debian: 'dataset-fashion-mnist',
    usedBy: 'test/data/fashion-mnist.test.ts and test/lowrank/methods/bench.test.ts (the real IDX files)',
    present: () => existsSync('/usr/share/datasets/fashion-mnist'),
  },
} as const satisfies Record<string, SystemPackage>;

export type SystemPackageName = keyof typeof SYSTEM_PACKAGES;

/** Whether missing packages are errors here (CI), not notices. */
export function systemRequired(): boolean {
  return process.env.CI === 'true' || process.env.TUCKERGRAD_REQUIRE_SYSTEM === '1';
}

/** The packages missing on this machine. */
export function missingPackages(): SystemPackageName[] {
  return (Object.keys(SYSTEM_PACKAGES) as SystemPackageName[]).filter((k) => !SYSTEM_PACKAGES[k].present());
}

/**
 * Whether the tests that need `name` can run here. Missing under CI it throws (the test file fails
 * with the install command); missing elsewhere it returns false, and the notice lists it.
 */
export function hasSystemPackage(name: SystemPackageName): boolean {
  const p = SYSTEM_PACKAGES[name];
  if (p.present()) return true;
  if (systemRequired()) {
    throw new Error(
      `${p.usedBy} needs the Debian package ${p.debian}, which is missing (CI requires it): sudo apt-get install -y ${p.debian}, or npm run setup`,
    );
  }
  return false;
}
