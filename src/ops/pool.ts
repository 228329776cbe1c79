import { run, runMany } from '../backend/dispatch.js';
import { record } from '../autograd/record.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkTensor } from './util.js';
import { pair, windowGeometry, type Pair } from './window.js';

export interface PoolOptions {
  /** Defaults to the kernel size, as in PyTorch. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

function check4d(x: Tensor, op: string): void {
  checkTensor(x, op, 'input');
  if (x.ndim !== 4) throw new Error(`${op}: input must be 4-D [batch, C, H, W], got ${shapeStr(x.shape)}`);
}

function poolGeometry(op: string, x: Tensor, kernelSize: Pair, options: PoolOptions) {
  const k = pair(kernelSize, op, 'kernelSize', 1);
  const pad = pair(options.padding ?? 0, op, 'padding', 0);
  if (pad[0] * 2 > k[0] || pad[1] * 2 > k[1]) throw new Error(`${op}: padding must be at most half the kernel size ${k.join('×')}, got ${pad.join('×')}`);
  return windowGeometry(op, x.shape, k, pair(options.stride ?? k, op, 'stride', 1), pad, pair(options.dilation ?? 1, op, 'dilation', 1));
}

export function maxPool2d(x: Tensor, kernelSize: Pair, options: PoolOptions = {}): Tensor {
  check4d(x, 'maxPool2d');
  const g = poolGeometry('maxPool2d', x, kernelSize, options);
  const outShape = [g.batch, g.channels, g.outH, g.outW];
  const [out, where] = runMany('maxPool2d', [x], [outShape, outShape], (k, [xb]) => {
    const r = k.maxPool2d(xb, g);
    return [r.out, r.index];
  });
  return record(out, 'maxPool2d', [x], (gy) => [run('maxPool2dBackward', [gy, where], x.shape, (k, [gb, idx]) => k.maxPool2dBackward(gb, idx, g))]);
}

export function avgPool2d(x: Tensor, kernelSize: Pair, options: PoolOptions & { countIncludePad?: boolean } = {}): Tensor {
  check4d(x, 'avgPool2d');
  const g = poolGeometry('avgPool2d', x, kernelSize, { ...options, dilation: 1 });
  const include = options.countIncludePad ?? true;
  const outShape = [g.batch, g.channels, g.outH, g.outW];
  const out = run('avgPool2d', [x], outShape, (k, [xb]) => k.avgPool2d(xb, g, include));
  return record(out, 'avgPool2d', [x], (gy) => [run('avgPool2dBackward', [gy], x.shape, (k, [gb]) => k.avgPool2dBackward(gb, g, include))]);
}

/**
 * Adaptive average pooling to a fixed output size; window i covers [⌊i·H/out⌋, ⌈(i+1)·H/out⌉)
 * as in PyTorch, so the windows may overlap or differ in size.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  check4d(x, 'adaptiveAvgPool2d');
  const [oh, ow] = pair(outputSize, 'adaptiveAvgPool2d', 'outputSize', 1);
  const [N, C, H, W] = x.shape;
  const planes = N * C;
  const out = run('adaptiveAvgPool2d', [x], [N, C, oh, ow], (k, [b]) => k.adaptiveAvgPool2d(b, planes, H, W, oh, ow));
  return record(out, 'adaptiveAvgPool2d', [x], (gy) => [
    run('adaptiveAvgPool2dBackward', [gy], x.shape, (k, [b]) => k.adaptiveAvgPool2dBackward(b, planes, H, W, oh, ow)),
  ]);
}
