// torch.optim.SGD with momentum, dampening, Nesterov and weight decay; one kernel
// (shaders/sgd.wgsl) per step over all parameters. CPU reference: src/cpu/sgd.ts.
import { WgslgradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type OptimizerState } from './optimizer.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;

  constructor(params: Iterable<Tensor>, opts: SGDOptions = {}) {
    super('SGD', params, ['momentum_buffer']);
    this.lr = opts.lr ?? 1e-3;
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.lr >= 0) || !(this.momentum >= 0) || !(this.weightDecay >= 0))
      throw new WgslgradError('SGD', `lr, momentum and weightDecay must be ≥ 0, got ${this.lr}, ${this.momentum}, ${this.weightDecay}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new WgslgradError('SGD', 'nesterov needs momentum > 0 and dampening 0');
  }

  step(): void {
    const first = this.stepCount === 0 ? 1 : 0;
    let ran = false;
    this.forEachRun((start, end) => {
      ran = true;
      this.run(
        'sgd',
        [this.range(this.flat, start, end), this.range(this.gradFlat, start, end), this.range(this.stateFlat[0]!, start, end)],
        { firstStep: first, lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov ? 1 : 0 },
        end - start,
      );
    });
    if (ran) this.stepCount++;
  }

  protected hyper(): OptimizerState['hyper'] {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }

  protected setHyper(h: OptimizerState['hyper']): void {
    for (const k of ['lr', 'momentum', 'dampening', 'weightDecay'] as const) if (typeof h[k] === 'number') this[k] = h[k] as number;
    if (typeof h.nesterov === 'boolean') this.nesterov = h.nesterov;
  }
}
