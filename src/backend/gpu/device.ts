/**
 * The gpu.js device: compiles the kernels of sources.ts (once per shape), runs them in pipeline
 * mode so results stay in textures, and counts the textures alive so leaks show up in tests.
 */
import { allocate } from '../../tensor/dtype.js';
import type { DeviceArray } from '../../tensor/storage.js';
import type { BinaryOp, UnaryOp, WindowGeometry } from '../backend.js';
import { MAX_DEVICE_ELEMENTS, type DeviceGemmArgs, type DeviceKernels } from '../device.js';
import type { AdamScalars, SgdScalars } from '../kernels.js';
import * as src from './sources.js';

/** What this module needs of gpu.js (kept structural so the browser and Node builds both fit). */
export interface GpuJsTexture {
  toArray(): unknown;
  delete(): void;
}
export type GpuJsResult = GpuJsTexture | Float32Array;
export interface GpuJsKernel {
  (...args: unknown[]): GpuJsResult;
  destroy?(removeCanvasReferences?: boolean): void;
  kernel?: unknown;
}
export interface GpuJsInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuJsKernel;
  destroy?(): void;
}

const KERNEL_CACHE_LIMIT = 512;

class GpuArray implements DeviceArray {
  private released = false;
  constructor(
    readonly raw: GpuJsResult,
    readonly length: number,
    private readonly owner: GpuDevice,
  ) {
    owner.live++;
  }
  read(): Float32Array {
    if (this.released) throw new Error('gpu: read of a released device buffer');
    const values = this.raw instanceof Float32Array ? this.raw : (this.raw.toArray() as Float32Array);
    if (values.length < this.length) throw new Error(`gpu: read back ${values.length} values, expected ${this.length}`);
    const out = allocate('float32', this.length) as Float32Array;
    out.set(values.length === this.length ? values : values.subarray(0, this.length));
    return out;
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    this.owner.live--;
    if (!(this.raw instanceof Float32Array)) this.raw.delete();
  }
}

function raw(d: DeviceArray): GpuJsResult {
  if (!(d instanceof GpuArray)) throw new Error('gpu: got a device buffer of another device');
  return d.raw;
}

/** The GPU's kernel table: the kernels with a device version (the dispatcher runs any other on the host). */
export class GpuDevice implements DeviceKernels {
  live = 0;
  private readonly kernels = new Map<string, GpuJsKernel>();

  constructor(
    private readonly gpu: GpuJsInstance,
    readonly mode: string,
  ) {}

  liveBuffers(): number {
    return this.live;
  }

  /** Kernels compiled so far (each distinct source and output size is one). */
  compiledKernels(): number {
    return this.kernels.size;
  }

  private run(source: string, size: number, args: unknown[]): DeviceArray {
    if (!(size >= 1 && size <= MAX_DEVICE_ELEMENTS)) throw new Error(`gpu: kernel output must hold 1…${MAX_DEVICE_ELEMENTS} elements, got ${size}`);
    // Argument sizes are part of the key: a kernel is compiled for the texture sizes it first saw.
    const sizes = args
      .map((a) =>
        typeof a === 'number' ? 's' : ((a as { length?: number; output?: number[] }).length ?? (a as { output?: number[] }).output?.join('x') ?? '?'),
      )
      .join(',');
    const key = `${size}|${sizes}|${source}`;
    let kernel = this.kernels.get(key);
    if (kernel === undefined) {
      if (this.kernels.size >= KERNEL_CACHE_LIMIT) this.evictOldest();
      kernel = this.gpu.createKernel(source, {
        output: [size],
        pipeline: true,
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        dynamicOutput: false,
        dynamicArguments: false,
      });
      this.kernels.set(key, kernel);
    } else {
      // Map order doubles as recency for eviction.
      this.kernels.delete(key);
      this.kernels.set(key, kernel);
    }
    return new GpuArray(kernel(...args), size, this);
  }

