// max, min, argmax and argmin along a dim (or over every element), as torch.amax / torch.amin /
// torch.argmax / torch.argmin: one kernel finds each row's value and its first index; the
// backward of max and min sends the gradient to that index. Indices are float tensors of integer
// values (the library's tensors are float32). Kernel: shaders/argmax.wgsl. CPU reference:
// src/cpu/argmax.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { assertTensor, normDim } from './util.js';

/** The values and indices of the rows along `dim` (undefined: every element as one row). */
function rawReduce(op: string, x: Tensor, dimArg: number | undefined, keepDim: boolean, MIN: boolean) {
  assertTensor(op, 'input', x);
  const flat = dimArg === undefined;
  const dim = flat ? 0 : normDim(op, dimArg, x.ndim);
  const shape = flat ? [x.size] : x.shape;
  const D = shape[dim]!;
  if (D === 0) throw new WgslgradError(op, `input ${fmtShape(x.shape)} has no values along dim ${dimArg ?? 'all'}`);
  const inner = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const rows = x.size / D;
  const outShape = flat ? (keepDim ? x.shape.map(() => 1) : []) : x.shape.map((s, i) => (i === dim ? 1 : s)).filter((_, i) => keepDim || i !== dim);
  const values = Tensor.empty(outShape, false, op);
  const indices = Tensor.empty(outShape);
  const p = { rows, D, inner };
  dispatch(pipeline('argmax', 'reduce', { MIN }), [x.binding, values.binding, indices.binding], p, groups1d(rows, 64));
  return { values, indices, p };
}

function extremum(op: 'max' | 'min', x: Tensor, dim: number | undefined, keepDim: boolean): Tensor {
  const { values, indices, p } = rawReduce(op, x, dim, keepDim, op === 'min');
  const out = record(values, op, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    dispatch(pipeline('argmax', 'backward'), [g.binding, indices.binding, dx.binding], p, groups1d(x.size));
    return [dx];
  });
  if (!out.requiresGrad) indices.dispose();
  return out;
}

function position(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepDim: boolean): Tensor {
  const { values, indices } = rawReduce(op, x, dim, keepDim, op === 'argmin');
  values.dispose();
  return indices;
}

/** The largest value along `dim` (every element when undefined), as torch.amax; its gradient goes to the first index holding it. */
export const max = (x: Tensor, dim?: number, keepDim = false): Tensor => extremum('max', x, dim, keepDim);
/** The smallest value along `dim`, as torch.amin. */
export const min = (x: Tensor, dim?: number, keepDim = false): Tensor => extremum('min', x, dim, keepDim);
/** The first index of the largest value along `dim` (of the flattened tensor when undefined), as torch.argmax; no gradient. */
export const argmax = (x: Tensor, dim?: number, keepDim = false): Tensor => position('argmax', x, dim, keepDim);
/** The first index of the smallest value along `dim`, as torch.argmin; no gradient. */
export const argmin = (x: Tensor, dim?: number, keepDim = false): Tensor => position('argmin', x, dim, keepDim);
