// The kernel planner decides from device facts and shapes alone: checked here without a GPU.
import { describe, expect, test } from 'vitest';
import { WgslgradError } from '../src/errors.js';
import { bnLanes, convBlock, type DeviceFacts, gemmBlock, type MatmulShape, planSum, planWeightGrad } from '../src/gpu/planner.js';
import { defaultTuning, setTuning, type Tuning, tuning } from '../src/gpu/tuning.js';
import {
  allVariants,
  forcing,
  planActivation,
  planAdam,
  planBatchNorm,
  planConvForward,
  planConvRows,
  planConvTranspose,
  planConvTransposeFew,
  planConvTransposeRows,
  planMatmul,
  planWeightGradient,
  TABLES,
  VEC4_BLOCK,
  variantId,
} from '../src/gpu/variants/index.js';

const lavapipe: DeviceFacts = { software: true, subgroupShare: true, subgroupMin: 8, minGroups: 64 };
const h100: DeviceFacts = { software: false, subgroupShare: true, subgroupMin: 32, minGroups: 1024 };
const amd: DeviceFacts = { software: false, subgroupShare: true, subgroupMin: 64, minGroups: 1024 };
const noSubgroups: DeviceFacts = { software: false, subgroupShare: false, subgroupMin: 0, minGroups: 1024 };
const swiftshader: DeviceFacts = { software: true, subgroupShare: false, subgroupMin: 0, minGroups: 64 };

/** The tuning in force with some variant modes. */
const modes = (m: Record<string, 'auto' | 'on' | 'off'>): Readonly<Tuning> => ({ ...tuning(), variants: { ...tuning().variants, ...m } });
/** A conv geometry for the conv tables (inputs that widen to vec4s). */
const geo = (g: Partial<Parameters<typeof planConvForward>[1]>) => ({
  N: 2,
  CI: 8,
  H: 7,
  W: 7,
  CO: 64,
  OH: 14,
  OW: 14,
  KH: 4,
  KW: 4,
  SH: 2,
  SW: 2,
  PH: 1,
  PW: 1,
  x16: true,
  w16: true,
  ...g,
});
const mm = (f: DeviceFacts, p: MatmulShape, t?: Readonly<Tuning>) => planMatmul(f, p, t);

