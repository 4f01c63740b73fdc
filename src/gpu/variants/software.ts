// The kernel variants for software adapters (lavapipe, SwiftShader: the "GPU" is the CPU's vector
// units). There a storage load that differs across lanes is a loop over the lanes, barriers switch
// every lane's coroutine, and long unrolled loops keep values in registers, so these read four
// floats a load, share loads through subgroups and compute more outputs a lane than the portable
// kernels. Each was measured against the portable one on llvmpipe (bench/NOTES.md, the section in
// `notes`); none was measured to pay on a hardware GPU, so 'auto' chooses them only on software
// adapters. Their shaders: shaders/software/.
import { bnLanes, gemmBlock, groups1d, MAX_GROUPS_PER_DIM, type MatmulShape, planSum, WGRAD_COLS_MAX_BYTES } from '../planner.js';
import type { Block } from '../tuning.js';
import { blockedGemm } from './portable.js';
import type { ConvPlan, ConvShape, ElementsShape, MatmulPlan, NormShape, SumPlan, SumShape, WeightGradPlan, WeightGradShape } from './shapes.js';
import type { Variant } from './table.js';

/** The block of the vec4 GEMM (matmul4.wgsl main4): 32 rows × 4 consecutive columns a lane, 16 lanes. */
export const VEC4_BLOCK: Readonly<Block> = Object.freeze({ TM: 32, TN: 4, WGX: 16, WGY: 1 });

/**
 * Whether every vec4 the vec4 kernel reads is whole and aligned: an operand stored along K needs K
 * a multiple of 4 (the split-K chunks are then too), one stored along M or N needs M or N one.
 */
function vec4Fits(p: MatmulShape, swap: boolean): boolean {
  const [R, Q] = swap ? [p.N, p.M] : [p.M, p.N];
  const TA = swap ? !p.tb : !!p.ta;
  const TB = swap ? !p.ta : !!p.tb;
  const alongK = !TA || TB;
  if (p.K < 1 || (alongK && p.K % 4 !== 0)) return false;
  if (TA && R % 4 !== 0) return false;
  return TB || Q % 4 === 0;
}

export const MATMUL_VEC4: Variant<MatmulShape, MatmulPlan> = {
  kernel: 'software/matmul4',
  entry: 'main4',
  purpose: 'GEMMs with whole, aligned vec4 rows: 32 rows × 4 columns a lane, both operands four floats a load, loops unrolled',
  notes: 'Matmul four floats a load',
  where: 'software',
  subgroups: true,
  plan(p, f) {
    const block = { ...VEC4_BLOCK, SG: true };
    // split-K chunks start at multiples of 4: the kernel reads rows along K 4 floats at a time
    const plan = blockedGemm(p, f, block, 0, 4);
    // (its tiles are half as wide as the scalar block's: past 65,535 workgroups a row, the scalar kernel)
    if (!vec4Fits(p, plan.swap) || plan.groups[0] > MAX_GROUPS_PER_DIM || plan.groups[1] > MAX_GROUPS_PER_DIM) return null;
    return plan;
  },
};

export const MATMUL_K4: Variant<MatmulShape, MatmulPlan> = {
  kernel: 'matmul',
  entry: 'main',
  id: 'matmul.main_k4',
  purpose: 'x·Wᵀ (B stored along K): each lane reads 4 k of each row of B at once, so a cache line is used up before the next',
  notes: 'x·Wᵀ on lavapipe',
  // on SwiftShader, which has no subgroups, one k at a time was faster ("SwiftShader's matmul workgroups")
  where: 'software with subgroups',
  plan(p, f, t) {
    const plan = blockedGemm(p, f, gemmBlock(f, t), 4);
    return plan.consts.TB ? plan : null;
  },
};

/**
 * conv_rows.wgsl's block: TM channels × TN pixels of one output row a lane, WGX lanes; SWC the
 * stride along W, WIN the input floats a lane reads along a row and NV the vec4s that hold them
 * from any start. For kernels 4 wide with at least 8 output channels, strides up to 4. TN is the
 * widest of 7, 6, 5 that divides the output width (the width itself below 5 pixels, 7 when none
 * divides it), so few lanes compute pixels past a row's end.
 */
export function planConvRows(g: { CO: number; KW: number; SW: number; OW: number }) {
  if (g.KW !== 4 || g.CO < 8 || g.SW > 4) return null;
  const TN = g.OW < 5 ? g.OW : ([7, 6, 5].find((d) => g.OW % d === 0) ?? 7);
  const WIN = (TN - 1) * g.SW + 4;
  return { TM: g.CO >= 12 ? 16 : 8, TN, WGX: 16, SWC: g.SW, WIN, NV: Math.floor((WIN + 6) / 4) };
}

