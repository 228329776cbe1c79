/**
 * GEMM on the WebAssembly SIMD kernels (wasm/gemm-kernels.ts), on one block of the output, with the
 * same contract as gemmRangeJs (gemm-blocked.ts), for float32 (the 4×8 f32x4 macro-kernel sgemm) and
 * float64 (the 4×4 f64x2 macro-kernel dgemm): one loop nest and one memory layout, parametrised by
 * the element size E (4 or 8 bytes) and the width NR of the register tile (8 or 4).
 *
 * The operands live in JavaScript typed arrays, the kernels in the instance's own memory, so every
 * block crosses over by TypedArray.set (a memcpy): the raw block of A or B is copied in, packed into
 * micro-panels by wasm (packRows/packCols), multiplied by the macro-kernel into a C buffer that
 * accumulates over the k-slices, scaled by alpha/beta in wasm, and copied out row by row.
 *
 * Loop nest: the whole of A is packed once when it fits wPackBudget (else per block); then for each
 * NC-wide slab of columns the k × NC slab of B is packed once, and for each MC-tall block of rows the
 * macro-kernel runs over every KC-deep slice, A block in L2, B micro-panel in L1.
 *
 * Memory layout (bytes): [packed A][packed B slab][raw block + slack][C buffer][old C]. Lanes past
 * the edge of the matrix compute on stale memory; each lane is independent, and those lanes are
 * never copied out.
 *
 * These functions also run in the worker threads from their source text (see threads.ts), so they
 * take the element type as a parameter (f64) rather than from a closure.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { GemmArgs } from '../backend.js';
import * as blocked from './gemm-blocked.js';
import * as stateModule from './state.js';
import type { KernelState, WasmKernels } from './state.js';

const wasmReserve = stateModule.wasmReserve;
const scaleBlock = blocked.scaleBlock;

/**
 * Copies an rows×cols block (row stride ld) of src into the wasm memory view dst at dOff, densely
 * (row stride cols). Rows under 128 bytes go element by element: a subarray per row costs more.
 */
export function copyBlockIn(src: TypedArray, off: number, ld: number, rows: number, cols: number, dst: Float32Array | Float64Array, dOff: number): void {
  if (cols === ld || rows === 1) {
    dst.set(src.subarray(off, off + (rows - 1) * ld + cols), dOff);
  } else if (cols * dst.BYTES_PER_ELEMENT < 128) {
    for (let r = 0; r < rows; r++) {
      const s = off + r * ld;
      const d = dOff + r * cols;
      for (let c = 0; c < cols; c++) dst[d + c] = src[s + c];
    }
  } else {
    for (let r = 0; r < rows; r++) dst.set(src.subarray(off + r * ld, off + r * ld + cols), dOff + r * cols);
  }
}

/** Copies rows×cols from the wasm memory view src (row stride lds) to out at outOffset (row stride ldo). */
export function copyBlockOut(
  src: Float32Array | Float64Array,
  sOff: number,
  lds: number,
  rows: number,
  cols: number,
  out: TypedArray,
  outOffset: number,
  ldo: number,
): void {
  if (cols === lds && cols === ldo) {
    out.set(src.subarray(sOff, sOff + rows * cols), outOffset);
  } else if (cols * src.BYTES_PER_ELEMENT < 128) {
    for (let r = 0; r < rows; r++) {
      const s = sOff + r * lds;
      const d = outOffset + r * ldo;
      for (let c = 0; c < cols; c++) out[d + c] = src[s + c];
    }
  } else {
    for (let r = 0; r < rows; r++) out.set(src.subarray(sOff + r * lds, sOff + r * lds + cols), outOffset + r * ldo);
  }
}

/**
 * Packs op(A)[i : i+mc, p : p+kc] into 4-row panels at byte address dst, through the raw area.
 * op(A) stored m×k (not transposed): each row of the block holds kc values → packCols4 / packColsD4.
 * Stored k×m (transposed): each stored row holds mc values of one k step → packRows4 / packRowsD4.
 */
export function wasmPackA(w: WasmKernels, g: GemmArgs, i: number, mc: number, p: number, kc: number, raw: number, dst: number, f64: boolean): void {
  const panels = Math.ceil(mc / 4);
  const shift = f64 ? 3 : 2;
  const view = f64 ? w.f64 : w.f32;
  if (g.transA) {
    copyBlockIn(g.a, g.aOffset + p * g.lda + i, g.lda, kc, mc, view, raw >> shift);
    if (f64) w.packRowsD4(raw, mc << shift, kc, panels, dst);
    else w.packRows4(raw, mc << shift, kc, panels, dst);
  } else {
    copyBlockIn(g.a, g.aOffset + i * g.lda + p, g.lda, mc, kc, view, raw >> shift);
    if (f64) w.packColsD4(raw, kc << shift, kc, panels, dst);
    else w.packCols4(raw, kc << shift, kc, panels, dst);
  }
}

/**
 * Packs op(B)[p : p+kc, j : j+nc] into NR-column panels at dst (NR = 8 for float32, 4 for float64):
 * packRows for B stored k×n, packCols for n×k.
 */
