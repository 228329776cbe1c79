/**
 * End-to-end: the in-browser training page in headless Chromium. Builds the page, serves it on
 * 127.0.0.1, sets the controls, trains TDLRT for a fixed number of steps in the page's worker, and
 * checks what the page shows: the backend in use, accuracy above chance, ranks that changed, a
 * responsive main thread, pause, and a downloadable safetensors checkpoint. Saves a screenshot to
 * artifacts/web/screenshot.png (and to examples/web/screenshot.png with TUCKERGRAD_UPDATE_SCREENSHOT=1).
 */
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src/io/safetensors-codec.js';
import { buildWeb } from '../../scripts/web-build.js';
import { serveStatic } from '../../scripts/web-serve.js';
import { hasSystemPackage } from '../setup/system.js';
import { launchChromium } from './browser.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'artifacts/web');
const STEPS = 40;
const WARMUP = 10;

let server: Server | null = null;
let browser: Browser | null = null;
let url = '';

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const built = await buildWeb({ outDir: join(ARTIFACTS, 'site') });
  ({ server, url } = await serveStatic(built.outDir, 0));
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent())?.trim() ?? '';
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** Stops the trace started with category 'toplevel': the longest task of the renderer main thread, in thread time and wall time. */
async function mainThreadBusy(b: Browser): Promise<{ maxThreadMs: number; maxWallMs: number; tasks: number }> {
  const { traceEvents } = JSON.parse((await b.stopTracing()).toString('utf8')) as { traceEvents: TraceEvent[] };
  const mains = new Set(
    traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`),
  );
  const tasks = traceEvents.filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && mains.has(`${e.pid}:${e.tid}`));
  // Thread time where the platform records it, else wall time (stricter).
  const maxThreadMs = Math.max(0, ...tasks.map((e) => (e.tdur ?? e.dur ?? 0) / 1000));
  const maxWallMs = Math.max(0, ...tasks.map((e) => (e.dur ?? 0) / 1000));
  return { maxThreadMs, maxWallMs, tasks: tasks.length };
}

/** Ranks shown in the layers table, by layer name. */
async function shownRanks(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#layers tbody tr', (rows) =>
    Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset.layer ?? '', r.querySelector('td.ranks')?.textContent?.trim() ?? ''])),
  );
}

// Without Chromium (a developer machine) the run says so up front and browser.test.ts checks the error.
describe.runIf(hasSystemPackage('chromium'))('in-browser training page (headless Chromium)', () => {
  it(`trains TDLRT for ${STEPS} steps: accuracy above chance, ranks pruned, backend reported`, async () => {
    const t0 = performance.now();
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const problems: string[] = [];
    page.on('pageerror', (e) => {
      problems.push(`page error: ${e.message}`);
      console.error(`page error: ${e.stack ?? e.message}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    await page.goto(url);

    // The worker loads the digits, then the page sets up a run and reports the backend it installed.
    // Chromium offers WebGL2 in workers (SwiftShader when headless), so the default is the GPU backend.
    await page.waitForSelector('#backend[data-backend^="gpu"]', { timeout: 60_000 });
    const backendShown = await text(page, '#backend');
    expect(backendShown).toBe('gpu (gpu.js webgl2)');
    const methods = await page.$$eval('#method option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(methods).toEqual(expect.arrayContaining(['full', 'tdlrt']));
    expect(await page.$$eval('#backend-select option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['gpu', 'cpu']);

    // Short run settings through the controls, then reset to apply them.
    await page.selectOption('#method', 'tdlrt');
    for (const [id, v] of [
      ['tau', '0.1'],
      ['lr', '0.02'],
      ['batch', '32'],
      ['warmup', String(WARMUP)],
      ['max-rank', '64'],
      ['eval-every', '10'],
      ['eval-size', '500'],
      ['max-steps', String(STEPS)],
      ['seed', '0'],
    ]) {
      await page.fill(`#${id}`, v);
    }
    await page.click('#reset');
    await page.waitForSelector('#state[data-state="idle"]', { timeout: 30_000 });
    await page.waitForSelector('#accuracy[data-step="0"]', { timeout: 30_000 });
    const ranks0 = await shownRanks(page);
    const acc0 = Number(await page.getAttribute('#accuracy', 'data-value'));
    expect(Object.keys(ranks0)).toEqual(['conv1', 'conv2', 'fc1', 'fc2']);

    // Start, pause part-way (training must stop), resume.
    await browser!.startTracing(page, { categories: ['toplevel'] });
    await page.click('#start');
    await page.waitForSelector('#state[data-state="running"]');
    // The evaluation at the end of the warm-up (tau held at 0: ranks grow up to max rank).
    await page.waitForSelector(`#accuracy[data-step="${WARMUP}"]`, { timeout: 200_000 });
    const ranksWarm = await shownRanks(page);
    await page.click('#pause');
    await page.waitForSelector('#state[data-state="paused"]', { timeout: 10_000 });
    const pausedAt = Number(await page.getAttribute('#step', 'data-step'));
    await page.waitForTimeout(800);
    expect(Number(await page.getAttribute('#step', 'data-step'))).toBe(pausedAt);
    await page.click('#start');
    await page.waitForSelector('#state[data-state="done"]', { timeout: 400_000 });

    // What the page shows at the end.
    expect(Number(await page.getAttribute('#step', 'data-step'))).toBe(STEPS);
    await page.waitForSelector(`#accuracy[data-step="${STEPS}"]`);
    const acc = Number(await page.getAttribute('#accuracy', 'data-value'));
    const ranks = await shownRanks(page);
    const longestTask = Number(await page.getAttribute('#longest-task', 'data-ms'));
    const mainThread = await mainThreadBusy(browser!);
    const compression = Number(await page.getAttribute('#network', 'data-compression'));
    const wrongOrRight = await page.$$eval('#digits figure', (fs) => fs.filter((f) => f.classList.contains('right') || f.classList.contains('wrong')).length);
    console.log(
      `web e2e: backend ${backendShown}, accuracy ${acc0.toFixed(3)} → ${acc.toFixed(3)} after ${STEPS} steps, ranks ${JSON.stringify(ranks0)} → ${JSON.stringify(ranksWarm)} (step ${WARMUP}) → ${JSON.stringify(ranks)}, ` +
        `network compression ${(100 * compression).toFixed(1)}%, main thread while training: longest task ${mainThread.maxThreadMs.toFixed(1)} ms thread time ` +
        `(${mainThread.maxWallMs.toFixed(0)} ms wall; page's long-task figure ${longestTask.toFixed(0)} ms) over ${mainThread.tasks} tasks`,
    );
    expect(acc).toBeGreaterThan(0.3); // chance is 0.1
    expect(acc).toBeGreaterThan(acc0);
    // Ranks grew during the warm-up and tau pruned them afterwards (conv2 may land where it started).
    const size = (r: string) => r.split('×').reduce((a, b) => a * Number(b), 1);
    expect(size(ranksWarm.conv2)).toBeGreaterThan(size(ranks0.conv2));
    expect(size(ranks.conv2)).toBeLessThan(size(ranksWarm.conv2));
    expect(size(ranks.fc1)).toBeLessThan(size(ranksWarm.fc1));
    expect(ranks.fc1).not.toBe(ranks0.fc1);
    expect(ranks.conv1).toBe(ranks0.conv1); // conv1 stays full (docs/design.md §5.3)
    expect(compression).toBeGreaterThan(0.5);
    expect(wrongOrRight).toBe(24);
    // Training runs in the worker, so the page never freezes: no task of the page's main thread
    // keeps it busy for 100 ms. Measured in thread time from a Chromium trace, which, unlike the
    // wall-clock long-task figure the page shows, does not stretch when other processes hold the
    // cores (a 103 ms wall-clock task used 16 ms of thread time at load 8 on 2 cores).
    expect(mainThread.tasks).toBeGreaterThan(100);
    expect(mainThread.maxThreadMs).toBeLessThan(100);
    expect(longestTask).toBeLessThan(1000);
    expect(await page.locator('#spectra svg').count()).toBeGreaterThanOrEqual(3);

    // Download the checkpoint: safetensors of model.stateDict() with the run's metadata.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('#download')]);
    expect(download.suggestedFilename()).toBe(`lenet5-tdlrt-tau0.1-step${STEPS}.safetensors`);
    const ckptPath = join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(ckptPath);
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(ckptPath)));
    expect(metadata.method).toBe('tdlrt');
    expect(metadata.step).toBe(String(STEPS));
    expect(tensors['3.core'].shape.slice(0, 2).join('×')).toBe(ranks.conv2.split('×').slice(0, 2).join('×'));
    expect(Object.keys(tensors)).toEqual(expect.arrayContaining(['0.weight', '3.core', '3.factors.0', '3.factors.1', '7.core', '9.weight']));

    const shot = join(ARTIFACTS, 'screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    if (process.env.TUCKERGRAD_UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(ROOT, 'examples/web/screenshot.png'));

    expect(problems, problems.join('\n')).toEqual([]);
    await page.close();
    console.log(`web e2e: ${((performance.now() - t0) / 1000).toFixed(1)} s in the browser`);
  }, 480_000);
});
