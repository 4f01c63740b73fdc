// torch.optim.Adam: bias-corrected moments, L2 weight decay; one fused kernel (shaders/adam.wgsl)
// per step over all parameters. CPU reference: src/cpu/adam.ts.
import { WgslgradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type OptimizerState } from './optimizer.js';

/** Options of {@link Adam} and {@link AdamW} (PyTorch's names and defaults). */
export interface AdamOptions {
  /** the learning rate (default 1e-3) */
  lr?: number;
  /** the moments' decay rates β1, β2 in [0, 1) (default [0.9, 0.999]) */
  betas?: [number, number];
  /** added to the second moment's root (default 1e-8) */
  eps?: number;
  /** Adam: an L2 term added to the gradient; AdamW: the decoupled decay lr·weightDecay (defaults 0 and 0.01) */
  weightDecay?: number;
}

function checkAdam(o: { lr: number; betas: [number, number]; eps: number; weightDecay: number }): void {
  if (typeof o.lr !== 'number' || !(o.lr >= 0)) throw new WgslgradError('Adam', `lr must be a number ≥ 0, got ${o.lr}`);
  if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new WgslgradError('Adam', `betas must be a pair [β1, β2], got ${JSON.stringify(o.betas)}`);
  const [b1, b2] = o.betas;
  if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new WgslgradError('Adam', `betas must be in [0, 1), got ${JSON.stringify(o.betas)}`);
  if (!(o.eps >= 0) || !(o.weightDecay >= 0)) throw new WgslgradError('Adam', `eps and weightDecay must be ≥ 0, got ${o.eps}, ${o.weightDecay}`);
}

/**
 * torch.optim.Adam: bias-corrected first and second moments, weight decay as an L2 term in the
 * gradient; one fused kernel a step over every parameter. The hyperparameters may change between
 * steps (a schedule sets lr), in a captured step too. A WgslgradError for values out of range.
 */
export class Adam extends Optimizer {
  /** the learning rate of the next step */
  lr: number;
  /** β1, β2 */
  betas: [number, number];
  /** added to √v̂ */
  eps: number;
  /** the weight decay (see {@link AdamOptions.weightDecay}) */
  weightDecay: number;
  /** AdamW's decoupled weight decay rather than Adam's L2 term in the gradient */
  protected readonly decoupled: boolean = false;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}, name = 'Adam', defaultDecay = 0) {
    if (opts === null || typeof opts !== 'object') throw new WgslgradError(name, `options must be an object, got ${opts === null ? 'null' : typeof opts}`);
    const settings = {
      lr: opts.lr ?? 1e-3,
      betas: opts.betas ?? ([0.9, 0.999] as [number, number]),
      eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? defaultDecay,
    };
    checkAdam(settings); // before anything is allocated
    super(name, params, ['exp_avg', 'exp_avg_sq']);
    this.lr = settings.lr;
    this.betas = [settings.betas[0], settings.betas[1]];
    this.eps = settings.eps;
    this.weightDecay = settings.weightDecay;
  }

  private check(): void {
    checkAdam(this);
  }

  /** One update of every parameter that has a gradient (PyTorch leaves the others alone too). */
  step(): void {
    this.check();
    const t = this.stepCount + 1;
    const at = { t, counted: false };
    let ran = false;
    this.forEachRun((start, end) => {
      ran = true;
      const [m, v] = this.stateFlat as [typeof this.flat, typeof this.flat];
      this.run(
        'adam',
        [this.range(this.flat, start, end), this.range(this.gradFlat, start, end), this.range(m, start, end), this.range(v, start, end)],
        (k) => {
          const [b1, b2] = this.betas;
          return { lr: this.lr, beta1: b1, beta2: b2, eps: this.eps, weightDecay: this.weightDecay, bc1: 1 - b1 ** k, bc2sqrt: Math.sqrt(1 - b2 ** k) };
        },
        at,
        end - start,
        { DECOUPLED: this.decoupled },
      );
    });
    if (ran) this.stepCount = t;
  }

  protected hyper(): OptimizerState['hyper'] {
    return { lr: this.lr, betas: [...this.betas], eps: this.eps, weightDecay: this.weightDecay };
  }

  protected setHyper(h: OptimizerState['hyper']): void {
    if (typeof h.lr === 'number') this.lr = h.lr;
    if (Array.isArray(h.betas) && h.betas.length === 2) this.betas = [h.betas[0]!, h.betas[1]!];
    if (typeof h.eps === 'number') this.eps = h.eps;
    if (typeof h.weightDecay === 'number') this.weightDecay = h.weightDecay;
  }
}

/**
 * torch.optim.AdamW: Adam whose weight decay shrinks each parameter by lr·weightDecay before the
 * update (default 0.01) instead of adding to its gradient; the same one fused kernel.
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, opts, 'AdamW', 0.01);
  }
}
