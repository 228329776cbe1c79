/**
 * Runs an exported function of a test module in a fresh worker thread: a fresh instance of every
 * module it imports, so linalg's wasm memory starts at its initial size there (in the test's own
 * thread it has grown to whatever the earlier tests needed, and never shrinks). The module is
 * loaded through tsx, the function's arguments and result are structured-cloned.
 *
 * A mutation run (StrykerJS, `npm run mutants`) names the mutant it tests in
 * globalThis.__stryker__.activeMutant; the worker gets the same name, so that it runs the same
 * mutated code as the test's thread.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.activeMutant !== undefined) globalThis.__stryker__ = { activeMutant: workerData.activeMutant };
  const { tsImport } = await import(workerData.tsx);
  const mod = await tsImport(workerData.module, workerData.module);
  parentPort.postMessage(await mod[workerData.name](...workerData.args));
})().catch((e) => parentPort.postMessage({ workerError: String(e && e.stack ? e.stack : e) }));
`;

export function inFreshWorker<T>(module: URL, name: string, ...args: unknown[]): Promise<T> {
  // tsx's ESM entry (require.resolve picks its CommonJS twin, beside it).
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const activeMutant = (globalThis as { __stryker__?: { activeMutant?: unknown } }).__stryker__?.activeMutant;
  const worker = new Worker(WORKER, { eval: true, workerData: { tsx, module: module.href, name, args, activeMutant } });
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: unknown) => {
      void worker.terminate();
      const err = (m as { workerError?: string } | null)?.workerError;
      if (err) reject(new Error(`inFreshWorker(${name}): ${err}`));
      else resolve(m as T);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`inFreshWorker(${name}): the worker exited with code ${code} before answering`)));
  });
}