export function wasmPackB(w: WasmKernels, g: GemmArgs, p: number, kc: number, j: number, nc: number, raw: number, dst: number, f64: boolean): void {
  const panels = Math.ceil(nc / (f64 ? 4 : 8));
  const shift = f64 ? 3 : 2;
  const view = f64 ? w.f64 : w.f32;
  if (g.transB) {
    copyBlockIn(g.b, g.bOffset + j * g.ldb + p, g.ldb, nc, kc, view, raw >> shift);
    if (f64) w.packColsD4(raw, kc << shift, kc, panels, dst);
    else w.packCols8(raw, kc << shift, kc, panels, dst);
  } else {
    copyBlockIn(g.b, g.bOffset + p * g.ldb + j, g.ldb, kc, nc, view, raw >> shift);
    if (f64) w.packRowsD4(raw, nc << shift, kc, panels, dst);
    else w.packRows8(raw, nc << shift, kc, panels, dst);
  }
}

/**
 * The range of either element type: float32 (sgemm, 4-byte elements) by default, float64 (dgemm,
 * 8-byte elements) with f64 = true (the thread pool's jobs on path 'wasm64').
 */
export function gemmRangeWasm(
  st: KernelState,
  g: GemmArgs,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  p0: number,
  p1: number,
  out: TypedArray,
  outOffset: number,
  ldo: number,
  alpha: number,
  beta: number,
  f64 = false,
): void {
  const w = st.wasm;
  if (!w) throw new Error('gemm: the WebAssembly kernels are not available on this thread');
  const m = i1 - i0;
  const n = j1 - j0;
  const k = p1 - p0;
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha === 0) return scaleBlock(out, outOffset, ldo, m, n, beta);
  // Element bytes (as a shift) and the register tile: MR = 4 rows for both, NR = 8 or 4 columns.
  const shift = f64 ? 3 : 2;
  const E = 1 << shift;
  const NR = f64 ? 4 : 8;
  const KC = Math.min(st.wKc, k);
  const MC = Math.min(st.wMc, m);
  // Columns per slab: the packed k × NC slab of B stays within the budget (at least one panel).
  const NC = Math.min(n, st.wNc, Math.max(NR, Math.floor(st.wPackBudget / (k * E * NR)) * NR));
  const ncPadMax = Math.ceil(NC / NR) * NR;
  const mcPadMax = Math.ceil(MC / 4) * 4;
  // Packed A: one block of mcPadMax × k per MC rows; all of them when they fit the budget.
  const aBlockBytes = mcPadMax * k * E;
  const packAllA = Math.ceil(m / MC) * aBlockBytes <= st.wPackBudget;
  const aBytes = packAllA ? Math.ceil(m / MC) * aBlockBytes : aBlockBytes;
  const bBytes = ncPadMax * k * E;
  // Raw blocks: A mc×kc or B kc×nc, plus slack for the panels' reads past the edge (up to NR rows
  // of kc, and 256 bytes).
  const rawBytes = (Math.max(mcPadMax, ncPadMax) * KC + NR * KC) * E + 256;
  const cBytes = mcPadMax * ncPadMax * E;
  const aAt = 0;
  const bAt = aAt + aBytes;
  const rawAt = bAt + bBytes;
  const cAt = rawAt + rawBytes;
  const oldAt = cAt + cBytes;
  wasmReserve(w, oldAt + (beta !== 0 ? cBytes : 0));

  if (packAllA) {
    for (let ic = 0, blockAt = aAt; ic < m; ic += MC, blockAt += aBlockBytes) {
      const mc = Math.min(MC, m - ic);
      const mcPad = Math.ceil(mc / 4) * 4;
      for (let pc = 0; pc < k; pc += KC) {
        wasmPackA(w, g, i0 + ic, mc, p0 + pc, Math.min(KC, k - pc), rawAt, blockAt + mcPad * pc * E, f64);
      }
    }
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const ncPad = Math.ceil(nc / NR) * NR;
    for (let pc = 0; pc < k; pc += KC) {
      wasmPackB(w, g, p0 + pc, Math.min(KC, k - pc), j0 + jc, nc, rawAt, bAt + ncPad * pc * E, f64);
    }
    for (let ic = 0; ic < m; ic += MC) {
      const mc = Math.min(MC, m - ic);
      const mcPad = Math.ceil(mc / 4) * 4;
      const aBlock = packAllA ? aAt + (ic / MC) * aBlockBytes : aAt;
      if (!packAllA) {
        for (let pc = 0; pc < k; pc += KC) {
          wasmPackA(w, g, i0 + ic, mc, p0 + pc, Math.min(KC, k - pc), rawAt, aBlock + mcPad * pc * E, f64);
        }
      }
      for (let pc = 0; pc < k; pc += KC) {
        const ap = aBlock + mcPad * pc * E;
        const bp = bAt + ncPad * pc * E;
        const kc = Math.min(KC, k - pc);
        if (f64) w.dgemm(ap, bp, cAt, mcPad >> 2, ncPad >> 2, kc, ncPad * E, pc > 0 ? 1 : 0);
        else w.sgemm(ap, bp, cAt, mcPad >> 2, ncPad >> 3, kc, ncPad * E, pc > 0 ? 1 : 0);
      }
      wasmStoreC(w, cAt, oldAt, ncPad, mc, nc, out, outOffset + ic * ldo + jc, ldo, alpha, beta, f64);
    }
  }
}

