import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose, expectError, gradcheck, randCpu, rng, toGpu } from './helpers.js';

describe('dropout', () => {
  test('matches the CPU reference of the same seed, keeps about 1−p, scales by 1/(1−p), identity in eval', async () => {
    const r = rng(1);
    const x = randCpu(r, [50, 40], 0.5, 1.5);
    await expectClose(wg.dropout(toGpu(x), 0.3, { seed: 9 }), cpu.dropout(x, 0.3, [9, 0]), 1e-6, 1e-6);
    const y = await wg.dropout(wg.ones([20000]), 0.3, { seed: 4 }).toArray();
    const kept = y.filter((v) => v !== 0);
    expect(Math.abs(kept.length / 20000 - 0.7)).toBeLessThan(0.02);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    await expectClose(wg.dropout(toGpu(x), 0.3, { training: false }), x, 0, 0);
  });
  test('backward uses the same mask (finite differences)', async () => {
    const r = rng(2);
    await gradcheck(
      (a) => wg.dropout(a, 0.4, { seed: 3 }),
      (a) => cpu.dropout(a, 0.4, [3, 0]),
      [randCpu(r, [6, 7])],
    );
  });
  test('bad p', () => {
    expectError(() => wg.dropout(wg.ones([2]), 1), 'dropout', 'p must be in [0, 1), got 1');
  });
});

describe('embedding', () => {
  test('lookup matches the reference; a bad index is an error at the next readback, naming it', async () => {
    const r = rng(3);
    const table = randCpu(r, [10, 6]);
    const idx = cpu.cpuTensor([3, 0, 9, 3, 7, 1], [2, 3]);
    const got = wg.embedding(toGpu(idx), toGpu(table));
    expect(got.shape).toEqual([2, 3, 6]);
    await expectClose(got, cpu.embedding(idx, table), 0, 0);
    for (const i of [1.5, 10, -1]) {
      await expect(wg.embedding(wg.tensor([2, i]), toGpu(table)).toArray()).rejects.toThrow(
        `embedding: index ${i} is not a row of the table (10 rows: expected an integer in [0, 9])`,
      );
      // the check is cleared: the next lookup reads back
      await expectClose(wg.embedding(toGpu(idx), toGpu(table)), cpu.embedding(idx, table), 0, 0);
    }
  });
  test('scatter-add backward, repeated indices accumulate (finite differences)', async () => {
    const r = rng(4);
    const idx = cpu.cpuTensor([2, 2, 0, 4, 2], [5]);
    await gradcheck(
      (t) => wg.embedding(toGpu(idx), t),
      (t) => cpu.embedding(idx, t),
      [randCpu(r, [5, 3])],
    );
  });
  test('bad input', () => {
    expectError(() => wg.embedding(wg.zeros([3]), wg.zeros([10])), 'embedding', 'table has shape [10], expected [num, dim]');
  });
});
