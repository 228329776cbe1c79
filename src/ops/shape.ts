import { run } from '../backend/dispatch.js';
import { record } from '../autograd/record.js';
import { allocate } from '../tensor/dtype.js';
import { normAxis, sameShape, shapeStr, sizeOf, stridesOf, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkTensor, padShape, sumToShape } from './util.js';

/**
 * Shape ops. reshape shares the buffer (ops never write into inputs, so a shared buffer is
 * safe); everything that moves elements copies.
 */

/** New shape with the same number of elements; one dim may be -1. */
export function reshape(x: Tensor, ...shape: (number | readonly number[])[]): Tensor {
  checkTensor(x, 'reshape', 'x');
  const dims = shape.length === 1 && Array.isArray(shape[0]) ? [...(shape[0] as number[])] : (shape as number[]);
  const target = inferShape(dims, x.size, x.shape);
  if (sameShape(target, x.shape)) return x;
  return record(x.view(target), 'reshape', [x], (g) => [g.view(x.shape)]);
}

function inferShape(dims: number[], size: number, from: Shape): number[] {
  let unknown = -1;
  let known = 1;
  dims.forEach((d, i) => {
    if (d === -1) {
      if (unknown >= 0) throw new Error(`reshape: only one dim may be -1, got ${shapeStr(dims)}`);
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new Error(`reshape: dims must be non-negative integers or -1, got ${shapeStr(dims)}`);
    } else known *= d;
  });
  const out = [...dims];
  if (unknown >= 0) {
    if (known === 0 || size % known !== 0) throw new Error(`reshape: cannot infer -1 in ${shapeStr(dims)} from ${shapeStr(from)} (${size} elements)`);
    out[unknown] = size / known;
  }
  if (sizeOf(out) !== size) throw new Error(`reshape: shape ${shapeStr(dims)} does not fit ${shapeStr(from)} (${size} elements)`);
  return out;
}

/** Flattens dims startDim..endDim into one (PyTorch's flatten). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor(x, 'flatten', 'x');
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis(startDim, x.ndim, 'flatten');
  const e = normAxis(endDim, x.ndim, 'flatten');
  if (s > e) throw new Error(`flatten: startDim (${startDim}) must not come after endDim (${endDim})`);
  const merged = x.shape.slice(s, e + 1).reduce((n, d) => n * d, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor(x, 'unsqueeze', 'x');
  const a = normAxis(axis, x.ndim + 1, 'unsqueeze');
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  checkTensor(x, 'squeeze', 'x');
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normAxis(axis, x.ndim, 'squeeze');
  if (x.shape[a] !== 1) return x;
  return reshape(
    x,
    x.shape.filter((_, i) => i !== a),
  );
}

/** Reorders the axes: output axis i is input axis dims[i]. */
export function permute(x: Tensor, ...dims: (number | readonly number[])[]): Tensor {
  checkTensor(x, 'permute', 'x');
  const perm = dims.length === 1 && Array.isArray(dims[0]) ? [...(dims[0] as number[])] : (dims as number[]);
  if (perm.length !== x.ndim) throw new Error(`permute: dims must list all ${x.ndim} axes of ${shapeStr(x.shape)}, got [${perm.join(', ')}]`);
  const p = perm.map((d) => normAxis(d, x.ndim, 'permute'));
  if (new Set(p).size !== p.length) throw new Error(`permute: dims must be a permutation, got [${perm.join(', ')}]`);
  if (p.every((d, i) => d === i)) return x;
  const outShape = p.map((d) => x.shape[d]);
  const out = run('permute', [x], outShape, (k, [a]) => k.permute(a, x.shape, p));
  const inverse = new Array<number>(p.length);
  p.forEach((d, i) => (inverse[d] = i));
  return record(out, 'permute', [x], (g) => [permute(g, inverse)]);
}

