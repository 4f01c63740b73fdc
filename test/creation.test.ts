import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose } from './helpers.js';

describe('creation', () => {
  test('tensor, zeros, ones, full', async () => {
    expect(Array.from(await wg.tensor([1, 2, 3]).toArray())).toEqual([1, 2, 3]);
    expect(wg.tensor(new Float32Array(6), [2, 3]).shape).toEqual([2, 3]);
    await expectClose(wg.zeros([3, 5]), cpu.full([3, 5], 0), 0, 0);
    await expectClose(wg.ones([1000]), cpu.full([1000], 1), 0, 0);
    await expectClose(wg.full([2, 2], -3.5), cpu.full([2, 2], -3.5), 0, 0);
    expect(wg.zeros([0, 4]).size).toBe(0);
    expect(await wg.full([], 7).item()).toBe(7);
  });
  test('rand on the GPU is bit-identical to the CPU reference of the same seed', async () => {
    await expectClose(wg.rand([1001], { seed: 42 }), cpu.rand([1001], [42, 0]), 0, 0);
    await expectClose(wg.rand([3, 7], { seed: 2 ** 40 + 5 }, -2, 3), cpu.rand([3, 7], [5, 256], -2, 3), 1e-7, 1e-7);
  });
  test('randn matches the reference and has mean 0, std 1', async () => {
    await expectClose(wg.randn([513], { seed: 7 }), cpu.randn([513], [7, 0]), 1e-4, 1e-5);
    const x = await wg.randn([200000], { seed: 9 }).toArray();
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length;
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(Math.sqrt(v) - 1)).toBeLessThan(0.01);
    const s = await wg.randn([1000], { seed: 3 }, 5, 0.5).toArray();
    expect(Math.abs(s.reduce((a, b) => a + b, 0) / 1000 - 5)).toBeLessThan(0.1);
  });
  test('same seed, same numbers; no seed: the global generator advances and manualSeed resets it', async () => {
    const a = await wg.randn([64], { seed: 1 }).toArray();
    const b = await wg.randn([64], { seed: 1 }).toArray();
    expect(a).toEqual(b);
    wg.manualSeed(5);
    const c = await wg.rand([64]).toArray();
    const d = await wg.rand([64]).toArray();
    expect(c).not.toEqual(d);
    wg.manualSeed(5);
    expect(await wg.rand([64]).toArray()).toEqual(c);
  });
});
