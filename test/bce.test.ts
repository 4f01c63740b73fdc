import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose, gradcheck, randCpu, rng, toGpu } from './helpers.js';

function targets(r: () => number, shape: number[], soft = false): cpu.CpuTensor {
  const t = randCpu(r, shape, 0, 1);
  if (!soft) t.data = t.data.map((v) => (v < 0.5 ? 0 : 1));
  return t;
}

describe('bceWithLogits (fused, stable)', () => {
  test('matches the reference on random shapes, including size 1 and > one workgroup', async () => {
    const r = rng(21);
    for (const shape of [[1], [128, 1], [3, 700], [64]]) {
      const x = randCpu(r, shape, -6, 6);
      const y = targets(r, shape, shape[0] === 64);
      await expectClose(wg.bceWithLogits(toGpu(x), toGpu(y)), cpu.bceWithLogits(x, y), 1e-5, 1e-6, `${shape}`);
    }
  });
  test('finite and correct for logits of ±1e4', async () => {
    const x = cpu.cpuTensor([1e4, -1e4, 1e4, -1e4, 0], [5]);
    const y = cpu.cpuTensor([1, 0, 0, 1, 1], [5]);
    const loss = wg.bceWithLogits(toGpu(x), toGpu(y));
    const v = await loss.item();
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeCloseTo(cpu.bceWithLogits(x, y).data[0]!, 2); // (0 + 0 + 1e4 + 1e4 + log 2) / 5
    const xl = toGpu(x, true);
    wg.bceWithLogits(xl, toGpu(y)).backward();
    const g = await xl.grad!.toArray();
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    expect(Array.from(g).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0, 0, 0.2, -0.2, -0.1]);
  });
  test('backward (logits and targets) by finite differences', async () => {
    const r = rng(22);
    await gradcheck(
      (x, y) => wg.bceWithLogits(x, y),
      (x, y) => cpu.bceWithLogits(x, y),
      [randCpu(r, [4, 3], -3, 3), targets(r, [4, 3], true)],
    );
    await gradcheck(
      (x, y) => wg.bceWithLogits(x, y),
      (x, y) => cpu.bceWithLogits(x, y),
      [randCpu(r, [7], -3, 3), targets(r, [7])],
      { wrt: [0] },
    );
  });
});

describe('bce on probabilities (clamped like PyTorch)', () => {
  test('matches the reference, and log is clamped at -100 for p = 0 and 1', async () => {
    const r = rng(23);
    const p = randCpu(r, [50], 0.01, 0.99);
    const y = targets(r, [50]);
    await expectClose(wg.bce(toGpu(p), toGpu(y)), cpu.bce(p, y), 1e-5, 1e-6);
    const edge = wg.bce(wg.tensor([0, 1, 0, 1], [4]), wg.tensor([1, 0, 0, 1], [4]));
    expect(await edge.item()).toBeCloseTo(50, 4); // (100 + 100 + 0 + 0) / 4
  });
  test('backward by finite differences', async () => {
    const r = rng(24);
    await gradcheck(
      (p, y) => wg.bce(p, y),
      (p, y) => cpu.bce(p, y),
      [randCpu(r, [3, 4], 0.1, 0.9), targets(r, [3, 4], true)],
    );
  });
  test('no NaN escapes: reading a loss made from a NaN or an out-of-range probability throws', async () => {
    const bad = wg.bce(wg.tensor([0.5, 1.5], [2]), wg.tensor([1, 0], [2]));
    await expect(bad.item()).rejects.toThrow(wg.WgslgradError);
    await expect(bad.item()).rejects.toThrow(/bce: the loss is NaN/);
    const nan = wg.bceWithLogits(wg.tensor([NaN, 1], [2]), wg.tensor([1, 0], [2]));
    await expect(nan.item()).rejects.toThrow(/bceWithLogits: the loss is NaN/);
  });
});

describe('bce as the root of a backward', () => {
  test("hands over the gradient its forward computed: the backward kernel's bits, and the step runs only the forward kernel", async () => {
    const r = rng(77);
    for (const [name, fn, lo] of [
      ['bce', wg.bce, 0.02],
      ['bceWithLogits', wg.bceWithLogits, -4],
    ] as const) {
      const xs = randCpu(r, [37, 9], lo, lo < 0 ? 4 : 0.98);
      const ys = randCpu(r, [37, 9], 0, 1);
      const y = toGpu(ys);
      fn(toGpu(xs, true), y).backward(); // makes the shared root gradient once
      await wg.sync();
      const a = toGpu(xs, true);
      const before = wg.engineStats().dispatches;
      fn(a, y).backward();
      const direct = wg.engineStats().dispatches - before;
      const b = toGpu(xs, true);
      const before2 = wg.engineStats().dispatches;
      fn(b, y).mul(1).backward(); // the upstream gradient is no longer the root's 1: the backward kernel runs
      const viaKernel = wg.engineStats().dispatches - before2;
      expect(direct, name).toBe(1);
      expect(viaKernel, name).toBe(4); // forward, mul, mul's backward, bce's backward
      expect(await a.grad!.toArray(), name).toEqual(await b.grad!.toArray());
    }
  });

  test('a .grad is never the shared 1: writing into one leaves later backward calls right', async () => {
    const p = wg.tensor([2], [], { requiresGrad: true });
    wg.add(p, wg.zeros([])).backward(); // add hands its gradient, the shared 1, straight to p
    p.grad!.copy_(wg.tensor([7], []));
    const s = wg.tensor([3], [], { requiresGrad: true });
    s.backward(); // a leaf root
    s.grad!.copy_(wg.tensor([9], []));
    const t = wg.tensor([1, 2], [2], { requiresGrad: true });
    wg.mul(t, 3).sum().backward();
    expect(await t.grad!.toArray()).toEqual(new Float32Array([3, 3]));
    expect(await p.grad!.item()).toBe(7);
  });
});
