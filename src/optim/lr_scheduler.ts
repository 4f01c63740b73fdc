// Learning-rate schedules as torch.optim.lr_scheduler's, in their closed forms: each sets its
// optimiser's lr at construction (epoch 0) and at every step() after the optimiser's step.
import { WgslgradError } from '../errors.js';

/** What a schedule drives: any optimiser with a settable lr (Adam, AdamW, SGD). */
export interface HasLr {
  /** the learning rate of the next step */
  lr: number;
}

/** Each optimiser's lr before its first schedule set it (PyTorch's initial_lr): later schedules start from it too. */
const initialLr = new WeakMap<HasLr, number>();

/** What every schedule shares (torch.optim.lr_scheduler.LRScheduler): a closed form lrAt(epoch) set at each step(). */
export abstract class LRScheduler {
  /** the lr the optimiser had before its first schedule was made */
  readonly baseLr: number;
  /** steps taken (PyTorch's last_epoch) */
  lastEpoch = 0;

  constructor(
    /** the optimiser whose lr it sets */
    readonly optimizer: HasLr,
    protected readonly op: string,
  ) {
    if (!optimizer || typeof optimizer.lr !== 'number') throw new WgslgradError(op, 'expected an optimiser with a numeric lr');
    if (!initialLr.has(optimizer)) initialLr.set(optimizer, optimizer.lr);
    this.baseLr = initialLr.get(optimizer)!;
  }

  /** The lr at `epoch` steps. */
  abstract lrAt(epoch: number): number;

  /** One more step: sets the optimiser's lr for the next one. */
  step(): void {
    this.lastEpoch++;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  /** The lr in force (PyTorch's get_last_lr()[0]). */
  getLastLr(): number {
    return this.optimizer.lr;
  }

  protected start(): void {
    this.optimizer.lr = this.lrAt(0);
  }

  /** The schedule's position, for a checkpoint (PyTorch's state_dict holds last_epoch and base_lrs too). */
  stateDict(): {
    /** steps taken */
    lastEpoch: number;
    /** the lr before any schedule */
    baseLr: number;
  } {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }

  /** Moves the schedule to a saved position and sets the optimiser's lr to it. */
  loadStateDict(sd: { lastEpoch: number }): void {
    if (!sd || !Number.isInteger(sd.lastEpoch) || sd.lastEpoch < 0)
      throw new WgslgradError(`${this.op}.loadStateDict`, 'expected { lastEpoch } with a non-negative integer');
    this.lastEpoch = sd.lastEpoch;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }
}

const positiveInt = (op: string, name: string, v: number) => {
  if (!Number.isInteger(v) || v < 1) throw new WgslgradError(op, `${name} must be a positive integer, got ${v}`);
};

/** lr · gamma^⌊epoch / stepSize⌋ (torch.optim.lr_scheduler.StepLR). */
export class StepLR extends LRScheduler {
  /** steps between decays */
  readonly stepSize: number;
  /** the factor of each decay (default 0.1) */
  readonly gamma: number;
  constructor(optimizer: HasLr, opts: { stepSize: number; gamma?: number }) {
    super(optimizer, 'StepLR');
    positiveInt('StepLR', 'stepSize', opts?.stepSize);
    this.stepSize = opts.stepSize;
    this.gamma = opts.gamma ?? 0.1;
    this.start();
  }
  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** etaMin + (lr − etaMin)·(1 + cos(π·epoch/tMax))/2 (torch.optim.lr_scheduler.CosineAnnealingLR). */
export class CosineAnnealingLR extends LRScheduler {
  /** steps from the base lr down to etaMin */
  readonly tMax: number;
  /** the lowest lr (default 0) */
  readonly etaMin: number;
  constructor(optimizer: HasLr, opts: { tMax: number; etaMin?: number }) {
    super(optimizer, 'CosineAnnealingLR');
    positiveInt('CosineAnnealingLR', 'tMax', opts?.tMax);
    this.tMax = opts.tMax;
    this.etaMin = opts.etaMin ?? 0;
    this.start();
  }
  lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/**
 * A linear ramp of the lr's factor from startFactor to endFactor over totalIters steps, then
 * endFactor (torch.optim.lr_scheduler.LinearLR: a warm-up with the defaults 1/3 → 1 over 5).
 */
export class LinearLR extends LRScheduler {
  /** the lr's factor at step 0, in (0, 1] (default 1/3) */
  readonly startFactor: number;
  /** the factor from totalIters on, in [0, 1] (default 1) */
  readonly endFactor: number;
  /** steps of the ramp (default 5) */
  readonly totalIters: number;
  constructor(optimizer: HasLr, opts: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super(optimizer, 'LinearLR');
    this.startFactor = opts.startFactor ?? 1 / 3;
    this.endFactor = opts.endFactor ?? 1;
    this.totalIters = opts.totalIters ?? 5;
    if (!(this.startFactor > 0 && this.startFactor <= 1) || !(this.endFactor >= 0 && this.endFactor <= 1))
      throw new WgslgradError('LinearLR', `startFactor must be in (0, 1] and endFactor in [0, 1], got ${this.startFactor}, ${this.endFactor}`);
    positiveInt('LinearLR', 'totalIters', this.totalIters);
    this.start();
  }
  lrAt(epoch: number): number {
    const f = this.startFactor + ((this.endFactor - this.startFactor) * Math.min(epoch, this.totalIters)) / this.totalIters;
    return this.baseLr * f;
  }
}

/**
 * Schedules one after another (torch.optim.lr_scheduler.SequentialLR): `schedulers[k]` from step
 * `milestones[k − 1]` on, each counting its own steps from 0; for a warm-up then a decay.
 */
export class SequentialLR extends LRScheduler {
  constructor(
    optimizer: HasLr,
    /** the schedules in order, each made on the same optimiser */
    readonly schedulers: LRScheduler[],
    /** the steps where each next schedule takes over (one fewer than schedulers) */
    readonly milestones: number[],
  ) {
    super(optimizer, 'SequentialLR');
    if (schedulers.length === 0 || milestones.length !== schedulers.length - 1)
      throw new WgslgradError('SequentialLR', `expected one milestone fewer than schedulers, got ${milestones.length} for ${schedulers.length}`);
    if (schedulers.some((s) => s.optimizer !== optimizer)) throw new WgslgradError('SequentialLR', 'every scheduler must drive the same optimiser');
    this.start();
  }
  lrAt(epoch: number): number {
    let k = 0;
    while (k < this.milestones.length && epoch >= this.milestones[k]!) k++;
    return this.schedulers[k]!.lrAt(epoch - (k > 0 ? this.milestones[k - 1]! : 0));
  }
}
