import { getBackend } from '../backend/index.js';
import { record } from '../autograd/record.js';
import { broadcastShapes, shapeStr, sizeOf, stridesOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { reshape } from './shape.js';
import { checkSameDtype, checkTensor, dev, deviceFor, emptyLike, fromDevice, padShape, sumToShape } from './util.js';
import type { DeviceKernels } from '../backend/device.js';
import type { DeviceArray } from '../tensor/storage.js';

/** One row-major product op(A)·op(B) on device buffers (lda/ldb as in GemmArgs). */
export function deviceGemm(device: DeviceKernels, a: DeviceArray, b: DeviceArray, transA: boolean, transB: boolean, m: number, n: number, k: number): DeviceArray {
  return device.gemm(a, b, { transA, transB, m, n, k, batch: 1, lda: transA ? m : k, ldb: transB ? k : n, aOffset: 0, bOffset: 0, aBatchStride: 0, bBatchStride: 0 });
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
    throw new Error(`${op}: inner dims must match: a is ${shapeStr(a.shape)}${transA ? 'ᵀ' : ''}, b is ${shapeStr(b.shape)}${transB ? 'ᵀ' : ''} (${k} vs ${kb})`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch, op);
  const lda = ac;
  const ldb = bc;
  const nb0 = sizeOf(batch);
  // An empty dimension gives zeros, as in PyTorch ([2,0]@[0,4] is a [2,4] of zeros): the gemm kernels take sizes ≥ 1.
  if (m === 0 || n === 0 || k === 0 || nb0 === 0) return emptyLike([...batch, m, n], a.dtype);
  // On the device a batch broadcasts only whole: each side either has every batch entry or one.
  const aFull = sizeOf(aBatch) === nb0 && aBatch.length === batch.length;
  const bFull = sizeOf(bBatch) === nb0 && bBatch.length === batch.length;
  const device = (aFull || sizeOf(aBatch) === 1) && (bFull || sizeOf(bBatch) === 1) ? deviceFor([a, b], [nb0 * m * n]) : undefined;
  if (device) {
    const c = device.gemm(dev(a, device), dev(b, device), {
      transA, transB, m, n, k, batch: nb0, lda, ldb, aOffset: 0, bOffset: 0,
      aBatchStride: aFull && nb0 > 1 ? ar * ac : 0,
      bBatchStride: bFull && nb0 > 1 ? br * bc : 0,
    });
    return fromDevice(c, [...batch, m, n]);
  }
  const out = emptyLike([...batch, m, n], a.dtype);
  const backend = getBackend();
  // A batch of plain matrices times one shared, untransposed-A matrix folds into one big GEMM.
  if (bBatch.length === 0 && !transA && aBatch.length > 0) {
    const rows = sizeOf(aBatch) * m;
    backend.gemm({ transA, transB, m: rows, n, k, alpha: 1, a: a.data, aOffset: 0, lda, b: b.data, bOffset: 0, ldb, beta: 0, c: out.data, cOffset: 0, ldc: n });
    return out;
  }
  const nb = sizeOf(batch);
  const aPad = padShape(aBatch, batch.length);
  const bPad = padShape(bBatch, batch.length);
  const aStr = stridesOf(aPad);
  const bStr = stridesOf(bPad);
  const oStr = stridesOf(batch);
  for (let t = 0; t < nb; t++) {
    let ai = 0;
    let bi = 0;
    let rem = t;
    for (let d = 0; d < batch.length; d++) {
      const c = Math.floor(rem / oStr[d]);
      rem -= c * oStr[d];
      if (aPad[d] !== 1) ai += c * aStr[d];
      if (bPad[d] !== 1) bi += c * bStr[d];
    }
    backend.gemm({
      transA, transB, m, n, k, alpha: 1,
      a: a.data, aOffset: ai * ar * ac, lda,
      b: b.data, bOffset: bi * br * bc, ldb,
      beta: 0, c: out.data, cOffset: t * m * n, ldc: n,
    });
  }
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
  const rows = x.size / inF;
  const outShape = [...x.shape.slice(0, -1), outF];
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const device = deviceFor(inputs, [rows * outF]);
  if (device) return linearOnDevice(device, x, weight, bias ?? null, rows, inF, outF, outShape);
  const out = emptyLike(outShape, x.dtype);
  const backend = getBackend();
  if (bias) for (let r = 0; r < rows; r++) out.data.set(bias.data, r * outF);
  backend.gemm({ transA: false, transB: true, m: rows, n: outF, k: inF, alpha: 1, a: x.data, aOffset: 0, lda: inF, b: weight.data, bOffset: 0, ldb: inF, beta: bias ? 1 : 0, c: out.data, cOffset: 0, ldc: outF });
  return record(out, 'linear', inputs, (g) => {
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = emptyLike(x.shape, x.dtype);
      backend.gemm({ transA: false, transB: false, m: rows, n: inF, k: outF, alpha: 1, a: g.data, aOffset: 0, lda: outF, b: weight.data, bOffset: 0, ldb: inF, beta: 0, c: gx.data, cOffset: 0, ldc: inF });
    }
    if (weight.requiresGrad) {
      gw = emptyLike(weight.shape, weight.dtype);
      backend.gemm({ transA: true, transB: false, m: outF, n: inF, k: rows, alpha: 1, a: g.data, aOffset: 0, lda: outF, b: x.data, bOffset: 0, ldb: inF, beta: 0, c: gw.data, cOffset: 0, ldc: inF });
    }
    if (bias && bias.requiresGrad) {
      gb = emptyLike(bias.shape, bias.dtype);
      backend.sumAxis(g.data, [rows, outF], 0, gb.data);
    }
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}

function linearOnDevice(device: DeviceKernels, x: Tensor, weight: Tensor, bias: Tensor | null, rows: number, inF: number, outF: number, outShape: number[]): Tensor {
  let y = deviceGemm(device, dev(x, device), dev(weight, device), false, true, rows, outF, inF);
  if (bias) {
    const withBias = device.binary('add', y, [rows, outF], dev(bias, device), [1, outF], [rows, outF]);
    y.release();
    y = withBias;
  }
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(fromDevice(y, outShape), 'linear', inputs, (g) => {
    const gd = dev(g, device);
    const gx = x.requiresGrad ? fromDevice(deviceGemm(device, gd, dev(weight, device), false, false, rows, inF, outF), x.shape) : null;
    const gw = weight.requiresGrad ? fromDevice(deviceGemm(device, gd, dev(x, device), true, false, outF, inF, rows), weight.shape) : null;
    const gb = bias && bias.requiresGrad ? fromDevice(device.sumAxis(gd, [rows, outF], 0), bias.shape) : null;
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}
