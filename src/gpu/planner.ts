// The kernel planner: from a few facts about the device and a problem's shape, which GEMM kernel
// runs, with which register block and workgroup shape, whether operands are swapped, and how long
// sums are split. Pure functions (no GPU), unit-tested in test/planner.test.ts; the constants were
// measured (bench/NOTES.md). Tuning runs change them through setTuning, never by editing a table.
import { WgslgradError } from '../errors.js';

/** What the planner needs to know about a device (DeviceState has them). */
export interface DeviceFacts {
  /** a CPU implementation (lavapipe, SwiftShader) */
  software: boolean;
  /** kernels may share row loads across 8-lane subgroup groups */
  subgroupShare: boolean;
  /** the adapter's smallest subgroup (0 when unknown) */
  subgroupMin: number;
  /** about how many workgroups keep the device busy */
  minGroups: number;
}

/** A register block (TM rows × TN columns per lane) and a workgroup of WGX × WGY lanes. */
export interface Block {
  TM: number;
  TN: number;
  WGX: number;
  WGY: number;
}

/** A block with the layout it is for: rows shared through subgroup shuffles (SG) or not. */
export interface KernelBlock extends Block {
  SG: boolean;
}

export interface Tuning {
  /** GEMMs on devices with 8- or 16-lane subgroups (tuned on llvmpipe); WGY must be 1 */
  shared: Block;
  /** where subgroups have 32 lanes (NVIDIA): one subgroup per workgroup (tuned on an H100) */
  wide: Block;
  /** where subgroups have 64 lanes (AMD) */
  wide64: Block;
  /** hardware devices without usable subgroups */
  plain: Block;
  /**
   * software adapters without usable subgroups (Chromium's SwiftShader): 16 lanes a workgroup, so
   * a batch of 32 rows fills it where `plain`'s 8 × 8 lanes cover 64 (bench/NOTES.md,
   * "SwiftShader's matmul workgroups")
   */
  software: Block;
  /** convolutions on devices with 8- or 16-lane subgroups */
  convShared: Block;
  /** convolutions without subgroups, at 48 output channels or more */
  convPlain: Block;
  /** the workgroup-memory tiled matmul: on hardware adapters for products that fill the device ('auto'), always, or never */
  tiled: 'auto' | 'on' | 'off';
  /** x·Wᵀ reads 4 k at a time from each row of W (laneKBlock): on software adapters with subgroups ('auto'), always, or never */
  laneKBlock: 'auto' | 'on' | 'off';
  /** Adam updates four parameters a lane (vec4Update): on software adapters ('auto'), always, or never */
  vec4Update: 'auto' | 'on' | 'off';
  /** matmul's vec4 kernel (main4) where the shapes allow it: on software adapters with subgroups ('auto'), wherever subgroups are ('on'), or never */
  vec4Gemm: 'auto' | 'on' | 'off';
  /** batchnorm workgroups of 32 lanes rather than 256 (bnLanes): on software adapters ('auto'), always, or never */
  bnSmallGroups: 'auto' | 'on' | 'off';
  /** batchnorm's training kernels four floats a load where the shape allows (bnVec4): on software adapters ('auto'), always, or never */
  bnVec4: 'auto' | 'on' | 'off';
  /** activations, their gradients and conv bias sums four values a load where the shape allows (vec4Passes): on software adapters ('auto'), always, or never */
  vec4Passes: 'auto' | 'on' | 'off';
  /** conv forwards of 4-wide kernels through conv_rows.wgsl (planConvRows), and 4×4 stride-2 transposed convs to 1–4 channels through conv_transpose.wgsl `main_few` (planConvTransposeFew): on software adapters with subgroups ('auto'), everywhere ('on'; forward_rows needs subgroups), or never */
  convRows: 'auto' | 'on' | 'off';
  /** 4×4 stride-2 transposed convs (also conv input gradients) to 8 or more channels through conv_transpose.wgsl `main_rows` (planConvTransposeRows): on software adapters with subgroups ('auto'), wherever subgroups are ('on'), or never */
  convTRows: 'auto' | 'on' | 'off';
  /** conv weight gradients as one GEMM over the input's columns (planWeightGradGemm): on software adapters with subgroups ('auto'), always where the columns fit ('on'), or never */
  wgradGemm: 'auto' | 'on' | 'off';
  /** one-column products with a long inner sum (the D head) as one workgroup per row (matmul.wgsl `dot_rows`) rather than split-K and its sum: everywhere ('auto', 'on'), or never */
  dotRows: 'auto' | 'on' | 'off';
}

