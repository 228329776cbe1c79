/**
 * GEMM entry point: validates the arguments and routes small problems to a direct loop (packing
 * would cost more than it saves), float32 to the WebAssembly SIMD kernel where the runtime has it,
 * the rest to the cache-blocked JavaScript kernel; large products are split across the threads.
 */
import type { GemmArgs } from '../backend.js';
import { checkArray, checkNonNegInt, checkSameType, fail } from './checks.js';
import * as threads from './threads.js';

/** Below this many multiply-adds the direct loop wins over packing (measured crossover ≈ 16³). */
export const SMALL_GEMM = 4096;

export function gemm(g: GemmArgs): void {
  checkGemmArgs(g);
  const { m, n, k, alpha, beta } = g;
  if (m === 0 || n === 0) return;
  // As in BLAS, A and B are not read when they cannot contribute (so NaN there does not leak).
  if (k === 0 || alpha === 0) return scaleC(g, beta);
  if (m * n * k < SMALL_GEMM) return gemmDirect(g);
  threads.gemmParallel(g);
}

/** C = beta·C; beta = 0 overwrites, so NaN or Infinity already in C does not leak through 0·C. */
function scaleC(g: GemmArgs, beta: number): void {
  if (beta === 1) return;
  const { m, n, c, cOffset, ldc } = g;
  for (let i = 0; i < m; i++) {
    const row = cOffset + i * ldc;
    if (beta === 0) c.fill(0, row, row + n);
    else for (let j = row; j < row + n; j++) c[j] *= beta;
  }
}

/** One strided dot product per element of C, with beta applied in the same pass. */
export function gemmDirect(g: GemmArgs): void {
  const { m, n, k, alpha, a, aOffset, lda, transA, b, bOffset, ldb, transB, beta, c, cOffset, ldc } = g;
  // op(A)(i, p) = a[aOffset + i·aRow + p·aCol]; op(B)(p, j) = b[bOffset + p·bRow + j·bCol].
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;
  for (let i = 0; i < m; i++) {
    const cRow = cOffset + i * ldc;
    for (let j = 0; j < n; j++) {
      let s = 0;
      let ai = aOffset + i * aRow;
      let bi = bOffset + j * bCol;
      for (let p = 0; p < k; p++, ai += aCol, bi += bRow) s += a[ai] * b[bi];
      c[cRow + j] = beta === 0 ? alpha * s : alpha * s + beta * c[cRow + j];
    }
  }
}

export function checkGemmArgs(g: GemmArgs): void {
  if (g === null || typeof g !== 'object') fail('gemm', `args must be an object, got ${String(g)}`);
  const { m, n, k, a, b, c, lda, ldb, ldc, aOffset, bOffset, cOffset, transA, transB, alpha, beta } = g;
  checkNonNegInt('gemm', 'm', m);
  checkNonNegInt('gemm', 'n', n);
  checkNonNegInt('gemm', 'k', k);
  checkNonNegInt('gemm', 'aOffset', aOffset);
  checkNonNegInt('gemm', 'bOffset', bOffset);
  checkNonNegInt('gemm', 'cOffset', cOffset);
  if (typeof transA !== 'boolean') fail('gemm', `transA must be a boolean, got ${String(transA)}`);
  if (typeof transB !== 'boolean') fail('gemm', `transB must be a boolean, got ${String(transB)}`);
  if (typeof alpha !== 'number') fail('gemm', `alpha must be a number, got ${String(alpha)}`);
  if (typeof beta !== 'number') fail('gemm', `beta must be a number, got ${String(beta)}`);
  checkArray('gemm', 'a', a);
  checkArray('gemm', 'b', b);
  checkArray('gemm', 'c', c);
  checkSameType('gemm', 'b', b, a, 'a');
  checkSameType('gemm', 'c', c, a, 'a');
  // Stored shapes: A is m×k (k×m if transA), B is k×n (n×k if transB), C is m×n.
  checkOperand('a', a.length, aOffset, lda, transA ? k : m, transA ? m : k, transA ? 'm' : 'k');
  checkOperand('b', b.length, bOffset, ldb, transB ? n : k, transB ? k : n, transB ? 'k' : 'n');
  checkOperand('c', c.length, cOffset, ldc, m, n, 'n');
}

function checkOperand(name: string, length: number, offset: number, ld: number, rows: number, cols: number, colsName: string): void {
  const ldName = `ld${name}`;
  checkNonNegInt('gemm', ldName, ld);
  if (ld < Math.max(1, cols)) fail('gemm', `${ldName} must be ≥ max(1, ${colsName}) = ${Math.max(1, cols)}, got ${ld}`);
  if (rows === 0 || cols === 0) return;
  const need = offset + (rows - 1) * ld + cols;
  if (length < need) {
    fail('gemm', `${name} must hold at least ${need} elements (${name}Offset ${offset}, stored ${rows}×${cols}, ${ldName} ${ld}), got ${length}`);
  }
}
