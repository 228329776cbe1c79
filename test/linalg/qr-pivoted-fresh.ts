/**
 * The worker side of qr-pivoted.test.ts's fresh-memory test (run through fresh-worker.ts): one
 * blocked pivoted QR on the wasm route, as the first use of linalg's wasm memory in this thread, and
 * the size that memory then has.
 */
import { linalgWasm } from '../../src/backend/linalg-kernels.js';
import { householderPivotedBlocked } from '../../src/linalg/qr-pivoted.js';

export function factorInFreshMemory(a: Float64Array, m: number, n: number) {
  const before = linalgWasm(0)?.mem.buffer.byteLength ?? 0;
  const { at, tau, perm } = householderPivotedBlocked(a, m, n, true);
  const after = linalgWasm(0)?.mem.buffer.byteLength ?? 0;
  return { at, tau, perm, before, after };
}
