import { describe, expect, test } from 'vitest';
import { setBufferCap } from '../src/gpu/pool.js';
import * as wg from '../src/index.js';
import { collectGarbage, expectNoGrowth } from './helpers.js';

describe('memory: scope and the buffer pool', () => {
  test('200 forward+backward iterations inside scope leave live bytes unchanged and allocate nothing new', async () => {
    const w = wg.randn([16, 8], { seed: 1, requiresGrad: true });
    const b = wg.zeros([16], { requiresGrad: true });
    const x = wg.randn([32, 8], { seed: 2 });
    const y = wg.ones([32, 16]);
    const step = () =>
      wg.scope(() => {
        w.grad?.dispose();
        w.grad = null;
        b.grad?.dispose();
        b.grad = null;
        const h = wg.tanh(wg.linear(x, w, b));
        const loss = wg.bceWithLogits(h.mul(2).sub(0.5), y);
        loss.backward();
      });
    step();
    await wg.sync();
    await collectGarbage();
    const before = wg.memory();
    const created = wg.engineStats().created;
    for (let i = 0; i < 200; i++) step();
    await wg.sync();
    expectNoGrowth(before);
    expect(wg.engineStats().created).toBe(created);
    expect(w.grad).not.toBeNull();
  });
  test('a repeated op-by-op training step is handed the same buffers, so it makes no bind group once settled', async () => {
    // a GAN step (the pool's free lists are kept in creation order: released in turn, the small
    // buffers of the losses and sums rotated among their places and missed the bind-group cache)
    const { GanTrainer, presetSetup } = await import('../examples/mnist-gan/step.js');
    const B = 8;
    const t = new GanTrainer(presetSetup('dcgan', { batch: B }));
    const x = new Float32Array(B * 784).map((_, i) => Math.sin(i));
    const made: number[] = [];
    for (let i = 0; i < 24; i++) {
      const before = wg.engineStats().bindGroups;
      wg.scope(() => void t.step(x, null));
      await wg.sync();
      made.push(wg.engineStats().bindGroups - before);
    }
    expect(made[0]).toBeGreaterThan(0);
    expect(made.slice(-8), `bind groups made per step: ${made.join(' ')}`).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    t.optG.dispose();
    t.optD.dispose();
  });
  test('scope keeps what it returns (nested), disposes the rest, and rejects async functions', async () => {
    await collectGarbage();
    const before = wg.memory().liveBytes;
    const kept = wg.scope(() => {
      const a = wg.ones([100]);
      const inner = wg.scope(() => {
        const t = a.mul(2);
        return { t, list: [t.add(1)] };
      });
      return inner.list[0]!.add(inner.t);
    });
    expect(Array.from(await kept.toArray()).slice(0, 2)).toEqual([5, 5]);
    kept.dispose();
    await wg.sync();
    expect(wg.memory().liveBytes).toBe(before);
    expect(() => wg.scope(() => Promise.resolve(1) as unknown as number)).toThrow(/returned a Promise/);
  });
  test('a disposed tensor cannot be used; a reshape view keeps the buffer alive', async () => {
    const a = wg.tensor([1, 2, 3, 4], [4]);
    const v = a.reshape([2, 2]);
    a.dispose();
    expect(Array.from(await v.toArray())).toEqual([1, 2, 3, 4]);
    expect(() => a.add(1)).toThrow(/was disposed/);
    await expect(a.toArray()).rejects.toThrow(wg.WgslgradError);
  });
  test('at the buffer cap (software adapters) the free buffers make room first, then an allocation is refused with a WgslgradError, and the library keeps working', async () => {
    // free buffers of one size class, then a cap at the number of buffers there are now
    const spare = Array.from({ length: 10 }, () => wg.zeros([12345]));
    for (const t of spare) t.dispose();
    await wg.sync();
    const restore = setBufferCap(wg.engineStats().buffers);
    const held: wg.Tensor[] = [];
    try {
      let refused: unknown = null;
      try {
        for (let i = 0; i < 1000; i++) held.push(wg.zeros([777]));
      } catch (e) {
        refused = e;
      }
      expect(refused).toBeInstanceOf(wg.WgslgradError);
      expect(String(refused)).toMatch(/alloc: \d+ GPU buffers are alive, the most this software adapter is allowed/);
      // the 10 free buffers (and any other free ones) were destroyed to make room for new ones
      expect(held.length).toBeGreaterThanOrEqual(10);
      expect(held.length).toBeLessThan(1000);
      for (const t of held.splice(0)) t.dispose();
      await wg.sync();
      // the buffers just released make room again (destroyed in turn for the new sizes)
      expect(Array.from(await wg.tensor([1, 2, 3]).mul(2).toArray())).toEqual([2, 4, 6]);
    } finally {
      for (const t of held) t.dispose();
      restore();
    }
  });
  test('released buffers are reused by size class', async () => {
    await wg.sync();
    const start = wg.engineStats().created;
    for (let i = 0; i < 20; i++) wg.zeros([1000 + i]).dispose();
    await wg.sync();
    expect(wg.engineStats().created - start).toBeLessThanOrEqual(1);
  });
});