  private evictOldest(): void {
    const [key, k] = this.kernels.entries().next().value as [string, GpuJsKernel];
    this.kernels.delete(key);
    k.destroy?.(false);
  }

  upload(data: Float32Array): DeviceArray {
    // WebGL uploads refuse views of a SharedArrayBuffer.
    const plain = data.buffer instanceof ArrayBuffer ? data : new Float32Array(data);
    return this.run(src.copySource(), data.length, [plain]);
  }

  unary(op: UnaryOp, x: DeviceArray): DeviceArray {
    return this.run(src.unarySource(op), x.length, [raw(x)]);
  }

  binary(op: BinaryOp, a: DeviceArray, aShape: readonly number[], b: DeviceArray, bShape: readonly number[], outShape: readonly number[]): DeviceArray {
    const size = outShape.reduce((n, d) => n * d, 1);
    return this.run(src.binarySource(op, aShape, bShape, outShape), size, [raw(a), raw(b)]);
  }

  copy(x: DeviceArray): DeviceArray {
    return this.run(src.copySource(), x.length, [raw(x)]);
  }

  private axpby(a: DeviceArray, alpha: number, b: DeviceArray, beta: number): DeviceArray {
    if (a.length !== b.length) throw new Error(`gpu axpby: a has ${a.length} elements, b ${b.length}`);
    return this.run(src.axpbySource(), a.length, [raw(a), raw(b), alpha, beta]);
  }

  accumulate(target: DeviceArray, g: DeviceArray): DeviceArray {
    return this.axpby(target, 1, g, 1);
  }

  /** SGD as axpby kernels: d = g + wd·w; v = μv + (1 − dampening)d (d at the first step); w − lr·(d + μv or v). */
  sgdStep(w: DeviceArray, g: DeviceArray, v: DeviceArray | null, s: SgdScalars): { w: DeviceArray; v: DeviceArray | null } {
    const d = s.weightDecay !== 0 ? this.axpby(g, 1, w, s.weightDecay) : g;
    let step = d;
    let v1: DeviceArray | null = v;
    if (s.momentum !== 0) {
      v1 = v === null ? this.axpby(d, 1, d, 0) : this.axpby(v, s.momentum, d, 1 - s.dampening);
      step = s.nesterov ? this.axpby(d, 1, v1, s.momentum) : v1;
    }
    const w1 = this.axpby(w, 1, step, -s.lr);
    if (step !== d && step !== v1) step.release();
    if (d !== g) d.release();
    return { w: w1, v: v1 };
  }

  adamStep(w: DeviceArray, g: DeviceArray, m: DeviceArray, v: DeviceArray, s: AdamScalars): { w: DeviceArray; m: DeviceArray; v: DeviceArray } {
    const n = w.length;
    if (g.length !== n || m.length !== n || v.length !== n)
      throw new Error(`gpu adamStep: w, g, m, v must have one length, got ${n}, ${g.length}, ${m.length}, ${v.length}`);
    const m1 = this.run(src.adamMomentSource(1), n, [raw(m), raw(g), raw(w), s.beta1, s.wdCoupled]);
    const v1 = this.run(src.adamMomentSource(2), n, [raw(v), raw(g), raw(w), s.beta2, s.wdCoupled]);
    const w1 = this.run(src.adamWeightSource(), n, [raw(w), raw(m1), raw(v1), s.lr, s.wdDecoupled, s.c1, s.c2, s.eps]);
    return { w: w1, m: m1, v: v1 };
  }

  sumAxis(x: DeviceArray, shape: readonly number[], axis: number): DeviceArray {
    const outer = shape.slice(0, axis).reduce((n, d) => n * d, 1);
    const inner = shape.slice(axis + 1).reduce((n, d) => n * d, 1);
    return this.run(src.sumAxisSource(outer, shape[axis], inner), outer * inner, [raw(x)]);
  }

