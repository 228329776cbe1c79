/** The command line on the GPU backend: --backend gpu trains, checkpoints and reports which mode ran. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/index.js';
import { runCli, tempDir } from '../../cli/helpers.js';
import { gpuAvailable } from './support.js';

const available = await gpuAvailable();

describe('tuckergrad train --backend', () => {
  if (available) {
    it('gpu: trains TDLRT on GPU tensors, writes the checkpoint, and names the gpu.js mode', async () => {
      const out = join(tempDir(), 'run');
      try {
        const r = await runCli(
          'train',
          '--backend',
          'gpu',
          '--method',
          'tdlrt',
          '--tau',
          '0.1',
          '--warmup-epochs',
          '0',
          '--epochs',
          '1',
          '--train-size',
          '256',
          '--test-size',
          '128',
          '--batch',
          '64',
          '--quiet',
          '--out',
          out,
        );
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/backend: gpu \(gpu\.js headlessgl\)/);
        expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
        expect(r.stdout).toMatch(/accuracy/i);
      } finally {
        await initBackend('cpu');
      }
    });
  }
  it('rejects an unknown backend name with the choices', async () => {
    const r = await runCli('train', '--backend', 'tpu', '--epochs', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cpu, gpu, auto/);
  });
});
