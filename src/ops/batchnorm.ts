// Batch normalisation for [N,C] and [N,C,H,W] as torch.nn.functional.batch_norm, with an optional
// fused ReLU/LeakyReLU. Training: batch statistics (biased variance to normalise, unbiased to update
// the running variance, in place), one kernel forward, one kernel backward. Eval: running statistics.
// Kernel: shaders/batchnorm.wgsl. CPU reference: src/cpu/batchnorm.ts.
import { isGradEnabled, recordInto } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { deviceFacts } from '../gpu/device.js';
import { dispatch, groups1d, pipeline, placeholder } from '../gpu/engine.js';
import { bnLanes } from '../gpu/planner.js';
import { planBatchNorm } from '../gpu/variants/index.js';
import { Tensor } from '../tensor.js';
import { leakyRelu, relu } from './activation.js';
import { full } from './creation.js';
import { add, div, mul, sqrt, sub } from './elementwise.js';
import { reshape } from './shape.js';
import { assertTensor } from './util.js';

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** batch statistics (and running ones updated) when true, the running ones when false; default true */
  training?: boolean;
  /** the running statistics' update weight (default 0.1) */
  momentum?: number;
  /** added to the variance (default 1e-5) */
  eps?: number;
  /** Fuse an activation after the affine step: 'relu' or 'leakyRelu' (with `slope`). */
  activation?: 'relu' | 'leakyRelu' | null;
  /** the fused leakyRelu's negative slope (default 0.01) */
  slope?: number;
  /** a one-element tensor counting training calls (PyTorch's num_batches_tracked), + 1 in the same kernel */
  numBatchesTracked?: Tensor | null;
}

/**
 * Batch normalisation over [N, C] or [N, C, H, W] per channel, as torch.nn.functional.batch_norm:
 * in training mode the batch's mean and biased variance normalise and the running statistics (if
 * given) move by momentum with the unbiased variance; in eval mode the running statistics
 * normalise. weight and bias are [C] or null.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  opts: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm';
  assertTensor(op, 'input', x);
  if (x.ndim !== 2 && x.ndim !== 4) throw new WgslgradError(op, `input has shape ${fmtShape(x.shape)}, expected [N,C] or [N,C,H,W]`);
  const [N, C] = x.shape as [number, number];
  const S = x.ndim === 4 ? x.shape[2]! * x.shape[3]! : 1;
  const training = opts.training ?? true;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (!(eps > 0)) throw new WgslgradError(op, `eps must be positive, got ${eps}`);
  for (const [name, t] of [
    ['runningMean', runningMean],
    ['runningVar', runningVar],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t == null) continue;
    assertTensor(op, name, t);
    if (t.ndim !== 1 || t.shape[0] !== C) throw new WgslgradError(op, `${name} has shape ${fmtShape(t.shape)}, expected [${C}] for input ${fmtShape(x.shape)}`);
  }
  if (opts.numBatchesTracked != null) {
    assertTensor(op, 'numBatchesTracked', opts.numBatchesTracked);
    if (opts.numBatchesTracked.size !== 1)
      throw new WgslgradError(op, `numBatchesTracked has shape ${fmtShape(opts.numBatchesTracked.shape)}, expected one element`);
  }
  if (!training && (!runningMean || !runningVar)) throw new WgslgradError(op, 'eval mode needs runningMean and runningVar');
  if (training && N * S < 2) throw new WgslgradError(op, `training needs more than one value per channel, got input ${fmtShape(x.shape)}`);
  const FUSED_ACT = opts.activation === 'relu' ? 1 : opts.activation === 'leakyRelu' ? 2 : 0;
  const slope = opts.slope ?? 0.01;
  const consts = { ACT: FUSED_ACT, BWG: bnLanes(deviceFacts()) };
  const params = { N, C, S, momentum, eps, slope };
  const gamma = weight ?? full([C], 1);
  const beta = bias ?? full([C], 0);
  if (!training && isGradEnabled() && [x, weight, bias].some((t) => t?.requiresGrad)) {
    // eval with gradients: an affine map per channel, built from differentiable ops
    const shape = x.ndim === 4 ? [1, C, 1, 1] : [1, C];
    const k = reshape(div(gamma, sqrt(add(runningVar!.detach(), eps))), shape); // γ/σ per channel
    const yAff = add(mul(sub(x, reshape(runningMean!.detach(), shape)), k), reshape(beta, shape));
    return FUSED_ACT === 1 ? relu(yAff) : FUSED_ACT === 2 ? leakyRelu(yAff, slope) : yAff;
  }
  const y = Tensor.empty(x.shape);
  if (!training) {
    dispatch(
      pipeline('batchnorm', 'apply_eval', consts),
      [x.binding, gamma.binding, beta.binding, y.binding, runningMean!.binding, runningVar!.binding],
      params,
      groups1d(y.size),
    );
  } else {
    const saved = Tensor.empty([2 * C]);
    // without running buffers (track_running_stats=False) the update goes to scratch tensors
    const rm = runningMean ?? full([C], 0);
    const rv = runningVar ?? full([C], 1);
    // [N, C]: a lane per channel (no barriers); [N, C, H, W]: a workgroup per channel reducing N·H·W values
    const fwd = planBatchNorm(deviceFacts(), { C, S }, false);
    dispatch(
      pipeline(fwd.kernel, fwd.entry, { ...consts, ...fwd.consts }),
      [
        x.binding,
        gamma.binding,
        beta.binding,
        y.binding,
        saved.binding,
        rm.binding,
        rv.binding,
        opts.numBatchesTracked ? opts.numBatchesTracked.binding : placeholder(),
      ],
      params,
      fwd.groups,
    );
    if (!runningMean) rm.dispose();
    if (!runningVar) rv.dispose();
    const inputs = [x, gamma, beta];
    const out = recordInto(y, op, inputs, (g, _needs, acc, outs) => {
      const dx = Tensor.empty(x.shape);
      // γ's and β's gradients into their optimiser slots when the sweep gives them and has nothing
      // accumulated for them (the kernel does not add acc in; the sweep then adds into the slot)
      const dg = (!acc[1] && outs[1]) || Tensor.empty([C]);
      const db = (!acc[2] && outs[2]) || Tensor.empty([C]);
      const bwd = planBatchNorm(deviceFacts(), { C, S }, true);
      dispatch(
        pipeline(bwd.kernel, bwd.entry, { ...consts, ...bwd.consts }),
        [g.binding, x.binding, y.binding, gamma.binding, saved.binding, dx.binding, dg.binding, db.binding],
        params,
        bwd.groups,
      );
      return [dx, weight ? dg : null, bias ? db : null];
    });
    if (!out.requiresGrad) saved.dispose();
    return out;
  }
  return y;
}
