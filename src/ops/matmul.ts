// matmul (2-D and batched, batch broadcast) and linear (matmul + bias fused). Kernel:
// shaders/matmul.wgsl, with transpose flags so backward needs no explicit transposes.
// CPU reference: src/cpu/matmul.ts.
import { foldedGrad, record } from '../autograd/tape.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { deviceFacts } from '../gpu/device.js';
import { dispatch, groups1d, pipeline, placeholder } from '../gpu/engine.js';
import { laneKBlock, planMatmul, VEC4_BLOCK } from '../gpu/planner.js';
import { Tensor } from '../tensor.js';
import { backThroughEpilogue, type Epilogue, type FusedActivation, fusedActivation, NO_EPILOGUE } from './activation.js';
import { sum } from './reduce.js';
import { assertTensor } from './util.js';

interface MM {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** batch strides in elements, 0 = broadcast */
  sa: number;
  sb: number;
}

/**
 * C = op(a)·op(b) (+ bias[N]): a is [(B,) M, K] or with ta [(B,) K, M]; b is [(B,) K, N] or with tb
 * [(B,) N, K]. `addend` (C's shape; no bias, no activation with it) is added in the same kernel: a
 * gradient accumulated so far. With `out` (C's size) C is written there and `out` returned.
 */
export function matmulRaw(
  a: Tensor,
  b: Tensor,
  ta: boolean,
  tb: boolean,
  bias: Tensor | null,
  op = 'matmul',
  epi: Epilogue = NO_EPILOGUE,
  addend: Tensor | null = null,
  out: Tensor | null = null,
): Tensor {
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
  const p: MM = { batch, M, N, K: Ka, sa: ba === 1 ? 0 : M * Ka, sb: bb === 1 ? 0 : Ka * N };
  const shape = a.ndim === 3 || b.ndim === 3 ? [batch, M, N] : [M, N];
  if (out && out.size !== batch * M * N) throw new WgslgradError(op, `output tensor ${fmtShape(out.shape)} for a product of shape ${fmtShape(shape)}`);
  const result = (): Tensor => out ?? Tensor.empty(shape, false, op);
  if (M === 0 || N === 0 || batch === 0) return result();
  const plan = planMatmul(deviceFacts(), { batch, M, N, K: Ka, ta, tb });
  if (plan.kernel === 'tiled') {
    const c = result();
    const pipeT = pipeline('matmul_tiled', 'main', { TA: ta, TB: tb, BIAS: bias !== null, TC: false, SG: false, EPI: epi.code, ADDC: addend !== null });
    dispatch(
      pipeT,
      [a.binding, b.binding, c.binding, (bias ?? addend)?.binding ?? placeholder()],
      { M, N, K: p.K, strideA: p.sa, strideB: p.sb, strideC: M * N, LD: p.K, chunkK: 0, slope: epi.slope },
      plan.groups,
    );
    return c;
  }
  if (plan.kernel === 'dot') {
    const c = result();
    const pipeD = pipeline('matmul', plan.vec4 ? 'dot_rows4' : 'dot_rows', {
      TA: false,
      TB: false,
      BIAS: bias !== null,
      TC: false,
      ...VEC4_BLOCK,
      SG: false,
      EPI: epi.code,
      ADDC: addend !== null,
      KB: 0,
    });
    dispatch(
      pipeD,
      [a.binding, b.binding, c.binding, (bias ?? addend)?.binding ?? placeholder()],
      { M, N, K: p.K, strideA: 0, strideB: 0, strideC: M, LD: p.K, chunkK: 0, slope: epi.slope },
      plan.groups,
    );
    return c;
  }
  const { swap, chunks, kc } = plan;
  const [R, Q] = swap ? [N, M] : [M, N];
  const [TA, TB] = swap ? [!tb, !ta] : [ta, tb];
  const [first, second] = swap ? [b, a] : [a, b];
  const target = chunks > 1 ? Tensor.empty([chunks, M, N], false, op) : result();
  const add1 = chunks === 1 ? addend : null;
  const pipe = pipeline('matmul', plan.vec4 ? 'main4' : 'main', {
    TA,
    TB,
    BIAS: bias !== null && chunks === 1,
    TC: swap,
    ...plan.block,
    EPI: chunks === 1 ? epi.code : 0,
    ADDC: add1 !== null,
    KB: TB && !plan.vec4 ? laneKBlock(deviceFacts()) : 0,
  });
  const bufs = [first.binding, second.binding, target.binding, chunks === 1 ? ((bias ?? add1)?.binding ?? placeholder()) : placeholder()];
  // a chunk's operands start kc further along K: that many elements on for K-contiguous rows, kc rows on otherwise
  const strideA = chunks > 1 ? (TA ? kc * R : kc) : swap ? p.sb : p.sa;
  const strideB = chunks > 1 ? (TB ? kc : kc * Q) : swap ? p.sa : p.sb;
  dispatch(pipe, bufs, { M: R, N: Q, K: kc, strideA, strideB, strideC: M * N, LD: p.K, chunkK: chunks > 1 ? kc : 0, slope: epi.slope }, plan.groups);
  if (chunks === 1) return target;
  // split-K (batch 1): one more kernel adds the chunks up, then the bias and the activation
  const c = result();
  const finish = pipeline('matmul', 'sum_chunks', {
    TA: false,
    TB: false,
    BIAS: bias !== null,
    TC: false,
    ...plan.block,
    EPI: epi.code,
    ADDC: addend !== null,
    KB: 0,
  });
  dispatch(finish, [target.binding, c.binding, (bias ?? addend)?.binding ?? placeholder()], { M, N, K: chunks, slope: epi.slope }, groups1d(M * N));
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
  const out = matmulRaw(a, b, false, false, null);
  return record(out, 'matmul', [a, b], (g, [da, db]) => [
    // dA = G·Bᵀ, batched like the output, summed over the batch where A was broadcast
    da ? sumBatch(matmulRaw(g, b, false, true, null), a) : null,
    // dB = Aᵀ·G; a 2-D B broadcast over a batched A: Σ_b A_bᵀ G_b = (A as [B·M, K])ᵀ · (G as [B·M, N])
    db ? (b.ndim === 2 && a.ndim === 3 ? matmulRaw(flatBatch(a), flatBatch(g), true, false, null) : sumBatch(matmulRaw(a, g, true, false, null), b)) : null,
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
  const y2 = matmulRaw(x2, w, false, true, b ?? null, 'linear', epi);
  x2.dispose();
  const y = y2.alias([...lead, outF]);
  y2.dispose();
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, epi.name ? `linear+${epi.name}` : 'linear', inputs, (g, [dx, dw, db], acc, outs) => {
    // through the fused activation first (from the output: its sign is the input's), with the
    // bias's sum in the same kernel
    const { g: gy, db: gb } = backThroughEpilogue(g.alias([rows, outF]), y.alias([rows, outF]), epi, db ? [0] : null, acc[2] ?? null, outs[2] ?? null);
    return [
      dx ? matmulRaw(gy, w, false, false, null).alias(x.shape) : null, // G·W
      // Gᵀ·X taking in what the sweep has accumulated for it so far
      dw ? foldedGrad(matmulRaw(gy, x.alias([rows, inF]), true, false, null, 'linear', NO_EPILOGUE, acc[1] ?? null, outs[1] ?? null), acc[1]) : null,
      gb,
    ].slice(0, inputs.length);
  });
}
