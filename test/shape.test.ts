import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose, gradcheck, randCpu, randInt, randShape, rng, toGpu } from './helpers.js';

describe('reshape, transpose, concat against the CPU reference', () => {
  test('reshape keeps the data and infers -1', async () => {
    const r = rng(1);
    const x = randCpu(r, [4, 6]);
    await expectClose(wg.reshape(toGpu(x), [2, -1, 3]), cpu.reshape(x, [2, -1, 3]), 0, 0);
    await expectClose(toGpu(x).reshape([24]), cpu.reshape(x, [24]), 0, 0);
    await gradcheck(
      (a) => wg.mul(wg.reshape(a, [3, 8]), 2),
      (a) => cpu.mul(cpu.reshape(a, [3, 8]), 2),
      [randCpu(r, [4, 6])],
    );
  });
  test('transpose of random shapes and dims', async () => {
    const r = rng(2);
    for (let i = 0; i < 6; i++) {
      const nd = randInt(r, 2, 5);
      const shape = randShape(r, nd, 1, 6);
      const d0 = randInt(r, 0, nd - 1);
      const d1 = randInt(r, -nd, nd - 1);
      const x = randCpu(r, shape);
      await expectClose(wg.transpose(toGpu(x), d0, d1), cpu.transpose(x, d0, d1), 0, 0, `transpose ${shape} ${d0} ${d1}`);
    }
    await gradcheck(
      (a) => wg.transpose(a, 0, 2),
      (a) => cpu.transpose(a, 0, 2),
      [randCpu(r, [2, 3, 4])],
    );
  });
  test('concat along every dim, with gradients to each input', async () => {
    const r = rng(3);
    for (const dim of [0, 1, 2, -1]) {
      const base = [2, 3, 4];
      const parts = [1, 3, 2].map((k) => {
        const s = [...base];
        s[dim < 0 ? dim + 3 : dim] = k;
        return randCpu(r, s);
      });
      await expectClose(
        wg.concat(
          parts.map((p) => toGpu(p)),
          dim,
        ),
        cpu.concat(parts, dim),
        0,
        0,
        `concat dim ${dim}`,
      );
      await gradcheck(
        (a, b, c) => wg.concat([a, b, c], dim),
        (a, b, c) => cpu.concat([a, b, c], dim),
        parts,
      );
    }
  });
  test('clone copies and passes the gradient', async () => {
    const x = wg.tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = x.clone();
    expect(Array.from(await y.toArray())).toEqual([1, 2, 3]);
    y.mul(3).sum().backward();
    expect(Array.from(await x.grad!.toArray())).toEqual([3, 3, 3]);
  });
});
