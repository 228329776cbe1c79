/**
 * Per-thread kernel state: the grow-only scratch of the GEMM paths and this thread's instance of
 * the WebAssembly kernels. The calling thread has one (mainState()), each worker its own; a kernel
 * gets the state of the thread it runs on, so two threads never share a scratch buffer.
 *
 * createKernelState, growF64 and wasmReserve also run in the workers from their source text (see
 * threads.ts): they use only their parameters, globals and other worker functions.
 */

/** The exports of one instance of wasm/kernels.ts, and a float32 view of its memory. */
export interface WasmKernels {
  mem: WebAssembly.Memory;
  /** Every export by name (the elementwise maps are looked up as u_<op>, vv_/vs_/sv_<op>). */
  ex: Record<string, unknown>;
  /** Views of mem.buffer; replaced whenever the memory grows (see wasmReserve). */
  f32: Float32Array;
  f64: Float64Array;
  sgemm(ap: number, bp: number, c: number, mPanels: number, nPanels: number, kc: number, ldc: number, accumulate: number): void;
  packRows4(src: number, ld: number, rows: number, panels: number, dst: number): void;
  packRows8(src: number, ld: number, rows: number, panels: number, dst: number): void;
  packCols4(src: number, ld: number, rows: number, panels: number, dst: number): void;
  packCols8(src: number, ld: number, rows: number, panels: number, dst: number): void;
  axpby(x: number, y: number, count: number, alpha: number, beta: number): void;
  dgemm(ap: number, bp: number, c: number, mPanels: number, nPanels: number, kc: number, ldc: number, accumulate: number): void;
  packRowsD4(src: number, ld: number, rows: number, panels: number, dst: number): void;
  packColsD4(src: number, ld: number, rows: number, panels: number, dst: number): void;
  axpbyD(x: number, y: number, count: number, alpha: number, beta: number): void;
  dgemvN(a: number, lda: number, rows: number, cols: number, x: number, y: number, accumulate: number): void;
  dgemvT(a: number, lda: number, rows: number, cols: number, x: number, y: number): void;
  drotSeq(z: number, ld: number, count: number, cs: number, cols: number): void;
  sdot(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, mTiles: number, nTiles: number, kc4: number, accumulate: number): void;
}

export interface KernelState {
  /** Cache blocks of the plain-JS GEMM (elements): k-slice, rows of A per block, columns of B per slab. */
  jsKc: number;
  jsMc: number;
  jsNc: number;
  /** Cache blocks of the wasm GEMM. */
  wKc: number;
  wMc: number;
  wNc: number;
  /** k-slice of the wasm dot-product GEMM (a multiple of 4). */
  wKcDot: number;
  /** Bytes a fully packed operand may take before the wasm GEMM packs it block by block instead. */
  wPackBudget: number;
  ap: Float64Array;
  bp: Float64Array;
  tile: Float64Array;
  /** Scratch of the other kernels (im2col ranges, reductions), in doubles. */
  f64: Float64Array;
  wasm: WasmKernels | null;
}

export function createKernelState(wasmModule: WebAssembly.Module | null): KernelState {
  let wasm: WasmKernels | null = null;
  if (wasmModule) {
    const ex = new WebAssembly.Instance(wasmModule, {}).exports as unknown as Omit<WasmKernels, 'f32' | 'f64' | 'ex'>;
    wasm = {
      mem: ex.mem,
      ex: ex as unknown as Record<string, unknown>,
      f32: new Float32Array(ex.mem.buffer),
      f64: new Float64Array(ex.mem.buffer),
      sgemm: ex.sgemm,
      packRows4: ex.packRows4,
      packRows8: ex.packRows8,
      packCols4: ex.packCols4,
      packCols8: ex.packCols8,
      axpby: ex.axpby,
      sdot: ex.sdot,
      dgemm: ex.dgemm,
      packRowsD4: ex.packRowsD4,
      packColsD4: ex.packColsD4,
      axpbyD: ex.axpbyD,
      dgemvN: ex.dgemvN,
      dgemvT: ex.dgemvT,
      drotSeq: ex.drotSeq,
    };
  }
  return {
    jsKc: 256,
    jsMc: 64,
    jsNc: 1024,
    wKc: 256,
    wMc: 128,
    wNc: 2048,
    wKcDot: 2048,
    wPackBudget: 8 << 20,
    ap: new Float64Array(0),
    bp: new Float64Array(0),
    tile: new Float64Array(16),
    f64: new Float64Array(0),
    wasm,
  };
}

/** Grows (geometrically) a scratch buffer of the state to at least `size` elements; contents are unspecified. */
export function growF64(buf: Float64Array, size: number): Float64Array {
  if (buf.length >= size) return buf;
  return new Float64Array(Math.max(size, Math.ceil(buf.length * 1.5)));
}

/** Makes the wasm memory at least `bytes` long, refreshing the float32 and float64 views when it grows. */
export function wasmReserve(w: WasmKernels, bytes: number): void {
  const have = w.mem.buffer.byteLength;
  if (have < bytes) {
    // Grow geometrically (64 KiB pages) so a rising size does not grow on every call.
    const want = Math.max(bytes, Math.ceil(have * 1.5));
    w.mem.grow(Math.ceil((want - have) / 65536));
    w.f32 = new Float32Array(w.mem.buffer);
    w.f64 = new Float64Array(w.mem.buffer);
  } else if (w.f32.buffer !== w.mem.buffer) {
    w.f32 = new Float32Array(w.mem.buffer);
    w.f64 = new Float64Array(w.mem.buffer);
  }
}