describe('planner', () => {
  test('GEMM blocks follow the subgroup width', () => {
    expect(gemmBlock(lavapipe)).toEqual({ TM: 16, TN: 8, WGX: 16, WGY: 1, SG: true });
    expect(gemmBlock(h100)).toEqual({ TM: 8, TN: 8, WGX: 32, WGY: 1, SG: true });
    expect(gemmBlock(amd)).toEqual({ TM: 8, TN: 4, WGX: 64, WGY: 1, SG: true });
    expect(gemmBlock(noSubgroups)).toEqual({ TM: 8, TN: 8, WGX: 8, WGY: 8, SG: false });
    // a software adapter without subgroups: 4 × 4 lanes, so a batch of 32 rows fills a workgroup
    expect(gemmBlock(swiftshader)).toEqual({ TM: 8, TN: 8, WGX: 4, WGY: 4, SG: false });
  });
  test('x·Wᵀ reads its K-contiguous rows 4 k at a time on software adapters with subgroups only', () => {
    const xwt = { batch: 1, M: 64, N: 64, K: 64, tb: true };
    const off4 = modes({ 'software/matmul4.main4': 'off' });
    expect(mm(lavapipe, xwt, off4)).toMatchObject({ variant: 'matmul.main_k4', consts: { KB: 4 } });
    for (const f of [h100, amd, noSubgroups, swiftshader]) expect(mm(f, xwt, off4).consts.KB).toBe(0);
    // forced on, it reads 4 at a time wherever B is stored along K (it needs no subgroups)
    const on = modes({ 'software/matmul4.main4': 'off', 'matmul_tiled.main': 'off', 'matmul.main_k4': 'on' });
    for (const f of [lavapipe, h100, swiftshader]) expect(mm(f, xwt, on).consts.KB).toBe(4);
    // A·B reads B along N: one k at a time
    expect(mm(lavapipe, { ...xwt, tb: false }, on).consts.KB).toBe(0);
  });
  test('batchnorm workgroups: 32 lanes on software adapters, 256 on GPUs', () => {
    expect(bnLanes(lavapipe)).toBe(32);
    for (const f of [h100, amd, noSubgroups]) expect(bnLanes(f)).toBe(256);
    expect(bnLanes(lavapipe, { ...tuning(), bnLanes: 256 })).toBe(256);
    expect(planBatchNorm(lavapipe, { C: 4, S: 49 }, false).consts).toEqual({ BWG: 32 });
  });
  test('batchnorm four floats a load: planes (or, at S = 1, channel counts) that are multiples of 4, on software adapters', () => {
    const bn = (f: DeviceFacts, s: { C: number; S: number }, t?: Readonly<Tuning>) => planBatchNorm(f, s, false, t).variant;
    expect(bn(lavapipe, { C: 64, S: 196 })).toBe('software/batchnorm4.stats_apply4');
    expect(bn(lavapipe, { C: 64, S: 49 })).toBe('batchnorm.stats_apply');
    expect(bn(lavapipe, { C: 6272, S: 1 })).toBe('software/batchnorm4.stats_apply_cols4');
    expect(bn(lavapipe, { C: 6, S: 1 })).toBe('batchnorm.stats_apply_cols');
    // S = 1 goes by the channels alone: 4 channels of one value each are not a plane of 4
    expect(bn(lavapipe, { C: 5, S: 1 })).toBe('batchnorm.stats_apply_cols');
    for (const f of [h100, amd, noSubgroups]) expect(bn(f, { C: 64, S: 196 })).toBe('batchnorm.stats_apply');
    expect(bn(lavapipe, { C: 64, S: 196 }, modes({ 'software/batchnorm4.stats_apply4': 'off' }))).toBe('batchnorm.stats_apply');
    expect(bn(h100, { C: 64, S: 196 }, modes({ 'software/batchnorm4.stats_apply4': 'on' }))).toBe('software/batchnorm4.stats_apply4');
    // the backward's table is its own, with the same rules
    expect(planBatchNorm(lavapipe, { C: 64, S: 196 }, true)).toMatchObject({ variant: 'software/batchnorm4.backward4', groups: [64, 1, 1] });
    expect(planBatchNorm(lavapipe, { C: 6272, S: 1 }, true)).toMatchObject({ variant: 'software/batchnorm4.backward_cols4', groups: [25, 1, 1] });
  });
  test('activations, their gradients and the Adam update four values a lane on software adapters only, at sizes that are multiples of 4', () => {
    expect(planActivation(lavapipe, { n: 1000 }, false)).toMatchObject({ variant: 'software/activation4.act4', groups: [1, 1, 1] });
    expect(planActivation(lavapipe, { n: 1001 }, false).variant).toBe('activation.act');
    expect(planActivation(lavapipe, { n: 1000 }, true).variant).toBe('software/activation4.act_grad4');
    for (const f of [h100, amd, noSubgroups]) expect(planActivation(f, { n: 1000 }, false).variant).toBe('activation.act');
    expect(planActivation(h100, { n: 1000 }, false, modes({ 'software/activation4.act4': 'on' })).variant).toBe('software/activation4.act4');
    expect(planAdam(lavapipe, { n: 4096 })).toMatchObject({ variant: 'software/adam4.main4', groups: [4, 1, 1] });
    for (const f of [h100, amd, noSubgroups]) expect(planAdam(f, { n: 4096 }).variant).toBe('adam.main');
  });
  test('matmul: tiled kernel on hardware for products that fill it, blocked on lavapipe', () => {
    expect(mm(h100, { batch: 1, M: 4096, N: 4096, K: 4096 })).toMatchObject({ variant: 'matmul_tiled.main', groups: [32, 32, 1], swap: false, chunks: 1 });
    expect(mm(lavapipe, { batch: 1, M: 1024, N: 1024, K: 1024 })).toEqual({
      variant: 'software/matmul4.main4',
      kernel: 'software/matmul4',
      entry: 'main4',
      consts: { TA: false, TB: false, TC: false, ...VEC4_BLOCK, SG: true, KB: 0 },
      swap: false,
      chunks: 1,
      kc: 1024,
      groups: [16, 32, 1],
    });
    // too few tiles for the H100 (2·2·1·16 < 1024): blocked
    expect(mm(h100, { batch: 1, M: 256, N: 256, K: 64 }).variant).toBe('matmul.main');
  });
  test('matmul: one output column and a long inner sum is a workgroup a row (the D head), split-K without it', () => {
    // [128, 6272]·[6272, 1] and as a linear layer ([1, 6272]ᵀ): dot_rows4 on every adapter; an odd K reads one float a load
    for (const f of [lavapipe, h100, noSubgroups]) {
      expect(mm(f, { batch: 1, M: 128, N: 1, K: 6272 })).toMatchObject({ variant: 'matmul.dot_rows4', groups: [128, 1, 1], chunks: 1 });
      expect(mm(f, { batch: 1, M: 128, N: 1, K: 6272, tb: true })).toMatchObject({ variant: 'matmul.dot_rows4', groups: [128, 1, 1] });
    }
    expect(mm(lavapipe, { batch: 1, M: 5, N: 1, K: 1101 })).toMatchObject({ variant: 'matmul.dot_rows', groups: [5, 1, 1] });
    // rows past 65,535 workgroups fold into y
    expect(mm(lavapipe, { batch: 1, M: 70000, N: 1, K: 256 })).toMatchObject({ variant: 'matmul.dot_rows4', groups: [65535, 2, 1] });
    // not for short sums, batches, or A stored along M
    expect(mm(lavapipe, { batch: 1, M: 128, N: 1, K: 200 }).entry).not.toMatch(/^dot/);
    expect(mm(lavapipe, { batch: 2, M: 128, N: 1, K: 6272 }).entry).not.toMatch(/^dot/);
    expect(mm(lavapipe, { batch: 1, M: 128, N: 1, K: 6272, ta: true }).entry).not.toMatch(/^dot/);
    // with dot_rows off, split-K: the operands swap, 16 chunks of 392 on lavapipe (64 workgroups
    // wanted), 49 of 128 on an H100 (a [6272, 1] column read along M after the swap, so not the vec4 kernel)
    const noDot = modes({ 'matmul.dot_rows4': 'off', 'matmul.dot_rows': 'off' });
    // (swapped, the column operand is A stored along K: read 4 k at a time there)
    expect(mm(lavapipe, { batch: 1, M: 128, N: 1, K: 6272 }, noDot)).toEqual({
      variant: 'matmul.main_k4',
      kernel: 'matmul',
      entry: 'main',
      consts: { TA: true, TB: true, TC: true, ...gemmBlock(lavapipe), KB: 4 },
      swap: true,
      chunks: 16,
      kc: 392,
      groups: [1, 1, 16],
    });
    expect(mm(h100, { batch: 1, M: 128, N: 1, K: 6272 }, noDot)).toMatchObject({ variant: 'matmul.main', swap: true, chunks: 49, kc: 128, groups: [1, 1, 49] });
    // batched products are never split; short sums neither
    expect(mm(lavapipe, { batch: 2, M: 128, N: 1, K: 6272 }, noDot)).toMatchObject({ chunks: 1, groups: [1, 1, 2] });
    expect(mm(lavapipe, { batch: 1, M: 128, N: 1, K: 200 }, noDot)).toMatchObject({ chunks: 1 });
    // the D head as a linear layer, [128, 6272]·[1, 6272]ᵀ: swapped, both operands along K, split into chunks of a multiple of 4
    const head = mm(lavapipe, { batch: 1, M: 128, N: 1, K: 6272, tb: true }, noDot);
    expect(head).toMatchObject({ variant: 'software/matmul4.main4', swap: true });
    expect(head.kc % 4).toBe(0);
    expect(head.chunks * head.kc).toBeGreaterThanOrEqual(6272);
    expect((head.chunks - 1) * head.kc).toBeLessThan(6272);
    // a few columns still split
    expect(mm(lavapipe, { batch: 1, M: 9, N: 5, K: 777 })).toMatchObject({ swap: true });
    expect(mm(lavapipe, { batch: 1, M: 9, N: 5, K: 777 }).chunks).toBeGreaterThan(1);
  });
  test('matmul: the vec4 kernel on software adapters wherever its vec4 reads are whole and aligned', () => {
    const vec4 = (f: DeviceFacts, p: MatmulShape, t?: Readonly<Tuning>) => mm(f, p, t).variant === 'software/matmul4.main4';
    const sq = { batch: 1, M: 256, N: 256, K: 256 };
    // every layout of a square product
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const)
      expect(vec4(lavapipe, { ...sq, ta, tb })).toBe(true);
    // operands stored along K need K a multiple of 4: x·W (A's rows), x·Wᵀ (both)
    expect(vec4(lavapipe, { ...sq, K: 257 })).toBe(false);
    expect(vec4(lavapipe, { ...sq, K: 257, tb: true })).toBe(false);
    // Aᵀ·B (a weight gradient) reads along M and N only: any K
    expect(vec4(lavapipe, { ...sq, K: 257, ta: true })).toBe(true);
    // an operand stored along N or M needs N or M a multiple of 4
    expect(vec4(lavapipe, { ...sq, N: 254 })).toBe(false);
    expect(vec4(lavapipe, { ...sq, N: 254, tb: true })).toBe(true);
    expect(vec4(lavapipe, { ...sq, M: 254, ta: true })).toBe(false);
    expect(vec4(lavapipe, { ...sq, M: 254 })).toBe(true);
    // columns for more than 65,535 of its 64-wide tiles: the scalar kernel's 128-wide ones
    expect(vec4(lavapipe, { batch: 1, M: 4, N: 65536 * 64, K: 4 })).toBe(false);
    expect(vec4(lavapipe, { batch: 1, M: 4, N: 65535 * 64, K: 4 })).toBe(true);
    // hardware adapters keep the scalar kernel unless asked; 'on' needs subgroups; 'off' everywhere
    expect(vec4(h100, sq)).toBe(false);
    const on = modes({ 'software/matmul4.main4': 'on', 'matmul_tiled.main': 'off' });
    expect(vec4(h100, sq, on)).toBe(true);
    expect(vec4(noSubgroups, sq, on)).toBe(false);
    expect(vec4(lavapipe, sq, modes({ 'software/matmul4.main4': 'off' }))).toBe(false);
  });
  test('conv forwards of 4-wide kernels take conv_rows on software adapters', () => {
    const d = { CO: 64, KW: 4, SW: 2, OW: 7 };
    // 7 × 16 a lane; the widest of 7, 6, 5 dividing the output width; the width itself below 5; 7 when none divides it
    expect(planConvRows(d)).toEqual({ TM: 16, TN: 7, WGX: 16, SWC: 2, WIN: 16, NV: 5 });
    expect(planConvRows({ ...d, OW: 14 })?.TN).toBe(7);
    expect(planConvRows({ ...d, OW: 12 })?.TN).toBe(6);
    expect(planConvRows({ ...d, OW: 10 })?.TN).toBe(5);
    expect(planConvRows({ ...d, OW: 3 })?.TN).toBe(3);
    expect(planConvRows({ ...d, OW: 16 })?.TN).toBe(7);
    // the window: (TN − 1)·SW + 4 floats in (WIN + 6) / 4 vec4s from any start
    expect(planConvRows({ ...d, SW: 1 })).toMatchObject({ SWC: 1, WIN: 10, NV: 4 });
    // 8–11 channels: 8-row blocks; fewer, another kernel width, a stride past 4: the `forward` kernel
    expect(planConvRows({ ...d, CO: 10 })?.TM).toBe(8);
    expect(planConvRows({ ...d, CO: 7 })).toBeNull();
    expect(planConvRows({ ...d, KW: 3 })).toBeNull();
    expect(planConvRows({ ...d, SW: 5 })).toBeNull();
    // the table: software adapters with subgroups; hardware adapters keep `forward` unless asked; 'on' needs subgroups; 'off' everywhere
    const g = geo({ CO: 64, OW: 7, OH: 7, H: 14, W: 14, CI: 4 });
    const fwd = (f: DeviceFacts, t?: Readonly<Tuning>) => planConvForward(f, g, t).variant;
    expect(planConvForward(lavapipe, g)).toMatchObject({ variant: 'software/conv_rows.forward_rows', groups: [1, 4, 1], vec4Inputs: 1 });
    expect(fwd(h100)).toBe('conv.forward');
    expect(fwd(swiftshader)).toBe('conv.forward');
    const on = modes({ 'software/conv_rows.forward_rows': 'on' });
    expect(fwd(h100, on)).toBe('software/conv_rows.forward_rows');
    expect(fwd(noSubgroups, on)).toBe('conv.forward');
    expect(fwd(lavapipe, modes({ 'software/conv_rows.forward_rows': 'off' }))).toBe('conv.forward');
    // an input whose binding cannot widen to whole vec4s within its buffer
    expect(planConvForward(lavapipe, { ...g, x16: false }).variant).toBe('conv.forward');
  });
  test('a transposed conv to 1-4 channels (4×4, stride 2) takes main_few on software adapters', () => {
    const g = { CO: 1, KH: 4, KW: 4, SH: 2, SW: 2, OW: 28, PH: 1, PW: 1 };
    // 28 columns plus the padding's one in a block of 30 (120 accumulators); the window is 16 floats
    expect(planConvTransposeFew(g)).toEqual({ TM: 1, TN: 30, WIN: 16, NV: 5, WGX: 16 });
    // wider rows in blocks of equal even widths: 81 columns in 3 of 28
    expect(planConvTransposeFew({ ...g, OW: 80 })?.TN).toBe(28);
    // more channels, narrower blocks: 3 channels × 4 rows × 10 columns
    expect(planConvTransposeFew({ ...g, CO: 3 })?.TN).toBe(10);
    expect(planConvTransposeFew({ ...g, CO: 5 })).toBeNull();
    expect(planConvTransposeFew({ ...g, SW: 1 })).toBeNull();
    expect(planConvTransposeFew({ ...g, KH: 3 })).toBeNull();
    expect(planConvTransposeFew({ ...g, PH: 4 })).toBeNull();
    const shape = geo({ CO: 1, CI: 64, H: 14, W: 14, OH: 28, OW: 28 });
    expect(planConvTranspose(lavapipe, shape)).toMatchObject({ variant: 'software/conv_transpose_rows.main_few', vec4Inputs: 2 });
    expect(planConvTranspose(h100, shape).variant).toBe('conv_transpose.main');
    // a software adapter without subgroups (SwiftShader) keeps `main`
    expect(planConvTranspose(swiftshader, shape).variant).toBe('conv_transpose.main');
    expect(planConvTranspose(lavapipe, shape, modes({ 'software/conv_transpose_rows.main_few': 'off' })).variant).toBe('conv_transpose.main');
  });
  test('a transposed conv to 8 or more channels (4×4, stride 2) takes main_rows on software adapters with subgroups', () => {
    // R1's G layer [128, 128, 7, 7] → 64 channels of 14 × 14: a row in one block of 14 columns
    const g = { CO: 64, KH: 4, KW: 4, SH: 2, SW: 2, OW: 14, PW: 1 };
    // odd padding: the block's columns plus pw start odd, its window holds (14 − 1 + 1) / 2 + 2 floats
    expect(planConvTransposeRows(g)).toEqual({ TM: 8, TC: 14, WIN: 9, NV: 3, WGX: 16, PWP: 1 });
    expect(planConvTransposeRows({ ...g, PW: 2 })).toMatchObject({ TC: 14, WIN: 8, NV: 3, PWP: 0 });
    // widths in even blocks of 8-14 with the fewest columns past the end: 28 in 2 × 14, 20 in 2 × 10,
    // 24 in 2 × 12, 9 in one of 10, 5 in one of 8
    expect(planConvTransposeRows({ ...g, OW: 28 })?.TC).toBe(14);
    expect(planConvTransposeRows({ ...g, OW: 20 })?.TC).toBe(10);
    expect(planConvTransposeRows({ ...g, OW: 24 })?.TC).toBe(12);
    expect(planConvTransposeRows({ ...g, OW: 9 })?.TC).toBe(10);
    expect(planConvTransposeRows({ ...g, OW: 5 })?.TC).toBe(8);
    // fewer than 8 channels (main_few or main), other kernels and strides: `main`
    expect(planConvTransposeRows({ ...g, CO: 7 })).toBeNull();
    expect(planConvTransposeRows({ ...g, KW: 3 })).toBeNull();
    expect(planConvTransposeRows({ ...g, SH: 1 })).toBeNull();
    // the table: hardware adapters keep `main` unless asked; 'on' needs subgroups; 'off' everywhere
    const shape = geo({ N: 128, CI: 128 });
    const ct = (f: DeviceFacts, t?: Readonly<Tuning>) => planConvTranspose(f, shape, t).variant;
    expect(planConvTranspose(lavapipe, shape)).toMatchObject({ variant: 'software/conv_transpose_rows.main_rows', groups: [56, 8, 2] });
    expect(ct(h100)).toBe('conv_transpose.main');
    const on = modes({ 'software/conv_transpose_rows.main_rows': 'on' });
    expect(ct(h100, on)).toBe('software/conv_transpose_rows.main_rows');
    expect(ct(noSubgroups, on)).toBe('conv_transpose.main');
    expect(ct(swiftshader)).toBe('conv_transpose.main');
    expect(ct(lavapipe, modes({ 'software/conv_transpose_rows.main_rows': 'off' }))).toBe('conv_transpose.main');
  });
  test('conv weight gradients as one GEMM: software adapters with subgroups, enough rows and columns, columns under 64 MiB', () => {
    // R1's discriminator layer [128, 64·16] over 128 images of 7 × 7, and its 1-input-channel first layer
    const r1 = { N: 128, A: 128, GH: 7, GW: 7, B: 64, KH: 4, KW: 4 };
    const gemm = (f: DeviceFacts, s: typeof r1, t?: Readonly<Tuning>) => planWeightGradient(f, s, t).gemm;
    expect(gemm(lavapipe, r1)).toBe(true);
    expect(gemm(lavapipe, { ...r1, A: 64, B: 1, GH: 14, GW: 14 })).toBe(false);
    expect(gemm(lavapipe, { ...r1, A: 16 })).toBe(false);
    // K = N·GH·GW not a multiple of 4
    expect(gemm(lavapipe, { ...r1, N: 127 })).toBe(false);
    expect(gemm(h100, r1)).toBe(false);
    expect(gemm(swiftshader, r1)).toBe(false);
    // 'on' takes every shape whose columns fit, 'off' none
    const on = modes({ 'software/conv_cols.columns': 'on' });
    expect(gemm(h100, { N: 1, A: 1, GH: 1, GW: 3, B: 1, KH: 1, KW: 1 }, on)).toBe(true);
    expect(gemm(lavapipe, r1, modes({ 'software/conv_cols.columns': 'off' }))).toBe(false);
    // 1024 columns × 16,384 k = 64 MiB fits, 4 k more does not
    expect(gemm(lavapipe, { ...r1, N: 1, GH: 128, GW: 128 })).toBe(true);
    expect(gemm(lavapipe, { ...r1, N: 1, GH: 4097, GW: 4 }, on)).toBe(false);
  });
  test('conv blocks narrow with few output channels', () => {
    expect(convBlock(lavapipe, 64)).toEqual({ TM: 16, TN: 8, WGX: 16, WGY: 1, SG: true });
    expect(convBlock(lavapipe, 10)).toEqual({ TM: 8, TN: 8, WGX: 16, WGY: 1, SG: true });
    expect(convBlock(lavapipe, 1)).toEqual({ TM: 1, TN: 8, WGX: 64, WGY: 1, SG: false });
    expect(convBlock(h100, 64)).toEqual({ TM: 8, TN: 8, WGX: 32, WGY: 1, SG: true });
    expect(convBlock(noSubgroups, 64)).toEqual({ TM: 8, TN: 8, WGX: 8, WGY: 8, SG: false });
    expect(convBlock(noSubgroups, 20)).toEqual({ TM: 4, TN: 8, WGX: 16, WGY: 4, SG: false });
    expect(convBlock(noSubgroups, 6)).toEqual({ TM: 4, TN: 8, WGX: 32, WGY: 2, SG: false });
    expect(convBlock(noSubgroups, 3)).toEqual({ TM: 3, TN: 8, WGX: 64, WGY: 1, SG: false });
  });
  test('subgroups of 4 to 128 lanes: rows shared only from 8 lanes, and every shared block in whole groups of 8 lanes on one row of lanes', () => {
    for (const sg of [4, 8, 16, 32, 64, 128]) {
      for (const software of [false, true]) {
        // init shares rows only where the smallest subgroup has 8 lanes or more (device.ts)
        const f: DeviceFacts = { software, subgroupShare: sg >= 8, subgroupMin: sg, minGroups: software ? 64 : 1024 };
        const blocks = [gemmBlock(f), ...[1, 6, 10, 20, 64, 128].map((rows) => convBlock(f, rows)), planWeightGrad(f, { N: 8, A: 64, cols: 1024 }).block];
        for (const b of blocks) {
          if (!b.SG) continue;
          expect(sg, JSON.stringify(b)).toBeGreaterThanOrEqual(8);
          // share8 hands values round within aligned groups of 8 subgroup lanes: a group must be
          // whole, so a workgroup is whole groups of 8 lanes, all on the same rows
          expect(b.WGX % 8, `${sg} lanes ${JSON.stringify(b)}`).toBe(0);
          expect(b.WGY).toBe(1);
          expect(b.WGX * b.WGY).toBeLessThanOrEqual(256);
        }
        expect(gemmBlock(f).SG).toBe(sg >= 8);
        // the widest subgroups get one subgroup's worth of lanes a workgroup, or fewer
        if (sg >= 32) expect(gemmBlock(f).WGX).toBe(sg >= 64 ? 64 : 32);
        // the software adapters' row kernels need shared rows (main_rows) or were measured only there
        if (sg < 8) {
          expect(planConvTranspose(f, geo({})).variant).not.toBe('software/conv_transpose_rows.main_rows');
          expect(planConvForward(f, geo({ OH: 7, OW: 7, H: 14, W: 14 })).variant).toBe('conv.forward');
        }
      }
    }
  });
  test('conv weight gradient: a small weight splits the batch sum', () => {
    // D's first conv (1→64, 4×4) at batch 64: 4 tiles, so 16 chunks of 4 images on lavapipe
    expect(planWeightGrad(lavapipe, { N: 64, A: 64, cols: 16 })).toMatchObject({ chunk: 4, chunks: 16, groups: [1, 4, 16] });
    // its 16 columns: one a lane on 16 lanes, not 8 (128 computed, 112 of them clamped copies)
    expect(planWeightGrad(lavapipe, { N: 64, A: 64, cols: 16 }).block).toEqual({ TM: 16, TN: 1, WGX: 16, WGY: 1, SG: true });
    expect(planWeightGrad(h100, { N: 64, A: 64, cols: 40 }).block).toEqual({ TM: 8, TN: 2, WGX: 32, WGY: 1, SG: true });
    expect(planWeightGrad(lavapipe, { N: 64, A: 128, cols: 1024 }).block).toEqual(convBlock(lavapipe, 128));
    // G's 128→64 transposed conv (cols 128·16): 16·4 = 64 tiles fill lavapipe, no split
    expect(planWeightGrad(lavapipe, { N: 64, A: 128, cols: 64 * 16 })).toMatchObject({ chunks: 1, chunk: 64 });
  });
  test('sums: a lane per output for bias-like sums, chunks for few long ones', () => {
    expect(planSum(lavapipe, { nOut: 256, R: 100 })).toEqual({ kernel: 'thread' });
    expect(planSum(lavapipe, { nOut: 3, R: 20 })).toEqual({ kernel: 'thread' });
    expect(planSum(lavapipe, { nOut: 64, R: 12544 })).toEqual({ kernel: 'workgroup', chunks: 1, chunkLen: 12544 });
    expect(planSum(lavapipe, { nOut: 1, R: 12544 })).toEqual({ kernel: 'workgroup', chunks: 6, chunkLen: 2091 });
    expect(planSum(h100, { nOut: 1, R: 12544 })).toEqual({ kernel: 'workgroup', chunks: 6, chunkLen: 2091 });
  });
  test('setTuning overrides constants until restored, and refuses what it does not know', () => {
    const restore = setTuning({ variants: { 'matmul_tiled.main': 'on' }, shared: { TM: 8, TN: 8, WGX: 32, WGY: 1 } });
    expect(mm(lavapipe, { batch: 1, M: 1024, N: 1024, K: 1024 }).variant).toBe('matmul_tiled.main');
    expect(gemmBlock(lavapipe)).toEqual({ TM: 8, TN: 8, WGX: 32, WGY: 1, SG: true });
    // a second override of another variant keeps the first
    const r2 = setTuning({ variants: { 'software/adam4.main4': 'off' } });
    expect(tuning().variants).toEqual({ 'matmul_tiled.main': 'on', 'software/adam4.main4': 'off' });
    r2();
    restore();
    expect(tuning()).toBe(defaultTuning());
    expect(mm(lavapipe, { batch: 1, M: 1024, N: 1024, K: 1024 }).variant).toBe('software/matmul4.main4');
    expect(() => setTuning({ bogus: 1 } as never)).toThrow(WgslgradError);
    expect(() => setTuning({ variants: { 'matmul.nope': 'on' } })).toThrow(/unknown kernel variant matmul.nope/);
    expect(() => setTuning({ variants: { 'matmul_tiled.main': 'sometimes' } } as never)).toThrow(/matmul_tiled.main must be 'auto', 'on' or 'off'/);
    expect(() => setTuning({ bnLanes: 48 } as never)).toThrow(/bnLanes must be/);
    expect(() => setTuning({ plain: { TM: 0, TN: 8, WGX: 8, WGY: 8 } })).toThrow(/plain must be a block/);
    expect(tuning()).toBe(defaultTuning());
    expect(() => {
      (defaultTuning() as { bnLanes: number }).bnLanes = 64;
    }).toThrow(TypeError);
  });
  test('every table ends with a variant that computes any problem on any device, and forcing makes a variant the first that is on', () => {
    for (const [name, table] of Object.entries(TABLES)) {
      const last = table.at(-1)!;
      expect(last.where, name).toBe('everywhere');
      expect(last.subgroups ?? false, name).toBe(false);
      // ids are distinct across tables (a tuning names a variant alone)
    }
    const ids = allVariants().map(({ variant }) => variantId(variant));
    expect(new Set(ids).size).toBe(ids.length);
    for (const { variant } of allVariants()) expect(variant.purpose.length, variantId(variant)).toBeGreaterThan(10);
    expect(forcing(TABLES.convTranspose, 'software/conv_transpose_rows.main_rows')).toEqual({
      'software/conv_transpose_rows.main_few': 'off',
      'software/conv_transpose_rows.main_rows': 'on',
    });
    expect(() => forcing(TABLES.adam, 'matmul.main')).toThrow(/no variant matmul.main in this table/);
  });
});
