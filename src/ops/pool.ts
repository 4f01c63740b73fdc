// maxPool2d and avgPool2d (NCHW, floor mode) as torch.nn.functional.max_pool2d / avg_pool2d: one
// kernel forward, one backward (a lane an input element gathering from the windows that hold it:
// no atomics). Kernel: shaders/pool.wgsl. CPU reference: src/cpu/pool.ts.
import { type Pair, pair } from '../args.js';
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { assertTensor } from './util.js';

/** Options of {@link maxPool2d} (and {@link avgPool2d}): numbers or [h, w]. */
export interface PoolOptions {
  /** default: the kernel size */
  stride?: Pair;
  /** implicit padding on each side, at most half the kernel (default 0) */
  padding?: Pair;
}

/** Options of {@link avgPool2d}. */
export interface AvgPoolOptions extends PoolOptions {
  /** count the padding in each window's divisor (PyTorch's default, true) */
  countIncludePad?: boolean;
}

function geometry(op: string, x: Tensor, kernelSize: Pair, opts: PoolOptions) {
  assertTensor(op, 'input', x);
  if (x.ndim !== 4) throw new WgslgradError(op, `input has shape ${fmtShape(x.shape)}, expected 4-D [N,C,H,W]`);
  const [KH, KW] = pair(op, 'kernelSize', kernelSize, 1, 1);
  const [SH, SW] = pair(op, 'stride', opts.stride ?? [KH, KW], 1, 1);
  const [PH, PW] = pair(op, 'padding', opts.padding, 0, 0);
  if (PH > KH / 2 || PW > KW / 2) throw new WgslgradError(op, `padding ${[PH, PW]} must be at most half the kernel ${KH}×${KW}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * PH - KH) / SH) + 1;
  const OW = Math.floor((W + 2 * PW - KW) / SW) + 1;
  if (OH < 1 || OW < 1) throw new WgslgradError(op, `input ${fmtShape(x.shape)} with padding ${[PH, PW]} is smaller than the kernel ${KH}×${KW}`);
  return { shape: [N, C, OH, OW], p: { NC: N * C, H, W, OH, OW, KH, KW, SH, SW, PH, PW } };
}

/** The largest value of each window; the gradient goes to its first position. */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: PoolOptions = {}): Tensor {
  const { shape, p } = geometry('maxPool2d', x, kernelSize, opts);
  const y = Tensor.empty(shape, false, 'maxPool2d');
  const at = Tensor.empty(shape);
  if (y.size) dispatch(pipeline('pool', 'max_forward', { COUNT_PAD: false }), [x.binding, y.binding, at.binding], p, groups1d(y.size));
  const out = record(y, 'maxPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (dx.size) dispatch(pipeline('pool', 'max_backward', { COUNT_PAD: false }), [g.binding, at.binding, dx.binding], p, groups1d(dx.size));
    return [dx];
  });
  if (!out.requiresGrad) at.dispose();
  return out;
}

/** The mean of each window. */
export function avgPool2d(x: Tensor, kernelSize: Pair, opts: AvgPoolOptions = {}): Tensor {
  const { shape, p } = geometry('avgPool2d', x, kernelSize, opts);
  const COUNT_PAD = opts.countIncludePad ?? true;
  const y = Tensor.empty(shape, false, 'avgPool2d');
  if (y.size) dispatch(pipeline('pool', 'avg_forward', { COUNT_PAD }), [x.binding, y.binding], p, groups1d(y.size));
  return record(y, 'avgPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (dx.size) dispatch(pipeline('pool', 'avg_backward', { COUNT_PAD }), [g.binding, dx.binding], p, groups1d(dx.size));
    return [dx];
  });
}
