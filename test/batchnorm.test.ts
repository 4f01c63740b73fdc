import { describe, expect, onTestFinished, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose, expectError, gradcheck, randCpu, rng, toGpu, variantsOn } from './helpers.js';

/** The GPU's input, weight and bias gradients of a training batchNorm against cpu.batchNormBackward's. */
async function expectBnGrads(gx: wg.Tensor, gw: wg.Tensor, gb: wg.Tensor, x: cpu.CpuTensor, wt: cpu.CpuTensor, g: cpu.CpuTensor, what: string) {
  const ref = cpu.batchNormBackward(x, wt, g);
  await expectClose(gx.grad!, ref.dx, 1e-3, 1e-4, `dx ${what}`);
  await expectClose(gw.grad!, ref.dw, 1e-4, 1e-4, `dw ${what}`);
  await expectClose(gb.grad!, ref.db, 1e-4, 1e-4, `db ${what}`);
}

/** A training batchNorm's input, weight and bias gradients by finite differences on one shape, plain or fused. */
async function bnGradcheck(r: () => number, shape: readonly number[], activation: 'relu' | 'leakyRelu' | null) {
  const o = { training: true, activation, slope: 0.2 };
  const C = shape[1]!;
  await gradcheck(
    (x, w, b) => wg.batchNorm(x, null, null, w, b, o),
    (x, w, b) => cpu.batchNorm(x, null, null, w, b, o),
    [randCpu(r, [...shape]), randCpu(r, [C], 0.5, 1.5), randCpu(r, [C])],
    { rtol: 3e-3, atol: 3e-4 },
  );
}

