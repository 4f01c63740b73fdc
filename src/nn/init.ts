// In-place initialisers, seeded like wg.rand / wg.randn (a seed, or the global generator).
import { fmtShape, WgslgradError } from '../errors.js';
import { fillInto, randomInto, streamKey } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

/** fan_in and fan_out as torch.nn.init computes them (dim 1 × receptive field, dim 0 × receptive field). */
export function fans(t: Tensor, op = 'init'): [number, number] {
  if (t.ndim < 2) throw new WgslgradError(op, `fan in/out need at least 2 dims, got ${fmtShape(t.shape)}`);
  const rf = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * rf, t.shape[0]! * rf];
}

/** Fills t in place with U(low, high) and returns it (torch.nn.init.uniform_); seeded like {@link rand}. */
export const uniform = (t: Tensor, low = 0, high = 1, opts: { seed?: number } = {}) => randomInto(t, 'rand', low, high, streamKey('init.uniform', opts.seed));
/** Fills t in place with N(mean, std²) and returns it (torch.nn.init.normal_). */
export const normal = (t: Tensor, mean = 0, std = 1, opts: { seed?: number } = {}) => randomInto(t, 'randn', mean, std, streamKey('init.normal', opts.seed));
/** Fills t in place with `value` and returns it (torch.nn.init.constant_). */
export const constant = (t: Tensor, value: number) => fillInto(t, value);
/** Fills t in place with 0 (torch.nn.init.zeros_). */
export const zeros = (t: Tensor) => constant(t, 0);
/** Fills t in place with 1 (torch.nn.init.ones_). */
export const ones = (t: Tensor) => constant(t, 1);

/** Glorot/Xavier uniform: U(−a, a), a = gain·sqrt(6/(fan_in + fan_out)). */
export function xavierUniform(t: Tensor, opts: { gain?: number; seed?: number } = {}): Tensor {
  const [fi, fo] = fans(t, 'init.xavierUniform');
  const a = (opts.gain ?? 1) * Math.sqrt(6 / (fi + fo));
  return uniform(t, -a, a, opts);
}

/** Glorot/Xavier normal: N(0, gain²·2/(fan_in + fan_out)). */
export function xavierNormal(t: Tensor, opts: { gain?: number; seed?: number } = {}): Tensor {
  const [fi, fo] = fans(t, 'init.xavierNormal');
  return normal(t, 0, (opts.gain ?? 1) * Math.sqrt(2 / (fi + fo)), opts);
}
