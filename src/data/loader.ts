/**
 * Mini-batches over a Dataset: `for (const { x, y } of loader)` runs one epoch (the rest of the
 * current one after a resume). x is a float32 Tensor [B, C, H, W], y an Int32Array of labels.
 *
 * Randomness: the epoch permutations come from the loader's own shuffle Generator, so the order of
 * epoch k depends on the seed alone; augmentation draws from a second Generator. getState() /
 * setState() capture the epoch counter, the generator states and the position within the epoch,
 * so a run resumes mid-epoch with exactly the batches it would have seen.
 */
import { Tensor } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { checkDataset, imageSize, type Dataset } from './dataset.js';
import type { AugmentFn, ImageShape } from './augment.js';

export interface Batch {
  /** Images [B, C, H, W], float32. */
  x: Tensor;
  /** Labels, length B. */
  y: Int32Array;
  /** The dataset indices of the batch's samples. */
  indices: Int32Array;
}

export interface DataLoaderOptions {
  batchSize: number;
  /** A new seeded permutation each epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Seeds the shuffle and augmentation generators (default 0). */
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Rewrites each image of a batch in place (e.g. cifarAugment()). */
  augment?: AugmentFn | null;
}

/** A JSON-safe snapshot of a DataLoader (generator states with null for "no spare normal"). */
export interface DataLoaderState {
  /** Epochs completed so far (the index of the current epoch). */
  epoch: number;
  /** Batches already delivered in the current epoch. */
  position: number;
  /** Shuffle generator state at the start of the current epoch. */
  shuffleState: (number | null)[];
  augmentState: (number | null)[];
  /** The dataset size and batch settings the state belongs to (checked by setState). */
  size: number;
  batchSize: number;
  dropLast: boolean;
  shuffle: boolean;
}

const toJson = (s: number[]): (number | null)[] => s.map((v) => (Number.isNaN(v) ? null : v));
const fromJson = (s: readonly (number | null)[]): number[] => s.map((v) => (v === null ? Number.NaN : v));