export const CONV_ROWS: Variant<ConvShape, ConvPlan> = {
  kernel: 'software/conv_rows',
  entry: 'forward_rows',
  purpose: 'conv forwards of 4-wide kernels: a lane a run of one output row, the input row read as vec4 windows, weights shared through subgroups',
  notes: 'Lavapipe, conv loops: taps outside, channels inside',
  where: 'software',
  subgroups: true,
  plan(g) {
    const rows = planConvRows(g);
    if (!rows || !g.x16) return null;
    // one lane per TN pixels of an output row, TM channels a workgroup row
    const lanes = g.N * g.OH * Math.ceil(g.OW / rows.TN);
    if (Math.ceil(lanes / rows.WGX) > MAX_GROUPS_PER_DIM) return null;
    return { consts: { ...rows, SG: true }, groups: [Math.ceil(lanes / rows.WGX), Math.ceil(g.CO / rows.TM), 1], vec4Inputs: 1 };
  },
};

/**
 * conv_transpose_rows.wgsl `main_few`' block: all TM = CO output channels × 4 output rows × TN
 * columns a lane, WGX lanes; WIN the input floats of a row's window and NV the vec4s that hold them
 * from any start. 4×4 kernels of stride 2 (padding up to 3) to at most 4 output channels. TN is the
 * narrowest even width that covers the output row (plus its padding) in as few blocks as keep
 * TM·4·TN ≤ 120 accumulators.
 */
export function planConvTransposeFew(g: { CO: number; KH: number; KW: number; SH: number; SW: number; OW: number; PH: number; PW: number }) {
  // padding past 3 would start a block's rows or columns wholly above or left of the output
  if (g.CO > 4 || g.KH !== 4 || g.KW !== 4 || g.SH !== 2 || g.SW !== 2 || g.PH > 3 || g.PW > 3) return null;
  const widest = 2 * Math.floor(120 / (8 * g.CO));
  const span = g.OW + g.PW;
  const blocks = Math.ceil(span / widest);
  const TN = 2 * Math.ceil(span / blocks / 2);
  const WIN = TN / 2 + 1;
  return { TM: g.CO, TN, WIN, NV: Math.floor((WIN + 6) / 4), WGX: 16 };
}

export const CONV_TRANSPOSE_FEW: Variant<ConvShape, ConvPlan> = {
  kernel: 'software/conv_transpose_rows',
  entry: 'main_few',
  purpose: '4×4 stride-2 transposed convs to 1–4 channels (G’s last layer): every channel × 4 rows × a run of columns a lane',
  notes: 'Lavapipe, conv loops: taps outside, channels inside',
  // it uses no subgroup operation, but Chromium's SwiftShader (no subgroups) lost its device on the 30-column block
  where: 'software with subgroups',
  plan(g) {
    const few = planConvTransposeFew(g);
    if (!few || !g.x16 || !g.w16) return null;
    // one lane per 4 output rows × TN columns, every channel
    const lanes = g.N * Math.ceil((g.OH + g.PH) / 4) * Math.ceil((g.OW + g.PW) / few.TN);
    if (Math.ceil(lanes / few.WGX) > MAX_GROUPS_PER_DIM) return null;
    return { consts: few, groups: [Math.ceil(lanes / few.WGX), 1, 1], vec4Inputs: 2 };
  },
};

/**
 * conv_transpose_rows.wgsl `main_rows`' block: TM output channels × TC columns (TC even) of one
 * output row a lane, WGX lanes; WIN the input floats of a row's window, NV the vec4s that hold them
 * from any start, PWP the parity of the column padding. 4×4 kernels of stride 2 to at least 8
 * output channels. TC is the even width from 8 to 14 (TM · TC ≤ 112 accumulators, as conv_rows'
 * 16 × 7) that computes the fewest columns past the row's end, the widest of those.
 */
export function planConvTransposeRows(g: { CO: number; KH: number; KW: number; SH: number; SW: number; OW: number; PW: number }) {
  if (g.CO < 8 || g.KH !== 4 || g.KW !== 4 || g.SH !== 2 || g.SW !== 2) return null;
  let TC = 8;
  for (let c = 10; c <= 14; c += 2) if (Math.ceil(g.OW / c) * c <= Math.ceil(g.OW / TC) * TC) TC = c;
  const PWP = g.PW % 2;
  const WIN = Math.floor((TC - 1 + PWP) / 2) + 2;
  return { TM: 8, TC, WIN, NV: Math.floor((WIN + 6) / 4), WGX: 16, PWP };
}

