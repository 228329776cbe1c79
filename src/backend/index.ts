import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/index.js';

export type { Backend, GemmArgs, WindowGeometry, UnaryOp, BinaryOp } from './backend.js';

let current: Backend = new CpuBackend();

/** The backend every op runs its kernels on. */
export function getBackend(): Backend {
  return current;
}

/** Switches the kernels behind every op; tensors stay where they are (typed arrays on the host). */
export function setBackend(backend: Backend): void {
  if (!backend || typeof backend.gemm !== 'function') throw new Error('setBackend: backend must implement the Backend interface');
  current = backend;
}
