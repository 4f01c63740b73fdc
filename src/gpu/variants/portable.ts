// The kernel variants every device runs (each op table's last entry computes any problem), and the
// two chosen by shape on any device (a one-column product, a sum of short runs) or on hardware GPUs
// (the workgroup-memory tiled matmul). The software adapters' variants are in software.ts.
import {
  blockedLayout,
  blockGroups,
  bnLanes,
  convBlock,
  type DeviceFacts,
  gemmBlock,
  groups1d,
  MAX_GROUPS_PER_DIM,
  type MatmulShape,
  planSum,
  planWeightGrad,
  SPLIT_K_MIN,
  swapsFor,
  TILE,
} from '../planner.js';
import type { ConvPlan, ConvShape, ElementsShape, MatmulPlan, NormShape, SumPlan, SumShape, WeightGradPlan, WeightGradShape } from './shapes.js';
import type { Variant } from './table.js';

/** The constants of a matmul.wgsl / matmul_tiled.wgsl entry for operands as the plan lays them out (the op adds BIAS, EPI, ADDC). */
const gemmConsts = (p: MatmulShape, swap: boolean, block: object, SG: boolean, KB: number) => ({
  TA: swap ? !p.tb : !!p.ta,
  TB: swap ? !p.ta : !!p.tb,
  TC: swap,
  ...block,
  SG,
  KB,
});

/** A one-column product with a long inner sum (the D head): a workgroup a row, no split-K. */
const dotRows = (vec4: boolean): Variant<MatmulShape, MatmulPlan> => ({
  kernel: 'matmul',
  entry: vec4 ? 'dot_rows4' : 'dot_rows',
  purpose: vec4
    ? 'a one-column product with a long inner sum (the D head), a workgroup a row, four floats a load'
    : 'a one-column product with a long inner sum, a workgroup a row (any K)',
  notes: 'The D head in one kernel, and free buffers in a fixed order',
  where: 'everywhere',
  plan(p) {
    if (p.batch !== 1 || p.N !== 1 || p.ta || p.K < 2 * SPLIT_K_MIN || (vec4 && p.K % 4 !== 0)) return null;
    const g = Math.min(p.M, MAX_GROUPS_PER_DIM);
    // dot_rows reads b as K consecutive floats: [K, 1] and [1, K] are the same memory
    return {
      consts: { TA: false, TB: false, TC: false, TM: 32, TN: 4, WGX: 16, WGY: 1, SG: false, KB: 0 },
      groups: [g, Math.ceil(p.M / g), 1],
      swap: false,
      chunks: 1,
      kc: p.K,
    };
  },
});

export const MATMUL_DOT_ROWS4 = dotRows(true);
export const MATMUL_DOT_ROWS = dotRows(false);

export const MATMUL_TILED: Variant<MatmulShape, MatmulPlan> = {
  kernel: 'matmul_tiled',
  entry: 'main',
  purpose: 'products that fill a GPU: 128 × 128 tiles staged in workgroup memory',
  notes: "On an H100 through Dawn's Vulkan backend",
  where: 'hardware',
  // enough tiles to fill the device, and enough columns that the blocked kernel would not swap
  prefer: (p, f) => !swapsFor(gemmBlock(f), p) && Math.ceil(p.M / TILE) * Math.ceil(p.N / TILE) * p.batch * 16 >= f.minGroups,
  plan: (p) => ({
    consts: { TA: !!p.ta, TB: !!p.tb, TC: false, SG: false },
    groups: [Math.ceil(p.N / TILE), Math.ceil(p.M / TILE), p.batch],
    swap: false,
    chunks: 1,
    kc: p.K,
  }),
};

export const MATMUL_MAIN: Variant<MatmulShape, MatmulPlan> = {
  kernel: 'matmul',
  entry: 'main',
  purpose: 'any product: TM × TN outputs a lane, rows shared through subgroups where the device has them, split-K for few outputs',
  where: 'everywhere',
  plan: (p, f, t) => blockedGemm(p, f, gemmBlock(f, t), 0),
};

/**
 * For software.ts too: a blocked GEMM's layout and constants with `block`, B's rows read KB k at a
 * time, split-K chunks starting at multiples of kAlign.
 */
export function blockedGemm(p: MatmulShape, f: DeviceFacts, block: ReturnType<typeof gemmBlock>, KB: number, kAlign = 1): MatmulPlan {
  const l = blockedLayout(f, p, block, kAlign);
  return { consts: gemmConsts(p, l.swap, block, block.SG, KB), ...l };
}

