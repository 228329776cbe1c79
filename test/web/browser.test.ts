import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { launchChromium } from './browser.js';

describe('the browser the page test drives', () => {
  it('without Chromium, says which Debian package to install (never a bare launch failure)', async () => {
    const missing = join(tmpdir(), 'no-such-chromium');
    await expect(launchChromium(missing)).rejects.toThrow(
      `the web e2e test needs Chromium at ${missing} and it is not there: install Debian's package with 'apt-get install -y chromium'`,
    );
  });
});
