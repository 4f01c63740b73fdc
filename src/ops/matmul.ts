// matmul (2-D and batched, batch broadcast) and linear (matmul + bias fused). Kernels: the matmul
// table's (src/gpu/variants; shaders/matmul.wgsl and its kin), with transpose flags so backward needs
// no explicit transposes.
// CPU reference: src/cpu/matmul.ts.
import { foldedGrad, record, recordInto } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { deviceFacts } from '../gpu/device.js';
import { dispatch, groups1d, pipeline, placeholder } from '../gpu/engine.js';
import { planMatmul } from '../gpu/variants/index.js';
import { Tensor } from '../tensor.js';
import { backThroughEpilogue, type Epilogue, type FusedActivation, fusedActivation, NO_EPILOGUE } from './activation.js';
import { sum } from './reduce.js';
import { assertTensor } from './util.js';

/** How matmulRaw computes C = op(a)·op(b): the layouts of its operands and what it adds to the product. */
export interface MatmulOptions {
  /** a is stored transposed: [(B,) K, M] */
  transA?: boolean;
  /** b is stored transposed: [(B,) N, K] (x·Wᵀ) */
  transB?: boolean;
  /** added to every row: [N] */
  bias?: Tensor | null;
  /** an activation applied in the same kernel, after the bias */
  epilogue?: Epilogue;
  /** a tensor of C's shape added in the same kernel (a gradient accumulated so far; no bias or activation with it) */
  accumulate?: Tensor | null;
  /** C is written here (C's size) and this tensor returned */
  into?: Tensor | null;
  /** the op named in errors */
  op?: string;
}

/**
 * C = op(a)·op(b) (+ bias, activation, accumulated gradient) without autograd: a is [(B,) M, K], b
 * [(B,) K, N] (each the other way round with transA / transB); a batch of 1 or a 2-D operand
 * broadcasts. The kernel is the matmul table's choice (src/gpu/variants).
 */
export function matmulRaw(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const { transA: ta = false, transB: tb = false, bias = null, epilogue: epi = NO_EPILOGUE, accumulate: addend = null, into: out = null, op = 'matmul' } = opts;
  const ar = a.shape.slice(-2);
  const br = b.shape.slice(-2);
  const M = ta ? ar[1]! : ar[0]!;
  const Ka = ta ? ar[0]! : ar[1]!;
  const Kb = tb ? br[1]! : br[0]!;
  const N = tb ? br[0]! : br[1]!;
  if (Ka !== Kb) throw new WgslgradError(op, `inner dims differ: ${fmtShape(a.shape)}${ta ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${tb ? 'ᵀ' : ''} (${Ka} vs ${Kb})`);
  const ba = a.ndim === 3 ? a.shape[0]! : 1;
  const bb = b.ndim === 3 ? b.shape[0]! : 1;
  if (a.ndim === 3 && b.ndim === 3 && ba !== bb && ba !== 1 && bb !== 1)
    throw new WgslgradError(op, `batch sizes differ: ${fmtShape(a.shape)} · ${fmtShape(b.shape)}`);
  const batch = Math.max(ba, bb);
  // batch strides in elements, 0 = broadcast
  const sa = ba === 1 ? 0 : M * Ka;
  const sb = bb === 1 ? 0 : Ka * N;
  const shape = a.ndim === 3 || b.ndim === 3 ? [batch, M, N] : [M, N];
  if (out && out.size !== batch * M * N) throw new WgslgradError(op, `output tensor ${fmtShape(out.shape)} for a product of shape ${fmtShape(shape)}`);
  const result = (): Tensor => out ?? Tensor.empty(shape, false, op);
  if (M === 0 || N === 0 || batch === 0) return result();
  const plan = planMatmul(deviceFacts(), { batch, M, N, K: Ka, ta, tb });
  const { swap, chunks, kc } = plan;
  const [R, Q] = swap ? [N, M] : [M, N];
  const [first, second] = swap ? [b, a] : [a, b];
  // split-K writes each chunk's partial product, summed after (matmul.wgsl sum_chunks) with the bias, addend and activation
  const split = chunks > 1;
  const target = split ? Tensor.empty([chunks, M, N], false, op) : result();
  const add1 = split ? null : addend;
  const { TA, TB } = plan.consts as { TA: boolean; TB: boolean };
  // a chunk's operands start kc further along K: that many elements on for K-contiguous rows, kc rows on otherwise
  const strideA = split ? (TA ? kc * R : kc) : swap ? sb : sa;
  const strideB = split ? (TB ? kc : kc * Q) : swap ? sa : sb;
  dispatch(
    pipeline(plan.kernel, plan.entry, { ...plan.consts, BIAS: bias !== null && !split, EPI: split ? 0 : epi.code, ADDC: add1 !== null }),
    [first.binding, second.binding, target.binding, split ? placeholder() : ((bias ?? add1)?.binding ?? placeholder())],
    { M: R, N: Q, K: kc, strideA, strideB, strideC: M * N, LD: Ka, chunkK: split ? kc : 0, slope: epi.slope },
    plan.groups,
  );
  if (!split) return target;
  const c = result();
  dispatch(
    pipeline('matmul', 'sum_chunks', { ...plan.consts, TA: false, TB: false, TC: false, KB: 0, BIAS: bias !== null, EPI: epi.code, ADDC: addend !== null }),
    [target.binding, c.binding, (bias ?? addend)?.binding ?? placeholder()],
    { M, N, K: chunks, slope: epi.slope },
    groups1d(M * N),
  );
  target.dispose();
  return c;
}

