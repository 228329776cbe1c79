/**
 * The one place that decides where a kernel runs (docs/design.md §3.2). Ops call run/runMany/update
 * with the kernel's name, their input tensors and a call written once against the Kernels
 * interface; this file picks the device or the host, moves the inputs there (uploading host values,
 * or reading device values back), runs the kernel and wraps the buffers it returns as tensors.
 *
 * Placement: a kernel runs on the device when the backend has one, the device implements the kernel,
 * every input is float32 and every input and output fits a device buffer. Otherwise it runs on the
 * host; on a backend with a device that is a fallback, counted per kernel and reason in the report
 * (kernelReport()). Grad accumulation and optimizer updates follow their data: they go to the device
 * only when an input already lives there.
 */
import type { TypedArray } from '../tensor/dtype.js';
import type { Shape } from '../tensor/shape.js';
import { Storage, type DeviceArray } from '../tensor/storage.js';
import { Tensor } from '../tensor/tensor.js';
import type { Backend } from './backend.js';
import { getBackend } from './current.js';
import { MAX_DEVICE_ELEMENTS, type DeviceKernels } from './device.js';
import type { KernelName, Kernels } from './kernels.js';

/** A kernel call written once: the dispatcher hands it the kernel table and input buffers of one side. */
export type KernelCall<R> = <B>(k: Kernels<B>, inputs: readonly B[]) => R extends 'many' ? readonly B[] : B;

export type Placement = 'device' | 'follow';

/** Why a kernel ran on the host although the backend has a device. */
export type FallbackReason = 'no device kernel' | 'float64' | 'too large' | 'empty';

export interface KernelStats {
  kernel: KernelName;
  device: number;
  host: number;
  /** Host runs on a backend with a device, by reason. */
  fallbacks: Partial<Record<FallbackReason, number>>;
}

const stats = new Map<KernelName, KernelStats>();

function statsFor(name: KernelName): KernelStats {
  let s = stats.get(name);
  if (s === undefined) {
    s = { kernel: name, device: 0, host: 0, fallbacks: {} };
    stats.set(name, s);
  }
  return s;
}

/** How often each kernel ran on the device and on the host since the last reset, and why it fell back. */
export function kernelReport(): KernelStats[] {
  return [...stats.values()].map((s) => ({ ...s, fallbacks: { ...s.fallbacks } })).sort((a, b) => a.kernel.localeCompare(b.kernel));
}

export function resetKernelReport(): void {
  stats.clear();
}

/** The report as text: one line per kernel, fallbacks first (for TUCKERGRAD_DEBUG and bug reports). */
export function formatKernelReport(report: readonly KernelStats[] = kernelReport()): string {
  const fell = (s: KernelStats): number => Object.values(s.fallbacks).reduce((n, v) => n + (v ?? 0), 0);
  const rows = [...report].sort((a, b) => fell(b) - fell(a) || a.kernel.localeCompare(b.kernel));
  return rows
    .map((s) => {
      const why = Object.entries(s.fallbacks)
        .map(([r, n]) => `${r} ×${n}`)
        .join(', ');
      return `${s.kernel.padEnd(18)} device ${String(s.device).padStart(7)}  host ${String(s.host).padStart(7)}${why ? `  fallbacks: ${why}` : ''}`;
    })
    .join('\n');
}

/** The device to run `name` on, or undefined (the host), counting fallbacks. */
function place(
  backend: Backend,
  name: KernelName,
  inputs: readonly (Tensor | null)[],
  outSizes: readonly number[],
  placement: Placement,
): DeviceKernels | undefined {
  const device = backend.device;
  const s = statsFor(name);
  if (device === undefined) {
    s.host++;
    return undefined;
  }
  let reason: FallbackReason | undefined;
  if (placement === 'follow' && !inputs.some((t) => t?.storage.onDevice)) {
    // The data is on the host and stays there: not a fallback.
    s.host++;
    return undefined;
  }
  if (typeof device[name] !== 'function') reason = 'no device kernel';
  else {
    for (const t of inputs) {
      if (t === null) continue;
      if (t.dtype !== 'float32') reason = 'float64';
      else if (t.size === 0) reason ??= 'empty';
      else if (t.size > MAX_DEVICE_ELEMENTS) reason ??= 'too large';
    }
    for (const n of outSizes) {
      if (n < 1) reason ??= 'empty';
      else if (n > MAX_DEVICE_ELEMENTS) reason ??= 'too large';
    }
  }
  if (reason !== undefined) {
    s.host++;
    s.fallbacks[reason] = (s.fallbacks[reason] ?? 0) + 1;
    return undefined;
  }
  s.device++;
  return device;
}