/** The settings that take 'auto', 'on' or 'off' rather than a block. */
const SWITCHES = ['tiled', 'laneKBlock', 'vec4Update', 'vec4Gemm', 'bnSmallGroups', 'bnVec4', 'vec4Passes', 'convRows', 'convTRows', 'wgradGemm', 'dotRows'];

/** Whether an 'auto' | 'on' | 'off' setting is on, 'auto' meaning on software adapters. */
const onForSoftware = (v: 'auto' | 'on' | 'off', f: DeviceFacts): boolean => v === 'on' || (v === 'auto' && f.software);
/** The same, 'auto' meaning on software adapters with subgroups (lavapipe, not SwiftShader). */
const onForSoftwareSubgroups = (v: 'auto' | 'on' | 'off', f: DeviceFacts): boolean => onForSoftware(v, f) && (v === 'on' || f.subgroupShare);

const DEFAULTS: Readonly<Tuning> = Object.freeze({
  shared: Object.freeze({ TM: 16, TN: 8, WGX: 16, WGY: 1 }),
  wide: Object.freeze({ TM: 8, TN: 8, WGX: 32, WGY: 1 }),
  wide64: Object.freeze({ TM: 8, TN: 4, WGX: 64, WGY: 1 }),
  plain: Object.freeze({ TM: 8, TN: 8, WGX: 8, WGY: 8 }),
  software: Object.freeze({ TM: 8, TN: 8, WGX: 4, WGY: 4 }),
  convShared: Object.freeze({ TM: 16, TN: 8, WGX: 16, WGY: 1 }),
  convPlain: Object.freeze({ TM: 8, TN: 8, WGX: 8, WGY: 8 }),
  tiled: 'auto',
  laneKBlock: 'auto',
  vec4Update: 'auto',
  vec4Gemm: 'auto',
  bnSmallGroups: 'auto',
  bnVec4: 'auto',
  vec4Passes: 'auto',
  convRows: 'auto',
  convTRows: 'auto',
  wgradGemm: 'auto',
  dotRows: 'auto',
});

let active: Readonly<Tuning> = DEFAULTS;

/** The constants in force (the measured defaults unless setTuning changed them). */
export function tuning(): Readonly<Tuning> {
  return active;
}

/** The measured defaults. */
export function defaultTuning(): Readonly<Tuning> {
  return DEFAULTS;
}

/**
 * Replaces some tuning constants (tuning runs, tests of a layout on another device's constants);
 * returns a function that restores the ones before. Pipelines are cached per constant set, so
 * both sets stay compiled.
 */
export function setTuning(overrides: Partial<Tuning>): () => void {
  const known = Object.keys(DEFAULTS);
  for (const [k, v] of Object.entries(overrides)) {
    if (!known.includes(k)) throw new WgslgradError('setTuning', `unknown setting ${k}; expected one of ${known.join(', ')}`);
    if (SWITCHES.includes(k)) {
      if (!['auto', 'on', 'off'].includes(v as string)) throw new WgslgradError('setTuning', `${k} must be 'auto', 'on' or 'off', got ${JSON.stringify(v)}`);
      continue;
    }
    const b = v as Block;
    if (!b || ['TM', 'TN', 'WGX', 'WGY'].some((f) => !Number.isInteger(b[f as keyof Block]) || b[f as keyof Block] < 1)) {
      throw new WgslgradError('setTuning', `${k} must be a block {TM, TN, WGX, WGY} of positive integers, got ${JSON.stringify(v)}`);
    }
  }
  const before = active;
  active = Object.freeze({ ...active, ...overrides });
  return () => {
    active = before;
  };
}

