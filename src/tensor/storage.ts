import { allocationHook, dtypeOf, recycle, setAllocationHook, type DType, type TypedArray } from './dtype.js';

/**
 * A buffer that lives on a device (a gpu.js texture, or whatever a device backend keeps). Device
 * buffers are float32 and immutable: kernels always write fresh ones.
 */
export interface DeviceArray {
  readonly length: number;
  /** Copies the values back to the host (a GPU stall: keep it at the edges). */
  read(): Float32Array;
  /** Frees the device memory; idempotent. */
  release(): void;
}

/** Who can turn host data into device data (the GPU backend). */
export interface Uploader {
  upload(data: Float32Array): DeviceArray;
}

// A safety net only: finalizers run between event-loop tasks, never inside a synchronous training
// loop, so device memory is managed by tidy() scopes (below) and by the optimizers.
const finalizer = new FinalizationRegistry<DeviceArray>((d) => d.release());

/** Device storages created in each open tidy() scope, innermost last. */
const scopes: Set<Storage>[] = [];

/** Open arena() scopes, innermost last (see arena()). */
const arenas: ArenaScope[] = [];

/**
 * The values of one or more tensors (reshape shares it). Holds a host copy, a device copy, or both
 * when they agree. Reading the host side for writing (`host()`) makes the host authoritative and
 * frees the device copy, so in-place host updates can never be shadowed by a stale device buffer.
 */
export class Storage {
  readonly dtype: DType;
  readonly length: number;
  private hostData: TypedArray | null;
  private deviceData: DeviceArray | null = null;
  /** Survives tidy() scopes (parameters, gradients, optimizer state); freed by its owner. */
  persistent = false;
  /**
   * Its host buffer survives arena() scopes (parameters, module buffers), without changing what
   * tidy() does with its device copy (a parameter replaced by a new one is still freed there).
   */
  pinned = false;
  private disposed = false;

  /** Host values, or (device storage) null and the device buffer. */
  constructor(host: TypedArray | null, device?: DeviceArray) {
    this.hostData = host;
    if (arenas.length > 0) arenas[arenas.length - 1].storages.push(this);
    if (host !== null) {
      this.dtype = dtypeOf(host);
      this.length = host.length;
    } else {
      if (device === undefined) throw new Error('Storage: needs host data or a device buffer');
      this.dtype = 'float32';
      this.length = device.length;
      this.attach(device);
    }
  }

  static fromDevice(d: DeviceArray): Storage {
    return new Storage(null, d);
  }

  /** The host buffer as it is (null while the values live only on the device): no read-back. */
  get hostBuffer(): TypedArray | null {
    return this.hostData;
  }

  /** True while the device copy is the only one (the host copy would need a read-back). */
  get deviceOnly(): boolean {
    return this.hostData === null;
  }

  get onDevice(): boolean {
    return this.deviceData !== null;
  }

  /** The host buffer, read back if needed; the caller may write into it. */
  host(): TypedArray {
    if (this.disposed) throw disposedError();
    if (this.hostData === null) this.hostData = this.deviceData!.read();
    if (this.deviceData !== null) this.detachDevice();
    return this.hostData;
  }

  /** The device buffer, uploaded once if needed; the host copy (if any) stays valid beside it. */
  device(up: Uploader): DeviceArray {
    if (this.disposed) throw disposedError();
    if (this.deviceData === null) {
      const h = this.hostData!;
      if (!(h instanceof Float32Array)) throw new Error(`Storage: only float32 data can live on the device, got ${this.dtype}`);
      this.attach(up.upload(h));
    }
    return this.deviceData!;
  }

  /** Frees the device copy now, reading it back first so no value is lost. */
  toHost(): void {
    this.host();
  }

  /** Marks the host buffer as surviving arena() scopes (see pinned). */
  pin(): this {
    this.pinned = true;
    return this;
  }

  /** Marks the storage as surviving tidy() scopes; its owner frees it with dispose(). */
  keep(): this {
    this.persistent = true;
    return this;
  }

  /**
   * Frees the device copy. A storage that lived only on the device is gone afterwards: reading it
   * throws. A no-op for host-only storage.
   */
  dispose(): void {
    if (this.deviceData === null) return;
    this.detachDevice();
    if (this.hostData === null) this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private attach(d: DeviceArray): void {
    this.deviceData = d;
    finalizer.register(this, d, this);
    if (scopes.length > 0) scopes[scopes.length - 1].add(this);
  }

  private detachDevice(): void {
    const d = this.deviceData!;
    this.deviceData = null;
    finalizer.unregister(this);
    d.release();
  }
}

function disposedError(): Error {
  return new Error(
    'tensor: its device memory was freed at the end of a tidy() scope (or by zeroGrad/an optimizer step); return the tensor from the scope or call keep(tensor) to use it afterwards',
  );
}

function collect(value: unknown, into: Set<Storage>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 3) return;
  const s = (value as { storage?: unknown }).storage;
  if (s instanceof Storage) {
    into.add(s);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, depth + 1);
}

/**
 * Runs fn and frees the device memory of every tensor it created, except those it returns (in an
 * array or plain object too) and those marked with keep(). What fn returns moves to the enclosing
 * scope. On the CPU backend nothing lives on a device and tidy only runs fn. The GPU needs this
 * because device buffers are not freed by JavaScript's garbage collector inside a synchronous loop.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Storage>();
  scopes.push(scope);
  let result: T;
  let ok = false;
  try {
    result = fn();
    ok = true;
  } finally {
    scopes.pop();
    const kept = new Set<Storage>();
    if (ok) collect(result!, kept, 0);
    const parent = scopes.length > 0 ? scopes[scopes.length - 1] : undefined;
    for (const s of scope) {
      if (s.persistent) continue;
      if (kept.has(s)) parent?.add(s);
      else s.dispose();
    }
  }
  return result!;
}

interface ArenaScope {
  /** Buffers allocate() handed out while the scope was innermost. */
  arrays: Set<TypedArray>;
  /** Storages created while the scope was innermost. */
  storages: Storage[];
}