const sizeOf = (shape: Shape): number => shape.reduce((n, d) => n * d, 1);

/** The inputs' host arrays (read back from the device where the values live only there). */
const hostBuffers = (inputs: readonly Tensor[]): TypedArray[] => inputs.map((t) => t.data);

/** The inputs' device buffers (uploaded once where the values live only on the host). */
const deviceBuffers = (inputs: readonly Tensor[], device: DeviceKernels): DeviceArray[] => inputs.map((t) => t.storage.device(device));

/** The device's kernel table; place() checked that it has the kernel being run. */
const table = (device: DeviceKernels): Kernels<DeviceArray> => device as unknown as Kernels<DeviceArray>;

/** Runs a one-output kernel; the result has shape outShape. */
export function run(name: KernelName, inputs: readonly Tensor[], outShape: Shape, call: KernelCall<'one'>, placement: Placement = 'device'): Tensor {
  const backend = getBackend();
  const device = place(backend, name, inputs, [sizeOf(outShape)], placement);
  if (device === undefined) return new Tensor(call(backend.host, hostBuffers(inputs)), outShape);
  return new Tensor(Storage.fromDevice(call(table(device), deviceBuffers(inputs, device))), outShape);
}

/** Runs a kernel with several outputs, one shape each. */
export function runMany(
  name: KernelName,
  inputs: readonly Tensor[],
  outShapes: readonly Shape[],
  call: KernelCall<'many'>,
  placement: Placement = 'device',
): Tensor[] {
  const backend = getBackend();
  const device = place(backend, name, inputs, outShapes.map(sizeOf), placement);
  if (device === undefined) return call(backend.host, hostBuffers(inputs)).map((b, i) => new Tensor(b, outShapes[i]));
  return call(table(device), deviceBuffers(inputs, device)).map((b, i) => new Tensor(Storage.fromDevice(b), outShapes[i]));
}

/**
 * Runs an update kernel on state tensors (a null input is a state not created yet) and makes each
 * target hold what the kernel returned for it: the host writes in place (nothing to do), the device
 * returns fresh buffers, which the targets adopt. A null target with a returned buffer becomes a new
 * tensor, returned at its position; every other position returns its target.
 */
export function update(
  name: KernelName,
  inputs: readonly (Tensor | null)[],
  targets: readonly (Tensor | null)[],
  shape: Shape,
  call: <B>(k: Kernels<B>, inputs: readonly (B | null)[]) => readonly (B | null)[],
): (Tensor | null)[] {
  const backend = getBackend();
  const device = place(backend, name, inputs, [], 'follow');
  if (device === undefined) {
    const bufs = inputs.map((t) => (t === null ? null : t.data));
    return call<TypedArray>(backend.host, bufs).map((b, i) => adoptHost(targets[i], b, bufs[i], shape));
  }
  const bufs = inputs.map((t) => (t === null ? null : t.storage.device(device)));
  return call(table(device), bufs).map((b, i) => {
    const t = targets[i];
    if (b === null || b === bufs[i]) return t;
    if (t === null) return new Tensor(Storage.fromDevice(b).keep(), shape);
    t.adoptDevice(b);
    return t;
  });
}

function keepTensor(t: Tensor): Tensor {
  t.storage.keep();
  return t;
}

function adoptHost(t: Tensor | null, b: TypedArray | null, input: TypedArray | null, shape: Shape): Tensor | null {
  if (b === null || b === input) return t;
  // State the update created (a momentum buffer) outlives any tidy() or arena() scope.
  if (t === null) return keepTensor(new Tensor(b, shape));
  t.data = b;
  t.storage.keep();
  return t;
}

// TUCKERGRAD_DEBUG=kernels prints the report when the process exits (which kernels fell back, and why).
if (typeof process !== 'undefined' && /\bkernels\b/.test(process.env?.TUCKERGRAD_DEBUG ?? '')) {
  process.on('exit', () => process.stderr.write(`tuckergrad kernel report (device/host runs per kernel):\n${formatKernelReport()}\n`));
}