/** Matmul's block: the subgroup layout where the device shares rows, sized to its subgroups. */
export function gemmBlock(f: DeviceFacts, t: Readonly<Tuning> = active): KernelBlock {
  if (!f.subgroupShare) return { ...(f.software ? t.software : t.plain), SG: false };
  return { ...wideBlock(f, t), SG: true };
}

/** The subgroup-sharing block for this device: `shared` below 32 lanes, one subgroup per workgroup above. */
function wideBlock(f: DeviceFacts, t: Readonly<Tuning>): Block {
  if (f.subgroupMin >= 64) return t.wide64;
  if (f.subgroupMin >= 32) return t.wide;
  return t.shared;
}

/**
 * A convolution-shaped GEMM's block for `rows` output rows (channels): the tuned block when there
 * are enough rows, narrower blocks when few (a 1-channel output with 8-row blocks would compute 8
 * copies of every value).
 */
export function convBlock(f: DeviceFacts, rows: number, t: Readonly<Tuning> = active): KernelBlock {
  if (f.subgroupShare && rows >= 8) {
    if (f.subgroupMin >= 32) return { ...wideBlock(f, t), SG: true };
    if (rows >= 12) return { ...t.convShared, SG: true };
    return { TM: 8, TN: 8, WGX: 16, WGY: 1, SG: true };
  }
  if (rows >= 48) return { ...t.convPlain, SG: false };
  if (rows >= 12) return { TM: 4, TN: 8, WGX: 16, WGY: 4, SG: false };
  if (rows > 4) return { TM: 4, TN: 8, WGX: 32, WGY: 2, SG: false };
  return { TM: rows, TN: 8, WGX: 64, WGY: 1, SG: false };
}

/**
 * conv_rows.wgsl's block: TM channels × TN pixels of one output row a lane, WGX lanes; SWC the
 * stride along W, WIN the input floats a lane reads along a row and NV the vec4s that hold them
 * from any start.
 */
export interface ConvRowsPlan {
  TM: number;
  TN: number;
  WGX: number;
  SWC: number;
  WIN: number;
  NV: number;
}

/**
 * Whether a conv forward (also a transposed conv's input gradient) runs conv_rows.wgsl, and its
 * block: for kernels 4 wide (KW = 4) with at least 8 output channels, where subgroups share rows
 * (software adapters on 'auto'), strides up to 4. TN is the widest of 7, 6, 5 that divides the
 * output width (the width itself below 5 pixels, 7 when none divides it), so few lanes compute
 * pixels past a row's end; 8 pixels × 16 channels (128 accumulators) was 1.2–1.4× slower than 7 on
 * llvmpipe (bench/NOTES.md).
 */
export function planConvRows(f: DeviceFacts, g: { CO: number; KW: number; SW: number; OW: number }, t: Readonly<Tuning> = active): ConvRowsPlan | null {
  if (!onForSoftware(t.convRows, f) || !f.subgroupShare || g.KW !== 4 || g.CO < 8 || g.SW > 4) return null;
  const TN = g.OW < 5 ? g.OW : ([7, 6, 5].find((d) => g.OW % d === 0) ?? 7);
  const WIN = (TN - 1) * g.SW + 4;
  return { TM: g.CO >= 12 ? 16 : 8, TN, WGX: 16, SWC: g.SW, WIN, NV: Math.floor((WIN + 6) / 4) };
}

/**
 * conv_transpose.wgsl `main_few`' block: all TM = CO output channels × 4 output rows × TN columns a
 * lane, WGX lanes; WIN the input floats of a row's window and NV the vec4s that hold them from any
 * start.
 */
export interface ConvTransposeFewPlan {
  TM: number;
  TN: number;
  WIN: number;
  NV: number;
  WGX: number;
}

/**
 * Whether a transposed conv (also a conv's input gradient) runs conv_transpose.wgsl `main_few`: 4×4
 * kernels of stride 2 (padding up to 3) to at most 4 output channels, under the convRows switch. On
 * 'auto' that is software adapters with subgroups, the one kind it was measured on (llvmpipe); the
 * kernel uses no subgroup operation, but Chromium's SwiftShader, which has none, lost its device
 * on the 30-column block.
 * TN, the columns a lane computes, is the narrowest even width that covers the output row (plus its
 * padding) in as few blocks as keep TM·4·TN ≤ 120 accumulators.
 */
