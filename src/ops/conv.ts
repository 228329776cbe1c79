import { getBackend } from '../backend/current.js';
import { run, runMany } from '../backend/dispatch.js';
import { record } from '../autograd/record.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { matmul } from './matmul.js';
import { reshape } from './shape.js';
import { checkSameDtype, checkTensor, emptyLike, release, sumAxisRaw } from './util.js';
import { pair, windowGeometry, type Pair } from './window.js';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/**
 * Largest per-image product (multiply-adds) of the 1×1 route. Above it one image's product is
 * large enough to be split across threads by itself, and the one large GEMM of the im2col route
 * does better (measured forward + backward with bias, 8 images of 16 × 16, 2 threads: 128→128
 * (4.2M) 5.6–7.1 ms against 7.5 by im2col, 256→64 (4.2M) 5.2–6.3 against 7.6, but 256→128 (8.4M)
 * 13.0–16.2 against 11.4 and 256→256 (16.8M) 22.9–27.2 against 21.3).
 */
export const POINTWISE_MAX_MACS = 1 << 23;

/**
 * Whether conv2d takes its 1×1 route: 1×1 kernel, stride 1, no padding, one group, a per-image
 * product below POINTWISE_MAX_MACS, and a weight small enough for the gradient's partial sums;
 * on the host, no bias (the im2col route adds it, and sums its gradient, in its wasm layout pass,
 * where this route would take a broadcast add and two reductions in JavaScript: docs/design.md
 * §3.5.2).
 */
