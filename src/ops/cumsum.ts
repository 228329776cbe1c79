import { run } from '../backend/dispatch.js';
import { record } from '../autograd/record.js';
import { normAxis } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkTensor } from './util.js';

/**
 * Cumulative sum along one axis (PyTorch's torch.cumsum). The worked example of docs/design.md §3.6:
 * the kernel's signature is declared here, beside its op, and each backend implements it in its
 * kernel table (backend/cpu/kernels.ts, backend/gpu/device.ts).
 */
declare module '../backend/kernels.js' {
  interface Kernels<B> {
    /**
     * Inclusive prefix sums along the middle axis of an [outer, len, inner] buffer; with `reverse`,
     * suffix sums (out[j] = Σ_{l ≥ j} x[l]), which is the vjp of the prefix sum.
     */
    cumsum(x: B, outer: number, len: number, inner: number, reverse: boolean): B;
  }
}

export function cumsum(x: Tensor, axis: number): Tensor {
  checkTensor(x, 'cumsum', 'x');
  const a = normAxis(axis, x.ndim, 'cumsum');
  const outer = x.shape.slice(0, a).reduce((n, d) => n * d, 1);
  const len = x.shape[a];
  const inner = x.shape.slice(a + 1).reduce((n, d) => n * d, 1);
  const out = run('cumsum', [x], x.shape, (k, [b]) => k.cumsum(b, outer, len, inner, false));
  return record(out, 'cumsum', [x], (g) => [run('cumsum', [g], x.shape, (k, [b]) => k.cumsum(b, outer, len, inner, true))]);
}
