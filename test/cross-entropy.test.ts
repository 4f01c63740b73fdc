import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose, expectError, gradcheck, randCpu, rng, toGpu } from './helpers.js';

const labels = (r: () => number, n: number, c: number) =>
  cpu.cpuTensor(
    Array.from({ length: n }, () => Math.floor(r() * c)),
    [n],
  );

describe('crossEntropy (fused softmax cross-entropy)', () => {
  test('matches the reference, stays finite for large logits, and its backward passes finite differences', async () => {
    const r = rng(1);
    for (const [N, C] of [
      [1, 2],
      [64, 10],
      [300, 7],
    ]) {
      const x = randCpu(r, [N, C], -4, 4);
      const t = labels(r, N, C);
      await expectClose(wg.crossEntropy(toGpu(x), toGpu(t)), cpu.crossEntropy(x, t), 1e-5, 1e-6, `${N}x${C}`);
    }
    const big = cpu.cpuTensor([1e4, -1e4, 0, 5e3, 5e3, 0], [2, 3]);
    const t = cpu.cpuTensor([1, 0], [2]);
    expect(await wg.crossEntropy(toGpu(big), toGpu(t)).item()).toBeCloseTo(cpu.crossEntropy(big, t).data[0]!, 1);
    await gradcheck(
      (x) => wg.crossEntropy(x, toGpu(t)),
      (x) => cpu.crossEntropy(x, t),
      [randCpu(r, [2, 3])],
    );
    const t5 = labels(r, 5, 4);
    await gradcheck(
      (x) => wg.crossEntropy(x, toGpu(t5)),
      (x) => cpu.crossEntropy(x, t5),
      [randCpu(r, [5, 4], -2, 2)],
    );
  });
  test('a bad target makes the loss NaN, which throws when read; bad shapes throw at once', async () => {
    await expect(wg.crossEntropy(wg.zeros([2, 3]), wg.tensor([0, 3])).item()).rejects.toThrow(/crossEntropy: the loss is NaN/);
    expectError(() => wg.crossEntropy(wg.zeros([2, 3]), wg.zeros([3])), 'crossEntropy', 'target has shape [3], expected [2]');
  });
});
