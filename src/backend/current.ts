import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/index.js';

let current: Backend = new CpuBackend();

/** The backend every kernel runs on. */
export function getBackend(): Backend {
  return current;
}

/** Installs a backend (index.ts's setBackend/initBackend validate and choose it). */
export function installBackend(b: Backend): void {
  current = b;
}