/** Swaps two axes. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  checkTensor(x, 'transpose', 'x');
  if (x.ndim < 2 && a === -2 && b === -1) return x;
  const i = normAxis(a, x.ndim, 'transpose');
  const j = normAxis(b, x.ndim, 'transpose');
  const perm = x.shape.map((_, k) => k);
  perm[i] = j;
  perm[j] = i;
  return permute(x, perm);
}

/** Broadcasts x to `shape` by NumPy rules (a copy; PyTorch's expand without the view). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  checkTensor(x, 'broadcastTo', 'x');
  if (sameShape(x.shape, shape)) return x;
  if (shape.length < x.ndim) throw new Error(`broadcastTo: cannot broadcast ${shapeStr(x.shape)} to fewer dims ${shapeStr(shape)}`);
  const padded = padShape(x.shape, shape.length);
  padded.forEach((d, i) => {
    if (d !== 1 && d !== shape[i]) throw new Error(`broadcastTo: cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)} (dim ${i}: ${d} vs ${shape[i]})`);
  });
  // x + 0 with broadcasting: the binary kernel is the copy that expands.
  const zero = new Tensor(allocate(x.dtype, 1), []);
  const ones = shape.map(() => 1);
  const out = run('binary', [x, zero], shape, (k, [a, z]) => k.binary('add', a, padded, z, ones, shape));
  return record(out, 'broadcastTo', [x], (g) => [sumToShape(g, x.shape)]);
}

/** Elements start..end-1 (step 1) along one axis; negative indices count from the end. */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  checkTensor(x, 'slice', 'x');
  const a = normAxis(axis, x.ndim, 'slice');
  const n = x.shape[a];
  const s = clampIndex(start, n);
  const e = clampIndex(end ?? n, n);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new Error(`slice: start and end must be integers, got ${start} and ${end}`);
  }
  const len = Math.max(0, e - s);
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const outShape = [...x.shape];
  outShape[a] = len;
  const out = run('sliceAxis', [x], outShape, (k, [b]) => k.sliceAxis(b, outer, n, s, len, inner));
  return record(out, 'slice', [x], (g) => [run('sliceAxisBackward', [g], x.shape, (k, [b]) => k.sliceAxisBackward(b, outer, n, s, len, inner))]);
}

function clampIndex(i: number, n: number): number {
  const j = i < 0 ? i + n : i;
  return Math.min(Math.max(j, 0), n);
}

function checkIndices(indices: ArrayLike<number>, n: number, op: string): void {
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new Error(`${op}: index ${v} at position ${i} is out of range [0, ${n})`);
  }
}

/** Picks entries along one axis by index (PyTorch's index_select); repeated indices accumulate in backward. */
export function indexSelect(x: Tensor, axis: number, indices: ArrayLike<number>): Tensor {
  checkTensor(x, 'indexSelect', 'x');
  const a = normAxis(axis, x.ndim, 'indexSelect');
  const n = x.shape[a];
  checkIndices(indices, n, 'indexSelect');
  const m = indices.length;
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const outShape = [...x.shape];
  outShape[a] = m;
  const idx = Int32Array.from(indices);
  const out = run('indexSelect', [x], outShape, (k, [b]) => k.indexSelect(b, outer, n, idx, inner));
  return record(out, 'indexSelect', [x], (g) => [run('indexSelectBackward', [g], x.shape, (k, [b]) => k.indexSelectBackward(b, outer, n, idx, inner))]);
}

/**
 * out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (PyTorch's gather): `index` has x's rank and,
 * off the gathered axis, dims no larger than x's.
 */
export function gather(x: Tensor, axis: number, index: ArrayLike<number>, indexShape: Shape): Tensor {
  checkTensor(x, 'gather', 'x');
  const a = normAxis(axis, x.ndim, 'gather');
  if (indexShape.length !== x.ndim) throw new Error(`gather: index must have rank ${x.ndim} like x ${shapeStr(x.shape)}, got ${shapeStr(indexShape)}`);
  if (sizeOf(indexShape) !== index.length)
    throw new Error(`gather: index holds ${index.length} values but indexShape ${shapeStr(indexShape)} needs ${sizeOf(indexShape)}`);
  indexShape.forEach((d, i) => {
    if (i !== a && d > x.shape[i]) throw new Error(`gather: index dim ${i} (${d}) exceeds x's ${x.shape[i]}`);
  });
  checkIndices(index, x.shape[a], 'gather');
  const xStrides = stridesOf(x.shape);
  const iStrides = stridesOf(indexShape);
  const src = new Int32Array(index.length);
  for (let flat = 0; flat < index.length; flat++) {
    let rem = flat;
    let off = 0;
    for (let d = 0; d < indexShape.length; d++) {
      const c = Math.floor(rem / iStrides[d]);
      rem -= c * iStrides[d];
      off += (d === a ? index[flat] : c) * xStrides[d];
    }
    src[flat] = off;
  }
  const out = run('gatherFlat', [x], indexShape, (k, [b]) => k.gatherFlat(b, src));
  return record(out, 'gather', [x], (g) => [run('scatterAddFlat', [g], x.shape, (k, [b]) => k.scatterAddFlat(b, src, x.size))]);
}

