import { afterEach, describe, expect, it } from 'vitest';
import { getBackend, getDevice, initBackend, setBackend, type BackendName } from '../../src/backend/index.js';
import { CpuBackend } from '../../src/backend/cpu/index.js';

describe('choosing a backend', () => {
  const saved = process.env.TUCKERGRAD_BACKEND;
  afterEach(async () => {
    if (saved === undefined) delete process.env.TUCKERGRAD_BACKEND;
    else process.env.TUCKERGRAD_BACKEND = saved;
    await initBackend('cpu');
  });

  it("setBackend('cpu') resolves to the CPU backend, like TensorFlow.js's setBackend", async () => {
    const choice = await setBackend('cpu');
    expect(choice).toEqual({ backend: 'cpu', mode: 'cpu', reason: '' });
    expect(getBackend().name).toBe('cpu');
    expect(getDevice()).toBeUndefined();
  });

  it('setBackend(instance) installs it synchronously and rejects what is not a backend', () => {
    const b = new CpuBackend();
    setBackend(b);
    expect(getBackend()).toBe(b);
    expect(() => setBackend({} as CpuBackend)).toThrow(/Backend interface/);
  });

  it('rejects an unknown name, and says when it came from TUCKERGRAD_BACKEND', async () => {
    await expect(initBackend('tpu' as BackendName)).rejects.toThrow(/'cpu', 'gpu' or 'auto'.*'tpu'/);
    process.env.TUCKERGRAD_BACKEND = 'cuda';
    await expect(initBackend()).rejects.toThrow(/TUCKERGRAD_BACKEND.*'cuda'/);
    process.env.TUCKERGRAD_BACKEND = 'cpu';
    expect((await initBackend()).backend).toBe('cpu');
  });
});
