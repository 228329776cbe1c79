/**
 * The in-memory dataset shape shared by every loader: images as one flat float32 buffer
 * (N·C·H·W, row-major, already normalised) and integer labels.
 */
export interface Dataset {
  /** N·C·H·W values, row-major, normalised. */
  images: Float32Array;
  /** N class indices in [0, numClasses). */
  labels: Int32Array;
  /** The shape of one image: [channels, height, width]. */
  shape: [number, number, number];
  numClasses: number;
  name: string;
  classNames?: string[];
}

/** Per-channel mean and standard deviation of the pixel values scaled to [0, 1]. */
export interface NormalizeStats {
  mean: number | readonly number[];
  std: number | readonly number[];
}

/** The number of samples in a dataset. */
export function datasetLength(ds: Dataset): number {
  return ds.labels.length;
}

/** Elements per image: C·H·W. */
export function imageSize(shape: readonly number[]): number {
  return shape[0] * shape[1] * shape[2];
}

/** Checks that a dataset is internally consistent; throws an error naming `fn` otherwise. */
export function checkDataset(ds: Dataset, fn: string, arg = 'dataset'): void {
  if (ds === null || typeof ds !== 'object') throw new Error(`${fn}: ${arg} must be a Dataset object, got ${ds === null ? 'null' : typeof ds}`);
  if (!(ds.images instanceof Float32Array)) throw new Error(`${fn}: ${arg}.images must be a Float32Array, got ${describe(ds.images)}`);
  if (!(ds.labels instanceof Int32Array)) throw new Error(`${fn}: ${arg}.labels must be an Int32Array, got ${describe(ds.labels)}`);
  const s = ds.shape;
  if (!Array.isArray(s) || s.length !== 3 || !s.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`${fn}: ${arg}.shape must be [C, H, W] of positive integers, got ${JSON.stringify(s)}`);
  }
  const per = imageSize(s);
  if (ds.images.length !== ds.labels.length * per) {
    throw new Error(
      `${fn}: ${arg}.images must hold labels.length·C·H·W = ${ds.labels.length}·${per} = ${ds.labels.length * per} values, got ${ds.images.length}`,
    );
  }
}

/** A new dataset holding the samples at `indices` (copied, in that order; repeats allowed). */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  checkDataset(ds, 'subset');
  if (indices === null || typeof indices !== 'object' || typeof indices.length !== 'number') {
    throw new Error(`subset: indices must be an array of integers, got ${describe(indices)}`);
  }
  const n = ds.labels.length;
  const per = imageSize(ds.shape);
  const m = indices.length;
  const images = new Float32Array(m * per);
  const labels = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new Error(`subset: indices[${k}] must be an integer in [0, ${n}), got ${i}`);
    }
    images.set(ds.images.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = ds.labels[i];
  }
  return { ...ds, shape: [...ds.shape] as [number, number, number], images, labels, classNames: ds.classNames?.slice() };
}

/** The first `n` samples (copied); n larger than the dataset is an error. */
export function take(ds: Dataset, n: number): Dataset {
  checkDataset(ds, 'take');
  const len = ds.labels.length;
  if (!Number.isInteger(n) || n < 0 || n > len) {
    throw new Error(`take: n must be an integer in [0, ${len}] (the dataset size), got ${n}`);
  }
  const per = imageSize(ds.shape);
  return {
    ...ds,
    shape: [...ds.shape] as [number, number, number],
    images: ds.images.slice(0, n * per),
    labels: ds.labels.slice(0, n),
    classNames: ds.classNames?.slice(),
  };
}

/** How many samples of each class, as an Int32Array of length numClasses. */
export function classCounts(ds: Dataset): Int32Array {
  checkDataset(ds, 'classCounts');
  const counts = new Int32Array(ds.numClasses);
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i];
    if (y < 0 || y >= ds.numClasses) throw new Error(`classCounts: labels[${i}] must be in [0, ${ds.numClasses}), got ${y}`);
    counts[y]++;
  }
  return counts;
}

/** Expands a scalar or per-channel statistic to one value per channel, checking it. */
export function perChannel(value: number | readonly number[], channels: number, fn: string, arg: string): number[] {
  const arr = typeof value === 'number' ? new Array<number>(channels).fill(value) : Array.from(value ?? []);
  if (arr.length !== channels) {
    throw new Error(`${fn}: ${arg} must be a number or ${channels} per-channel values, got ${arr.length} values`);
  }
  for (const v of arr) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${fn}: ${arg} must hold finite numbers, got ${JSON.stringify(value)}`);
  }
  return arr;
}

/**
 * Converts uint8 pixels (N·C·H·W) to float32 `(p/255 − mean_c)/std_c`, or `p/255` when stats is null,
 * through a 256-entry lookup table per channel.
 */
export function pixelsToFloat(pixels: Uint8Array, channels: number, planeSize: number, stats: NormalizeStats | null, fn: string): Float32Array {
  const out = new Float32Array(pixels.length);
  const mean = stats ? perChannel(stats.mean, channels, fn, 'mean') : new Array<number>(channels).fill(0);
  const std = stats ? perChannel(stats.std, channels, fn, 'std') : new Array<number>(channels).fill(1);
  for (const s of std) if (!(s > 0)) throw new Error(`${fn}: std must be positive, got ${JSON.stringify(stats?.std)}`);
  const luts: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const lut = new Float32Array(256);
    for (let p = 0; p < 256; p++) lut[p] = (p / 255 - mean[c]) / std[c];
    luts.push(lut);
  }
  const per = channels * planeSize;
  const n = pixels.length / per;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const lut = luts[c];
      const base = i * per + c * planeSize;
      for (let j = base, end = base + planeSize; j < end; j++) out[j] = lut[pixels[j]];
    }
  }
  return out;
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (typeof x !== 'object') return `${typeof x} ${String(x).slice(0, 40)}`;
  return (x as object).constructor?.name ?? 'object';
}
