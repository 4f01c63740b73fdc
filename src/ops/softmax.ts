// softmax and logSoftmax along any dim, as torch.softmax / torch.log_softmax: one kernel forward
// (the row's max and sum in one pass), one backward. Kernel: shaders/softmax.wgsl.
// CPU reference: src/cpu/softmax.ts.
import { record } from '../autograd/tape.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { assertTensor, normDim } from './util.js';

/** The dim's length, the rows across it and the stride between a row's values. */
function rowsOf(x: Tensor, dim: number): { rows: number; D: number; inner: number } {
  const D = x.shape[dim]!;
  const inner = x.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  return { rows: D === 0 ? 0 : x.size / D, D, inner };
}

function softmaxOp(op: 'softmax' | 'logSoftmax', x: Tensor, dimArg: number): Tensor {
  assertTensor(op, 'input', x);
  const dim = normDim(op, dimArg, x.ndim);
  const p = rowsOf(x, dim);
  const LOG = op === 'logSoftmax';
  const y = Tensor.empty(x.shape, false, op);
  if (p.rows) dispatch(pipeline('softmax', 'forward', { LOG }), [x.binding, y.binding], p, groups1d(p.rows, 64));
  return record(y, op, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (p.rows) dispatch(pipeline('softmax', 'backward', { LOG }), [g.binding, y.binding, dx.binding], p, groups1d(p.rows, 64));
    return [dx];
  });
}

/** exp(x) / Σ exp(x) along `dim` (default the last), numerically stable. */
export const softmax = (x: Tensor, dim = -1): Tensor => softmaxOp('softmax', x, dim);
/** log softmax(x) along `dim` (default the last), without forming softmax: x − max − log Σ exp(x − max). */
export const logSoftmax = (x: Tensor, dim = -1): Tensor => softmaxOp('logSoftmax', x, dim);
