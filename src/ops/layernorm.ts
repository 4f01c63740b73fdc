// Layer normalisation as torch.nn.functional.layer_norm over the trailing `normalizedShape` dims,
// with optional weight and bias of that shape: one kernel forward, two backward (the input's
// gradient a row a lane, the weight's and bias's a feature a lane). Kernel: shaders/layernorm.wgsl.
// CPU reference: src/cpu/layernorm.ts.
import { recordInto } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { dispatch, groups1d, pipeline, placeholder } from '../gpu/engine.js';
import { type Shape, sizeOf, Tensor } from '../tensor.js';
import { assertTensor, sameShape } from './util.js';

/** Options of {@link layerNorm}. */
export interface LayerNormOptions {
  /** added to the variance (default 1e-5) */
  eps?: number;
}

/**
 * (x − mean) / √(var + eps) · weight + bias over the trailing `normalizedShape` dims, as
 * torch.nn.functional.layer_norm (biased variance, one fused kernel a pass). weight and bias have
 * normalizedShape's shape, or are both omitted. A WgslgradError when x's trailing dims or the
 * parameters' shapes do not match normalizedShape.
 */
export function layerNorm(x: Tensor, normalizedShape: number | Shape, weight?: Tensor | null, bias?: Tensor | null, opts: LayerNormOptions = {}): Tensor {
  const op = 'layerNorm';
  assertTensor(op, 'input', x);
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  if (ns.length === 0 || ns.length > x.ndim || !sameShape(x.shape.slice(x.ndim - ns.length), ns))
    throw new WgslgradError(op, `normalizedShape ${fmtShape(ns)} is not the trailing dims of the input ${fmtShape(x.shape)}`);
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t == null) continue;
    assertTensor(op, name, t);
    if (!sameShape(t.shape, ns)) throw new WgslgradError(op, `${name} has shape ${fmtShape(t.shape)}, expected ${fmtShape(ns)}`);
  }
  if ((weight == null) !== (bias == null)) throw new WgslgradError(op, 'give both weight and bias, or neither');
  const eps = opts.eps ?? 1e-5;
  if (!(eps > 0)) throw new WgslgradError(op, `eps must be positive, got ${eps}`);
  const D = sizeOf(ns);
  const M = D === 0 ? 0 : x.size / D;
  const AFFINE = weight != null;
  const y = Tensor.empty(x.shape, false, op);
  const saved = Tensor.empty([2 * M]);
  const w = weight ?? null;
  const b = bias ?? null;
  if (M && D)
    dispatch(
      pipeline('layernorm', 'forward', { AFFINE }),
      [x.binding, w?.binding ?? placeholder(), b?.binding ?? placeholder(), y.binding, saved.binding],
      { M, D, eps },
      groups1d(M, 64),
    );
  const inputs = w && b ? [x, w, b] : [x];
  const out = recordInto(y, op, inputs, (g, [dx, dw, db], acc, outs) => {
    const gx = dx ? Tensor.empty(x.shape) : null;
    if (gx && M && D)
      dispatch(
        pipeline('layernorm', 'backward_input', { AFFINE }),
        [g.binding, x.binding, saved.binding, w?.binding ?? placeholder(), gx.binding],
        { M, D },
        groups1d(M, 64),
      );
    if (!AFFINE) return [gx];
    if (!dw && !db) return [gx, null, null];
    // the weight's and bias's gradients into their optimiser slots when the sweep gives them and
    // has nothing accumulated for them (every element is written)
    const gw = (!acc[1] && outs[1]) || Tensor.empty(ns);
    const gb = (!acc[2] && outs[2]) || Tensor.empty(ns);
    if (D)
      dispatch(pipeline('layernorm', 'backward_params', { AFFINE }), [g.binding, x.binding, saved.binding, gw.binding, gb.binding], { M, D }, groups1d(D, 64));
    return [gx, gw, gb];
  });
  if (!out.requiresGrad) saved.dispose();
  return out;
}
