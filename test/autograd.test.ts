import { describe, expect, test } from 'vitest';
import * as wg from '../src/index.js';

const arr = async (t: wg.Tensor | null) => Array.from(await t!.toArray());

describe('autograd', () => {
  test('a tensor used twice gets both contributions; grads accumulate across backward calls', async () => {
    const x = wg.tensor([1, 2, 3], [3], { requiresGrad: true });
    x.mul(x).sum().backward();
    expect(await arr(x.grad)).toEqual([2, 4, 6]);
    x.mul(3).sum().backward();
    expect(await arr(x.grad)).toEqual([5, 7, 9]);
  });
  test('broadcast gradients reduce to the input shape', async () => {
    const a = wg.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const b = wg.tensor([10, 20, 30], [3], { requiresGrad: true });
    const c = wg.tensor([2], [1, 1], { requiresGrad: true });
    a.add(b).mul(c).sum().backward();
    expect(b.grad!.shape).toEqual([3]);
    expect(await arr(b.grad)).toEqual([4, 4, 4]);
    expect(c.grad!.shape).toEqual([1, 1]);
    expect(await arr(c.grad)).toEqual([21 + 60 * 2]);
    expect(await arr(a.grad)).toEqual([2, 2, 2, 2, 2, 2]);
  });
  test('noGrad records nothing; detach cuts the graph; ops without grad inputs do not require grad', async () => {
    const x = wg.tensor([1, 2], [2], { requiresGrad: true });
    const y = wg.noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(x.detach().requiresGrad).toBe(false);
    expect(wg.tensor([1]).exp().requiresGrad).toBe(false);
    expect(() => y.sum().backward()).toThrow(wg.WgslgradError);
  });
  test('backward of a non-scalar needs a gradient of its shape', async () => {
    const x = wg.tensor([1, 2], [2], { requiresGrad: true });
    const y = x.mul(3);
    expect(() => y.backward()).toThrow(/pass a gradient/);
    expect(() => y.backward(wg.ones([3]))).toThrow(/gradient has shape \[3\], expected the output's \[2\]/);
    y.backward(wg.tensor([1, 10], [2]));
    expect(await arr(x.grad)).toEqual([3, 30]);
  });
  test('the graph is freed after backward unless retainGraph', async () => {
    const x = wg.tensor([2], [1], { requiresGrad: true });
    const y = x.square().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(await arr(x.grad)).toEqual([8]);
    x.grad = null;
    // graph freed: a third backward is refused (PyTorch's "Trying to backward through the graph a second time")
    expect(() => y.backward()).toThrow(
      /backward: the graph through the output \[\] of sum was freed by an earlier backward\(\); call the first backward with \{ retainGraph: true \}/,
    );
    expect(x.grad).toBeNull();
    // the library keeps working
    x.square().sum().backward();
    expect(await arr(x.grad)).toEqual([4]);
  });
  test('a second loss through a node freed by the first backward throws instead of dropping its part', async () => {
    const x = wg.tensor([1, 2], [2], { requiresGrad: true });
    const y = x.mul(x);
    const l1 = y.sum();
    const l2 = y.mul(3).sum();
    l1.backward();
    expect(() => l2.backward()).toThrow(/the graph through the output \[2\] of mul was freed/);
    // kept graph: both contributions, 2x + 6x
    const x2 = wg.tensor([1, 2], [2], { requiresGrad: true });
    const y2 = x2.mul(x2);
    y2.sum().backward(undefined, { retainGraph: true });
    y2.mul(3).sum().backward();
    expect(await arr(x2.grad)).toEqual([8, 16]);
  });
  test('a chain through every op family reaches the leaves (MLP-like step)', async () => {
    const x = wg.randn([4, 3], { seed: 1 });
    const w = wg.randn([5, 3], { seed: 2, requiresGrad: true });
    const b = wg.zeros([5], { requiresGrad: true });
    const h = wg.leakyRelu(wg.linear(x, w, b), 0.2);
    const loss = wg.bceWithLogits(h.mean(1, true), wg.ones([4, 1]));
    loss.backward();
    expect(w.grad!.shape).toEqual([5, 3]);
    expect(b.grad!.shape).toEqual([5]);
    expect((await arr(w.grad)).some((v) => v !== 0)).toBe(true);
  });
  test('requiresGrad is captured when an op runs: frozen during forward means no grad, even if unfrozen before backward', async () => {
    const x = wg.tensor([1, 2, 3], [1, 3], { requiresGrad: true });
    const w = wg.tensor([1, 0, 2, 1, 0, 1], [2, 3], { requiresGrad: true });
    const b = wg.tensor([0.5, -1], [2], { requiresGrad: true });
    w.requiresGrad = false;
    b.requiresGrad = false;
    const y = wg.linear(x, w, b).sum();
    w.requiresGrad = true; // as a GAN's G step does with D's weights
    b.requiresGrad = true;
    y.backward();
    expect(w.grad).toBeNull();
    expect(b.grad).toBeNull();
    expect(await arr(x.grad)).toEqual([2, 0, 3]);
    // and the other way round: unfrozen at forward, frozen before backward still gets its grad
    const y2 = wg.linear(x, w, b).sum();
    w.requiresGrad = false;
    y2.backward();
    w.requiresGrad = true;
    expect(await arr(w.grad)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(w.requiresGrad).toBe(true);
  });
});
