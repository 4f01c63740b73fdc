// torch.optim.Adam: bias-corrected moments, L2 weight decay; one fused kernel (shaders/adam.wgsl)
// per step over all parameters. CPU reference: src/cpu/adam.ts.
import { WgslgradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type OptimizerState } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super('Adam', params, ['exp_avg', 'exp_avg_sq']);
    this.lr = opts.lr ?? 1e-3;
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.check();
  }

  private check(): void {
    const [b1, b2] = this.betas;
    if (!(this.lr >= 0)) throw new WgslgradError('Adam', `lr must be ≥ 0, got ${this.lr}`);
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new WgslgradError('Adam', `betas must be in [0, 1), got ${JSON.stringify(this.betas)}`);
    if (!(this.eps >= 0) || !(this.weightDecay >= 0)) throw new WgslgradError('Adam', `eps and weightDecay must be ≥ 0, got ${this.eps}, ${this.weightDecay}`);
  }

  step(): void {
    this.check();
    const t = this.stepCount + 1;
    const [b1, b2] = this.betas;
    let ran = false;
    this.forEachRun((start, end) => {
      ran = true;
      const [m, v] = this.stateFlat as [typeof this.flat, typeof this.flat];
      this.run(
        'adam',
        [this.range(this.flat, start, end), this.range(this.gradFlat, start, end), this.range(m, start, end), this.range(v, start, end)],
        { lr: this.lr, beta1: b1, beta2: b2, eps: this.eps, weightDecay: this.weightDecay, bc1: 1 - b1 ** t, bc2sqrt: Math.sqrt(1 - b2 ** t) },
        end - start,
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