export function planConvTransposeFew(
  f: DeviceFacts,
  g: { CO: number; KH: number; KW: number; SH: number; SW: number; OW: number; PH: number; PW: number },
  t: Readonly<Tuning> = active,
): ConvTransposeFewPlan | null {
  const on = onForSoftwareSubgroups(t.convRows, f);
  // padding past 3 would start a block's rows or columns wholly above or left of the output
  if (!on || g.CO > 4 || g.KH !== 4 || g.KW !== 4 || g.SH !== 2 || g.SW !== 2 || g.PH > 3 || g.PW > 3) return null;
  const widest = 2 * Math.floor(120 / (8 * g.CO));
  const span = g.OW + g.PW;
  const blocks = Math.ceil(span / widest);
  const TN = 2 * Math.ceil(span / blocks / 2);
  const WIN = TN / 2 + 1;
  return { TM: g.CO, TN, WIN, NV: Math.floor((WIN + 6) / 4), WGX: 16 };
}

/**
 * conv_transpose.wgsl `main_rows`' block: TM output channels × TC columns (TC even) of one output row
 * a lane, WGX lanes; WIN the input floats of a row's window, NV the vec4s that hold them from any
 * start, PWP the parity of the column padding.
 */
export interface ConvTransposeRowsPlan {
  TM: number;
  TC: number;
  WIN: number;
  NV: number;
  WGX: number;
  PWP: number;
}

/**
 * Whether a transposed conv (also a conv's input gradient) runs conv_transpose.wgsl `main_rows`: 4×4
 * kernels of stride 2 to at least 8 output channels, where subgroups share the taps (software
 * adapters on 'auto', the convTRows switch). TC, the columns a lane computes, is the even width from 8
 * to 14 (TM · TC ≤ 112 accumulators, as conv_rows' 16 × 7) that computes the fewest columns past the
 * row's end, the widest of those. At R1's [128, 128, 7, 7] → 64 on llvmpipe, 8 × 14 took 41 ms, 16 × 8
 * 43–46, 8 × 8 49–52, 16 × 6 and 8 × 6 57–67, against `main`'s 62–66 (bench/NOTES.md).
 */
export function planConvTransposeRows(
  f: DeviceFacts,
  g: { CO: number; KH: number; KW: number; SH: number; SW: number; OW: number; PW: number },
  t: Readonly<Tuning> = active,
): ConvTransposeRowsPlan | null {
  if (!onForSoftwareSubgroups(t.convTRows, f) || !f.subgroupShare) return null;
  if (g.CO < 8 || g.KH !== 4 || g.KW !== 4 || g.SH !== 2 || g.SW !== 2) return null;
  let TC = 8;
  for (let c = 10; c <= 14; c += 2) if (Math.ceil(g.OW / c) * c <= Math.ceil(g.OW / TC) * TC) TC = c;
  const PWP = g.PW % 2;
  const WIN = Math.floor((TC - 1 + PWP) / 2) + 2;
  return { TM: 8, TC, WIN, NV: Math.floor((WIN + 6) / 4), WGX: 16, PWP };
}

/** Workgroups along columns and rows for a grid of `cols` × `rows` outputs. */
export function blockGroups(b: Block, cols: number, rows: number): [number, number] {
  return [Math.ceil(cols / (b.WGX * b.TN)), Math.ceil(rows / (b.WGY * b.TM))];
}

/**
 * k values a lane reads at once from each of its rows of a B stored along K (TB: x·Wᵀ, the linear
 * layers' forward), 0 for one at a time. On lavapipe a lane's 8 columns × 16 lanes are 128 rows of
 * B, K floats apart (4 KiB at K = 1024: one L1 set), read one k at a time; reading 4 at a time
 * took x·Wᵀ 1024³ from 138 to 81 ms (bench/NOTES.md, "x·Wᵀ on lavapipe"). On SwiftShader, which
 * has no subgroups, one at a time was faster (bench/NOTES.md, "SwiftShader's matmul workgroups").
 * Not measured on hardware GPUs, which keep one at a time.
 */
