// Helpers over parameter lists.

import { noGrad } from '../autograd/tape.js';
import { WgslgradError } from '../errors.js';
import type { Storage } from '../gpu/pool.js';
import { zeros } from '../ops/creation.js';
import { add, clamp, div, mul, sqrt, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { scope } from '../scope.js';
import { Tensor } from '../tensor.js';

/**
 * The gradients of `params` as few tensors as possible: gradients that lie end to end in one parent
 * buffer (an optimiser's flat gradient buffer, where the backward sweep writes them) become one
 * view over them all, so that a norm or a scaling is one dispatch, not one a parameter. Only
 * gradients in the list are covered (a view stops where the next one does not start).
 */
function gradRuns(list: Tensor[]): Tensor[] {
  const runs: Array<{ parent: Storage | null; start: number; end: number; grads: Tensor[] }> = [];
  for (const p of list) {
    const g = p.grad;
    if (!g || g.size === 0) continue;
    const s = g.storage;
    const last = runs.at(-1);
    if (last && s.parent && last.parent === s.parent && s.offset === last.end) {
      last.end += g.size * 4;
      last.grads.push(g);
    } else runs.push({ parent: s.parent, start: s.offset, end: s.offset + g.size * 4, grads: [g] });
  }
  return runs.map((r) =>
    r.grads.length === 1 || !r.parent ? r.grads[0]! : new Tensor([(r.end - r.start) / 4], r.parent.view(r.start - r.parent.offset, r.end - r.start)),
  );
}

/** Global L2 norm of the gradients of `params` (those that have one), as a scalar tensor on the GPU. */
export function gradNorm(params: Iterable<Tensor>): Tensor {
  const list = [...params];
  if (list.some((p) => typeof p !== 'object' || p === null || !('grad' in p))) throw new WgslgradError('gradNorm', 'expected an iterable of tensors');
  return noGrad(() =>
    scope(() => {
      let acc = zeros([]);
      for (const g of gradRuns(list)) acc = add(acc, sum(square(g)));
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
      for (const g of gradRuns(list)) g.copy_(mul(g, coef));
    }),
  );
  return total;
}
