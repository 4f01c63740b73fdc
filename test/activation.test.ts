import { describe, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { checkOp, expectClose, randCpu, randShape, rng, toGpu } from './helpers.js';

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