export const CONV_FORWARD_MAIN: Variant<ConvShape, ConvPlan> = {
  kernel: 'conv',
  entry: 'forward',
  purpose: 'any conv forward (and transposed conv input gradient): an implicit GEMM of output channels × pixels',
  where: 'everywhere',
  plan(g, f, t) {
    const block = convBlock(f, g.CO, t);
    return { consts: { ...block, ADDC: false }, groups: [...blockGroups(block, g.N * g.OH * g.OW, g.CO), 1], vec4Inputs: 0 };
  },
};

export const CONV_TRANSPOSE_MAIN: Variant<ConvShape, ConvPlan> = {
  kernel: 'conv_transpose',
  entry: 'main',
  purpose: 'any transposed conv (and conv input gradient): an implicit GEMM per stride-parity class of output pixels',
  where: 'everywhere',
  plan(g, f, t) {
    const block = convBlock(f, g.CO, t);
    // one z-slice per stride-parity class, each a GEMM over its output positions
    const classP = g.N * Math.ceil(g.OH / g.SH) * Math.ceil(g.OW / g.SW);
    return { consts: { ...block }, groups: [...blockGroups(block, classP, g.CO), g.SH * g.SW], vec4Inputs: 0 };
  },
};

export const WEIGHT_GRAD_MAIN: Variant<WeightGradShape, WeightGradPlan> = {
  kernel: 'conv',
  entry: 'weight_grad',
  purpose: 'any conv weight gradient: one lane a block of weights, the batch sum split where the weight has few tiles',
  where: 'everywhere',
  plan(s, f, t) {
    const w = planWeightGrad(f, { N: s.N, A: s.A, cols: s.B * s.KH * s.KW }, t);
    return { consts: { ...w.block }, groups: w.groups, gemm: false, chunk: w.chunk, chunks: w.chunks };
  },
};

/** Batchnorm's training forward or backward for [N, C] (a lane a channel) or [N, C, S] (a workgroup a channel). */
const bnKernel = (backward: boolean, cols: boolean): Variant<NormShape> => ({
  kernel: 'batchnorm',
  entry: `${backward ? 'backward' : 'stats_apply'}${cols ? '_cols' : ''}`,
  purpose: cols
    ? `batchnorm ${backward ? 'backward' : 'training forward'} of [N, C]: a lane a channel, no barriers`
    : `batchnorm ${backward ? 'backward' : 'training forward'}: a workgroup a channel, its sums a tree in workgroup memory`,
  where: 'everywhere',
  plan(s, f, t) {
    if (cols && s.S !== 1) return null;
    const [gx, gy] = cols ? groups1d(s.C, 64) : [s.C, 1];
    return { consts: { BWG: bnLanes(f, t) }, groups: [gx, gy, 1] };
  },
});

export const BN_FORWARD_COLS = bnKernel(false, true);
export const BN_FORWARD_MAIN = bnKernel(false, false);
export const BN_BACKWARD_COLS = bnKernel(true, true);
export const BN_BACKWARD_MAIN = bnKernel(true, false);

/** An elementwise kernel, one value a lane. */
export const oneALane = (kernel: 'activation' | 'adam', entry: string, purpose: string): Variant<ElementsShape> => ({
  kernel,
  entry,
  purpose,
  where: 'everywhere',
  plan: (s) => ({ consts: {}, groups: [...groups1d(s.n), 1] }),
});

export const ACT_MAIN = oneALane('activation', 'act', 'an activation, one value a lane');
export const ACT_GRAD_MAIN = oneALane('activation', 'act_grad', "an activation's gradient, one value a lane");
export const ADAM_MAIN = oneALane('adam', 'main', 'the Adam update of every parameter, one a lane');

export const SUM_THREAD: Variant<SumShape, SumPlan> = {
  kernel: 'reduce',
  entry: 'sum_thread',
  purpose: 'many short sums (a bias gradient [B, F] → [F]): a lane an output',
  where: 'everywhere',
  // a lane sums any run; it pays where there are enough outputs and each run is short
  prefer: (s, f) => planSum(f, s).kernel === 'thread',
  plan: (s) => ({ consts: {}, groups: [...groups1d(s.nOut), 1], chunks: 0, chunkLen: 0 }),
};

export const SUM_WG: Variant<SumShape, SumPlan> = {
  kernel: 'reduce',
  entry: 'sum_wg',
  purpose: 'any sum: a workgroup an output, long sums of few outputs split in chunks added up after',
  where: 'everywhere',
  plan(s, f) {
    const p = planSum(f, s);
    const [chunks, chunkLen] = p.kernel === 'workgroup' ? [p.chunks, p.chunkLen] : [1, s.R];
    return { consts: {}, groups: [...groups1d(s.nOut, 1), chunks], chunks, chunkLen: chunks > 1 ? chunkLen : 0 };
  },
};
