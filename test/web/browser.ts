/**
 * Headless Chromium for the page tests: Debian's chromium package driven by playwright-core (no
 * browser download). A missing browser is an error that says how to install it; the page test runs
 * only where Chromium is installed (required under CI: test/setup/system.ts).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a closed network: without the background-networking ones Chromium keeps dialling out. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches Chromium with a fresh, empty profile (playwright's launch() makes a new temporary user-data-dir). */
export async function launchChromium(path: string = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(path)) {
    throw new Error(
      `the web e2e test needs Chromium at ${path} and it is not there: install Debian's package with ` +
        `'apt-get install -y chromium' (or set CHROMIUM_PATH). playwright-core drives it; no browser is downloaded.`,
    );
  }
  return chromium.launch({ executablePath: path, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}
