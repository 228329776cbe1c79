import { run } from '../backend/dispatch.js';
import { record } from '../autograd/record.js';
import { broadcastShapes, shapeStr, sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo, reshape } from './shape.js';
import { checkSameDtype, checkTensor, emptyLike, release, sumAxisRaw, sumToShape } from './util.js';

/** One row-major product op(A)·op(B) of 2-D operands (A is m×k, or k×m when transA), no tape. */
export function gemm2d(a: Tensor, b: Tensor, transA: boolean, transB: boolean, m: number, n: number, k: number): Tensor {
  // An empty dimension gives zeros, as in matmulRaw: the gemm kernels take sizes ≥ 1.
  if (m === 0 || n === 0 || k === 0) return emptyLike([m, n], a.dtype);
  const args = { transA, transB, m, n, k, batch: 1, lda: transA ? m : k, ldb: transB ? k : n, aOffset: 0, bOffset: 0, aBatchStride: 0, bBatchStride: 0 };
  return run('gemm', [a, b], [m, n], (kern, [x, y]) => kern.gemm(x, y, args));
}

/**
 * Batched product of the last two dims, batch dims broadcast (NumPy/PyTorch matmul). Either side
 * may be stored transposed (`transA`: a holds [..., k, m]); no tape.
 */
export function matmulRaw(a: Tensor, b: Tensor, transA: boolean, transB: boolean, op = 'matmul'): Tensor {
  checkSameDtype(a, b, op, ['a', 'b']);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) {
    throw new Error(
      `${op}: inner dims must match: a is ${shapeStr(a.shape)}${transA ? 'ᵀ' : ''}, b is ${shapeStr(b.shape)}${transB ? 'ᵀ' : ''} (${k} vs ${kb})`,
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch, op);
  const nb = sizeOf(batch);
  const outShape = [...batch, m, n];
  // An empty dimension gives zeros, as in PyTorch ([2,0]@[0,4] is a [2,4] of zeros): the gemm kernels take sizes ≥ 1.
  if (m === 0 || n === 0 || k === 0 || nb === 0) return emptyLike(outShape, a.dtype);
  // A batch of plain matrices times one shared matrix folds into one big GEMM (the rows stacked).
  if (bBatch.length === 0 && !transA && aBatch.length > 0) return gemm2d(a, b, false, transB, sizeOf(aBatch) * m, n, k).view(outShape);
  // The kernel broadcasts a whole side only (batch stride 0); a partial broadcast is expanded first.
  const whole = (t: Tensor, tb: readonly number[]): Tensor =>
    sizeOf(tb) === 1 || (sizeOf(tb) === nb && tb.length === batch.length) ? t : broadcastTo(t.detach(), [...batch, ...t.shape.slice(-2)]);
  const A = whole(a, aBatch);
  const B = whole(b, bBatch);
  const args = {
    transA,
    transB,
    m,
    n,
    k,
    batch: nb,
    lda: ac,
    ldb: bc,
    aOffset: 0,
    bOffset: 0,
    aBatchStride: A.size > ar * ac ? ar * ac : 0,
    bBatchStride: B.size > br * bc ? br * bc : 0,
  };
  const out = run('gemm', [A, B], outShape, (kern, [x, y]) => kern.gemm(x, y, args));
  if (A !== a) release(A);
  if (B !== b) release(B);
  return out;
}

/** a @ b with PyTorch's rules: 1-D operands are promoted (and the added dim removed again). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor(a, 'matmul', 'a');
  checkTensor(b, 'matmul', 'b');
  if (a.ndim === 0 || b.ndim === 0) throw new Error(`matmul: operands must be at least 1-D, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  if (a.ndim === 1) {
    const r = matmul(reshape(a, [1, a.shape[0]]), b);
    return reshape(r, [...r.shape.slice(0, -2), r.shape[r.ndim - 1]]);
  }
  if (b.ndim === 1) {
    const r = matmul(a, reshape(b, [b.shape[0], 1]));
    return reshape(r, r.shape.slice(0, -1));
  }
  const out = matmulRaw(a, b, false, false);
  return record(out, 'matmul', [a, b], (g) => [
    a.requiresGrad ? sumToShape(matmulRaw(g, b, false, true), a.shape) : null,
    b.requiresGrad ? sumToShape(matmulRaw(a, g, true, false), b.shape) : null,
  ]);
}

/** x·Wᵀ + b over the last dim of x (PyTorch's F.linear): weight is [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor(x, 'linear', 'input');
  checkTensor(weight, 'linear', 'weight');
  if (weight.ndim !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${shapeStr(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    throw new Error(`linear: input's last dim must be in_features = ${inF} (weight ${shapeStr(weight.shape)}), got input ${shapeStr(x.shape)}`);
  }
  checkSameDtype(x, weight, 'linear', ['input', 'weight']);
  if (bias) {
    checkTensor(bias, 'linear', 'bias');
    if (bias.ndim !== 1 || bias.shape[0] !== outF) throw new Error(`linear: bias must be [${outF}], got ${shapeStr(bias.shape)}`);
    checkSameDtype(x, bias, 'linear', ['input', 'bias']);
  }
  const rows = sizeOf(x.shape.slice(0, -1)); // not x.size / inF, which is 0 / 0 when in_features is 0
  const outShape = [...x.shape.slice(0, -1), outF];
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const x2 = x.view([rows, inF]);
  let y = gemm2d(x2, weight, false, true, rows, outF, inF);
  if (bias) {
    const withBias = run('binary', [y, bias], [rows, outF], (kern, [p, c]) => kern.binary('add', p, [rows, outF], c, [1, outF], [rows, outF]));
    release(y);
    y = withBias;
  }
  return record(y.view(outShape), 'linear', inputs, (g) => {
    const g2 = g.view([rows, outF]);
    const gx = x.requiresGrad ? gemm2d(g2, weight, false, false, rows, inF, outF).view(x.shape) : null;
    const gw = weight.requiresGrad ? gemm2d(g2, x2, true, false, outF, inF, rows) : null;
    const gb = bias?.requiresGrad ? sumAxisRaw(g2, 0).view(bias.shape) : null;
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}
