// Binary cross-entropy, mean reduction: bceWithLogits (fused, numerically stable) and bce on
// probabilities (log clamped at −100 like PyTorch's BCELoss). Forward one kernel, backward one
// kernel. Kernel: shaders/bce.wgsl. CPU reference: src/cpu/bce.ts.
import { isRootOne } from '../autograd/one.js';
import { isGradEnabled, record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline, placeholder } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { assertTensor, sameShape } from './util.js';

function bceOp(op: 'bceWithLogits' | 'bce', x: Tensor, y: Tensor): Tensor {
  assertTensor(op, op === 'bce' ? 'probabilities' : 'logits', x);
  assertTensor(op, 'targets', y);
  if (!sameShape(x.shape, y.shape)) throw new WgslgradError(op, `targets have shape ${fmtShape(y.shape)}, expected the input's ${fmtShape(x.shape)}`);
  if (x.size === 0) throw new WgslgradError(op, `input ${fmtShape(x.shape)} is empty; the mean of no elements is undefined`);
  const LOGITS = op === 'bceWithLogits';
  const loss = Tensor.empty([]);
  loss._lossOp = op;
  // when the loss will be backpropagated, the forward also writes dx for an upstream gradient of 1
  const pre = isGradEnabled() && x.requiresGrad ? Tensor.empty(x.shape) : null;
  const fwd = pipeline('bce', 'forward', { LOGITS, WANT_DY: false, WANT_DX: pre !== null });
  dispatch(fwd, [x.binding, y.binding, loss.binding, pre ? pre.binding : placeholder()], { n: x.size }, [1]);
  return record(loss, op, [x, y], (g, [wantDx, wantDy]) => {
    if (pre && !wantDy && isRootOne(g)) return [pre.alias(), null]; // the loss is the root: dx is already there
    const dx = Tensor.empty(x.shape);
    const dy = wantDy ? Tensor.empty(y.shape) : null;
    const bufs = [x.binding, y.binding, g.binding, dx.binding, dy ? dy.binding : placeholder()];
    dispatch(pipeline('bce', 'backward', { LOGITS, WANT_DY: wantDy, WANT_DX: false }), bufs, { n: x.size }, groups1d(x.size));
    return [wantDx ? dx : null, dy];
  });
}

/** Mean of max(x,0) − x·y + log(1 + exp(−|x|)) over all elements (torch's BCEWithLogitsLoss). */
export const bceWithLogits = (logits: Tensor, targets: Tensor): Tensor => bceOp('bceWithLogits', logits, targets);
/** Mean of −(y·log p + (1−y)·log(1−p)), logs clamped at −100 (torch's BCELoss). */
export const bce = (probabilities: Tensor, targets: Tensor): Tensor => bceOp('bce', probabilities, targets);
