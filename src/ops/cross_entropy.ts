// Softmax cross-entropy as torch.nn.functional.cross_entropy: class-index targets (with
// ignoreIndex) or class probabilities, label smoothing, reduction 'mean' | 'sum' | 'none'; the
// softmax fused into the loss, max-shifted; one kernel forward, one backward.
// Kernel: shaders/cross_entropy.wgsl. CPU reference: src/cpu/cross_entropy.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { assertTensor, sameShape } from './util.js';

/** Options of {@link crossEntropy}, as torch.nn.functional.cross_entropy's. */
export interface CrossEntropyOptions {
  /** a class index whose rows count nowhere (default −100, PyTorch's) */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target becomes (1 − ε)·target + ε/C */
  labelSmoothing?: number;
  /** 'mean' (over counted rows; default), 'sum', or 'none' (a loss a row, the target's shape) */
  reduction?: 'mean' | 'sum' | 'none';
}

const REDUCE = { none: 0, mean: 1, sum: 2 } as const;

/**
 * −Σ target·log softmax(input) over classes (dim 1), as torch's F.cross_entropy. input [N, C] or
 * [N, C, d…]; target [N] / [N, d…] of class indices, or of input's shape holding probabilities.
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  assertTensor(op, 'input', input);
  assertTensor(op, 'target', target);
  if (input.ndim < 2) throw new WgslgradError(op, `input has shape ${fmtShape(input.shape)}, expected [N, C] or [N, C, d…] (classes along dim 1)`);
  const [N, C] = input.shape as [number, number];
  const S = input.shape.slice(2).reduce((a, b) => a * b, 1);
  const PROBS = sameShape(target.shape, input.shape);
  const indexShape = [N, ...input.shape.slice(2)];
  if (!PROBS && !sameShape(target.shape, indexShape))
    throw new WgslgradError(
      op,
      `target has shape ${fmtShape(target.shape)}, expected ${fmtShape(indexShape)} (a class index per row) or the input's ${fmtShape(input.shape)} (probabilities)`,
    );
  if (N * S === 0 || C === 0) throw new WgslgradError(op, `input ${fmtShape(input.shape)} is empty`);
  if (!PROBS && target.requiresGrad) throw new WgslgradError(op, 'class-index targets cannot require grad');
  const reduction = opts.reduction ?? 'mean';
  if (!(reduction in REDUCE)) throw new WgslgradError(op, `reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  const smoothing = opts.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) throw new WgslgradError(op, `labelSmoothing must be in [0, 1], got ${smoothing}`);
  const ignore = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignore)) throw new WgslgradError(op, `ignoreIndex must be an integer, got ${ignore}`);
  const consts = { PROBS, REDUCE: REDUCE[reduction] };
  const params = { N, C, S, ignore, smoothing };
  const perRow = reduction === 'none';
  const loss = Tensor.empty(perRow ? indexShape : [], false, op);
  const count = Tensor.empty([]);
  loss._lossOp = op;
  if (perRow) dispatch(pipeline('cross_entropy', 'forward_rows', consts), [input.binding, target.binding, loss.binding], params, groups1d(N * S));
  else dispatch(pipeline('cross_entropy', 'forward', consts), [input.binding, target.binding, loss.binding, count.binding], params, [1]);
  const out = record(loss, op, [input, target], (g, [dx, dt]) => {
    if (PROBS && dt) throw new WgslgradError(op, 'gradients for probability targets are not implemented; detach() the target');
    const gx = Tensor.empty(input.shape);
    dispatch(pipeline('cross_entropy', 'backward', consts), [input.binding, target.binding, g.binding, count.binding, gx.binding], params, groups1d(N * S));
    return [dx ? gx : null, null];
  });
  if (!out.requiresGrad) count.dispose();
  return out;
}
