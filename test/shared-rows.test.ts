// The GEMM-shaped kernels (matmul, conv forward, transposed conv, conv weight gradient) have two
// layouts: rows shared across lanes through subgroup shuffles (devices with subgroups of ≥ 8 lanes,
// lavapipe among them) and one lane per row set. Both are checked here against the CPU reference,
// with row counts that exercise full, partial and 8-row blocks.
import { afterAll, describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose, expectMatmulLayouts, gradcheck, randCpu, rng, toGpu } from './helpers.js';

afterAll(async () => {
  await wg.init();
});

// 'wide': the constants used where subgroups have 32 lanes (one 32-lane workgroup, 8 rows a lane),
// run here in the shuffle form used for such subgroups.
let restore = (): void => {};
async function initFor(mode: boolean | 'grouped' | 'wide') {
  restore();
  const wide = wg.internal.defaultTuning().wide;
  // (the vec4 matmul off for 'wide', so that products run the wide block)
  restore = mode === 'wide' ? wg.internal.setTuning({ shared: wide, convShared: wide, variants: { 'software/matmul4.main4': 'off' } }) : () => {};
  return wg.init({ subgroups: mode === 'wide' ? 'grouped' : mode });
}
afterAll(() => restore());

for (const subgroups of [true, 'grouped', 'wide', false] as const) {
  describe(`kernels with subgroups: ${subgroups}`, () => {
    test('matmul: transpose flags, batches, bias, few columns (operands swapped)', async () => {
      const info = await initFor(subgroups);
      if (!subgroups) expect(info.subgroups).toBe(false);
      const r = rng(subgroups ? 91 : 92);
      const shapes: Array<[number, number, number]> = [
        [37, 29, 21],
        [16, 16, 16],
        [128, 1, 70],
        [3, 100, 9],
        [200, 5, 33],
        [8, 130, 17],
      ];
      for (const [M, N, K] of shapes) {
        await expectMatmulLayouts(r, [[M, K, N]], `subgroups ${subgroups}`);
        const x = randCpu(r, [M, K]),
          w = randCpu(r, [N, K]),
          bias = randCpu(r, [N]);
        await expectClose(wg.linear(toGpu(x), toGpu(w), toGpu(bias)), cpu.linear(x, w, bias), 1e-4, 1e-5, `linear ${M}×${N}×${K}`);
      }
      const a3 = randCpu(r, [3, 19, 11]),
        b3 = randCpu(r, [3, 11, 2]);
      await expectClose(wg.matmul(toGpu(a3), toGpu(b3)), cpu.matmul(a3, b3), 1e-4, 1e-5, 'batched, 2 columns');
    });
    test('conv2d and convTranspose2d with 8 to 40 channels, forward and gradients', async () => {
      await initFor(subgroups);
      const r = rng(subgroups ? 93 : 94);
      for (const [CI, CO] of [
        [3, 8],
        [8, 13],
        [5, 16],
        [16, 33],
      ]) {
        const x = randCpu(r, [2, CI, 7, 6]);
        const opts = { stride: 2, padding: 1 };
        const w = randCpu(r, [CO, CI, 4, 4]),
          b = randCpu(r, [CO]);
        await expectClose(wg.conv2d(toGpu(x), toGpu(w), toGpu(b), opts), cpu.conv2d(x, w, b, opts), 1e-4, 1e-5, `conv ${CI}→${CO}`);
        const wt = randCpu(r, [CI, CO, 4, 4]);
        await expectClose(wg.convTranspose2d(toGpu(x), toGpu(wt), toGpu(b), opts), cpu.convTranspose2d(x, wt, b, opts), 1e-4, 1e-5, `convT ${CI}→${CO}`);
      }
      await gradcheck(
        (x, w, b) => wg.conv2d(x, w, b, { stride: 2, padding: 1 }),
        (x, w, b) => cpu.conv2d(x, w, b, { stride: 2, padding: 1 }),
        [randCpu(r, [2, 9, 5, 5]), randCpu(r, [17, 9, 3, 3]), randCpu(r, [17])],
      );
      await gradcheck(
        (x, w, b) => wg.convTranspose2d(x, w, b, { stride: 2, padding: 1 }),
        (x, w, b) => cpu.convTranspose2d(x, w, b, { stride: 2, padding: 1 }),
        [randCpu(r, [2, 17, 3, 3]), randCpu(r, [17, 9, 4, 4]), randCpu(r, [9])],
      );
    });
  });
}

test('lavapipe and other adapters with 8-lane subgroups use the shared-row kernels', async () => {
  const info = await wg.init();
  const features = info.software && /llvmpipe/i.test(info.adapter.description);
  if (features) expect(info.subgroups).toBe(true);
});
