// The kernel planner decides from device facts and shapes alone: checked here without a GPU.
import { describe, expect, test } from 'vitest';
import { WgslgradError } from '../src/errors.js';
import {
  bnLanes,
  bnVec4,
  convBlock,
  type DeviceFacts,
  defaultTuning,
  gemmBlock,
  laneKBlock,
  planConvRows,
  planConvTransposeFew,
  planConvTransposeRows,
  planMatmul,
  planSum,
  planWeightGrad,
  planWeightGradGemm,
  setTuning,
  tuning,
  VEC4_BLOCK,
  vec4Passes,
  vec4Update,
} from '../src/gpu/planner.js';

const lavapipe: DeviceFacts = { software: true, subgroupShare: true, subgroupMin: 8, minGroups: 64 };
const h100: DeviceFacts = { software: false, subgroupShare: true, subgroupMin: 32, minGroups: 1024 };
const amd: DeviceFacts = { software: false, subgroupShare: true, subgroupMin: 64, minGroups: 1024 };
const noSubgroups: DeviceFacts = { software: false, subgroupShare: false, subgroupMin: 0, minGroups: 1024 };
const swiftshader: DeviceFacts = { software: true, subgroupShare: false, subgroupMin: 0, minGroups: 64 };

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
    expect(laneKBlock(lavapipe)).toBe(4);
    for (const f of [h100, amd, noSubgroups, swiftshader]) expect(laneKBlock(f)).toBe(0);
    const restore = setTuning({ laneKBlock: 'on' });
    try {
      for (const f of [lavapipe, h100, swiftshader]) expect(laneKBlock(f)).toBe(4);
    } finally {
      restore();
    }
  });
  test('batchnorm workgroups: 32 lanes on software adapters, 256 on GPUs', () => {
    expect(bnLanes(lavapipe)).toBe(32);
    for (const f of [h100, amd, noSubgroups]) expect(bnLanes(f)).toBe(256);
  });
  test('batchnorm four floats a load: planes (or, at S = 1, channel counts) that are multiples of 4, on software adapters', () => {
    expect(bnVec4(lavapipe, { C: 64, S: 196 })).toBe(true);
    expect(bnVec4(lavapipe, { C: 64, S: 49 })).toBe(false);
    expect(bnVec4(lavapipe, { C: 6272, S: 1 })).toBe(true);
    expect(bnVec4(lavapipe, { C: 6, S: 1 })).toBe(false);
    // S = 1 goes by the channels alone: 4 channels of one value each are not a plane of 4
    expect(bnVec4(lavapipe, { C: 5, S: 1 })).toBe(false);
    for (const f of [h100, amd, noSubgroups]) expect(bnVec4(f, { C: 64, S: 196 })).toBe(false);
    expect(bnVec4(lavapipe, { C: 64, S: 196 }, { ...defaultTuning(), bnVec4: 'off' })).toBe(false);
    expect(bnVec4(h100, { C: 64, S: 196 }, { ...defaultTuning(), bnVec4: 'on' })).toBe(true);
  });
  test('activations, their gradients and bias sums four values a load on software adapters only', () => {
    expect(vec4Passes(lavapipe)).toBe(true);
    for (const f of [h100, amd, noSubgroups]) expect(vec4Passes(f)).toBe(false);
    expect(vec4Passes(lavapipe, { ...defaultTuning(), vec4Passes: 'off' })).toBe(false);
    expect(vec4Passes(h100, { ...defaultTuning(), vec4Passes: 'on' })).toBe(true);
  });
  test('Adam updates four parameters a lane on software adapters only', () => {
    expect(vec4Update(lavapipe)).toBe(true);
    for (const f of [h100, amd, noSubgroups]) expect(vec4Update(f)).toBe(false);
  });
  test('matmul: tiled kernel on hardware for products that fill it, blocked on lavapipe', () => {
    expect(planMatmul(h100, { batch: 1, M: 4096, N: 4096, K: 4096 })).toEqual({ kernel: 'tiled', groups: [32, 32, 1] });
    expect(planMatmul(lavapipe, { batch: 1, M: 1024, N: 1024, K: 1024 })).toEqual({
      kernel: 'blocked',
      block: { ...VEC4_BLOCK, SG: true },
      vec4: true,
      swap: false,
      chunks: 1,
      kc: 1024,
      groups: [16, 32, 1],
    });
    // too few tiles for the H100 (2·2·1·16 < 1024): blocked
    expect(planMatmul(h100, { batch: 1, M: 256, N: 256, K: 64 }).kernel).toBe('blocked');
  });
  test('matmul: one output column and a long inner sum is a workgroup a row (the D head), split-K without it', () => {
    // [128, 6272]·[6272, 1] and as a linear layer ([1, 6272]ᵀ): dot_rows4 on every adapter; an odd K reads one float a load
    for (const f of [lavapipe, h100, noSubgroups]) {
      expect(planMatmul(f, { batch: 1, M: 128, N: 1, K: 6272 })).toEqual({ kernel: 'dot', vec4: true, groups: [128, 1, 1] });
      expect(planMatmul(f, { batch: 1, M: 128, N: 1, K: 6272, tb: true })).toEqual({ kernel: 'dot', vec4: true, groups: [128, 1, 1] });
    }
    expect(planMatmul(lavapipe, { batch: 1, M: 5, N: 1, K: 1101 })).toEqual({ kernel: 'dot', vec4: false, groups: [5, 1, 1] });
    // rows past 65,535 workgroups fold into y
    expect(planMatmul(lavapipe, { batch: 1, M: 70000, N: 1, K: 256 })).toMatchObject({ kernel: 'dot', groups: [65535, 2, 1] });
    // not for short sums, batches, or A stored along M
    expect(planMatmul(lavapipe, { batch: 1, M: 128, N: 1, K: 200 }).kernel).toBe('blocked');
    expect(planMatmul(lavapipe, { batch: 2, M: 128, N: 1, K: 6272 }).kernel).toBe('blocked');
    expect(planMatmul(lavapipe, { batch: 1, M: 128, N: 1, K: 6272, ta: true }).kernel).toBe('blocked');
    // with dot_rows off, split-K: the operands swap, 16 chunks of 392 on lavapipe (64 workgroups
    // wanted), 49 of 128 on an H100 (a [6272, 1] column read along M after the swap, so not the vec4 kernel)
    const restore = setTuning({ dotRows: 'off' });
    try {
      expect(planMatmul(lavapipe, { batch: 1, M: 128, N: 1, K: 6272 })).toEqual({
        kernel: 'blocked',
        block: gemmBlock(lavapipe),
        vec4: false,
        swap: true,
        chunks: 16,
        kc: 392,
        groups: [1, 1, 16],
      });
      expect(planMatmul(h100, { batch: 1, M: 128, N: 1, K: 6272 })).toEqual({
        kernel: 'blocked',
        block: gemmBlock(h100),
        vec4: false,
        swap: true,
        chunks: 49,
        kc: 128,
        groups: [1, 1, 49],
      });
      // batched products are never split; short sums neither
      expect(planMatmul(lavapipe, { batch: 2, M: 128, N: 1, K: 6272 })).toMatchObject({ chunks: 1, groups: [1, 1, 2] });
      expect(planMatmul(lavapipe, { batch: 1, M: 128, N: 1, K: 200 })).toMatchObject({ chunks: 1 });
      // the D head as a linear layer, [128, 6272]·[1, 6272]ᵀ: swapped, both operands along K, split into chunks of a multiple of 4
      const head = planMatmul(lavapipe, { batch: 1, M: 128, N: 1, K: 6272, tb: true });
      expect(head).toMatchObject({ kernel: 'blocked', vec4: true, swap: true });
      if (head.kernel === 'blocked') {
        expect(head.kc % 4).toBe(0);
        expect(head.chunks * head.kc).toBeGreaterThanOrEqual(6272);
        expect((head.chunks - 1) * head.kc).toBeLessThan(6272);
      }
    } finally {
      restore();
    }
    // a few columns still split
    expect(planMatmul(lavapipe, { batch: 1, M: 9, N: 5, K: 777 })).toMatchObject({ kernel: 'blocked', swap: true });
    expect((planMatmul(lavapipe, { batch: 1, M: 9, N: 5, K: 777 }) as { chunks: number }).chunks).toBeGreaterThan(1);
  });
  test('matmul: the vec4 kernel on software adapters wherever its vec4 reads are whole and aligned', () => {
    const vec4 = (f: DeviceFacts, p: Parameters<typeof planMatmul>[1]) => {
      const plan = planMatmul(f, p);
      return plan.kernel === 'blocked' && plan.vec4;
    };
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
    const restore = setTuning({ vec4Gemm: 'on', tiled: 'off' });
    try {
      expect(vec4(h100, sq)).toBe(true);
      expect(vec4(noSubgroups, sq)).toBe(false);
    } finally {
      restore();
    }
    const off = setTuning({ vec4Gemm: 'off' });
    try {
      expect(vec4(lavapipe, sq)).toBe(false);
    } finally {
      off();
    }
  });
  test('conv forwards of 4-wide kernels take conv_rows on software adapters', () => {
    const d = { CO: 64, KW: 4, SW: 2, OW: 7 };
    // 7 × 16 a lane; the widest of 7, 6, 5 dividing the output width; the width itself below 5; 7 when none divides it
    expect(planConvRows(lavapipe, d)).toEqual({ TM: 16, TN: 7, WGX: 16, SWC: 2, WIN: 16, NV: 5 });
    expect(planConvRows(lavapipe, { ...d, OW: 14 })?.TN).toBe(7);
    expect(planConvRows(lavapipe, { ...d, OW: 12 })?.TN).toBe(6);
    expect(planConvRows(lavapipe, { ...d, OW: 10 })?.TN).toBe(5);
    expect(planConvRows(lavapipe, { ...d, OW: 3 })?.TN).toBe(3);
    expect(planConvRows(lavapipe, { ...d, OW: 16 })?.TN).toBe(7);
    // the window: (TN − 1)·SW + 4 floats in (WIN + 6) / 4 vec4s from any start
    expect(planConvRows(lavapipe, { ...d, SW: 1 })).toMatchObject({ SWC: 1, WIN: 10, NV: 4 });
    // 8–11 channels: 8-row blocks; fewer, another kernel width, a stride past 4: the `forward` kernel
    expect(planConvRows(lavapipe, { ...d, CO: 10 })?.TM).toBe(8);
    expect(planConvRows(lavapipe, { ...d, CO: 7 })).toBeNull();
    expect(planConvRows(lavapipe, { ...d, KW: 3 })).toBeNull();
    expect(planConvRows(lavapipe, { ...d, SW: 5 })).toBeNull();
    // hardware adapters keep `forward` unless asked; 'on' needs subgroups; 'off' everywhere
    expect(planConvRows(h100, d)).toBeNull();
    const restore = setTuning({ convRows: 'on' });
    try {
      expect(planConvRows(h100, d)?.TN).toBe(7);
      expect(planConvRows(noSubgroups, d)).toBeNull();
    } finally {
      restore();
    }
    const off = setTuning({ convRows: 'off' });
    try {
      expect(planConvRows(lavapipe, d)).toBeNull();
    } finally {
      off();
    }
  });
  test('a transposed conv to 1-4 channels (4×4, stride 2) takes main_few on software adapters', () => {
    const g = { CO: 1, KH: 4, KW: 4, SH: 2, SW: 2, OW: 28, PH: 1, PW: 1 };
    // 28 columns plus the padding's one in a block of 30 (120 accumulators); the window is 16 floats
    expect(planConvTransposeFew(lavapipe, g)).toEqual({ TM: 1, TN: 30, WIN: 16, NV: 5, WGX: 16 });
    // wider rows in blocks of equal even widths: 81 columns in 3 of 28
    expect(planConvTransposeFew(lavapipe, { ...g, OW: 80 })?.TN).toBe(28);
    // more channels, narrower blocks: 3 channels × 4 rows × 10 columns
    expect(planConvTransposeFew(lavapipe, { ...g, CO: 3 })?.TN).toBe(10);
    expect(planConvTransposeFew(lavapipe, { ...g, CO: 5 })).toBeNull();
    expect(planConvTransposeFew(lavapipe, { ...g, SW: 1 })).toBeNull();
    expect(planConvTransposeFew(lavapipe, { ...g, KH: 3 })).toBeNull();
    expect(planConvTransposeFew(lavapipe, { ...g, PH: 4 })).toBeNull();
    expect(planConvTransposeFew(h100, g)).toBeNull();
    // a software adapter without subgroups (SwiftShader) keeps `main`
    expect(planConvTransposeFew({ ...lavapipe, subgroupShare: false }, g)).toBeNull();
    // the switch, given as the planner's tuning argument
    expect(planConvTransposeFew(lavapipe, g, { ...defaultTuning(), convRows: 'off' })).toBeNull();
  });
  test('a transposed conv to 8 or more channels (4×4, stride 2) takes main_rows on software adapters with subgroups', () => {
    // R1's G layer [128, 128, 7, 7] → 64 channels of 14 × 14: a row in one block of 14 columns
    const g = { CO: 64, KH: 4, KW: 4, SH: 2, SW: 2, OW: 14, PW: 1 };
    // odd padding: the block's columns plus pw start odd, its window holds (14 − 1 + 1) / 2 + 2 floats
    expect(planConvTransposeRows(lavapipe, g)).toEqual({ TM: 8, TC: 14, WIN: 9, NV: 3, WGX: 16, PWP: 1 });
    expect(planConvTransposeRows(lavapipe, { ...g, PW: 2 })).toMatchObject({ TC: 14, WIN: 8, NV: 3, PWP: 0 });
    // widths in even blocks of 8-14 with the fewest columns past the end: 28 in 2 × 14, 20 in 2 × 10,
    // 24 in 2 × 12, 9 in one of 10, 5 in one of 8
    expect(planConvTransposeRows(lavapipe, { ...g, OW: 28 })?.TC).toBe(14);
    expect(planConvTransposeRows(lavapipe, { ...g, OW: 20 })?.TC).toBe(10);
    expect(planConvTransposeRows(lavapipe, { ...g, OW: 24 })?.TC).toBe(12);
    expect(planConvTransposeRows(lavapipe, { ...g, OW: 9 })?.TC).toBe(10);
    expect(planConvTransposeRows(lavapipe, { ...g, OW: 5 })?.TC).toBe(8);
    // fewer than 8 channels (main_few or main), other kernels and strides: `main`
    expect(planConvTransposeRows(lavapipe, { ...g, CO: 7 })).toBeNull();
    expect(planConvTransposeRows(lavapipe, { ...g, KW: 3 })).toBeNull();
    expect(planConvTransposeRows(lavapipe, { ...g, SH: 1 })).toBeNull();
    // hardware adapters keep `main` unless asked; 'on' needs subgroups; 'off' everywhere
    expect(planConvTransposeRows(h100, g)).toBeNull();
    expect(planConvTransposeRows(h100, g, { ...defaultTuning(), convTRows: 'on' })?.TC).toBe(14);
    expect(planConvTransposeRows(noSubgroups, g, { ...defaultTuning(), convTRows: 'on' })).toBeNull();
    expect(planConvTransposeRows({ ...lavapipe, subgroupShare: false }, g)).toBeNull();
    expect(planConvTransposeRows(lavapipe, g, { ...defaultTuning(), convTRows: 'off' })).toBeNull();
  });
  test('conv weight gradients as one GEMM: software adapters with subgroups, enough rows and columns, columns under 64 MiB', () => {
    // R1's discriminator layer [128, 64·16] over 128 images of 7 × 7, and its 1-input-channel first layer
    const r1 = { A: 128, cols: 1024, K: 128 * 49 };
    expect(planWeightGradGemm(lavapipe, r1)).toBe(true);
    expect(planWeightGradGemm(lavapipe, { A: 64, cols: 16, K: 128 * 196 })).toBe(false);
    expect(planWeightGradGemm(lavapipe, { ...r1, A: 16 })).toBe(false);
    expect(planWeightGradGemm(lavapipe, { ...r1, K: 6270 })).toBe(false);
    expect(planWeightGradGemm(h100, r1)).toBe(false);
    expect(planWeightGradGemm({ ...lavapipe, subgroupShare: false }, r1)).toBe(false);
    // 'on' takes every shape whose columns fit, 'off' none
    const on = { ...defaultTuning(), wgradGemm: 'on' as const };
    expect(planWeightGradGemm(h100, { A: 1, cols: 1, K: 3 }, on)).toBe(true);
    expect(planWeightGradGemm(lavapipe, r1, { ...defaultTuning(), wgradGemm: 'off' })).toBe(false);
    // 1024 columns × 16,384 k = 64 MiB fits, one k more does not
    expect(planWeightGradGemm(lavapipe, { ...r1, K: 16384 })).toBe(true);
    expect(planWeightGradGemm(lavapipe, { ...r1, K: 16388 }, on)).toBe(false);
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
          expect(planConvTransposeRows(f, { CO: 64, KH: 4, KW: 4, SH: 2, SW: 2, OW: 14, PW: 1 })).toBeNull();
          expect(planConvRows(f, { CO: 64, KW: 4, SW: 2, OW: 14 })).toBeNull();
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
    const restore = setTuning({ tiled: 'on', shared: { TM: 8, TN: 8, WGX: 32, WGY: 1 } });
    expect(planMatmul(lavapipe, { batch: 1, M: 1024, N: 1024, K: 1024 }).kernel).toBe('tiled');
    expect(gemmBlock(lavapipe)).toEqual({ TM: 8, TN: 8, WGX: 32, WGY: 1, SG: true });
    restore();
    expect(tuning()).toBe(defaultTuning());
    expect(planMatmul(lavapipe, { batch: 1, M: 1024, N: 1024, K: 1024 }).kernel).toBe('blocked');
    expect(() => setTuning({ bogus: 1 } as never)).toThrow(WgslgradError);
    expect(() => setTuning({ tiled: 'sometimes' } as never)).toThrow(/tiled must be 'auto', 'on' or 'off'/);
    expect(() => setTuning({ vec4Update: true } as never)).toThrow(/vec4Update must be 'auto', 'on' or 'off'/);
    const r2 = setTuning({ laneKBlock: 'off', vec4Update: 'on' });
    expect([laneKBlock(lavapipe), vec4Update(h100)]).toEqual([0, true]);
    r2();
    expect(() => setTuning({ plain: { TM: 0, TN: 8, WGX: 8, WGY: 8 } })).toThrow(/plain must be a block/);
    expect(tuning()).toBe(defaultTuning());
    expect(() => {
      (defaultTuning() as { tiled: string }).tiled = 'on';
    }).toThrow(TypeError);
  });
});