/**
 * out[dst …] (rows×cols, row stride ldo) = alpha·C + beta·out, C the product in the wasm buffer at
 * byte address cAt (row stride ldc elements); oldAt is room for the old values of out in the same
 * layout (the padding lanes are ignored). alpha = 1, beta = 0 is a plain copy.
 */
export function wasmStoreC(
  w: WasmKernels,
  cAt: number,
  oldAt: number,
  ldc: number,
  rows: number,
  cols: number,
  out: TypedArray,
  dst: number,
  ldo: number,
  alpha: number,
  beta: number,
  f64: boolean,
): void {
  const shift = f64 ? 3 : 2;
  if (alpha !== 1 || beta !== 0) {
    if (beta !== 0) {
      const view = f64 ? w.f64 : w.f32;
      const base = oldAt >> shift;
      for (let r = 0; r < rows; r++) {
        const s = dst + r * ldo;
        const d = base + r * ldc;
        // A row is a memcpy for TypedArray.set; below 16 values the view costs more than the loop.
        if (cols >= 16) view.set(out.subarray(s, s + cols), d);
        else for (let c = 0; c < cols; c++) view[d + c] = out[s + c];
      }
    }
    if (f64) w.axpbyD(cAt, oldAt, rows * ldc, alpha, beta);
    else w.axpby(cAt, oldAt, rows * ldc, alpha, beta);
  }
  copyBlockOut(f64 ? w.f64 : w.f32, cAt >> shift, ldc, rows, cols, out, dst, ldo);
}

/**
 * Copies rows×cols of src (row stride ld) densely into dst with row stride colsPad, zeroing each
 * row's tail [cols, colsPad): the dot kernel sums whole rows, so the padding must be 0, not stale.
 */
export function copyRowsPadded(src: TypedArray, off: number, ld: number, rows: number, cols: number, colsPad: number, dst: Float32Array, dOff: number): void {
  for (let r = 0; r < rows; r++) {
    const s = off + r * ld;
    const d = dOff + r * colsPad;
    if (cols < 32) for (let c = 0; c < cols; c++) dst[d + c] = src[s + c];
    else dst.set(src.subarray(s, s + cols), d);
    for (let c = cols; c < colsPad; c++) dst[d + c] = 0;
  }
}

/**
 * The A·Bᵀ case (A stored m×k, B stored n×k: both along k) for outputs of at most DOT_MAX rows and
 * columns, k large (weight gradients, Linear forward): no packing, each KC-slice of the rows is
 * copied in and run through the dot-product kernel, which sums over k in f32x4 lanes. Same contract
 * as gemmRangeJs.
 */
export function gemmRangeWasmDot(
  st: KernelState,
  g: GemmArgs,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  p0: number,
  p1: number,
  out: TypedArray,
  outOffset: number,
  ldo: number,
  alpha: number,
  beta: number,
): void {
  const w = st.wasm;
  if (!w) throw new Error('gemm: the WebAssembly kernels are not available on this thread');
  const m = i1 - i0;
  const n = j1 - j0;
  const k = p1 - p0;
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha === 0) return scaleBlock(out, outOffset, ldo, m, n, beta);
  const KC = Math.min(st.wKcDot, Math.ceil(k / 4) * 4);
  const mTiles = Math.ceil(m / 2);
  const nTiles = Math.ceil(n / 4);
  const ldc = nTiles * 4;
  // [A rows (+1 spare row read by the last tile)][B rows (+3)][C buffer][old C]
  const aAt = 0;
  const bAt = aAt + (mTiles * 2 + 1) * KC * 4;
  const cAt = bAt + (nTiles * 4 + 1) * KC * 4;
  const oldAt = cAt + mTiles * 2 * ldc * 4;
  wasmReserve(w, oldAt + (beta !== 0 ? mTiles * 2 * ldc * 4 : 0) + 64);
  for (let pc = 0; pc < k; pc += KC) {
    const kc = Math.min(KC, k - pc);
    const kc4 = Math.ceil(kc / 4) * 4;
    const f32 = w.f32;
    copyRowsPadded(g.a, g.aOffset + i0 * g.lda + p0 + pc, g.lda, m, kc, kc4, f32, aAt >> 2);
    copyRowsPadded(g.b, g.bOffset + j0 * g.ldb + p0 + pc, g.ldb, n, kc, kc4, f32, bAt >> 2);
    w.sdot(aAt, kc4 * 4, bAt, kc4 * 4, cAt, ldc * 4, mTiles, nTiles, kc4, pc > 0 ? 1 : 0);
  }
  wasmStoreC(w, cAt, oldAt, ldc, m, n, out, outOffset, ldo, alpha, beta, false);
}
