/**
 * The GPU backend: gpu.js kernels on textures that stay on the GPU between ops (device.ts), and the
 * CPU's kernel table as its host side. Float64 work (linear algebra, gradient checks) and the
 * kernels without a device version run on the host, where the dispatcher reads the values back
 * first and counts it (backend/dispatch.ts).
 */
import type { TypedArray } from '../../tensor/dtype.js';
import type { Backend } from '../backend.js';
import { cpuKernels } from '../cpu/kernels.js';
import type { Kernels } from '../kernels.js';
import { GpuDevice, type GpuJsInstance, type GpuJsKernel } from './device.js';

/** The GL modes in which gpu.js really runs on a GPU (or Mesa's software rasteriser). */
export const GL_MODES = ['headlessgl', 'webgl2', 'webgl'] as const;

export interface GpuJsModule {
  GPU: new (settings?: Record<string, unknown>) => GpuJsInstance;
  HeadlessGLKernel?: unknown;
  WebGL2Kernel?: unknown;
  WebGLKernel?: unknown;
  WebAssemblyKernel?: unknown;
  CPUKernel?: unknown;
}

/** Which gpu.js kernel class actually ran a probe kernel: gpu.js falls back silently, so ask. */
export function kernelMode(lib: GpuJsModule, kernel: GpuJsKernel): string {
  const inner = kernel.kernel;
  const classes: [string, unknown][] = [
    ['headlessgl', lib.HeadlessGLKernel],
    ['webgl2', lib.WebGL2Kernel],
    ['webgl', lib.WebGLKernel],
    ['webasm', lib.WebAssemblyKernel],
    ['cpu', lib.CPUKernel],
  ];
  for (const [name, cls] of classes) if (typeof cls === 'function' && inner instanceof (cls as new () => unknown)) return name;
  return 'unknown';
}

/**
 * Opens gpu.js in `mode` (gpu.js's own names; undefined lets gpu.js choose) and reports the mode a
 * probe kernel really ran in, checking that it computes.
 */
export function openGpu(lib: GpuJsModule, mode?: string): { gpu: GpuJsInstance; mode: string } {
  const gpu = new lib.GPU(mode === undefined ? {} : { mode });
  const probe = gpu.createKernel('function(a) { return a[this.thread.x] * 2; }', { output: [3], precision: 'single' });
  const out = probe(new Float32Array([1, 2, 3])) as ArrayLike<number>;
  const actual = kernelMode(lib, probe);
  probe.destroy?.(false);
  if (out[0] !== 2 || out[1] !== 4 || out[2] !== 6)
    throw new Error(`gpu: the probe kernel in mode ${actual} computed [${Array.from(out).join(', ')}], expected [2, 4, 6]`);
  return { gpu, mode: actual };
}

export class GpuBackend implements Backend {
  readonly name: string;
  readonly host: Kernels<TypedArray> = cpuKernels;
  readonly device: GpuDevice;

  constructor(gpu: GpuJsInstance, mode: string) {
    this.device = new GpuDevice(gpu, mode);
    this.name = `gpu (gpu.js ${mode})`;
  }
}
