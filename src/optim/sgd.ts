// torch.optim.SGD with momentum, dampening, Nesterov and weight decay; one kernel
// (shaders/sgd.wgsl) per step over all parameters. CPU reference: src/cpu/sgd.ts.
import { WgslgradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type OptimizerState } from './optimizer.js';

/** Options of {@link SGD} (PyTorch's names and defaults). */
export interface SGDOptions {
  /** the learning rate (default 1e-3) */
  lr?: number;
  /** the momentum factor (default 0: plain SGD) */
  momentum?: number;
  /** dampening of the momentum (default 0) */
  dampening?: number;
  /** an L2 term added to the gradient (default 0) */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0) */
  nesterov?: boolean;
}

function checkSgd(o: { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }): void {
  if (!(o.lr >= 0) || !(o.momentum >= 0) || !(o.weightDecay >= 0) || !(o.dampening >= 0))
    throw new WgslgradError('SGD', `lr, momentum, dampening and weightDecay must be numbers ≥ 0, got ${o.lr}, ${o.momentum}, ${o.dampening}, ${o.weightDecay}`);
  if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new WgslgradError('SGD', 'nesterov needs momentum > 0 and dampening 0');
}

/** torch.optim.SGD with momentum, dampening, Nesterov and weight decay: one kernel a step over every parameter. */
export class SGD extends Optimizer {
  /** the learning rate of the next step */
  lr: number;
  /** see {@link SGDOptions} */
  momentum: number;
  /** see {@link SGDOptions} */
  dampening: number;
  /** see {@link SGDOptions} */
  weightDecay: number;
  /** see {@link SGDOptions} */
  nesterov: boolean;

  constructor(params: Iterable<Tensor>, opts: SGDOptions = {}) {
    if (opts === null || typeof opts !== 'object') throw new WgslgradError('SGD', `options must be an object, got ${opts === null ? 'null' : typeof opts}`);
    const s = {
      lr: opts.lr ?? 1e-3,
      momentum: opts.momentum ?? 0,
      dampening: opts.dampening ?? 0,
      weightDecay: opts.weightDecay ?? 0,
      nesterov: opts.nesterov ?? false,
    };
    checkSgd(s); // before anything is allocated
    super('SGD', params, ['momentum_buffer']);
    this.lr = s.lr;
    this.momentum = s.momentum;
    this.dampening = s.dampening;
    this.weightDecay = s.weightDecay;
    this.nesterov = s.nesterov;
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    checkSgd(this);
    const t = this.stepCount + 1;
    const at = { t, counted: false };
    let ran = false;
    this.forEachRun((start, end) => {
      ran = true;
      this.run(
        'sgd',
        [this.range(this.flat, start, end), this.range(this.gradFlat, start, end), this.range(this.stateFlat[0]!, start, end)],
        (k) => ({
          firstStep: k === 1 ? 1 : 0,
          lr: this.lr,
          momentum: this.momentum,
          dampening: this.dampening,
          weightDecay: this.weightDecay,
          nesterov: this.nesterov ? 1 : 0,
        }),
        at,
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
