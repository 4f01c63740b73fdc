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

/** Options of {@link scaledDotProductAttention}. */
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
  // contiguous [BH, T, D] rows: one "head" a batch entry
  const rows = (T: number, Dd: number): Layout => ({ off: 0, b: T * Dd, h: 0, t: Dd });
  return fused(op, [q, k, v], { BH, H: 1, TQ, TK, D, DV, scale, causal }, { q: rows(TQ, D), k: rows(TK, D), v: rows(TK, DV), o: rows(TQ, DV) }, [
    ...lead,
    TQ,
    DV,
  ]);
}

/** Where a tensor's rows are: row t of head h of batch b starts at off + b·b + h·h + t·t. */
interface Layout {
  off: number;
  b: number;
  h: number;
  t: number;
}

interface Dims {
  BH: number;
  H: number;
  TQ: number;
  TK: number;
  D: number;
  DV: number;
  scale: number;
  causal: boolean;
}

/**
 * The fused kernels on inputs laid out as `lay` says (q, k, v may be one tensor: a packed
 * self-attention), the output [.., TQ, DV] rows at lay.o; gradients are laid out as their inputs.
 */
function fused(op: string, inputs: Tensor[], d: Dims, lay: { q: Layout; k: Layout; v: Layout; o: Layout }, outShape: number[]): Tensor {
  const { BH, TQ, TK } = d;
  const consts = { D: d.D, DV: d.DV, CAUSAL: d.causal };
  const params: Record<string, number> = { BH, H: d.H, TQ, TK, scale: d.scale };
  for (const [name, l] of Object.entries(lay)) Object.assign(params, { [`${name}Off`]: l.off, [`${name}B`]: l.b, [`${name}H`]: l.h, [`${name}T`]: l.t });
  const [q, k, v] = inputs.length === 1 ? [inputs[0]!, inputs[0]!, inputs[0]!] : (inputs as [Tensor, Tensor, Tensor]);
  const o = Tensor.empty(outShape, false, op);
  const lse = Tensor.empty([BH * TQ]);
  if (BH) dispatch(pipeline('attention', 'forward', consts), [q.binding, k.binding, v.binding, o.binding, lse.binding], params, groups1d(BH * TQ, 64));
  const out = record(o, op, inputs, (g, needs) => {
    const delta = Tensor.empty([BH * TQ]);
    dispatch(pipeline('attention', 'delta', consts), [g.binding, o.binding, delta.binding], params, groups1d(BH * TQ, 64));
    const packed = inputs.length === 1;
    // a packed input's gradient: dQ, dK and dV each fill their part of it
    const gqkv = packed ? Tensor.empty(q.shape) : null;
    const [dq, dk, dv] = packed ? [true, true, true] : needs;
    const gq = gqkv ?? (dq ? Tensor.empty(q.shape) : null);
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
      gk = gqkv ?? Tensor.empty(k.shape);
      gv = gqkv ?? Tensor.empty(v.shape);
      const common = [q.binding, k.binding, v.binding, g.binding, lse.binding, delta.binding, gk.binding];
      dispatch(
        pipeline('attention', packed ? 'backward_kv_packed' : 'backward_kv', consts),
        packed ? common : [...common, gv.binding],
        params,
        groups1d(BH * TK, 64),
      );
    }
    return packed ? [gqkv] : [gq, dk ? gk : null, dv ? gv : null];
  });
  if (!out.requiresGrad) lse.dispose();
  return out;
}

/**
 * The attention of a self-attention layer straight from its packed projections: qkv [N, L, 3E]
 * (or [L, N, 3E] unless batchFirst) holds each position's query, key and value, the E features
 * of each split into `heads`; the output is [N, L, E] (or [L, N, E]) with the heads side by side, as
 * MultiheadAttention's output projection takes it. No copy splits or joins the heads: the kernels
 * read and write them in place, and the gradient of qkv comes out whole.
 */
export function packedSelfAttention(qkv: Tensor, heads: number, opts: { causal?: boolean; batchFirst?: boolean } = {}): Tensor {
  const op = 'packedSelfAttention';
  assertTensor(op, 'qkv', qkv);
  if (qkv.ndim !== 3 || qkv.shape[2]! % (3 * heads) !== 0)
    throw new WgslgradError(op, `qkv has shape ${fmtShape(qkv.shape)}, expected [N, L, 3E] (or [L, N, 3E]) with E a multiple of ${heads} heads`);
  const batchFirst = opts.batchFirst ?? false;
  const [a, b, E3] = qkv.shape as [number, number, number];
  const [N, L] = batchFirst ? [a, b] : [b, a];
  const E = E3 / 3;
  const Dh = E / heads;
  if (Dh > MAX_FUSED_HEAD) throw new WgslgradError(op, `heads of ${Dh} features are wider than the fused kernels take (${MAX_FUSED_HEAD})`);
  // position t of batch n: [N, L, ·] puts it at (n·L + t), [L, N, ·] at (t·N + n)
  const at = (width: number, part: number): Layout =>
    batchFirst ? { off: part * E, b: L * width, h: Dh, t: width } : { off: part * E, b: width, h: Dh, t: N * width };
  return fused(
    op,
    [qkv],
    { BH: N * heads, H: heads, TQ: L, TK: L, D: Dh, DV: Dh, scale: 1 / Math.sqrt(Dh), causal: opts.causal ?? false },
    { q: at(E3, 0), k: at(E3, 1), v: at(E3, 2), o: at(E, 0) },
    batchFirst ? [N, L, E] : [L, N, E],
  );
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