/** Whether an arena() scope is open (zeroGrad then gives the old gradient buffers back). */
export function inArena(): boolean {
  return arenas.length > 0;
}

/** Gives a host buffer back to the pool when an arena() scope is open (a no-op otherwise). */
export function recycleInArena(a: TypedArray | null): void {
  if (a !== null && arenas.length > 0) recycle(a);
}

function installHook(): void {
  const top = arenas.length > 0 ? arenas[arenas.length - 1] : null;
  setAllocationHook(top === null ? null : (a) => top.arrays.add(a));
}

/**
 * Runs fn, then gives every host buffer allocated inside it back to the pool (src/tensor/dtype.ts)
 * for the next allocate() of the same size, so a training step repeated inside arena() allocates
 * nothing once warmed up. Kept: the buffers of the tensors fn returns (in an array or plain object
 * too; they come back detached from their graph, since the graph's buffers are gone) and of every
 * storage marked with keep() (parameters' gradients, optimizer state) or pin() (parameters, module buffers). Everything else fn created
 * must be dead when it returns: run the whole step inside (forward, backward, update), never just
 * the forward pass, and keep() anything stored away. When fn throws nothing is recycled.
 * Inside an arena, zeroGrad() also gives the old gradients back. Nests; also frees device memory
 * as tidy() does.
 */
export function arena<T>(fn: () => T): T {
  const scope: ArenaScope = { arrays: new Set(), storages: [] };
  arenas.push(scope);
  installHook();
  let result: T;
  let ok = false;
  try {
    result = tidy(fn);
    ok = true;
  } finally {
    arenas.pop();
    installHook();
    const parent = arenas.length > 0 ? arenas[arenas.length - 1] : undefined;
    const keptStorages = new Set<Storage>();
    if (ok) collect(result!, keptStorages, 0);
    for (const st of scope.storages) if (st.persistent || st.pinned) keptStorages.add(st);
    const keptArrays = new Set<TypedArray>();
    for (const st of keptStorages) {
      const h = st.hostBuffer;
      if (h !== null) keptArrays.add(h);
      parent?.storages.push(st);
    }
    for (const a of scope.arrays) {
      if (keptArrays.has(a)) parent?.arrays.add(a);
      else if (ok) recycle(a);
    }
    if (ok) detachAll(result!, new Set(scope.storages), 0);
  }
  return result!;
}

/**
 * Cuts the graph of the tensors in value (as collect() finds them) that the scope created: their
 * saved buffers were recycled. Tensors from before the scope keep theirs.
 */
function detachAll(value: unknown, created: Set<Storage>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 3) return;
  const st = (value as { storage?: unknown }).storage;
  if (st instanceof Storage) {
    if (created.has(st) && 'node' in value) (value as { node: unknown }).node = null;
    return;
  }
  if (Array.isArray(value)) for (const v of value) detachAll(v, created, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) detachAll(v, created, depth + 1);
}

/**
 * Runs fn with the enclosing arena() scopes blind to its host allocations: what fn allocates is
 * never recycled by them. For state a step keeps across steps in plain arrays rather than in
 * tensors (the rank-adaptive integrator's float64 velocities and linear algebra), which keep()
 * and pin() cannot mark. A no-op outside an arena.
 */
/**
 * Runs fn, then gives back to the pool every host buffer that allocate() handed out inside it and
 * that none of `kept(result)` lies on: for pure work whose temporaries die with it, such as the
 * float64 linear algebra of an integrator step's per-layer update, so that a repeated step takes
 * its temporaries from the pool instead of new buffers (whose zeroing, page faults and collection
 * cost what the work did; docs/integrator.md §8). The caller lists every array of the result;
 * fn must keep no other. When fn throws nothing is recycled. Any enclosing arena() learns nothing
 * of these buffers.
 */
export function recycleTemporaries<T>(fn: () => T, kept: (result: T) => Iterable<ArrayBufferView | null | undefined>): T {
  if (typeof fn !== 'function') throw new Error(`recycleTemporaries: fn must be a function, got ${typeof fn}`);
  if (typeof kept !== 'function') throw new Error(`recycleTemporaries: kept must be a function, got ${typeof kept}`);
  const previous = allocationHook();
  // Stryker disable next-line ArrayDeclaration: a stray non-array entry is refused by recycle() (no byteOffset of 0)
  const made: TypedArray[] = [];
  setAllocationHook((a) => made.push(a));
  let result: T;
  try {
    result = fn();
  } finally {
    setAllocationHook(previous);
  }
  const live = new Set<ArrayBufferLike>();
  for (const a of kept(result)) if (a) live.add(a.buffer);
  for (const a of made) if (!live.has(a.buffer)) recycle(a);
  return result;
}

export function outsideArena<T>(fn: () => T): T {
  if (arenas.length === 0) return fn();
  setAllocationHook(null);
  try {
    return fn();
  } finally {
    installHook();
  }
}

/** Keeps a tensor's device memory alive past the enclosing tidy() scopes (TF.js's keep). */
export function keep<T extends { storage: Storage }>(t: T): T {
  t.storage.keep();
  return t;
}