export function laneKBlock(f: DeviceFacts, t: Readonly<Tuning> = active): number {
  return onForSoftwareSubgroups(t.laneKBlock, f) ? 4 : 0;
}

/**
 * Whether the optimiser's update kernel takes four parameters a lane (Adam's `main4`). On lavapipe
 * adam-1M went from 5.7 / 6.2 to 4.6 / 3.5 ms (bench/NOTES.md, "Adam four parameters a lane").
 * Not measured on hardware GPUs, which keep one a lane.
 */
export function vec4Update(f: DeviceFacts, t: Readonly<Tuning> = active): boolean {
  return onForSoftware(t.vec4Update, f);
}

/**
 * Lanes of a batchnorm workgroup (one workgroup a channel, shaders/batchnorm.wgsl): 32 on software
 * adapters, where a workgroup's lanes run as coroutines switched at every barrier and the 256-lane
 * tree sum (9 barriers) cost more than the loads for small channels (batchnorm [32, 64, 7, 7]
 * forward 1.25 → 0.6–1.3 ms, backward 1.3–2.3 → 0.7–1.3; [128, 64, 14, 14] 8.1 / 8.8 → 7.2 / 7.5;
 * bench/NOTES.md, "Batchnorm workgroups on lavapipe"); 256 on hardware GPUs, as measured there.
 */
export function bnLanes(f: DeviceFacts, t: Readonly<Tuning> = active): number {
  return onForSoftware(t.bnSmallGroups, f) ? 32 : 256;
}

/**
 * Whether batchnorm's training kernels read four floats a load (batchnorm.wgsl `stats_apply4`,
 * `backward4`; `stats_apply_cols4`, `backward_cols4` at S = 1): where each channel's plane S is a
 * multiple of 4, or, for [N, C] inputs, C is. On software adapters ('auto'), where a vec4 costs
 * about 2.2 scalar loads (bench/NOTES.md); hardware GPUs were not measured and read one at a time.
 */
export function bnVec4(f: DeviceFacts, g: { C: number; S: number }, t: Readonly<Tuning> = active): boolean {
  if (!onForSoftware(t.bnVec4, f)) return false;
  return g.S === 1 ? g.C % 4 === 0 : g.S % 4 === 0;
}

/**
 * Whether the memory-bound passes read four values a load where their shapes allow: activation.wgsl
 * `act4` and `act_grad4` for sizes that are multiples of 4, reduce.wgsl `sum_wg4` for a sum over two
 * dims whose inner one is contiguous and a multiple of 4 long (a conv bias's gradient over
 * [N, H·W]). On software adapters ('auto'), as bnVec4; hardware GPUs were not measured.
 */
export function vec4Passes(f: DeviceFacts, t: Readonly<Tuning> = active): boolean {
  return onForSoftware(t.vec4Passes, f);
}

/** WebGPU's limit on workgroups along one dimension of a dispatch (maxComputeWorkgroupsPerDimension). */
export const MAX_GROUPS_PER_DIM = 65535;
/** The tiled kernel's tile (shaders/matmul_tiled.wgsl). */
export const TILE = 128;
/** Split-K chunks are at least this long. */
export const SPLIT_K_MIN = 128;
/** Chunks of a split sum are at least this long. */
export const SPLIT_SUM_MIN = 2048;

/**
 * The block of matmul's vec4 kernel (shaders/matmul.wgsl main4): 32 rows × 4 consecutive columns a
 * lane, 16 lanes. On lavapipe 1024³ took 36–37 ms against 66 for the scalar kernel's 16 × 8 block;
 * 16 rows took 43 ms, 64 rows 42 ms, 8 or 32 lanes 37–38 ms (bench/NOTES.md, "Matmul four floats a load").
 */
export const VEC4_BLOCK: Readonly<Block> = Object.freeze({ TM: 32, TN: 4, WGX: 16, WGY: 1 });

