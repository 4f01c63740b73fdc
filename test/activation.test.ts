import { describe, expect, onTestFinished, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { checkOp, expectClose, gradcheck, randCpu, randShape, rng, toGpu, variantsOn } from './helpers.js';

/** Values kept away from 0 so the finite differences never straddle the relu kink. */
function awayFromZero(r: () => number, shape: number[]) {
  const t = randCpu(r, shape, -3, 3);
  t.data = t.data.map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
  return t;
}

const ACTS: Array<[string, (x: wg.Tensor) => wg.Tensor, (x: cpu.CpuTensor) => cpu.CpuTensor]> = [
  ['relu', wg.relu, cpu.relu],
  ['leakyRelu(0.2)', (x) => wg.leakyRelu(x, 0.2), (x) => cpu.leakyRelu(x, 0.2)],
  ['leakyRelu default', (x) => wg.leakyRelu(x), (x) => cpu.leakyRelu(x)],
  ['tanh', wg.tanh, cpu.tanh],
  ['sigmoid', wg.sigmoid, cpu.sigmoid],
];

describe('activations against the CPU reference', () => {
  for (const [name, g, c] of ACTS) {
    test(`${name}: forward on random shapes, backward by finite differences`, async () => {
      const r = rng(name.length * 31);
      for (const shape of [[1], [1000], randShape(r, 4)]) {
        const x = awayFromZero(r, shape);
        await expectClose(g(toGpu(x)), c(x), 1e-5, 1e-6, `${name} ${shape}`);
      }
      await checkOp(g, c, [awayFromZero(r, [3, 7])], { rtol: 1e-5, atol: 1e-6, what: name });
    });
  }
  test('sigmoid and tanh saturate without NaN for ±1e4', async () => {
    const x = cpu.cpuTensor([-1e4, -80, 0, 80, 1e4], [5]);
    await expectClose(wg.sigmoid(toGpu(x)), cpu.sigmoid(x), 0, 1e-7);
    await expectClose(wg.tanh(toGpu(x)), cpu.tanh(x), 0, 1e-7);
  });
});

// the software adapters' four-values-a-load variants on, and off (the kernels they stand in for)
const VEC4_PASSES = ['software/activation4.act4', 'software/activation4.act_grad4', 'software/reduce4.sum_wg4'];
describe.each(['on', 'off'] as const)('four values a load (act4, act_grad4, sum_wg4 %s)', (mode) => {
  test('activations and their gradients on sizes that are and are not multiples of 4', async () => {
    onTestFinished(wg.internal.setTuning(variantsOn(VEC4_PASSES, mode)));
    const r = rng(mode === 'on' ? 81 : 82);
    for (const [name, g, c] of ACTS) {
      for (const shape of [[1000], [1001], [2, 8, 4, 4]]) {
        const x = awayFromZero(r, shape);
        await expectClose(g(toGpu(x)), c(x), 1e-5, 1e-6, `${name} ${shape} ${mode}`);
      }
      await checkOp(g, c, [awayFromZero(r, [3, 8])], { rtol: 1e-5, atol: 1e-6, what: `${name} ${mode}` });
    }
  });
  test("a conv bias's gradient over [N, H·W], plain and through a fused activation's gradient", async () => {
    onTestFinished(wg.internal.setTuning(variantsOn(VEC4_PASSES, mode)));
    const r = rng(mode === 'on' ? 83 : 84);
    // 16 channels of 2 × 8 × 8: one workgroup a channel, planes of 64 values
    const x = randCpu(r, [2, 16, 8, 8]);
    await expectClose(wg.sum(toGpu(x), [0, 2, 3]), cpu.sum(x, [0, 2, 3]), 1e-5, 1e-5, `sum ${mode}`);
    await expectClose(wg.sum(toGpu(x), [0, 2, 3], true), cpu.sum(x, [0, 2, 3], true), 1e-5, 1e-5, `sum keepDim ${mode}`);
    // conv2d [2, 3, 16, 16] → [2, 16, 8, 8] with bias and a fused leakyRelu: the bias's gradient by
    // finite differences (its sum takes each term through the activation's gradient first)
    const opts = { stride: 2, padding: 1 };
    await gradcheck(
      (a, w, b) => wg.conv2d(a, w, b, { ...opts, activation: 'leakyRelu', slope: 0.2 }),
      (a, w, b) => cpu.leakyRelu(cpu.conv2d(a, w, b, opts), 0.2),
      [randCpu(r, [2, 3, 16, 16]), randCpu(r, [16, 3, 4, 4]), randCpu(r, [16])],
      { wrt: [0, 2] },
    );
    const names = wg.traceKernels(() => {
      wg.scope(() => {
        wg.sum(toGpu(x), [0, 2, 3]);
        wg.relu(toGpu(x, true)).backward(toGpu(x));
      });
    });
    expect(names).toContain(mode === 'on' ? 'software/reduce4.sum_wg4' : 'reduce.sum_wg');
    expect(names).toContain(mode === 'on' ? 'software/activation4.act_grad4' : 'activation.act_grad');
  });
});