/** Concatenates along an existing axis. */
export function cat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('cat: tensors must be a non-empty array');
  tensors.forEach((t, i) => checkTensor(t, 'cat', `tensors[${i}]`));
  const first = tensors[0];
  const a = normAxis(axis, first.ndim, 'cat');
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new Error(`cat: dtypes must match, got tensors[0] ${first.dtype} and tensors[${i}] ${t.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((d: number, k: number) => k !== a && d !== first.shape[k])) {
      throw new Error(`cat: tensors[${i}] has shape ${shapeStr(t.shape)}, but every dim except axis ${a} must match tensors[0] ${shapeStr(first.shape)}`);
    }
  });
  const outer = sizeOf(first.shape.slice(0, a));
  const inner = sizeOf(first.shape.slice(a + 1));
  const total = tensors.reduce((n, t) => n + t.shape[a], 0);
  const outShape = [...first.shape];
  outShape[a] = total;
  const lens = tensors.map((t) => t.shape[a]);
  const out = run('concat', tensors, outShape, (k, xs) => k.concat(xs, outer, lens, inner));
  const offsets = lens.map((_, k) => lens.slice(0, k).reduce((sum, len) => sum + len, 0));
  return record(out, 'cat', tensors, (g) =>
    tensors.map((t, k) => (t.requiresGrad ? run('sliceAxis', [g], t.shape, (kern, [b]) => kern.sliceAxis(b, outer, total, offsets[k], lens[k], inner)) : null)),
  );
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('stack: tensors must be a non-empty array');
  const first = checkTensor(tensors[0], 'stack', 'tensors[0]');
  tensors.forEach((t, i) => {
    checkTensor(t, 'stack', `tensors[${i}]`);
    if (!sameShape(t.shape, first.shape))
      throw new Error(`stack: all tensors must have shape ${shapeStr(first.shape)}, got ${shapeStr(t.shape)} at tensors[${i}]`);
  });
  const a = normAxis(axis, first.ndim + 1, 'stack');
  return cat(
    tensors.map((t) => unsqueeze(t, a)),
    a,
  );
}

/**
 * Constant padding of the trailing dims, PyTorch's F.pad order: [left, right] for the last dim,
 * then [top, bottom] for the one before, and so on. Negative pads are not supported.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  checkTensor(x, 'pad', 'x');
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new Error(`pad: pads must hold an even number of values, at most 2 per dim of ${shapeStr(x.shape)}, got [${pads.join(', ')}]`);
  }
  for (const p of pads) if (!Number.isInteger(p) || p < 0) throw new Error(`pad: pads must be non-negative integers, got [${pads.join(', ')}]`);
  const before = new Array<number>(x.ndim).fill(0);
  const after = new Array<number>(x.ndim).fill(0);
  for (let k = 0; k < pads.length / 2; k++) {
    before[x.ndim - 1 - k] = pads[2 * k];
    after[x.ndim - 1 - k] = pads[2 * k + 1];
  }
  const outShape = x.shape.map((d, i) => d + before[i] + after[i]);
  const map = offsetsInto(x.shape, outShape, before);
  const size = sizeOf(outShape);
  const out = run('padConstant', [x], outShape, (k, [b]) => k.padConstant(b, map, size, value));
  return record(out, 'pad', [x], (g) => [run('gatherFlat', [g], x.shape, (k, [b]) => k.gatherFlat(b, map))]);
}

/** For each element of `inner` (row-major), its flat index inside `outer` when shifted by `offset`. */
function offsetsInto(inner: Shape, outer: Shape, offset: readonly number[]): Int32Array {
  const n = sizeOf(inner);
  const map = new Int32Array(n);
  const os = stridesOf(outer);
  const idx = new Array<number>(inner.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < inner.length; d++) off += (idx[d] + offset[d]) * os[d];
    map[i] = off;
    for (let d = inner.length - 1; d >= 0; d--) {
      if (++idx[d] < inner[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}