function pointwise(
  xShape: readonly number[],
  wShape: readonly number[],
  geom: { strideH: number; strideW: number; padH: number; padW: number },
  groups: number,
  hostBias: boolean,
): boolean {
  const [N, C, H, W] = xShape;
  const [OC, , kH, kW] = wShape;
  if (!(kH === 1 && kW === 1 && groups === 1 && geom.strideH === 1 && geom.strideW === 1 && geom.padH === 0 && geom.padW === 0)) return false;
  if (hostBias) return false;
  return OC * C * H * W < POINTWISE_MAX_MACS && N * OC * C <= N * H * W * (C + OC);
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch) by im2col + GEMM, per group:
 * out_g[oc, n·P] = W_g[oc, c·kh·kw] · cols_g. The columns are kept for the weight gradient; the
 * backward pass is gW = gy·colsᵀ, gx = col2im(Wᵀ·gy), gb = Σ gy.
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
    throw new Error(
      `conv2d: weight must be [outC, inC/groups, kH, kW] = [${OC}, ${C / groups}, ${kH}, ${kW}] for input ${shapeStr(x.shape)} with groups=${groups}, got ${shapeStr(weight.shape)}`,
    );
  }
  if (bias) {
    checkTensor(bias, 'conv2d', 'bias');
    if (bias.ndim !== 1 || bias.shape[0] !== OC) throw new Error(`conv2d: bias must be [${OC}], got ${shapeStr(bias.shape)}`);
    checkSameDtype(x, bias, 'conv2d', ['input', 'bias']);
  }
  const geom = windowGeometry(
    'conv2d',
    [N, C, H, W],
    [kH, kW],
    pair(options.stride ?? 1, 'conv2d', 'stride', 1),
    pair(options.padding ?? 0, 'conv2d', 'padding', 0),
    pair(options.dilation ?? 1, 'conv2d', 'dilation', 1),
  );
  const { outH, outW } = geom;
  // An empty batch, channel or output gives zeros (plus the bias), as in PyTorch: the im2col and
  // gemm kernels take sizes ≥ 1. The gradients of x and the weight are zeros of their shapes.
  if (N * outH * outW === 0 || OC === 0 || Cg * kH * kW === 0) {
    const y = record(emptyLike([N, OC, outH, outW], x.dtype), 'conv2d', [x, weight], () => [
      x.requiresGrad ? emptyLike(x.shape, x.dtype) : null,
      weight.requiresGrad ? emptyLike(weight.shape, weight.dtype) : null,
    ]);
    return bias ? add(y, reshape(bias, [1, OC, 1, 1])) : y;
  }
  // On the host the layout change, the bias and the bias gradient share one wasm pass (convSwap).
  const fused = getBackend().device === undefined;
  if (pointwise(x.shape, weight.shape, geom, groups, !!bias && fused)) {
    // A 1×1 conv at stride 1 without padding is one product per image on the NCHW layout as it is,
    // y[n] = W·x[n]: no im2col copy of the input, no layout swap of the output, nor their twins in
    // the backward pass (25–45% less CPU time forward and backward at the sizes of a Tucker
    // conv's 1×1 convs). The weight gradient sums N per-image products, so this route is taken
    // only where those partial sums are no larger than the copies it spares (docs/design.md §3.5.2).
    const y = matmul(reshape(weight, [OC, C]), reshape(x, [N, C, H * W]));
    return reshape(bias ? add(y, reshape(bias, [1, OC, 1])) : y, [N, OC, H, W]);
  }
  const P = outH * outW;
  const NP = N * P;
  const OCg = OC / groups;
  const K = Cg * kH * kW;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  // The columns of all channels are [groups, K, NP]: group g's rows follow group g − 1's, so one
  // batched GEMM (batch = groups) computes every group's W_g · cols_g.
  const cols = run('im2col', [x], [groups * K, NP], (k, [xb]) => k.im2col(xb, geom));
  const perGroup = (m: number, n: number, kk: number, transA: boolean, transB: boolean, aStride: number, bStride: number) => ({
    transA,
    transB,
    m,
    n,
    k: kk,
    batch: groups,
    lda: transA ? m : kk,
    ldb: transB ? kk : n,
    aOffset: 0,
    bOffset: 0,
    aBatchStride: aStride,
    bBatchStride: bStride,
  });
  const fwd = perGroup(OCg, NP, K, false, false, OCg * K, K * NP);
  const prod = run('gemm', [weight, cols], [OC, N, P], (k, [w, c]) => k.gemm(w, c, fwd));
  // On the host the layout change, the bias and (backward) the bias gradient share one parallel
  // pass (convSwap); a device keeps its own permute and broadcast add.
  let y: Tensor;
  if (fused) {
    const ins = bias ? [prod, bias] : [prod];
    y = runMany('convSwap', ins, [[N, OC, P]], (k, [p, b]) => [k.convSwap(p, OC, N, P, b ?? null, false).out])[0];
  } else y = run('permute', [prod], [N, OC, P], (k, [p]) => k.permute(p, [OC, N, P], [1, 0, 2]));
  release(prod);
  if (bias && !fused) {
    const withBias = run('binary', [y, bias], [N, OC, P], (k, [v, b]) => k.binary('add', v, [N, OC, P], b, [1, OC, 1], [N, OC, P]));
    release(y);
    y = withBias;
  }
  return record(y.view([N, OC, outH, outW]), 'conv2d', inputs, (gy) => {
    const wantGb = !!bias?.requiresGrad;
    let gyG: Tensor;
    let gbFused: Tensor | null = null;
    if (fused) {
      const outs = runMany('convSwap', [gy], wantGb ? [[OC, N, P], [OC]] : [[OC, N, P]], (k, [g]) => {
        const r = k.convSwap(g, N, OC, P, null, wantGb);
        return wantGb ? [r.out, r.sums!] : [r.out];
      });
      gyG = outs[0];
      gbFused = wantGb ? outs[1] : null;
    } else gyG = run('permute', [gy], [OC, N, P], (k, [g]) => k.permute(g, [N, OC, P], [1, 0, 2]));
    let gw: Tensor | null = null;
    if (weight.requiresGrad) {
      const args = perGroup(OCg, K, NP, false, true, OCg * NP, K * NP);
      gw = run('gemm', [gyG, cols], weight.shape, (k, [g, c]) => k.gemm(g, c, args));
    }
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      const args = perGroup(K, NP, OCg, true, false, OCg * K, OCg * NP);
      const gCols = run('gemm', [weight, gyG], [groups * K, NP], (k, [w, g]) => k.gemm(w, g, args));
      gx = run('col2im', [gCols], x.shape, (k, [c]) => k.col2im(c, geom));
      release(gCols);
    }
    // gb = Σ over images and positions: one sum per channel over the rows of gyG ([OC, N·P]).
    const gb = gbFused ?? (wantGb ? sumAxisRaw(gyG.view([OC, NP]), 1).view(bias!.shape) : null);
    release(gyG);
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}
