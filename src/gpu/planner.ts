// The planner's arithmetic: from a few facts about the device and a problem's shape, the register
// block and workgroup of the GEMM-shaped kernels, their workgroup counts, split-K and split sums.
// Pure functions (no GPU), unit-tested in test/planner.test.ts. Which kernel runs is chosen from
// the variant tables (src/gpu/variants), whose plans call these.
import { type Block, type KernelBlock, type Tuning, tuning } from './tuning.js';

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

/** WebGPU's limit on workgroups along one dimension of a dispatch (maxComputeWorkgroupsPerDimension). */
export const MAX_GROUPS_PER_DIM = 65535;
/** The tiled kernel's tile (shaders/matmul_tiled.wgsl). */
export const TILE = 128;
/** Split-K chunks are at least this long. */
export const SPLIT_K_MIN = 128;
/** Chunks of a split sum are at least this long. */
export const SPLIT_SUM_MIN = 2048;
/** The largest column buffer the weight gradient's GEMM makes (64 MiB, half the smallest binding limit WebGPU allows). */
export const WGRAD_COLS_MAX_BYTES = 64 * 1024 * 1024;

/** Workgroup counts for n invocations of a 1-D kernel of `wg` lanes, folded into y past 65535 groups. */
export function groups1d(n: number, wg = 256): [number, number] {
  const g = Math.max(1, Math.ceil(n / wg));
  if (g <= MAX_GROUPS_PER_DIM) return [g, 1];
  const y = Math.ceil(g / MAX_GROUPS_PER_DIM);
  return [Math.ceil(g / y), y];
}

/** Matmul's block: the subgroup layout where the device shares rows, sized to its subgroups. */
export function gemmBlock(f: DeviceFacts, t: Readonly<Tuning> = tuning()): KernelBlock {
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
export function convBlock(f: DeviceFacts, rows: number, t: Readonly<Tuning> = tuning()): KernelBlock {
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

/** Workgroups along columns and rows for a grid of `cols` × `rows` outputs. */
export function blockGroups(b: Block, cols: number, rows: number): [number, number] {
  return [Math.ceil(cols / (b.WGX * b.TN)), Math.ceil(rows / (b.WGY * b.TM))];
}

/**
 * A block no wider than `cols` columns where it can be: fewer columns a lane (TN), down to one, so
 * lanes do not compute clamped copies of the last column. The weight gradient of a 1-channel conv
 * (D's first layer, G's last) has 16 columns, and the 16 × 8 block on 16 lanes computed 128.
 */
export function narrowTo(b: KernelBlock, cols: number): KernelBlock {
  const tn = Math.max(1, Math.min(b.TN, Math.ceil(cols / b.WGX)));
  return tn === b.TN ? b : { ...b, TN: tn };
}

/** Lanes of a batchnorm workgroup (one workgroup a channel, shaders/batchnorm.wgsl). */
export function bnLanes(f: DeviceFacts, t: Readonly<Tuning> = tuning()): number {
  // software adapters run a workgroup's lanes as coroutines switched at every barrier, and the
  // 256-lane tree sum (9 barriers) cost more than the loads for small channels (bench/NOTES.md,
  // "Batchnorm workgroups on lavapipe"); 256 on hardware GPUs, as measured there
  return t.bnLanes === 'auto' ? (f.software ? 32 : 256) : t.bnLanes;
}

/** A matmul's shape and operand layout: ta, a stored [K, M]; tb, b stored [N, K]. */
export interface MatmulShape {
  batch: number;
  M: number;
  N: number;
  K: number;
  ta?: boolean;
  tb?: boolean;
}

/**
 * Lanes run along the columns: when there are too few columns to fill a workgroup's lanes but many
 * rows, the operands are swapped (a D head [B,6272]·[6272,1]).
 */
export const swapsFor = (b: Block, p: MatmulShape): boolean => p.N < (b.WGX * b.TN) / 2 && p.M > p.N;

/** A blocked GEMM's layout: operands swapped or not, split-K chunks, workgroups. */
export interface BlockedLayout {
  swap: boolean;
  /** split-K: the inner sum in `chunks` pieces of `kc`, summed after */
  chunks: number;
  kc: number;
  groups: [number, number, number];
}

/** How a blocked GEMM kernel with `block` (kAlign: where split-K chunks may start) covers the product. */
export function blockedLayout(f: DeviceFacts, p: MatmulShape, block: Block, kAlign: number): BlockedLayout {
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
  return { swap, chunks, kc, groups: [gx, gy, p.batch * chunks] };
}

/**
 * The conv weight gradient D[A, B·KH·KW] summed over a batch of N: small weights have few tiles, so
 * the batch sum is split into `chunks` of `chunk` images that enough workgroups run, summed after.
 */
export function planWeightGrad(
  f: DeviceFacts,
  p: { N: number; A: number; cols: number },
  t: Readonly<Tuning> = tuning(),
): { block: KernelBlock; chunk: number; chunks: number; groups: [number, number, number] } {
  const block = narrowTo(convBlock(f, p.A, t), p.cols);
  const [gx, gy] = blockGroups(block, p.cols, p.A);
  const chunk = Math.ceil(p.N / Math.min(p.N, Math.max(1, Math.ceil(f.minGroups / (gx * gy)))));
  const chunks = Math.ceil(p.N / chunk);
  return { block, chunk, chunks, groups: [gx, gy, chunks] };
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
