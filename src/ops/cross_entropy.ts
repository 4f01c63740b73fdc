// Softmax cross-entropy with class-index targets (mean), fused and max-shifted, forward and
// backward one kernel each. Kernel: shaders/cross_entropy.wgsl. CPU reference: src/cpu/cross_entropy.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { Tensor } from '../tensor.js';
import { assertTensor } from './util.js';

/** Mean over rows of −log softmax(logits)[target]; logits [N, C], targets [N] holding class indices. */
export function crossEntropy(logits: Tensor, targets: Tensor): Tensor {
  const op = 'crossEntropy';
  assertTensor(op, 'logits', logits);
  assertTensor(op, 'targets', targets);
  if (logits.ndim !== 2) throw new WgslgradError(op, `logits have shape ${fmtShape(logits.shape)}, expected [N, C]`);
  const [N, C] = logits.shape as [number, number];
  if (targets.ndim !== 1 || targets.shape[0] !== N)
    throw new WgslgradError(op, `targets have shape ${fmtShape(targets.shape)}, expected [${N}] (one class index per row)`);
  if (N === 0 || C === 0) throw new WgslgradError(op, `logits ${fmtShape(logits.shape)} are empty`);
  if (targets.requiresGrad) throw new WgslgradError(op, 'targets are class indices and cannot require grad');
  const loss = Tensor.empty([]);
  loss._lossOp = op;
  dispatch(pipeline('cross_entropy', 'forward'), [logits.binding, targets.binding, loss.binding], { N, C }, [1]);
  return record(loss, op, [logits, targets], (g) => {
    const dx = Tensor.empty(logits.shape);
    dispatch(pipeline('cross_entropy', 'backward'), [logits.binding, targets.binding, g.binding, dx.binding], { N, C }, groups1d(N));
    return [dx, null];
  });
}
