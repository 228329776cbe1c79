import type { DeviceArray, Uploader } from '../tensor/storage.js';
import type { BatchedGemmArgs, Kernels } from './kernels.js';

export type { AdamScalars, SgdScalars } from './kernels.js';
/** The batched GEMM arguments (the name device code has always used). */
export type DeviceGemmArgs = BatchedGemmArgs;

/**
 * Device kernels index in float32 (see gpu/sources.ts), exact below this many elements per
 * buffer; the dispatcher keeps larger tensors on the host.
 */
export const MAX_DEVICE_ELEMENTS = 1 << 22;

/**
 * A device whose buffers stay on it between kernels (the GPU). It implements the kernels it has
 * (any subset of Kernels); the dispatcher runs every other kernel on the host, counting it.
 */
export interface DeviceKernels extends Uploader, Partial<Kernels<DeviceArray>> {
  /** The gpu.js mode that actually runs the kernels ('headlessgl', 'webgl2', ...). */
  readonly mode: string;
  /** Device buffers currently alive (for leak checks). */
  liveBuffers(): number;
}
