/**
 * The dispatcher (src/backend/dispatch.ts) on a fake device that implements two kernels: those run
 * on the device, every other kernel falls back to the host in that one place, and the report
 * counts each fallback with its reason. No GPU is needed: the fake device keeps float32 copies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { cpuKernels } from '../../src/backend/cpu/kernels.js';
import type { DeviceKernels } from '../../src/backend/device.js';
import { formatKernelReport, initBackend, kernelReport, resetKernelReport, setBackend } from '../../src/backend/index.js';
import { add, relu, sum } from '../../src/ops/index.js';
import type { DeviceArray } from '../../src/tensor/storage.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';

class FakeArray implements DeviceArray {
  released = false;
  constructor(readonly values: Float32Array) {}
  get length(): number {
    return this.values.length;
  }
  read(): Float32Array {
    return this.values.slice();
  }
  release(): void {
    this.released = true;
  }
}

const raw = (d: DeviceArray): Float32Array => (d as FakeArray).values;

/** A device with only unary and sumAxis; it counts what it ran. */
function fakeBackend(): { backend: Backend; ran: string[] } {
  const ran: string[] = [];
  const device: DeviceKernels = {
    mode: 'fake',
    liveBuffers: () => 0,
    upload: (d) => new FakeArray(d.slice()),
    unary: (op, x) => {
      ran.push(`unary:${op}`);
      return new FakeArray(cpuKernels.unary(op, raw(x)) as Float32Array);
    },
    sumAxis: (x, shape, axis) => {
      ran.push('sumAxis');
      return new FakeArray(cpuKernels.sumAxis(raw(x), shape, axis) as Float32Array);
    },
  };
  return { backend: { name: 'fake', host: cpuKernels, device }, ran };
}

describe('kernel dispatch', () => {
  afterEach(async () => {
    await initBackend('cpu');
    resetKernelReport();
  });

  it('runs the kernels a device has on the device and the others on the host, counting each fallback', () => {
    const { backend, ran } = fakeBackend();
    setBackend(backend);
    resetKernelReport();
    const x = tensor([-1, 2, -3, 4]);
    const y = relu(x);
    expect(y.storage.deviceOnly).toBe(true);
    expect(ran).toEqual(['unary:relu']);
    // binary has no device kernel: the values come back to the host, and the result stays there.
    const z = add(y, y);
    expect(z.storage.onDevice).toBe(false);
    expect(Array.from(z.data)).toEqual([0, 4, 0, 8]);
    const report = new Map(kernelReport().map((s) => [s.kernel, s]));
    expect(report.get('unary')).toMatchObject({ device: 1, host: 0, fallbacks: {} });
    expect(report.get('binary')).toMatchObject({ device: 0, host: 1, fallbacks: { 'no device kernel': 1 } });
    expect(formatKernelReport()).toMatch(/binary .*fallbacks: no device kernel ×1/);
  });

  it('keeps float64 on the host and says why', () => {
    const { backend, ran } = fakeBackend();
    setBackend(backend);
    resetKernelReport();
    const s = sum(tensor([1, 2, 3], { dtype: 'float64' }));
    expect(s.item()).toBe(6);
    expect(ran).toEqual([]);
    expect(kernelReport().find((r) => r.kernel === 'sumAxis')).toMatchObject({ device: 0, host: 1, fallbacks: { float64: 1 } });
  });

  it('counts host runs on a backend without a device, never as fallbacks', () => {
    resetKernelReport();
    relu(new Tensor(new Float32Array([1, -1]), [2]));
    expect(kernelReport()).toEqual([{ kernel: 'unary', device: 0, host: 1, fallbacks: {} }]);
  });
});
