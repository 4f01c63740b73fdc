// Helpers over parameter lists.

import { noGrad } from '../autograd/tape.js';
import { WgslgradError } from '../errors.js';
import { zeros } from '../ops/creation.js';
import { add, clamp, div, mul, sqrt, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { scope } from '../scope.js';
import type { Tensor } from '../tensor.js';

/** Global L2 norm of the gradients of `params` (those that have one), as a scalar tensor on the GPU. */
export function gradNorm(params: Iterable<Tensor>): Tensor {
  const list = [...params];
  if (list.some((p) => typeof p !== 'object' || p === null || !('grad' in p))) throw new WgslgradError('gradNorm', 'expected an iterable of tensors');
  return noGrad(() =>
    scope(() => {
      let acc = zeros([]);
      for (const p of list) if (p.grad) acc = add(acc, sum(square(p.grad)));
      return sqrt(acc);
    }),
  );
}

/**
 * Scales the gradients of `params` in place so that their global L2 norm is at most `maxNorm`, as
 * torch.nn.utils.clip_grad_norm_: by min(1, maxNorm / (norm + 1e-6)), all on the GPU (no readback).
 * Returns the norm before clipping, a scalar tensor.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Tensor {
  if (!(typeof maxNorm === 'number' && maxNorm > 0)) throw new WgslgradError('clipGradNorm', `maxNorm must be a positive number, got ${maxNorm}`);
  const list = [...params];
  const total = gradNorm(list);
  noGrad(() =>
    scope(() => {
      const coef = clamp(div(maxNorm, add(total, 1e-6)), null, 1);
      for (const p of list) if (p.grad) p.grad.copy_(mul(p.grad, coef));
    }),
  );
  return total;
}