function checkRank(op: string, name: string, t: Tensor): void {
  if (t.ndim !== 2 && t.ndim !== 3) throw new WgslgradError(op, `${name} has shape ${fmtShape(t.shape)}, expected 2-D [M,K] or batched 3-D [B,M,K]`);
}

/** Matrix product as torch.matmul for 2-D and 3-D operands (a batch of 1 or a 2-D operand broadcasts). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  assertTensor('matmul', 'first operand', a);
  assertTensor('matmul', 'second operand', b);
  checkRank('matmul', 'first operand', a);
  checkRank('matmul', 'second operand', b);
  const out = matmulRaw(a, b);
  return record(out, 'matmul', [a, b], (g, [da, db]) => [
    // dA = G·Bᵀ, batched like the output, summed over the batch where A was broadcast
    da ? sumBatch(matmulRaw(g, b, { transB: true }), a) : null,
    // dB = Aᵀ·G; a 2-D B broadcast over a batched A: Σ_b A_bᵀ G_b = (A as [B·M, K])ᵀ · (G as [B·M, N])
    db ? (b.ndim === 2 && a.ndim === 3 ? matmulRaw(flatBatch(a), flatBatch(g), { transA: true }) : sumBatch(matmulRaw(a, g, { transA: true }), b)) : null,
  ]);
}

/** A batched [B, M, N] tensor's data as [B·M, N]. */
const flatBatch = (t: Tensor): Tensor => t.alias([t.shape[0]! * t.shape[1]!, t.shape[2]!]);

/** Sums a batched gradient over the batch where the operand was broadcast (2-D or batch 1). */
function sumBatch(full: Tensor, like: Tensor): Tensor {
  return full.ndim === like.ndim && full.shape[0] === like.shape[0] ? full : sum(full, 0, like.ndim === 3);
}

/**
 * y = x·wᵀ + b as torch.nn.functional.linear: x [..., in], w [out, in], b [out]; with
 * `{ activation }` the activation is applied in the same kernel (one dispatch fewer).
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null, opts: FusedActivation = {}): Tensor {
  assertTensor('linear', 'input', x);
  assertTensor('linear', 'weight', w);
  if (w.ndim !== 2) throw new WgslgradError('linear', `weight has shape ${fmtShape(w.shape)}, expected 2-D [out, in]`);
  if (x.ndim < 1) throw new WgslgradError('linear', `input has shape ${fmtShape(x.shape)}, expected [..., ${w.shape[1]}]`);
  const inF = w.shape[1]!;
  const outF = w.shape[0]!;
  if (x.shape[x.ndim - 1] !== inF)
    throw new WgslgradError('linear', `input has ${x.shape[x.ndim - 1]} features (${fmtShape(x.shape)}), weight expects ${inF} (${fmtShape(w.shape)})`);
  if (b != null) {
    assertTensor('linear', 'bias', b);
    if (b.ndim !== 1 || b.shape[0] !== outF) throw new WgslgradError('linear', `bias has shape ${fmtShape(b.shape)}, expected [${outF}]`);
  }
  const epi = fusedActivation('linear', opts);
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((p, d) => p * d, 1);
  const x2 = x.alias([rows, inF]);
  const y2 = matmulRaw(x2, w, { transB: true, bias: b ?? null, epilogue: epi, op: 'linear' });
  x2.dispose();
  const y = y2.alias([...lead, outF]);
  y2.dispose();
  const inputs = b ? [x, w, b] : [x, w];
  return recordInto(y, epi.name ? `linear+${epi.name}` : 'linear', inputs, (g, [dx, dw, db], acc, outs) => {
    // through the fused activation first (from the output: its sign is the input's), with the
    // bias's sum in the same kernel
    const { g: gy, db: gb } = backThroughEpilogue(g.alias([rows, outF]), y.alias([rows, outF]), epi, db ? [0] : null, acc[2] ?? null, outs[2] ?? null);
    return [
      dx ? matmulRaw(gy, w).alias(x.shape) : null, // G·W
      // Gᵀ·X taking in what the sweep has accumulated for it so far
      dw ? foldedGrad(matmulRaw(gy, x.alias([rows, inF]), { transA: true, accumulate: acc[1], into: outs[1], op: 'linear' }), acc[1]) : null,
      gb,
    ].slice(0, inputs.length);
  });
}