  extremeRows(kind: 'max' | 'min', x: DeviceArray, outer: number, inner: number): { values: DeviceArray; index: DeviceArray } {
    return {
      values: this.run(src.extremeRowsSource(kind, inner, 'value'), outer, [raw(x)]),
      index: this.run(src.extremeRowsSource(kind, inner, 'index'), outer, [raw(x)]),
    };
  }

  pickRows(x: DeviceArray, index: DeviceArray, outer: number, inner: number): DeviceArray {
    return this.run(src.pickRowsSource(inner), outer, [raw(x), raw(index)]);
  }

  scatterRows(g: DeviceArray, index: DeviceArray, outer: number, inner: number): DeviceArray {
    return this.run(src.scatterRowsSource(inner), outer * inner, [raw(g), raw(index)]);
  }

  permute(x: DeviceArray, shape: readonly number[], perm: readonly number[]): DeviceArray {
    return this.run(src.permuteSource(shape, perm), x.length, [raw(x)]);
  }

  gemm(a: DeviceArray, b: DeviceArray, args: DeviceGemmArgs): DeviceArray {
    return this.run(src.gemmSource(args), args.batch * args.m * args.n, [raw(a), raw(b)]);
  }

  im2col(x: DeviceArray, g: WindowGeometry): DeviceArray {
    return this.run(src.im2colSource(g), g.channels * g.kH * g.kW * g.batch * g.outH * g.outW, [raw(x)]);
  }

  col2im(cols: DeviceArray, g: WindowGeometry): DeviceArray {
    return this.run(src.col2imSource(g), g.batch * g.totalChannels * g.inH * g.inW, [raw(cols)]);
  }

  maxPool2d(x: DeviceArray, g: WindowGeometry): { out: DeviceArray; index: DeviceArray } {
    const size = g.batch * g.channels * g.outH * g.outW;
    return {
      out: this.run(src.maxPoolSource(g, 'value'), size, [raw(x)]),
      index: this.run(src.maxPoolSource(g, 'index'), size, [raw(x)]),
    };
  }

  maxPool2dBackward(gy: DeviceArray, index: DeviceArray, g: WindowGeometry): DeviceArray {
    return this.run(src.maxPoolBackwardSource(g), g.batch * g.channels * g.inH * g.inW, [raw(gy), raw(index)]);
  }

  avgPool2d(x: DeviceArray, g: WindowGeometry, countIncludePad: boolean): DeviceArray {
    return this.run(src.avgPoolSource(g, countIncludePad), g.batch * g.channels * g.outH * g.outW, [raw(x)]);
  }

  avgPool2dBackward(gy: DeviceArray, g: WindowGeometry, countIncludePad: boolean): DeviceArray {
    return this.run(src.avgPoolBackwardSource(g, countIncludePad), g.batch * g.channels * g.inH * g.inW, [raw(gy)]);
  }

  cumsum(x: DeviceArray, outer: number, len: number, inner: number, reverse: boolean): DeviceArray {
    // Thread i = (o, j, k) sums x[o, l, k] over l ≤ j (l ≥ j in reverse); len is a literal bound.
    const source = `function(x) {
  const i = this.thread.x;
  const o = Math.floor((i + 0.5) / ${len * inner});
  const j = Math.floor((i - o * ${len * inner} + 0.5) / ${inner});
  const k = i - o * ${len * inner} - j * ${inner};
  let s = 0;
  for (let l = 0; l < ${len}; l++) {
    if (l ${reverse ? '>=' : '<='} j) { s += x[(o * ${len} + l) * ${inner} + k]; }
  }
  return s;
}`;
    return this.run(source, outer * len * inner, [raw(x)]);
  }

  /** Frees every compiled kernel (textures already handed out stay valid until released). */
  dispose(): void {
    for (const k of this.kernels.values()) k.destroy?.(false);
    this.kernels.clear();
  }
}