/** A seed for the augmentation stream, decorrelated from the shuffle stream of the same seed. */
function augmentSeed(seed: number): number {
  let z = (Math.floor(seed) ^ 0x5bd1e995) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0;
  z = Math.imul(z ^ (z >>> 12), 0x297a2d39) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly augment: AugmentFn | null;
  readonly seed: number;

  private readonly shape: ImageShape;
  private readonly shuffleGen: Generator;
  private readonly augmentGen: Generator;
  private readonly size: number;
  private readonly scratch: Float32Array | null;
  /** The current epoch's order, drawn on first use; null between epochs. */
  private order: Int32Array | null = null;
  private epochStartState: number[];
  private identity: Int32Array | null = null;
  private _epoch = 0;
  private _position = 0;

  constructor(dataset: Dataset, options: DataLoaderOptions) {
    const fn = 'DataLoader';
    checkDataset(dataset, fn);
    if (options === null || typeof options !== 'object')
      throw new Error(`${fn}: options must be an object with batchSize, got ${options === null ? 'null' : typeof options}`);
    const { batchSize, shuffle = false, seed = 0, dropLast = false, augment = null } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${fn}: batchSize must be a positive integer, got ${batchSize}`);
    if (typeof shuffle !== 'boolean') throw new Error(`${fn}: shuffle must be a boolean, got ${typeof shuffle}`);
    if (typeof dropLast !== 'boolean') throw new Error(`${fn}: dropLast must be a boolean, got ${typeof dropLast}`);
    if (!Number.isFinite(seed)) throw new Error(`${fn}: seed must be a finite number, got ${seed}`);
    if (augment !== null && typeof augment !== 'function')
      throw new Error(`${fn}: augment must be a function (img, shape, gen) => void, got ${typeof augment}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.augment = augment;
    this.seed = seed;
    this.shape = Object.freeze([dataset.shape[0], dataset.shape[1], dataset.shape[2]]) as ImageShape;
    this.size = dataset.labels.length;
    this.shuffleGen = new Generator(seed);
    this.augmentGen = new Generator(augmentSeed(seed));
    this.epochStartState = this.shuffleGen.getState();
    this.scratch = augment ? new Float32Array(imageSize(this.shape)) : null;
  }

  /** Batches per epoch. */
  get length(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** Epochs completed so far. */
  get epoch(): number {
    return this._epoch;
  }

  /** Batches already delivered in the current epoch. */
  get position(): number {
    return this._position;
  }

  /** One epoch of batches, or the rest of the current one. Breaking out leaves the loader mid-epoch. */
  *[Symbol.iterator](): Generator_<Batch> {
    const order = this.currentOrder();
    const len = this.length;
    if (len === 0) {
      this.endEpoch();
      return;
    }
    while (this._position < len) {
      const batch = this.makeBatch(order, this._position);
      this._position++;
      const last = this._position === len;
      if (last) this.endEpoch();
      yield batch;
      if (last) return;
    }
  }

  getState(): DataLoaderState {
    return {
      epoch: this._epoch,
      position: this._position,
      shuffleState: toJson(this.order ? this.epochStartState : this.shuffleGen.getState()),
      augmentState: toJson(this.augmentGen.getState()),
      size: this.size,
      batchSize: this.batchSize,
      dropLast: this.dropLast,
      shuffle: this.shuffle,
    };
  }

  setState(state: DataLoaderState): void {
    const fn = 'DataLoader.setState';
    if (state === null || typeof state !== 'object')
      throw new Error(`${fn}: state must be an object from getState(), got ${state === null ? 'null' : typeof state}`);
    for (const k of ['size', 'batchSize', 'dropLast', 'shuffle'] as const) {
      if (state[k] !== this[k]) throw new Error(`${fn}: state.${k} must equal this loader's ${k} ${this[k]}, got ${state[k]}`);
    }
    if (!Number.isInteger(state.epoch) || state.epoch < 0) throw new Error(`${fn}: state.epoch must be a non-negative integer, got ${state.epoch}`);
    const len = this.length;
    if (!Number.isInteger(state.position) || state.position < 0 || state.position >= Math.max(len, 1)) {
      throw new Error(`${fn}: state.position must be an integer in [0, ${Math.max(len - 1, 0)}], got ${state.position}`);
    }
    for (const k of ['shuffleState', 'augmentState'] as const) {
      const s = state[k];
      if (!Array.isArray(s) || s.length !== 5 || !s.every((v) => v === null || typeof v === 'number')) {
        throw new Error(`${fn}: state.${k} must be 5 numbers (a Generator state), got ${JSON.stringify(s)}`);
      }
    }
    this.shuffleGen.setState(fromJson(state.shuffleState));
    this.augmentGen.setState(fromJson(state.augmentState));
    this._epoch = state.epoch;
    this._position = state.position;
    this.order = null;
    this.epochStartState = this.shuffleGen.getState();
  }

  /** The current epoch's order, drawing the permutation at the start of an epoch. */
  private currentOrder(): Int32Array {
    if (this.order) return this.order;
    if (this.shuffle) {
      this.epochStartState = this.shuffleGen.getState();
      this.order = this.shuffleGen.permutation(this.size);
    } else {
      if (!this.identity) {
        this.identity = new Int32Array(this.size);
        for (let i = 0; i < this.size; i++) this.identity[i] = i;
      }
      this.order = this.identity;
    }
    return this.order;
  }

  private endEpoch(): void {
    this._epoch++;
    this._position = 0;
    this.order = null;
    this.epochStartState = this.shuffleGen.getState();
  }

  private makeBatch(order: Int32Array, b: number): Batch {
    const start = b * this.batchSize;
    const end = Math.min(start + this.batchSize, this.size);
    const m = end - start;
    const per = imageSize(this.shape);
    const src = this.dataset.images;
    const labels = this.dataset.labels;
    const x = new Float32Array(m * per);
    const y = new Int32Array(m);
    const indices = order.slice(start, end);
    const scratch = this.scratch;
    const augment = this.augment;
    for (let k = 0; k < m; k++) {
      const i = indices[k];
      y[k] = labels[i];
      const s = i * per;
      const d = k * per;
      if (augment && scratch) {
        for (let j = 0; j < per; j++) scratch[j] = src[s + j];
        augment(scratch, this.shape, this.augmentGen);
        for (let j = 0; j < per; j++) x[d + j] = scratch[j];
      } else {
        for (let j = 0; j < per; j++) x[d + j] = src[s + j];
      }
    }
    return { x: Tensor.fromData(x, [m, this.shape[0], this.shape[1], this.shape[2]]), y, indices };
  }
}

// The built-in generator-object type, renamed: `Generator` here is the project's random generator.
type Generator_<T> = globalThis.Generator<T, void, undefined>;
