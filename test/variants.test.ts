// The GEMM blocks chosen for devices this machine does not have, forced on the one it has, against
// the CPU reference: 32- and 64-lane subgroups (NVIDIA, AMD) where this device shares rows through
// subgroups, hardware without subgroups and SwiftShader where it does not, and the workgroup-memory
// tiled matmul everywhere. The planner's choice of each for its device is tested without a GPU
// (test/planner.test.ts); here the kernels they choose compute the right numbers.
import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import { deviceFacts } from '../src/gpu/device.js';
import * as wg from '../src/index.js';
import { expectClose, expectMatmulLayouts, gradcheck, randCpu, rng, toGpu } from './helpers.js';

const t = wg.defaultTuning();
/** the variant switches that would take a product or a conv off the blocked GEMM kernels */
const blockedOnly: Partial<wg.Tuning> = { tiled: 'off', vec4Gemm: 'off', convRows: 'off', convTRows: 'off', wgradGemm: 'off', dotRows: 'off' };
const shared = deviceFacts().subgroupShare;

/** [name, the tuning that makes this device run it, whether it needs rows shared through subgroups] */
const VARIANTS: Array<[string, Partial<wg.Tuning>, boolean]> = [
  ['32-lane subgroups (one subgroup a workgroup)', { ...blockedOnly, shared: t.wide, convShared: t.wide }, true],
  ['64-lane subgroups', { ...blockedOnly, shared: t.wide64, convShared: t.wide64 }, true],
  ['hardware without subgroups (8 × 8 lanes)', { ...blockedOnly, software: t.plain, convPlain: t.plain }, false],
  ['SwiftShader (4 × 4 lanes)', { ...blockedOnly, software: t.software, convPlain: t.software }, false],
  ['the workgroup-memory tiled matmul', { tiled: 'on' }, false],
];

describe('kernel variants of other devices, forced here', () => {
  for (const [name, tuning, needsShared] of VARIANTS) {
    // a subgroup block runs only where rows are shared; a block without them only where they are not (the planner's gemmBlock)
    const runs = name.startsWith('the workgroup') || needsShared === shared;
    test.skipIf(!runs)(
      `${name}: matmul layouts, linear and its gradients, conv and transposed conv forward and gradients${runs ? '' : ` (not on this device: it ${shared ? 'shares' : 'does not share'} rows through subgroups)`}`,
      async () => {
        const restore = wg.setTuning(tuning);
        try {
          const r = rng(name.length);
          const [a, b] = [wg.ones([8, 8]), wg.ones([8, 8])];
          const names = wg.traceKernels(() => void wg.scope(() => wg.matmul(a, b)));
          expect(names).toEqual([tuning.tiled === 'on' ? 'matmul_tiled.main' : 'matmul.main']);
          await expectMatmulLayouts(
            r,
            [
              [37, 29, 21],
              [128, 70, 3],
              [3, 100, 9],
              [65, 33, 130],
            ],
            name,
          );
          await gradcheck(
            (x, w, b) => wg.linear(x, w, b),
            (x, w, b) => cpu.linear(x, w, b),
            [randCpu(r, [5, 7]), randCpu(r, [9, 7]), randCpu(r, [9])],
          );
          const opts = { stride: 2, padding: 1 };
          for (const [CI, CO] of [
            [3, 8],
            [8, 13],
            [16, 50],
          ]) {
            const x = randCpu(r, [2, CI, 7, 6]);
            const w = randCpu(r, [CO, CI, 4, 4]),
              b = randCpu(r, [CO]);
            await expectClose(wg.conv2d(toGpu(x), toGpu(w), toGpu(b), opts), cpu.conv2d(x, w, b, opts), 1e-4, 1e-5, `${name}: conv ${CI}→${CO}`);
            const wt = randCpu(r, [CI, CO, 4, 4]);
            await expectClose(
              wg.convTranspose2d(toGpu(x), toGpu(wt), toGpu(b), opts),
              cpu.convTranspose2d(x, wt, b, opts),
              1e-4,
              1e-5,
              `${name}: convT ${CI}→${CO}`,
            );
          }
          await gradcheck(
            (x, w, b) => wg.conv2d(x, w, b, opts),
            (x, w, b) => cpu.conv2d(x, w, b, opts),
            [randCpu(r, [2, 9, 5, 5]), randCpu(r, [17, 9, 4, 4]), randCpu(r, [17])],
          );
          await gradcheck(
            (x, w, b) => wg.convTranspose2d(x, w, b, opts),
            (x, w, b) => cpu.convTranspose2d(x, w, b, opts),
            [randCpu(r, [2, 17, 3, 3]), randCpu(r, [17, 9, 4, 4]), randCpu(r, [9])],
          );
        } finally {
          restore();
        }
      },
    );
  }
});