export const CONV_TRANSPOSE_ROWS: Variant<ConvShape, ConvPlan> = {
  kernel: 'software/conv_transpose_rows',
  entry: 'main_rows',
  purpose: '4×4 stride-2 transposed convs to ≥ 8 channels (G’s 128 → 64 layer, a conv’s input gradient): a row at a time, both column parities a lane',
  notes: 'The transposed conv a row at a time, both column parities a lane',
  where: 'software',
  subgroups: true,
  plan(g) {
    const rows = planConvTransposeRows(g);
    if (!rows || !g.x16 || !g.w16) return null;
    // one lane per TC columns of an output row, TM channels a workgroup row, the rows of one parity a z-slice
    const lanes = g.N * Math.ceil(g.OH / 2) * Math.ceil(g.OW / rows.TC);
    if (Math.ceil(lanes / rows.WGX) > MAX_GROUPS_PER_DIM) return null;
    return {
      consts: { ...rows, SG: true },
      groups: [Math.ceil(lanes / rows.WGX), Math.ceil(g.CO / rows.TM), 2],
      vec4Inputs: 2,
    };
  },
};

export const WEIGHT_GRAD_GEMM: Variant<WeightGradShape, WeightGradPlan> = {
  kernel: 'software/conv_cols',
  entry: 'columns',
  purpose: 'conv weight gradients as one GEMM: the input’s columns (im2col) written once, then x·Wᵀ through the vec4 GEMM',
  notes: 'Conv weight gradients as one GEMM',
  where: 'software with subgroups',
  // the vec4 GEMM reads 4 k of each column at once; a block's worth of rows and columns
  prefer: (s) => (s.N * s.GH * s.GW) % 4 === 0 && s.A >= 32 && s.B * s.KH * s.KW >= 64,
  plan(s) {
    const cols = s.B * s.KH * s.KW;
    const K = s.N * s.GH * s.GW;
    if (cols * K * 4 > WGRAD_COLS_MAX_BYTES || s.A < 1 || cols < 1 || K < 1) return null;
    return { consts: {}, groups: [...groups1d((cols + s.A) * s.N, 64), 1], gemm: true, chunk: 0, chunks: 1 };
  },
};

/** A batchnorm kernel four floats a load: planes that are multiples of 4, or [N, C] with C one. */
const bn4 = (backward: boolean, cols: boolean): Variant<NormShape> => ({
  kernel: 'software/batchnorm4',
  entry: `${backward ? 'backward' : 'stats_apply'}${cols ? '_cols' : ''}4`,
  purpose: `batchnorm ${backward ? 'backward' : 'training forward'} four floats a load (${cols ? '[N, C] with C a multiple of 4, a lane 4 channels' : 'planes a multiple of 4'})`,
  notes: 'Batchnorm four floats a load',
  where: 'software',
  plan(s, f, t) {
    if (cols ? s.S !== 1 || s.C % 4 !== 0 : s.S === 1 || s.S % 4 !== 0) return null;
    const [gx, gy] = cols ? groups1d(s.C / 4, 64) : [s.C, 1];
    return { consts: { BWG: bnLanes(f, t) }, groups: [gx, gy, 1] };
  },
});

export const BN_FORWARD4 = bn4(false, false);
export const BN_FORWARD_COLS4 = bn4(false, true);
export const BN_BACKWARD4 = bn4(true, false);
export const BN_BACKWARD_COLS4 = bn4(true, true);

/** An elementwise kernel four values a lane, for sizes that are multiples of 4. */
const fourALane = (kernel: 'software/activation4' | 'software/adam4', entry: string, purpose: string, notes: string): Variant<ElementsShape> => ({
  kernel,
  entry,
  purpose,
  notes,
  where: 'software',
  plan: (s) => (s.n % 4 === 0 ? { consts: {}, groups: [...groups1d(s.n / 4), 1] } : null),
});

export const ACT4 = fourALane('software/activation4', 'act4', 'an activation four values a lane', 'Activation gradients and bias sums four values a load');
export const ACT_GRAD4 = fourALane(
  'software/activation4',
  'act_grad4',
  "an activation's gradient four values a lane",
  'Activation gradients and bias sums four values a load',
);
export const ADAM4 = fourALane('software/adam4', 'main4', 'the Adam update four parameters a lane', 'Adam four parameters a lane');

export const SUM_WG4: Variant<SumShape, SumPlan> = {
  kernel: 'software/reduce4',
  entry: 'sum_wg4',
  purpose: 'a conv bias’s gradient over [N, H·W] (H·W a multiple of 4): a workgroup an output, four terms a load',
  notes: 'Activation gradients and bias sums four values a load',
  where: 'software',
  plan(s, f) {
    const p = planSum(f, s);
    if (!s.vec4 || p.kernel !== 'workgroup' || p.chunks !== 1) return null;
    return { consts: {}, groups: [...groups1d(s.nOut, 1), 1], chunks: 1, chunkLen: 0 };
  },
};