describe('batchNorm against the CPU reference', () => {
  test('batchNormBackward (CPU reference used by the benchmark) equals the GPU gradients', async () => {
    const r = rng(61);
    const x = randCpu(r, [3, 4, 5, 2]),
      wt = randCpu(r, [4]),
      bs = randCpu(r, [4]),
      g = randCpu(r, [3, 4, 5, 2]);
    const gx = toGpu(x, true),
      gw = toGpu(wt, true),
      gb = toGpu(bs, true);
    wg.batchNorm(gx, null, null, gw, gb, { training: true }).backward(toGpu(g));
    await expectBnGrads(gx, gw, gb, x, wt, g, '');
  });
  for (const shape of [
    [8, 5],
    [4, 3, 5, 6],
    [1, 2, 3, 3],
  ]) {
    test(`training forward and running statistics after 3 calls, ${JSON.stringify(shape)}`, async () => {
      const r = rng(shape.length * 10 + shape[0]!);
      const C = shape[1]!;
      const w = randCpu(r, [C], 0.5, 1.5);
      const b = randCpu(r, [C]);
      const rmC = cpu.full([C], 0);
      const rvC = cpu.full([C], 1);
      const rm = wg.zeros([C]);
      const rv = wg.ones([C]);
      for (let i = 0; i < 3; i++) {
        const x = randCpu(r, shape, -2, 3);
        const want = cpu.batchNorm(x, rmC, rvC, w, b, { training: true, momentum: 0.1, eps: 1e-5 });
        await expectClose(wg.batchNorm(toGpu(x), rm, rv, toGpu(w), toGpu(b), { training: true, momentum: 0.1, eps: 1e-5 }), want, 1e-4, 1e-5);
      }
      await expectClose(rm, rmC, 1e-5, 1e-6, 'running mean');
      await expectClose(rv, rvC, 1e-5, 1e-6, 'running var (unbiased)');
      const x = randCpu(r, shape);
      await expectClose(
        wg.batchNorm(toGpu(x), rm, rv, toGpu(w), toGpu(b), { training: false }),
        cpu.batchNorm(x, rmC, rvC, w, b, { training: false }),
        1e-4,
        1e-5,
        'eval',
      );
    });
  }
  test.each([32, 256] as const)("workgroups of %s lanes: forward and gradients over several lanes' worth per channel", async (mode) => {
    onTestFinished(wg.internal.setTuning({ bnLanes: mode }));
    const r = rng(mode === 32 ? 62 : 63);
    // values per channel (N·H·W): 378, 512, 31, 600
    for (const shape of [
      [6, 3, 9, 7],
      [2, 4, 16, 16],
      [1, 2, 31, 1],
      [24, 2, 5, 5],
    ]) {
      const C = shape[1]!;
      const x = randCpu(r, shape, -2, 3),
        wt = randCpu(r, [C], 0.5, 1.5),
        bs = randCpu(r, [C]),
        g = randCpu(r, shape);
      const gx = toGpu(x, true),
        gw = toGpu(wt, true),
        gb = toGpu(bs, true);
      const y = wg.batchNorm(gx, null, null, gw, gb, { training: true });
      await expectClose(y, cpu.batchNorm(x, null, null, wt, bs, { training: true }), 1e-4, 1e-5, `forward ${shape}`);
      y.backward(toGpu(g));
      await expectBnGrads(gx, gw, gb, x, wt, g, `${shape}`);
    }
  });
  test.each(['on', 'off'] as const)(
    'four floats a load (batchnorm4 variants %s): planes and channel counts that are multiples of 4, fused activations, running statistics',
    async (mode) => {
      onTestFinished(
        wg.internal.setTuning(
          variantsOn(
            [
              'software/batchnorm4.stats_apply4',
              'software/batchnorm4.stats_apply_cols4',
              'software/batchnorm4.backward4',
              'software/batchnorm4.backward_cols4',
            ],
            mode,
          ),
        ),
      );
      const r = rng(mode === 'on' ? 64 : 65);
      // planes of 4, 16 and 196 values (a lane's vec4s cross images: the carried (n, s) wraps), one
      // of 512 (more vec4s per image than lanes), [N, C] with C = 8 and 12 (a lane per 4 channels)
      // and with C = 6 (not a multiple of 4: the scalar kernel)
      for (const [shape, activation] of [
        [[5, 3, 2, 2], 'leakyRelu'],
        [[3, 2, 4, 4], null],
        [[9, 2, 14, 14], 'relu'],
        [[2, 3, 16, 32], null],
        [[7, 8], 'relu'],
        [[5, 12], 'leakyRelu'],
        [[4, 6], null],
      ] as const) {
        const C = shape[1]!;
        const o = { training: true, activation, slope: 0.2, momentum: 0.1, eps: 1e-5 };
        const x = randCpu(r, [...shape], -2, 3),
          wt = randCpu(r, [C], 0.5, 1.5),
          bs = randCpu(r, [C]),
          g = randCpu(r, [...shape]);
        const rmC = cpu.full([C], 0),
          rvC = cpu.full([C], 1),
          rm = wg.zeros([C]),
          rv = wg.ones([C]);
        const gx = toGpu(x, true),
          gw = toGpu(wt, true),
          gb = toGpu(bs, true);
        const y = wg.batchNorm(gx, rm, rv, gw, gb, o);
        const c = `${shape} ${activation} ${mode}`;
        await expectClose(y, cpu.batchNorm(x, rmC, rvC, wt, bs, o), 1e-4, 1e-5, `forward ${c}`);
        await expectClose(rm, rmC, 1e-5, 1e-6, `running mean ${c}`);
        await expectClose(rv, rvC, 1e-5, 1e-6, `running var ${c}`);
        if (activation === null) {
          y.backward(toGpu(g));
          await expectBnGrads(gx, gw, gb, x, wt, g, c);
        }
      }
      // fused activations' gradients by finite differences, on a plane of 4 and 4 channels of [N, C]
      for (const [shape, activation] of [
        [[3, 2, 2, 2], 'leakyRelu'],
        [[6, 4], 'relu'],
      ] as const)
        await bnGradcheck(r, shape, activation);
      // which kernels ran
      const names = wg.traceKernels(() => {
        wg.scope(() => {
          const t = toGpu(randCpu(r, [2, 4, 4, 4]), true);
          wg.sum(wg.batchNorm(t, null, null, null, null, { training: true })).backward();
        });
      });
      expect(names).toContain(mode === 'on' ? 'software/batchnorm4.stats_apply4' : 'batchnorm.stats_apply');
      expect(names).toContain(mode === 'on' ? 'software/batchnorm4.backward4' : 'batchnorm.backward');
    },
  );
  test('fused ReLU / LeakyReLU forward', async () => {
    const r = rng(5);
    const x = randCpu(r, [4, 3, 2, 2]);
    for (const activation of ['relu', 'leakyRelu'] as const) {
      const o = { training: true, activation, slope: 0.2 };
      await expectClose(wg.batchNorm(toGpu(x), null, null, null, null, o), cpu.batchNorm(x, null, null, null, null, o), 1e-4, 1e-5, activation);
    }
  });
  test('training backward (input, weight, bias) by finite differences, plain and fused', async () => {
    const r = rng(6);
    for (const [shape, activation] of [
      [[6, 3], null],
      [[2, 3, 3, 2], null],
      [[3, 2, 2, 2], 'relu'],
      [[3, 2, 2, 2], 'leakyRelu'],
    ] as const)
      await bnGradcheck(r, shape, activation);
  });
  test('eval backward by finite differences', async () => {
    const r = rng(7);
    const rm = randCpu(r, [3]);
    const rv = randCpu(r, [3], 0.5, 2);
    const o = { training: false };
    await gradcheck(
      (x, w, b) => wg.batchNorm(x, toGpu(rm), toGpu(rv), w, b, o),
      (x, w, b) => cpu.batchNorm(x, rm, rv, w, b, o),
      [randCpu(r, [2, 3, 2, 2]), randCpu(r, [3]), randCpu(r, [3])],
    );
  });
  test('bad input', () => {
    expectError(() => wg.batchNorm(wg.zeros([2, 3, 4]), null, null, null, null), 'batchNorm', 'input has shape [2,3,4], expected [N,C] or [N,C,H,W]');
    expectError(() => wg.batchNorm(wg.zeros([2, 3]), wg.zeros([4]), null, null, null), 'batchNorm', 'runningMean has shape [4], expected [3]');
    expectError(() => wg.batchNorm(wg.zeros([1, 3]), null, null, null, null), 'batchNorm', 'more than one value per channel');
    expect(() => wg.batchNorm(wg.zeros([2, 3]), null, null, null, null, { training: false })).toThrow(/eval mode needs/);
  });
});
