// Inverted dropout (scaled by 1/(1−p) in training, identity in eval). The mask comes from a seeded
// counter-based stream and is recomputed in backward. Kernel: shaders/dropout.wgsl.
// CPU reference: src/cpu/dropout.ts.
import { record } from '../autograd/tape.js';
import { WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { streamKey } from './creation.js';
import { assertTensor } from './util.js';

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** false: the identity (eval mode); default true */
  training?: boolean;
  /** Same seed, same mask; without one the global generator (manualSeed) advances. */
  seed?: number;
}

function apply(x: Tensor, p: number, key: [number, number]): Tensor {
  const y = Tensor.empty(x.shape);
  const n = y.size;
  if (n) dispatch(pipeline('dropout', 'main'), [x.binding, y.binding], { n, k0: key[0], k1: key[1], p }, groups1d(n), () => ({ n, k0: key[0], k1: key[1], p }));
  return y;
}

/** Zeroes each value with probability p and scales the rest by 1/(1 − p), as torch.nn.functional.dropout; the mask comes from the seeded generator (or `seed`). */
export function dropout(x: Tensor, p = 0.5, opts: DropoutOptions = {}): Tensor {
  assertTensor('dropout', 'input', x);
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new WgslgradError('dropout', `p must be in [0, 1), got ${p}`);
  if (!(opts.training ?? true) || p === 0) {
    const y = x.alias();
    return record(y, 'dropout', [x], (g) => [g.alias()]);
  }
  const key = streamKey('dropout', opts.seed);
  const y = apply(x, p, key);
  return record(y, 'dropout', [x], (g) => [apply(g, p, key)]);
}
