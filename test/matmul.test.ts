import { describe, expect, onTestFinished, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import { deviceFacts } from '../src/gpu/device.js';
import * as wg from '../src/index.js';
import { matmulRaw } from '../src/ops/matmul.js';
import { expectClose, expectMatmulLayouts, gradcheck, randCpu, randInt, rng, toGpu, variantsOn } from './helpers.js';

describe('matmul against the CPU reference', () => {
  test('2-D: size 1, sizes not divisible by the tile, skinny and wide', async () => {
    const r = rng(11);
    const shapes: Array<[number, number, number]> = [
      [1, 1, 1],
      [1, 7, 1],
      [33, 17, 65],
      [70, 130, 3],
      [128, 300, 1], // the discriminator head's shape
      [5, 1, 9],
    ];
    for (let i = 0; i < 4; i++) shapes.push([randInt(r, 1, 80), randInt(r, 1, 80), randInt(r, 1, 80)]);
    for (const [M, K, N] of shapes) {
      const a = randCpu(r, [M, K]);
      const b = randCpu(r, [K, N]);
      await expectClose(wg.matmul(toGpu(a), toGpu(b)), cpu.matmul(a, b), 1e-4, 1e-5 * Math.sqrt(K), `matmul ${M}x${K}x${N}`);
    }
  });
  test('split-K: few output tiles and a long inner sum are summed in chunks (odd K, swapped, bias, transposed)', async () => {
    // one-column products take dot_rows unless it is off (the next test)
    onTestFinished(wg.internal.setTuning(variantsOn(['matmul.dot_rows4', 'matmul.dot_rows'], 'off')));
    const r = rng(16);
    // [M, K, N]: the D head at batch 8 and 2 (swapped: one column), a few columns, an uneven last chunk
    for (const [M, K, N] of [
      [8, 1100, 1],
      [2, 6272, 1],
      [9, 777, 5],
      [3, 300, 40],
    ] as Array<[number, number, number]>) {
      const a = randCpu(r, [M, K]);
      const b = randCpu(r, [K, N]);
      const before = wg.engineStats().dispatches;
      const y = wg.matmul(toGpu(a), toGpu(b));
      expect(wg.engineStats().dispatches - before, `split ${M}x${K}x${N}`).toBeGreaterThan(1); // partial products, then their sum
      await expectClose(y, cpu.matmul(a, b), 1e-4, 1e-5 * Math.sqrt(K), `split-K matmul ${M}x${K}x${N}`);
      const w = randCpu(r, [N, K]);
      const bias = randCpu(r, [N]);
      await expectClose(wg.linear(toGpu(a), toGpu(w), toGpu(bias)), cpu.linear(a, w, bias), 1e-4, 1e-5 * Math.sqrt(K), `split-K linear ${M}x${K}x${N}`);
    }
    // a batch of one keeps its batch dim through the split
    const a3 = randCpu(r, [1, 4, 1100]),
      b3 = randCpu(r, [1, 1100, 1]);
    await expectClose(wg.matmul(toGpu(a3), toGpu(b3)), cpu.matmul(a3, b3), 1e-4, 1e-5 * Math.sqrt(1100), 'split-K batch of one');
    // its backward (no split there: inner sums are the batch and the outputs) by finite differences
    await gradcheck(
      (x, w, b) => wg.linear(x, w, b),
      (x, w, b) => cpu.linear(x, w, b),
      [randCpu(r, [2, 300]), randCpu(r, [1, 300]), randCpu(r, [1])],
      { wrt: [2] },
    );
  });
  test('one column and a long inner sum: a workgroup a row (dot_rows), every K mod 4, bias, activation, an addend', async () => {
    const r = rng(23);
    for (const [M, K] of [
      [8, 1100],
      [3, 1101],
      [5, 258],
      [2, 6272],
      [1, 999],
    ] as Array<[number, number]>) {
      const a = randCpu(r, [M, K]);
      const b = randCpu(r, [K, 1]);
      const before = wg.engineStats().dispatches;
      const y = wg.matmul(toGpu(a), toGpu(b));
      expect(wg.engineStats().dispatches - before, `dot ${M}x${K}`).toBe(1);
      await expectClose(y, cpu.matmul(a, b), 1e-4, 1e-5 * Math.sqrt(K), `dot matmul ${M}x${K}`);
      // as the D head: x·Wᵀ + bias through a fused LeakyReLU, W stored [1, K]
      const w = randCpu(r, [1, K]);
      const bias = randCpu(r, [1]);
      await expectClose(
        wg.linear(toGpu(a), toGpu(w), toGpu(bias), { activation: 'leakyRelu', slope: 0.2 }),
        cpu.leakyRelu(cpu.linear(a, w, bias), 0.2),
        1e-4,
        1e-5 * Math.sqrt(K),
        `dot linear ${M}x${K}`,
      );
      // a result added to C's shape in the same kernel (how accumulated gradients arrive)
      const add = randCpu(r, [M, 1]);
      await expectClose(
        matmulRaw(toGpu(a), toGpu(w), { transB: true, accumulate: toGpu(add) }),
        cpu.add(cpu.matmul(a, cpu.transpose(w, 0, 1)), add),
        1e-4,
        1e-5 * Math.sqrt(K),
        `dot with an addend ${M}x${K}`,
      );
    }
    // which kernel ran
    const ga = toGpu(randCpu(r, [4, 1024])),
      gb = toGpu(randCpu(r, [1024, 1])),
      gc = toGpu(randCpu(r, [4, 1023])),
      gd = toGpu(randCpu(r, [1023, 1]));
    const kernels = wg.traceKernels(() => {
      wg.scope(() => {
        wg.matmul(ga, gb);
        wg.matmul(gc, gd);
      });
    });
    expect(kernels.sort()).toEqual(['matmul.dot_rows', 'matmul.dot_rows4']);
  });
  test('the workgroup-memory tiled kernel (chosen on GPUs): partial tiles, transpose flags, bias, batches, its gradients', async () => {
    const r = rng(17);
    const restore = wg.internal.setTuning(variantsOn(['matmul_tiled.main'], 'on'));
    try {
      await expectMatmulLayouts(
        r,
        [
          [130, 37, 129],
          [5, 20, 140],
          [128, 128, 128],
        ],
        'tiled',
      );
      const x = randCpu(r, [3, 33, 17]),
        w = randCpu(r, [150, 17]),
        bias = randCpu(r, [150]);
      await expectClose(wg.linear(toGpu(x), toGpu(w), toGpu(bias)), cpu.linear(x, w, bias), 1e-4, 1e-5, 'tiled linear, 3-D input');
      const a3 = randCpu(r, [2, 9, 11]),
        b3 = randCpu(r, [2, 11, 130]);
      await expectClose(wg.matmul(toGpu(a3), toGpu(b3)), cpu.matmul(a3, b3), 1e-4, 1e-5, 'tiled batched');
      await gradcheck(
        (x, w, b) => wg.linear(x, w, b),
        (x, w, b) => cpu.linear(x, w, b),
        [randCpu(r, [3, 4]), randCpu(r, [5, 4]), randCpu(r, [5])],
      );
    } finally {
      restore();
    }
  });
  test('batched and batch-broadcast', async () => {
    const r = rng(12);
    const cases: Array<[number[], number[]]> = [
      [
        [3, 5, 7],
        [3, 7, 4],
      ],
      [
        [3, 5, 7],
        [7, 4],
      ],
      [
        [5, 7],
        [3, 7, 4],
      ],
      [
        [1, 5, 7],
        [3, 7, 4],
      ],
      [
        [2, 33, 9],
        [1, 9, 40],
      ],
    ];
    for (const [sa, sb] of cases) {
      const a = randCpu(r, sa);
      const b = randCpu(r, sb);
      await expectClose(toGpu(a).matmul(toGpu(b)), cpu.matmul(a, b), 1e-4, 1e-5, `bmm ${sa} ${sb}`);
    }
  });
  test('backward by finite differences (2-D, batched, broadcast)', async () => {
    const r = rng(13);
    for (const [sa, sb] of [
      [
        [4, 3],
        [3, 5],
      ],
      [
        [2, 4, 3],
        [2, 3, 5],
      ],
      [
        [2, 4, 3],
        [3, 5],
      ],
      [
        [4, 3],
        [2, 3, 5],
      ],
      [
        [1, 4, 3],
        [2, 3, 5],
      ],
    ] as Array<[number[], number[]]>) {
      await gradcheck(
        (a, b) => wg.matmul(a, b),
        (a, b) => cpu.matmul(a, b),
        [randCpu(r, sa), randCpu(r, sb)],
      );
    }
  });
});

describe.each(['on', 'off'] as const)('matmul with the vec4 kernel %s (main4: software adapters)', (mode) => {
  test('every operand layout, partial tiles, K past a multiple of 4, batches, bias + activation, split-K, an accumulated gradient', async () => {
    const restore = wg.internal.setTuning(variantsOn(['software/matmul4.main4'], mode));
    onTestFinished(restore);
    const r = rng(21);
    // [M, K, N]: whole tiles; partial ones; N or M not a multiple of 4; K not one (only Aᵀ·B reads vec4s then); a 4×4
    await expectMatmulLayouts(
      r,
      [
        [64, 32, 64],
        [33, 20, 36],
        [100, 24, 130],
        [40, 13, 12],
        [36, 44, 10],
        [4, 4, 4],
      ],
      `vec4Gemm ${mode}`,
    );
    // batched with a broadcast operand
    const a3 = randCpu(r, [3, 36, 20]),
      b3 = randCpu(r, [20, 44]);
    await expectClose(wg.matmul(toGpu(a3), toGpu(b3)), cpu.matmul(a3, b3), 1e-4, 1e-5, 'batched');
    // linear layers: bias and a fused activation; the D head (one output: swapped, split-K over 6272)
    for (const [rows, inF, outF] of [
      [40, 64, 72],
      [8, 6272, 1],
    ] as Array<[number, number, number]>) {
      const x = randCpu(r, [rows, inF]),
        w = randCpu(r, [outF, inF]),
        bias = randCpu(r, [outF]);
      const y = wg.linear(toGpu(x), toGpu(w), toGpu(bias), { activation: 'leakyRelu', slope: 0.2 });
      await expectClose(y, cpu.leakyRelu(cpu.linear(x, w, bias), 0.2), 1e-4, 1e-5 * Math.sqrt(inF), `linear ${rows}×${inF}→${outF}`);
    }
    // a weight used twice: its second gradient is added to the first in the weight-gradient kernel
    await gradcheck(
      (x, w) => wg.linear(wg.linear(x, w), w),
      (x, w) => cpu.linear(cpu.linear(x, w), w),
      [randCpu(r, [8, 4]), randCpu(r, [4, 4])],
    );
    // which kernel ran (main4 shares rows through subgroups: only where the device has them)
    const ga = toGpu(randCpu(r, [64, 64])),
      gb = toGpu(randCpu(r, [64, 64]));
    const kernels = wg.traceKernels(() => {
      wg.scope(() => {
        wg.matmul(ga, gb);
      });
    });
    expect(kernels).toContain(mode === 'on' && deviceFacts().subgroupShare ? 'software/matmul4.main4' : 'matmul.main');
  });
});

describe('linear (matmul + bias fused)', () => {
  test('forward with and without bias, 2-D and 3-D input', async () => {
    const r = rng(14);
    for (const [xs, inF, outF] of [
      [[1, 1], 1, 1],
      [[37, 19], 19, 23],
      [[2, 5, 8], 8, 3],
    ] as Array<[number[], number, number]>) {
      const x = randCpu(r, xs);
      const w = randCpu(r, [outF, inF]);
      const b = randCpu(r, [outF]);
      await expectClose(wg.linear(toGpu(x), toGpu(w), toGpu(b)), cpu.linear(x, w, b), 1e-4, 1e-5);
      await expectClose(wg.linear(toGpu(x), toGpu(w)), cpu.linear(x, w), 1e-4, 1e-5);
    }
  });
  test.each(['off', 'on'] as const)('x·Wᵀ for every K mod 4, W read one k at a time or 4 (laneKBlock %s), with and without split-K', async (kb) => {
    // the scalar kernel whose switch this is (K a multiple of 4 would otherwise take the vec4 one)
    const restore = wg.internal.setTuning({ variants: { 'matmul.main_k4': kb, 'software/matmul4.main4': 'off' } });
    onTestFinished(restore);
    const r = rng(16);
    for (const [M, K, N] of [
      [70, 64, 150],
      [70, 65, 150],
      [33, 66, 129],
      [9, 67, 200],
      [3, 3, 140],
      [2, 1029, 1],
    ] as Array<[number, number, number]>) {
      const x = randCpu(r, [M, K]);
      const w = randCpu(r, [N, K]);
      const b = randCpu(r, [N]);
      await expectClose(wg.linear(toGpu(x), toGpu(w), toGpu(b)), cpu.linear(x, w, b), 1e-4, 1e-5 * Math.sqrt(K), `linear ${M}x${K}x${N}`);
    }
  });
  test('backward by finite differences', async () => {
    const r = rng(15);
    await gradcheck(
      (x, w, b) => wg.linear(x, w, b),
      (x, w, b) => cpu.linear(x, w, b),
      [randCpu(r, [5, 4]), randCpu(r, [3, 4]), randCpu(r, [3])],
    );
    await gradcheck(
      (x, w) => wg.linear(x, w),
      (x, w) => cpu.linear(x, w),
      [randCpu(r, [2, 3, 4]), randCpu(r, [6, 4])],
    );
  });
  test('a parameter used twice accumulates both gradients', async () => {
    const w = wg.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    const x = wg.tensor([1, 1], [1, 2]);
    wg.linear(wg.linear(x, w), w).sum().backward();
    // y1 = x wᵀ = [3, 7]; y2 = y1 wᵀ; d sum(y2)/dw = 1·y1 (first use) + (1ᵀw)ᵀ x (second use)
    expect(Array.from(await w.grad!.toArray())).toEqual([3 + 4, 7 + 4, 3 + 6, 7 + 6]);
  });
});
