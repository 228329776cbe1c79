import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/index.js';
import { getBackend, installBackend } from './current.js';
import type { DeviceKernels } from './device.js';
import { GL_MODES, GpuBackend, openGpu, type GpuJsModule } from './gpu/index.js';

export type { Backend, GemmArgs, WindowGeometry, UnaryOp, BinaryOp } from './backend.js';
export type { DeviceKernels, DeviceGemmArgs } from './device.js';
export type { Kernels, KernelName, BatchedGemmArgs } from './kernels.js';
export { kernelReport, resetKernelReport, formatKernelReport, type KernelStats, type FallbackReason } from './dispatch.js';
export { getBackend };
/** The CPU backend's thread and SIMD switches (re-exported so nothing outside backend/ imports cpu/). */
export { getNumThreads, setNumThreads, setSimd, simdEnabled } from './cpu/index.js';

/** The device kernels of the current backend, if its tensors can live on a device. */
export function getDevice(): DeviceKernels | undefined {
  return getBackend().device;
}

/**
 * Switches the kernels behind every op. Tensors keep their values wherever they are: a tensor left
 * on the GPU is read back the first time a CPU kernel needs it. With a name ('cpu' | 'gpu' |
 * 'auto') it is initBackend(name), and returns its promise (as TensorFlow.js's setBackend does).
 */
export function setBackend(backend: Backend): void;
export function setBackend(name: BackendName): Promise<BackendChoice>;
export function setBackend(backend: Backend | BackendName): undefined | Promise<BackendChoice> {
  if (typeof backend === 'string') return initBackend(backend);
  if (!backend || typeof backend.name !== 'string' || typeof backend.host?.gemm !== 'function') {
    throw new Error('setBackend: backend must implement the Backend interface (a name and a host kernel table)');
  }
  installBackend(backend);
  return undefined;
}

export type BackendName = 'cpu' | 'gpu' | 'auto';

export interface BackendChoice {
  /** What runs now: 'cpu' or 'gpu'. */
  backend: 'cpu' | 'gpu';
  /** The gpu.js mode the GPU kernels run in ('headlessgl', 'webgl2', 'webgl'), or 'cpu'. */
  mode: string;
  /** Why the CPU was chosen where a GPU was asked for ('' otherwise). */
  reason: string;
}

let gpuLib: GpuJsModule | undefined;
let cachedGpu: GpuBackend | undefined;
let warned = false;

async function loadGpuJs(): Promise<GpuJsModule> {
  if (gpuLib === undefined) {
    const mod = (await import('gpu.js')) as unknown as GpuJsModule & { default?: GpuJsModule };
    gpuLib = typeof mod.GPU === 'function' ? mod : (mod.default as GpuJsModule);
  }
  return gpuLib;
}

/** Opens the GPU backend once (kernels compile lazily); throws when gpu.js has no GL context. */
async function gpuBackend(): Promise<GpuBackend> {
  if (cachedGpu) return cachedGpu;
  const lib = await loadGpuJs();
  const { gpu, mode } = openGpu(lib);
  if (!(GL_MODES as readonly string[]).includes(mode)) {
    gpu.destroy?.();
    const hint =
      typeof process !== 'undefined' && process.versions?.node
        ? ' In Node, gpu.js reaches the GPU through headless-gl (the optional `gl` package), which needs an X display: on Linux run under `xvfb-run -a` (Debian: xvfb and Mesa), or on a desktop session.'
        : ' This browser offers no WebGL context.';
    throw new Error(`gpu: gpu.js found no GL context (it would run in '${mode}' mode).${hint}`);
  }
  cachedGpu = new GpuBackend(gpu, mode);
  return cachedGpu;
}

/**
 * Chooses the backend by name: 'cpu'; 'gpu' (fails with a clear error where gpu.js has no GL
 * context); 'auto' (the GPU where a GL context works, else the CPU, said once on stderr/console).
 * Without a name it reads TUCKERGRAD_BACKEND (default 'cpu').
 */
export async function initBackend(name?: BackendName): Promise<BackendChoice> {
  const env = typeof process !== 'undefined' ? process.env?.TUCKERGRAD_BACKEND : undefined;
  const choice = name ?? ((env || 'cpu') as BackendName);
  if (choice !== 'cpu' && choice !== 'gpu' && choice !== 'auto') {
    throw new Error(`initBackend: backend must be 'cpu', 'gpu' or 'auto'${name === undefined ? ' (from TUCKERGRAD_BACKEND)' : ''}, got '${String(choice)}'`);
  }
  if (choice === 'cpu') {
    if (getBackend().device) installBackend(new CpuBackend());
    return { backend: 'cpu', mode: 'cpu', reason: '' };
  }
  try {
    const gpu = await gpuBackend();
    installBackend(gpu);
    return { backend: 'gpu', mode: gpu.device.mode, reason: '' };
  } catch (e) {
    if (choice === 'gpu') throw e;
    const reason = (e as Error).message;
    if (!warned) {
      warned = true;
      console.warn(`tuckergrad: running on the CPU backend. ${reason}`);
    }
    if (getBackend().device) installBackend(new CpuBackend());
    return { backend: 'cpu', mode: 'cpu', reason };
  }
}
