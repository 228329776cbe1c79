import { getBackend } from '../backend/index.js';
import { record } from '../autograd/record.js';
import { allocate, type TypedArray } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkSameDtype, checkTensor, dev, deviceFor, emptyLike, fromDevice } from './util.js';
import { deviceGemm } from './matmul.js';
import type { DeviceKernels } from '../backend/device.js';
import type { WindowGeometry } from '../backend/backend.js';
import { pair, windowGeometry, type Pair } from './window.js';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch) by im2col + GEMM, per group:
 * out_g[oc, n·P] = W_g[oc, c·kh·kw] · cols_g. The columns are kept for the weight gradient.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  checkTensor(x, 'conv2d', 'input');
  checkTensor(weight, 'conv2d', 'weight');
  if (x.ndim !== 4) throw new Error(`conv2d: input must be 4-D [batch, inC, H, W], got ${shapeStr(x.shape)}`);
  if (weight.ndim !== 4) throw new Error(`conv2d: weight must be 4-D [outC, inC/groups, kH, kW], got ${shapeStr(weight.shape)}`);
  checkSameDtype(x, weight, 'conv2d', ['input', 'weight']);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`conv2d: groups must be a positive integer, got ${groups}`);
  const [N, C, H, W] = x.shape;
  const [OC, Cg, kH, kW] = weight.shape;
  if (C % groups !== 0 || OC % groups !== 0) throw new Error(`conv2d: inC (${C}) and outC (${OC}) must be divisible by groups (${groups})`);
  if (Cg * groups !== C) {
    throw new Error(`conv2d: weight must be [outC, inC/groups, kH, kW] = [${OC}, ${C / groups}, ${kH}, ${kW}] for input ${shapeStr(x.shape)} with groups=${groups}, got ${shapeStr(weight.shape)}`);
  }
  if (bias) {
    checkTensor(bias, 'conv2d', 'bias');
    if (bias.ndim !== 1 || bias.shape[0] !== OC) throw new Error(`conv2d: bias must be [${OC}], got ${shapeStr(bias.shape)}`);
    checkSameDtype(x, bias, 'conv2d', ['input', 'bias']);
  }
  const geom = windowGeometry('conv2d', [N, C, H, W], [kH, kW], pair(options.stride ?? 1, 'conv2d', 'stride', 1), pair(options.padding ?? 0, 'conv2d', 'padding', 0), pair(options.dilation ?? 1, 'conv2d', 'dilation', 1));
  const { outH, outW } = geom;
  const P = outH * outW;
  const NP = N * P;
  const OCg = OC / groups;
  const K = Cg * kH * kW;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const device = groups === 1 ? deviceFor(inputs, [K * NP, N * OC * P, C * H * W * N]) : undefined;
  if (device) return conv2dOnDevice(device, x, weight, bias ?? null, geom);
  const backend = getBackend();
  const out = emptyLike([N, OC, outH, outW], x.dtype);
  const colsPerGroup: TypedArray[] = [];
  const tmp = allocate(x.dtype, OCg * NP);
  for (let g = 0; g < groups; g++) {
    const cols = allocate(x.dtype, K * NP);
    const gGeom = { ...geom, channelOffset: g * Cg, channels: Cg };
    backend.im2col(x.data, gGeom, cols);
    colsPerGroup.push(cols);
    backend.gemm({ transA: false, transB: false, m: OCg, n: NP, k: K, alpha: 1, a: weight.data, aOffset: g * OCg * K, lda: K, b: cols, bOffset: 0, ldb: NP, beta: 0, c: tmp, cOffset: 0, ldc: NP });
    // tmp is [oc, n, p]; out is [n, OC, p].
    for (let oc = 0; oc < OCg; oc++) {
      const b = bias ? bias.data[g * OCg + oc] : 0;
      for (let n = 0; n < N; n++) {
        const src = oc * NP + n * P;
        const dst = (n * OC + g * OCg + oc) * P;
        for (let p = 0; p < P; p++) out.data[dst + p] = tmp[src + p] + b;
      }
    }
  }
  return record(out, 'conv2d', inputs, (gy) => {
    const gx = x.requiresGrad ? emptyLike(x.shape, x.dtype) : null;
    const gw = weight.requiresGrad ? emptyLike(weight.shape, weight.dtype) : null;
    let gb: Tensor | null = null;
    const gyG = allocate(x.dtype, OCg * NP);
    const gCols = gx ? allocate(x.dtype, K * NP) : null;
    for (let g = 0; g < groups; g++) {
      for (let oc = 0; oc < OCg; oc++) {
        for (let n = 0; n < N; n++) {
          const src = (n * OC + g * OCg + oc) * P;
          gyG.set(gy.data.subarray(src, src + P), oc * NP + n * P);
        }
      }
      if (gw) {
        backend.gemm({ transA: false, transB: true, m: OCg, n: K, k: NP, alpha: 1, a: gyG, aOffset: 0, lda: NP, b: colsPerGroup[g], bOffset: 0, ldb: NP, beta: 0, c: gw.data, cOffset: g * OCg * K, ldc: K });
      }
      if (gx && gCols) {
        backend.gemm({ transA: true, transB: false, m: K, n: NP, k: OCg, alpha: 1, a: weight.data, aOffset: g * OCg * K, lda: K, b: gyG, bOffset: 0, ldb: NP, beta: 0, c: gCols, cOffset: 0, ldc: NP });
        backend.col2im(gCols, { ...geom, channelOffset: g * Cg, channels: Cg }, gx.data);
      }
    }
    if (bias && bias.requiresGrad) {
      gb = emptyLike(bias.shape, bias.dtype);
      for (let n = 0; n < N; n++) {
        for (let oc = 0; oc < OC; oc++) {
          let s = 0;
          const base = (n * OC + oc) * P;
          for (let p = 0; p < P; p++) s += gy.data[base + p];
          gb.data[oc] += s;
        }
      }
    }
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}

/**
 * The same im2col + GEMM on device buffers (one group): out = permute(W·cols) + bias, and in the
 * backward pass gW = gy·colsᵀ, gx = col2im(Wᵀ·gy), gb = Σ gy, never leaving the device.
 */
function conv2dOnDevice(device: DeviceKernels, x: Tensor, weight: Tensor, bias: Tensor | null, geom: WindowGeometry): Tensor {
  const { batch: N, outH, outW } = geom;
  const [OC, C, kH, kW] = weight.shape;
  const P = outH * outW;
  const NP = N * P;
  const K = C * kH * kW;
  const cols = fromDevice(device.im2col(dev(x, device), geom), [K, NP]);
  const prod = deviceGemm(device, dev(weight, device), dev(cols, device), false, false, OC, NP, K);
  let y = device.permute(prod, [OC, N, P], [1, 0, 2]);
  prod.release();
  if (bias) {
    const withBias = device.binary('add', y, [N, OC, P], dev(bias, device), [1, OC, 1], [N, OC, P]);
    y.release();
    y = withBias;
  }
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(fromDevice(y, [N, OC, outH, outW]), 'conv2d', inputs, (gy) => {
    const gyG = device.permute(dev(gy, device), [N, OC, P], [1, 0, 2]);
    const gw = weight.requiresGrad ? fromDevice(deviceGemm(device, gyG, dev(cols, device), false, true, OC, K, NP), weight.shape) : null;
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      const gCols = deviceGemm(device, dev(weight, device), gyG, true, false, K, NP, OC);
      gx = fromDevice(device.col2im(gCols, geom), x.shape);
      gCols.release();
    }
    gyG.release();
    let gb: Tensor | null = null;
    if (bias && bias.requiresGrad) {
      const perImage = device.sumAxis(dev(gy, device), [N, OC, P], 2);
      gb = fromDevice(device.sumAxis(perImage, [N, OC, 1], 0), bias.shape);
      perImage.release();
    }
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}
