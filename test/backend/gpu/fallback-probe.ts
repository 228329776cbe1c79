// Run by fallback.test.ts in a child process without an X display.
import { initBackend } from '../../../src/backend/index.js';

const auto = await initBackend('auto');
let gpuError = '';
try {
  await initBackend('gpu');
} catch (e) {
  gpuError = (e as Error).message;
}
await initBackend('auto');
console.log(JSON.stringify({ auto, gpuError }));
