/**
 * Axis permutation (copy with transposed strides). Dims that stay adjacent are merged first, so
 * most permutes reduce to a 2-D transpose per batch, which is walked in square tiles: reading
 * columns of a large row-major matrix one element at a time would miss cache on every read.
 */
import type { TypedArray } from '../../tensor/dtype.js';
import { checkArray, checkExactLength, checkLength, checkSameType, checkShapeArg, fail } from './checks.js';

const TILE = 32;

export function permute(x: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): void {
  checkArray('permute', 'x', x);
  checkArray('permute', 'out', out);
  checkSameType('permute', 'out', out, x, 'x');
  const size = checkShapeArg('permute', 'shape', shape);
  const rank = shape.length;
  checkExactLength('permute', 'perm', perm, rank);
  const seen = new Array<boolean>(rank).fill(false);
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen[p]) {
      fail('permute', `perm must be a permutation of 0..${rank - 1}, got [${perm.join(', ')}]`);
    }
    seen[p] = true;
  }
  checkLength('permute', 'x', x, size);
  checkLength('permute', 'out', out, size);
  if (size === 0) return;

  const inStrides = new Array<number>(rank);
  for (let d = rank - 1, acc = 1; d >= 0; d--) {
    inStrides[d] = acc;
    acc *= shape[d];
  }

  // Out dims with their input strides, dropping size-1 dims and merging runs that stay contiguous.
  const dims: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < rank; i++) {
    const n = shape[perm[i]];
    if (n === 1) continue;
    const s = inStrides[perm[i]];
    const last = dims.length - 1;
    if (last >= 0 && strides[last] === s * n) {
      dims[last] *= n;
      strides[last] = s;
    } else {
      dims.push(n);
      strides.push(s);
    }
  }
  if (dims.length <= 1) {
    out.set(x.subarray(0, size));
    return;
  }
  if (strides[dims.length - 1] === 1) copyRows(x, dims, strides, out, size);
  else transposeTiles(x, dims, strides, out);
}

/** Last out dim is contiguous in x: copy whole rows, odometer over the rest. */
function copyRows(x: TypedArray, dims: number[], strides: number[], out: TypedArray, size: number): void {
  const r = dims.length;
  const inner = dims[r - 1];
  const idx = new Array<number>(r).fill(0);
  let xi = 0;
  for (let oi = 0; oi < size; oi += inner) {
    for (let t = 0; t < inner; t++) out[oi + t] = x[xi + t];
    for (let d = r - 2; d >= 0; d--) {
      xi += strides[d];
      if (++idx[d] < dims[d]) break;
      xi -= strides[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/** Tiled 2-D transposes over the last two out dims, odometer over the leading ones. */
function transposeTiles(x: TypedArray, dims: number[], strides: number[], out: TypedArray): void {
  const r = dims.length;
  const rows = dims[r - 2];
  const cols = dims[r - 1];
  const sRow = strides[r - 2];
  const sCol = strides[r - 1];
  let batches = 1;
  for (let d = 0; d < r - 2; d++) batches *= dims[d];
  const idx = new Array<number>(Math.max(r - 2, 0)).fill(0);
  let xBase = 0;
  for (let bt = 0; bt < batches; bt++) {
    const oBase = bt * rows * cols;
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, rows);
      for (let j0 = 0; j0 < cols; j0 += TILE) {
        const j1 = Math.min(j0 + TILE, cols);
        for (let i = i0; i < i1; i++) {
          const oRow = oBase + i * cols;
          let xi = xBase + i * sRow + j0 * sCol;
          for (let j = j0; j < j1; j++, xi += sCol) out[oRow + j] = x[xi];
        }
      }
    }
    for (let d = r - 3; d >= 0; d--) {
      xBase += strides[d];
      if (++idx[d] < dims[d]) break;
      xBase -= strides[d] * dims[d];
      idx[d] = 0;
    }
  }
}
