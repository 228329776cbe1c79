/**
 * Grow-only scratch buffers, one per purpose, so hot kernels never allocate per call. Kernels run
 * synchronously on one thread, so a buffer is never shared by two calls at once; a kernel must not
 * hold on to a buffer after it returns.
 */
export class Scratch {
  private buf = new Float64Array(0);

  /** A buffer of at least `size` elements; its contents are unspecified. */
  get(size: number): Float64Array {
    if (this.buf.length < size) {
      // Grow geometrically so a slowly rising size does not reallocate on every call.
      this.buf = new Float64Array(Math.max(size, Math.ceil(this.buf.length * 1.5)));
    }
    return this.buf;
  }
}
