/**
 * Float64 GEMM on the WebAssembly SIMD kernels (wasm/kernels-f64.ts), on one block of the output,
 * with the same contract as gemmRangeJs (gemm-blocked.ts): the float64 twin of gemmRangeWasm
 * (gemm-wasm.ts), with the same loop nest and memory layout and 8-byte elements. Each raw block of
 * A or B is copied into the instance's memory (TypedArray.set, a memcpy), packed into 4-wide
 * micro-panels by wasm, multiplied by the 4×4 f64x2 macro-kernel into a C buffer that accumulates
 * over the k-slices, scaled by alpha/beta in wasm and copied out row by row.
 *
 * Its own copy helpers rather than gemm-wasm.ts's: those see only Float32Array destinations, and
 * keeping them monomorphic keeps the float32 training path exactly as fast as it was.
 *
 * These functions also run in the worker threads from their source text (see threads.ts).
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { GemmArgs } from '../backend.js';
import * as blocked from './gemm-blocked.js';
import * as stateModule from './state.js';
import type { KernelState, WasmKernels } from './state.js';

const wasmReserve = stateModule.wasmReserve;
const scaleBlock = blocked.scaleBlock;

/** Copies an rows×cols block (row stride ld) of src into the float64 view dst at dOff, densely. */
export function copyBlockInF64(src: TypedArray, off: number, ld: number, rows: number, cols: number, dst: Float64Array, dOff: number): void {
  if (cols === ld || rows === 1) {
    dst.set(src.subarray(off, off + (rows - 1) * ld + cols), dOff);
  } else if (cols < 16) {
    for (let r = 0; r < rows; r++) {
      const s = off + r * ld;
      const d = dOff + r * cols;
      for (let c = 0; c < cols; c++) dst[d + c] = src[s + c];
    }
  } else {
    for (let r = 0; r < rows; r++) dst.set(src.subarray(off + r * ld, off + r * ld + cols), dOff + r * cols);
  }
}

/** Copies rows×cols from the float64 view src (row stride lds) to out at outOffset (row stride ldo). */
export function copyBlockOutF64(
  src: Float64Array,
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
  } else if (cols < 16) {
    for (let r = 0; r < rows; r++) {
      const s = sOff + r * lds;
      const d = outOffset + r * ldo;
      for (let c = 0; c < cols; c++) out[d + c] = src[s + c];
    }
  } else {
    for (let r = 0; r < rows; r++) out.set(src.subarray(sOff + r * lds, sOff + r * lds + cols), outOffset + r * ldo);
  }
}

/** Packs op(A)[i : i+mc, p : p+kc] into 4-row panels at byte address dst, through the raw area. */
export function wasmPackAF64(w: WasmKernels, g: GemmArgs, i: number, mc: number, p: number, kc: number, raw: number, dst: number): void {
  const panels = Math.ceil(mc / 4);
  if (g.transA) {
    copyBlockInF64(g.a, g.aOffset + p * g.lda + i, g.lda, kc, mc, w.f64, raw >> 3);
    w.packRowsD4(raw, mc * 8, kc, panels, dst);
  } else {
    copyBlockInF64(g.a, g.aOffset + i * g.lda + p, g.lda, mc, kc, w.f64, raw >> 3);
    w.packColsD4(raw, kc * 8, kc, panels, dst);
  }
}

/** Packs op(B)[p : p+kc, j : j+nc] into 4-column panels at dst. */
export function wasmPackBF64(w: WasmKernels, g: GemmArgs, p: number, kc: number, j: number, nc: number, raw: number, dst: number): void {
  const panels = Math.ceil(nc / 4);
  if (g.transB) {
    copyBlockInF64(g.b, g.bOffset + j * g.ldb + p, g.ldb, nc, kc, w.f64, raw >> 3);
    w.packColsD4(raw, kc * 8, kc, panels, dst);
  } else {
    copyBlockInF64(g.b, g.bOffset + p * g.ldb + j, g.ldb, kc, nc, w.f64, raw >> 3);
    w.packRowsD4(raw, nc * 8, kc, panels, dst);
  }
}

export function gemmRangeWasmF64(
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
  const KC = Math.min(st.wKc, k);
  const MC = Math.min(st.wMc, m);
  // Columns per slab: the packed k × NC slab of B stays within the budget (at least one panel).
  const NC = Math.min(n, st.wNc, Math.max(4, Math.floor(st.wPackBudget / (k * 8 * 4)) * 4));
  const ncPadMax = Math.ceil(NC / 4) * 4;
  const mcPadMax = Math.ceil(MC / 4) * 4;
  const aBlockBytes = mcPadMax * k * 8;
  const packAllA = Math.ceil(m / MC) * aBlockBytes <= st.wPackBudget;
  const aBytes = packAllA ? Math.ceil(m / MC) * aBlockBytes : aBlockBytes;
  const bBytes = ncPadMax * k * 8;
  // Raw blocks: A mc×kc or B kc×nc, plus slack for the panels' reads past the edge (up to 4 rows of kc).
  const rawBytes = (Math.max(mcPadMax, ncPadMax) * KC + 4 * KC + 16) * 8;
  const cBytes = mcPadMax * ncPadMax * 8;
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
        wasmPackAF64(w, g, i0 + ic, mc, p0 + pc, Math.min(KC, k - pc), rawAt, blockAt + mcPad * pc * 8);
      }
    }
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const ncPad = Math.ceil(nc / 4) * 4;
    for (let pc = 0; pc < k; pc += KC) {
      wasmPackBF64(w, g, p0 + pc, Math.min(KC, k - pc), j0 + jc, nc, rawAt, bAt + ncPad * pc * 8);
    }
    for (let ic = 0; ic < m; ic += MC) {
      const mc = Math.min(MC, m - ic);
      const mcPad = Math.ceil(mc / 4) * 4;
      const aBlock = packAllA ? aAt + (ic / MC) * aBlockBytes : aAt;
      if (!packAllA) {
        for (let pc = 0; pc < k; pc += KC) {
          wasmPackAF64(w, g, i0 + ic, mc, p0 + pc, Math.min(KC, k - pc), rawAt, aBlock + mcPad * pc * 8);
        }
      }
      for (let pc = 0; pc < k; pc += KC) {
        w.dgemm(aBlock + mcPad * pc * 8, bAt + ncPad * pc * 8, cAt, mcPad >> 2, ncPad >> 2, Math.min(KC, k - pc), ncPad * 8, pc > 0 ? 1 : 0);
      }
      const dst = outOffset + ic * ldo + jc;
      if (alpha !== 1 || beta !== 0) {
        if (beta !== 0) {
          // Old C into the wasm buffer, same layout as the tile buffer (the padding lanes are ignored).
          const f64 = w.f64;
          const base = oldAt >> 3;
          for (let r = 0; r < mc; r++) {
            const s = dst + r * ldo;
            const d = base + r * ncPad;
            // A row is a memcpy for TypedArray.set; below 16 values the view costs more than the loop.
            if (nc >= 16) f64.set(out.subarray(s, s + nc), d);
            else for (let c = 0; c < nc; c++) f64[d + c] = out[s + c];
          }
        }
        w.axpbyD(cAt, oldAt, mc * ncPad, alpha, beta);
      }
      copyBlockOutF64(w.f64, cAt >> 3, ncPad, mc, nc, out, dst, ldo);
    }
  }
}