export type MatmulPlan =
  | { kernel: 'tiled'; groups: [number, number, number] }
  /** one workgroup per row of a one-column product (matmul.wgsl dot_rows); vec4: K a multiple of 4 */
  | { kernel: 'dot'; vec4: boolean; groups: [number, number, number] }
  | {
      kernel: 'blocked';
      block: KernelBlock;
      /** the vec4 kernel (main4) rather than the scalar one (main) */
      vec4: boolean;
      /** compute Cᵀ = op(B)ᵀ·op(A)ᵀ and store it transposed (too few columns to fill a workgroup's lanes) */
      swap: boolean;
      /** split-K: the inner sum in `chunks` pieces of `kc`, summed after */
      chunks: number;
      kc: number;
      groups: [number, number, number];
    };

/** A matmul's shape and operand layout: ta, a stored [K, M]; tb, b stored [N, K]. */
export interface MatmulShape {
  batch: number;
  M: number;
  N: number;
  K: number;
  ta?: boolean;
  tb?: boolean;
}

/** How C[batch, M, N] = op(A)·op(B) with inner size K runs. */
export function planMatmul(f: DeviceFacts, p: MatmulShape, t: Readonly<Tuning> = active): MatmulPlan {
  // a one-column product whose inner sum split-K would cut into chunks (the D head): a workgroup a row
  if (t.dotRows !== 'off' && p.batch === 1 && p.N === 1 && !p.ta && p.K >= 2 * SPLIT_K_MIN) {
    const g = Math.min(p.M, MAX_GROUPS_PER_DIM);
    return { kernel: 'dot', vec4: p.K % 4 === 0, groups: [g, Math.ceil(p.M / g), 1] };
  }
  const block = gemmBlock(f, t);
  const tiles = Math.ceil(p.M / TILE) * Math.ceil(p.N / TILE) * p.batch;
  if (t.tiled === 'on' || (t.tiled === 'auto' && !f.software && !swapsFor(block, p) && tiles * 16 >= f.minGroups)) {
    return { kernel: 'tiled', groups: [Math.ceil(p.N / TILE), Math.ceil(p.M / TILE), p.batch] };
  }
  if (f.subgroupShare && (t.vec4Gemm === 'on' || (t.vec4Gemm === 'auto' && f.software))) {
    const v = blockedPlan(f, p, { ...VEC4_BLOCK, SG: true }, 4);
    // (its tiles are half as wide as the scalar block's: past 65,535 workgroups a row, the scalar kernel)
    if (vec4Fits(p, v.swap) && v.groups[0] <= MAX_GROUPS_PER_DIM && v.groups[1] <= MAX_GROUPS_PER_DIM) return { ...v, vec4: true };
  }
  return { ...blockedPlan(f, p, block, 1), vec4: false };
}

/**
 * Lanes run along the columns: when there are too few columns to fill a workgroup's lanes but many
 * rows, the operands are swapped (a D head [B,6272]·[6272,1]).
 */
const swapsFor = (b: Block, p: MatmulShape): boolean => p.N < (b.WGX * b.TN) / 2 && p.M > p.N;

function blockedPlan(f: DeviceFacts, p: MatmulShape, block: KernelBlock, kAlign: number) {
  const swap = swapsFor(block, p);
  const [R, Q] = swap ? [p.N, p.M] : [p.M, p.N];
  const [gx, gy] = blockGroups(block, Q, R);
  // Split-K: too few output tiles to keep the device busy (under a quarter of minGroups) and a long
  // inner sum (the D head's 6272-long dot products): each chunk of K becomes one "batch" of partial
  // products. Chunks start at multiples of kAlign (the vec4 kernel reads rows along K 4 floats at a time).
  const S =
    p.batch === 1 && gx * gy * 4 < f.minGroups && p.K >= 2 * SPLIT_K_MIN ? Math.min(Math.ceil(f.minGroups / 4 / (gx * gy)), Math.floor(p.K / SPLIT_K_MIN)) : 1;
  const kc = Math.ceil(Math.ceil(p.K / S) / kAlign) * kAlign;
  const chunks = Math.ceil(p.K / kc);
  return { kernel: 'blocked' as const, block, swap, chunks, kc, groups: [gx, gy, p.batch * chunks] as [number, number, number] };
}

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

