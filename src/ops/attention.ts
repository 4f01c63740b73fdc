// Scaled dot-product attention as torch.nn.functional.scaled_dot_product_attention(q, k, v,
// is_causal, scale): one fused kernel forward and three backward (FlashAttention's recurrences, a
// lane a row), with no [T, T] score matrix in memory. Heads too wide for a lane's registers
// (D or DV past MAX_FUSED_HEAD) take the composed ops instead: the scores, softmax, then V.
// Kernel: shaders/attention.wgsl. CPU reference: src/cpu/attention.ts.
import { record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { gpuState } from '../gpu/device.js';
import { dispatch, groups1d, pipeline } from '../gpu/engine.js';
import { keep } from '../scope.js';
import { Tensor } from '../tensor.js';
import { tensor } from './creation.js';
import { maskedFill, mul } from './elementwise.js';
import { matmul } from './matmul.js';
import { transpose } from './shape.js';
import { softmax } from './softmax.js';
import { assertTensor, sameShape } from './util.js';

/** The widest head the fused kernels take (their rows live in each lane's private arrays). */
export const MAX_FUSED_HEAD = 128;

export interface AttentionOptions {
  /** mask out keys after each query's position (a query row i sees keys j ≤ i, as PyTorch's is_causal) */
  causal?: boolean;
  /** the scores' scale (default 1/√D) */
  scale?: number;
  /** use the composed ops even where the fused kernels could run (for comparison) */
  composed?: boolean;
}

/**
 * softmax(q·kᵀ·scale) · v over the last two dims: q [..., TQ, D], k [..., TK, D], v [..., TK, DV],
 * the leading dims equal (batch, heads); the output is [..., TQ, DV].
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    assertTensor(op, name, t);
    if (t.ndim < 2) throw new WgslgradError(op, `${name} has shape ${fmtShape(t.shape)}, expected [..., T, D]`);
  }
  const lead = q.shape.slice(0, -2);
  if (!sameShape(k.shape.slice(0, -2), lead) || !sameShape(v.shape.slice(0, -2), lead))
    throw new WgslgradError(op, `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} must share their leading (batch, head) dims`);
  const [TQ, D] = q.shape.slice(-2) as [number, number];
  const [TK, Dk] = k.shape.slice(-2) as [number, number];
  const [TV, DV] = v.shape.slice(-2) as [number, number];
  if (Dk !== D) throw new WgslgradError(op, `k has ${Dk} features a row, q has ${D}`);
  if (TV !== TK) throw new WgslgradError(op, `v has ${TV} rows, k has ${TK}`);
  if (TQ === 0 || TK === 0 || D === 0 || DV === 0)
    throw new WgslgradError(op, `empty attention: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  if (!Number.isFinite(scale)) throw new WgslgradError(op, `scale must be a finite number, got ${scale}`);
  const causal = opts.causal ?? false;
  if (opts.composed || D > MAX_FUSED_HEAD || DV > MAX_FUSED_HEAD) return composed(q, k, v, scale, causal);
  const BH = lead.reduce((a, b) => a * b, 1);
  const consts = { D, DV, CAUSAL: causal };
  const params = { BH, TQ, TK, scale };
  const o = Tensor.empty([...lead, TQ, DV], false, op);
  const lse = Tensor.empty([BH * TQ]);
  if (BH) dispatch(pipeline('attention', 'forward', consts), [q.binding, k.binding, v.binding, o.binding, lse.binding], params, groups1d(BH * TQ, 64));
  const out = record(o, op, [q, k, v], (g, [dq, dk, dv]) => {
    const delta = Tensor.empty([BH * TQ]);
    dispatch(pipeline('attention', 'delta', consts), [g.binding, o.binding, delta.binding], params, groups1d(BH * TQ, 64));
    const gq = dq ? Tensor.empty(q.shape) : null;
    if (gq)
      dispatch(
        pipeline('attention', 'backward_q', consts),
        [q.binding, k.binding, v.binding, g.binding, lse.binding, delta.binding, gq.binding],
        params,
        groups1d(BH * TQ, 64),
      );
    let gk: Tensor | null = null;
    let gv: Tensor | null = null;
    if (dk || dv) {
      gk = Tensor.empty(k.shape);
      gv = Tensor.empty(v.shape);
      dispatch(
        pipeline('attention', 'backward_kv', consts),
        [q.binding, k.binding, v.binding, g.binding, lse.binding, delta.binding, gk.binding, gv.binding],
        params,
        groups1d(BH * TK, 64),
      );
    }
    return [gq, dk ? gk : null, dv ? gv : null];
  });
  if (!out.requiresGrad) lse.dispose();
  return out;
}

/** The causal masks of the composed path by (TQ, TK): 1 above the diagonal, made once per device. */
const masks = new Map<string, { device: GPUDevice; t: Tensor }>();

/** The same attention from matmul, maskedFill and softmax (the [TQ, TK] scores in memory). */
function composed(q: Tensor, k: Tensor, v: Tensor, scale: number, causal: boolean): Tensor {
  let s = mul(matmulLast(q, transpose(k, -2, -1)), scale);
  if (causal) {
    const [TQ, TK] = [q.shape.at(-2)!, k.shape.at(-2)!];
    s = maskedFill(s, causalMask(TQ, TK), Number.NEGATIVE_INFINITY);
  }
  return matmulLast(softmax(s, -1), v);
}

/** matmul over the last two dims with any leading dims (matmul takes 2-D and 3-D operands). */
function matmulLast(a: Tensor, b: Tensor): Tensor {
  const lead = a.shape.slice(0, -2);
  const B = lead.reduce((x, y) => x * y, 1);
  const y = matmul(a.reshape([B, ...a.shape.slice(-2)]), b.reshape([B, ...b.shape.slice(-2)]));
  return y.reshape([...lead, ...y.shape.slice(-2)]);
}

function causalMask(TQ: number, TK: number): Tensor {
  const key = `${TQ}x${TK}`;
  const { device } = gpuState();
  const hit = masks.get(key);
  if (hit && hit.device === device && !hit.t.disposed) return hit.t;
  const m = Float32Array.from({ length: TQ * TK }, (_, e) => (e % TK > Math.floor(e / TK) ? 1 : 0));
  const t = keep(tensor(m, [TQ, TK]));
  masks.set(key, { device, t });
  return t;
}
