import { initBackend, type BackendChoice } from '../../../src/backend/index.js';

/**
 * CI installs Xvfb, Mesa and the headers headless-gl builds against, so there the GPU tests must
 * run for real; elsewhere a machine without a GL context runs the fallback checks instead.
 */
export const gpuRequired = process.env.CI === 'true' || process.env.TUCKERGRAD_REQUIRE_GPU === '1';

let probe: Promise<BackendChoice> | undefined;

/** Whether gpu.js has a GL context here (leaves the CPU backend selected). */
export async function gpuAvailable(): Promise<boolean> {
  probe ??= initBackend('auto');
  const choice = await probe;
  await initBackend('cpu');
  if (choice.backend !== 'gpu' && gpuRequired) throw new Error(`the GPU backend is required here (CI) but unavailable: ${choice.reason}`);
  return choice.backend === 'gpu';
}