/**
 * A block no wider than `cols` columns where it can be: fewer columns a lane (TN), down to one, so
 * lanes do not compute clamped copies of the last column. The weight gradient of a 1-channel conv
 * (D's first layer, G's last) has 16 columns, and the 16 × 8 block on 16 lanes computed 128.
 */
function narrowTo(b: KernelBlock, cols: number): KernelBlock {
  const tn = Math.max(1, Math.min(b.TN, Math.ceil(cols / b.WGX)));
  return tn === b.TN ? b : { ...b, TN: tn };
}

/**
 * The conv weight gradient D[A, B·KH·KW] summed over a batch of N: small weights have few tiles, so
 * the batch sum is split into `chunks` of `chunk` images that enough workgroups run, summed after.
 */
export function planWeightGrad(
  f: DeviceFacts,
  p: { N: number; A: number; cols: number },
  t: Readonly<Tuning> = active,
): { block: KernelBlock; chunk: number; chunks: number; groups: [number, number, number] } {
  const block = narrowTo(convBlock(f, p.A, t), p.cols);
  const [gx, gy] = blockGroups(block, p.cols, p.A);
  const chunk = Math.ceil(p.N / Math.min(p.N, Math.max(1, Math.ceil(f.minGroups / (gx * gy)))));
  const chunks = Math.ceil(p.N / chunk);
  return { block, chunk, chunks, groups: [gx, gy, chunks] };
}

/** The largest column buffer the weight gradient's GEMM makes (64 MiB, half the smallest binding limit WebGPU allows). */
export const WGRAD_COLS_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Whether a conv weight gradient D[A, cols] (cols = B·KH·KW, a sum over K = N·GH·GW) runs as one
 * GEMM: the output gradient as [A, K] times the input's columns [cols, K] (im2col, conv_cols.wgsl)
 * transposed, through matmul's kernels, rather than conv.wgsl `weight_grad`, which gathers an input
 * float per column and k. On 'auto' that is software adapters with subgroups (the vec4 GEMM, which
 * reads 4 k of each column at once), K a multiple of 4 and a block's worth of rows and columns
 * (A ≥ 32, cols ≥ 64); never where the columns would pass WGRAD_COLS_MAX_BYTES.
 */
export function planWeightGradGemm(f: DeviceFacts, p: { A: number; cols: number; K: number }, t: Readonly<Tuning> = active): boolean {
  if (p.cols * p.K * 4 > WGRAD_COLS_MAX_BYTES || p.A < 1 || p.cols < 1 || p.K < 1) return false;
  if (t.wgradGemm === 'on') return true;
  return t.wgradGemm === 'auto' && f.software && f.subgroupShare && p.K % 4 === 0 && p.A >= 32 && p.cols >= 64;
}

export type SumPlan = { kernel: 'thread' } | { kernel: 'workgroup'; chunks: number; chunkLen: number };

/**
 * nOut sums of R values each. One lane per output when there are enough outputs to fill the device
 * and each sums a modest run (a bias gradient [B, F] → [F]); one workgroup per output otherwise
 * (batchnorm-like sums), each long sum split into chunks (a conv bias gradient over batch ×
 * positions) when there are few outputs. On lavapipe a workgroup per output costs ~15 µs each: the
 * MLP GAN's bias grads took 18 ms a step before the lane-per-output path.
 */
export function planSum(f: DeviceFacts, p: { nOut: number; R: number }): SumPlan {
  if (p.R <= 32 || (p.nOut >= 256 && p.R <= 1024)) return { kernel: 'thread' };
  const want = Math.ceil(f.minGroups / 4 / p.nOut);
  const split = want > 1 && p.R >= 2 * SPLIT_SUM_MIN ? Math.min(want, Math.floor(p.R / SPLIT_SUM_MIN)) : 1;
  const chunkLen = Math.ceil(p.R / split);
  return { kernel: 'workgroup', chunks: Math.ceil(p.R / chunkLen), chunkLen };
}
