// Helpers over parameter lists.

import { noGrad } from '../autograd/tape.js';
import { WgslgradError } from '../errors.js';
import { zeros } from '../ops/creation.js';
import { add, sqrt, square } from '../ops/elementwise.js';
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
