/**
 * The kernel backends the page can train on. The page offers every entry whose `available()` is
 * true; the worker installs the chosen one with setBackend() and reports getBackend().name, which
 * the page shows (so what is reported is what runs, not what was asked for).
 *
 * Today only 'cpu' exists. The gpu.js (WebGL2) backend goes here when src/backend/gpu lands:
 *   { name: 'gpu', label: 'GPU (gpu.js, WebGL2)', available: () => typeof OffscreenCanvas !== 'undefined',
 *     create: async () => new (await import('../../src/backend/gpu/index.js')).GpuBackend() }
 * (training runs in a Web Worker, so WebGL2 has to come from an OffscreenCanvas there).
 */
import type { Backend } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/index.js';

export interface BackendChoice {
  name: string;
  label: string;
  /** Whether this environment can run the backend (checked in the worker). */
  available(): boolean;
  create(): Promise<Backend>;
}

export const BACKEND_CHOICES: readonly BackendChoice[] = [
  { name: 'cpu', label: 'CPU (typed arrays)', available: () => true, create: async () => new CpuBackend() },
];

export const DEFAULT_BACKEND = 'cpu';

export function findBackend(name: string): BackendChoice {
  const b = BACKEND_CHOICES.find((c) => c.name === name);
  if (!b) throw new Error(`backend: unknown backend '${name}'; choose one of ${BACKEND_CHOICES.map((c) => c.name).join(', ')}`);
  return b;
}
