/**
 * The kernel backends the page can train on. The page offers every entry whose `available()` is
 * true; the worker installs the chosen one with setBackend() and reports getBackend().name, which
 * the page shows (so what is reported is what runs, not what was asked for).
 *
 * 'gpu' is the gpu.js backend on WebGL2. Training runs in a Web Worker, so its WebGL2 context comes
 * from an OffscreenCanvas there; where the browser has none, the page trains on the CPU.
 */
import type { Backend } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu/index.js';
import { getBackend, initBackend } from '../../src/backend/index.js';

function hasWebGL2(): boolean {
  try {
    return typeof OffscreenCanvas !== 'undefined' && new OffscreenCanvas(1, 1).getContext('webgl2') !== null;
  } catch {
    return false;
  }
}

export interface BackendChoice {
  name: string;
  label: string;
  /** Whether this environment can run the backend (checked in the worker). */
  available(): boolean;
  create(): Promise<Backend>;
}

/** In order of preference: the page selects the first available one (the GPU where WebGL2 works). */
export const BACKEND_CHOICES: readonly BackendChoice[] = [
  {
    name: 'gpu',
    label: 'GPU (gpu.js, WebGL2)',
    available: hasWebGL2,
    create: async () => {
      await initBackend('gpu');
      return getBackend();
    },
  },
  { name: 'cpu', label: 'CPU (typed arrays)', available: () => true, create: async () => new CpuBackend() },
];

export function findBackend(name: string): BackendChoice {
  const b = BACKEND_CHOICES.find((c) => c.name === name);
  if (!b) throw new Error(`backend: unknown backend '${name}'; choose one of ${BACKEND_CHOICES.map((c) => c.name).join(', ')}`);
  return b;
}
