import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose, gradcheck, randCpu, randInt, randShape, rng, toGpu } from './helpers.js';

describe('sum and mean against the CPU reference', () => {
  for (const op of ['sum', 'mean'] as const) {
    test(`${op}: all dims, one dim, several dims, keepDim, negative dims`, async () => {
      const r = rng(op === 'sum' ? 3 : 4);
      const cases: Array<[number[], number | number[] | undefined, boolean]> = [
        [[1], undefined, false],
        [[5000], undefined, false], // one workgroup per output, long loop
        [[300, 7], 1, false], // many outputs, short rows: one lane per output
        [[7, 300], 0, true],
        [[100, 300], 0, false], // a bias gradient: one lane per output, 100-long sums
        [[40, 50], 0, false], // few outputs: one workgroup per output
        [[3, 4, 40, 40], [0, 2, 3], false], // few outputs, long sums: split into chunks, then summed
        [[2, 3, 50, 50], [0, 2, 3], true], // (a conv bias gradient), keepDim
        [[4, 1, 6], [0, 2], true],
        [[3, 5, 2, 4], [-1, 1], false],
        [[2, 3, 4], [0, 1, 2], true],
      ];
      for (let i = 0; i < 4; i++) {
        const nd = randInt(r, 1, 4);
        const shape = randShape(r, nd, 1, 9);
        const dims = shape.map((_, d) => d).filter(() => r() < 0.5);
        cases.push([shape, dims.length ? dims : undefined, r() < 0.5]);
      }
      for (const [shape, dims, keep] of cases) {
        const x = randCpu(r, shape);
        await expectClose(wg[op](toGpu(x), dims, keep), cpu[op](x, dims, keep), 1e-5, 1e-5, `${op} ${shape} dims ${dims} keep ${keep}`);
      }
    });
    test(`${op}: backward by finite differences`, async () => {
      const r = rng(op === 'sum' ? 5 : 6);
      await gradcheck(
        (x) => wg[op](x),
        (x) => cpu[op](x),
        [randCpu(r, [3, 4])],
      );
      await gradcheck(
        (x) => wg[op](x, 1),
        (x) => cpu[op](x, 1),
        [randCpu(r, [3, 4, 2])],
      );
      await gradcheck(
        (x) => wg[op](x, [0, 2], true),
        (x) => cpu[op](x, [0, 2], true),
        [randCpu(r, [2, 3, 4])],
      );
    });
  }
  test('method forms and a scalar result', async () => {
    const x = wg.tensor([1, 2, 3, 4], [2, 2]);
    expect(await x.sum().item()).toBe(10);
    expect(await x.mean().item()).toBe(2.5);
    expect(Array.from(await x.sum(0).toArray())).toEqual([4, 6]);
    expect(x.sum(1, true).shape).toEqual([2, 1]);
  });
});
