import type { Optimizer } from './optimizer.js';

/** Sets the optimizer's lr from a function of the epoch (or step) counter; call step() once per epoch. */
export abstract class LRScheduler {
  readonly baseLr: number;
  lastEpoch = 0;
  constructor(readonly optimizer: Optimizer) {
    this.baseLr = optimizer.lr;
  }
  abstract lrAt(epoch: number): number;
  step(): void {
    this.lastEpoch++;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }
  stateDict(): { lastEpoch: number } {
    return { lastEpoch: this.lastEpoch };
  }
  loadStateDict(s: { lastEpoch: number }): void {
    this.lastEpoch = s.lastEpoch;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }
}

/** lr·γ^⌊epoch/stepSize⌋. */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
  }
  lrAt(epoch: number): number {
    return this.baseLr * Math.pow(this.gamma, Math.floor(epoch / this.stepSize));
  }
}

/** Cosine annealing from lr to etaMin over tMax epochs. */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be > 0, got ${tMax}`);
  }
  lrAt(epoch: number): number {
    const e = Math.min(epoch, this.tMax);
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * e) / this.tMax))) / 2;
  }
}

/** Linear warm-up from startFactor·lr to lr over warmupEpochs, then constant (or another schedule's value). */
export class LinearWarmup extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly warmupEpochs: number,
    readonly startFactor = 0.1,
    readonly after?: LRScheduler,
  ) {
    super(optimizer);
    if (!(warmupEpochs > 0)) throw new Error(`LinearWarmup: warmupEpochs must be > 0, got ${warmupEpochs}`);
    optimizer.lr = this.lrAt(0);
  }
  lrAt(epoch: number): number {
    if (epoch < this.warmupEpochs) return this.baseLr * (this.startFactor + ((1 - this.startFactor) * epoch) / this.warmupEpochs);
    return this.after ? this.after.lrAt(epoch - this.warmupEpochs) : this.baseLr;
  }
}
