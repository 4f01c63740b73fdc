import { describe, expect, test } from 'vitest';
import * as wg from '../src/index.js';
import { nn } from '../src/index.js';

/** The R1 DCGAN (examples/mnist-gan/REPORTS.md): FC → reshape → ConvT+BN+ReLU ×2 → Tanh; Conv+LeakyReLU ×2 → Sigmoid. */
class Generator extends nn.Module {
  main = new nn.Sequential(
    new nn.Linear(100, 128 * 7 * 7),
    new nn.BatchNorm1d(128 * 7 * 7),
    new nn.ReLU(),
    new nn.Unflatten([128, 7, 7]),
    new nn.ConvTranspose2d(128, 64, 4, { stride: 2, padding: 1 }),
    new nn.BatchNorm2d(64),
    new nn.ReLU(),
    new nn.ConvTranspose2d(64, 1, 4, { stride: 2, padding: 1 }),
    new nn.Tanh(),
  );
  forward(z: wg.Tensor) {
    return this.main.forward(z);
  }
}
class Discriminator extends nn.Module {
  main = new nn.Sequential(
    new nn.Conv2d(1, 64, 4, { stride: 2, padding: 1 }),
    new nn.LeakyReLU(0.2),
    new nn.Conv2d(64, 128, 4, { stride: 2, padding: 1 }),
    new nn.LeakyReLU(0.2),
    new nn.Flatten(),
    new nn.Linear(128 * 7 * 7, 1),
    new nn.Sigmoid(),
  );
  forward(x: wg.Tensor) {
    return this.main.forward(x);
  }
}

describe('nn modules', () => {
  test('R1 DCGAN: names like PyTorch, right shapes, one Adam step on each lowers a fixed-batch loss', async () => {
    wg.manualSeed(0);
    const G = new Generator();
    const D = new Discriminator();
    const names = G.namedParameters().map(([n]) => n);
    expect(names.slice(0, 4)).toEqual(['main.0.weight', 'main.0.bias', 'main.1.weight', 'main.1.bias']);
    expect(Object.keys(G.stateDict())).toContain('main.5.running_var');
    expect(G.stateDict()['main.4.weight']!.shape).toEqual([128, 64, 4, 4]); // ConvTranspose2d [in, out, kh, kw]
    const z = wg.randn([8, 100], { seed: 1 });
    const real = wg.rand([8, 1, 28, 28], { seed: 2 }, -1, 1);
    const fake = G.forward(z);
    expect(fake.shape).toEqual([8, 1, 28, 28]);
    expect(D.forward(fake).shape).toEqual([8, 1]);
    const optD = new wg.optim.Adam(D.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
    const optG = new wg.optim.Adam(G.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
    const dLoss = () => wg.add(wg.bce(D.forward(real), wg.ones([8, 1])), wg.bce(D.forward(wg.noGrad(() => G.forward(z))), wg.zeros([8, 1])));
    const gLoss = () => wg.bce(D.forward(G.forward(z)), wg.ones([8, 1]));
    // BatchNorm in G uses batch statistics, so the same fixed batch gives the same loss before and after
    const d0 = dLoss();
    const d0v = await d0.item();
    optD.zeroGrad();
    d0.backward();
    optD.step();
    expect(await dLoss().item()).toBeLessThan(d0v);
    const g0 = gLoss();
    const g0v = await g0.item();
    optG.zeroGrad();
    optD.zeroGrad();
    g0.backward();
    optG.step();
    expect(await gLoss().item()).toBeLessThan(g0v);
  });
  test('PyTorch default init bounds, seeded reproducibility, xavierUniform, normal', async () => {
    wg.manualSeed(3);
    const a = new nn.Linear(50, 20);
    wg.manualSeed(3);
    const b = new nn.Linear(50, 20);
    const wa = await a.weight.toArray();
    expect(wa).toEqual(await b.weight.toArray());
    const bound = 1 / Math.sqrt(50);
    expect(Math.max(...wa.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...wa.map(Math.abs))).toBeGreaterThan(bound * 0.9);
    const ct = new nn.ConvTranspose2d(8, 4, 3);
    const wc = await ct.weight.toArray();
    expect(Math.max(...wc.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(4 * 9)); // fan_in from dim 1, as PyTorch
    const t = wg.zeros([300, 200]);
    nn.init.xavierUniform(t, { seed: 5 });
    const x = await t.toArray();
    const lim = Math.sqrt(6 / 500);
    expect(Math.max(...x.map(Math.abs))).toBeLessThanOrEqual(lim);
    expect(Math.max(...x.map(Math.abs))).toBeGreaterThan(lim * 0.99);
    nn.init.normal(t, 0, 0.02, { seed: 6 });
    const y = await t.toArray();
    const sd = Math.sqrt(y.reduce((s, v) => s + v * v, 0) / y.length);
    expect(Math.abs(sd - 0.02)).toBeLessThan(0.001);
    nn.init.zeros(t);
    expect((await t.toArray()).every((v) => v === 0)).toBe(true);
  });
  test('train/eval: dropout is the identity and batchnorm uses running statistics in eval', async () => {
    const m = new nn.Sequential(new nn.Dropout(0.5), new nn.BatchNorm1d(3));
    const x = wg.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
    m.eval();
    expect(m.layers[0]!.training).toBe(false);
    // running stats are 0 and 1: eval output = x / sqrt(1 + eps)
    const y = await m.forward(x).toArray();
    expect(y[8]).toBeCloseTo(9 / Math.sqrt(1 + 1e-5), 5);
    m.train();
    wg.manualSeed(1);
    const d = await new nn.Dropout(0.5).forward(wg.ones([64])).toArray();
    expect(d.filter((v) => v === 0).length).toBeGreaterThan(10); // training: dropout drops
    expect(d.filter((v) => v === 2).length).toBeGreaterThan(10); // and scales the rest by 1/(1−p)
    m.forward(x);
    expect(Array.from(await (m.layers[1] as nn.BatchNorm1d).runningMean.toArray()).some((v) => v !== 0)).toBe(true);
  });
  test('loadStateDict copies values; strict mode names missing, unexpected and mis-shaped entries', async () => {
    const a = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    const b = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    b.loadStateDict(a.stateDict());
    expect(await b.layers[0]!.parameters()[0]!.toArray()).toEqual(await a.layers[0]!.parameters()[0]!.toArray());
    const sd = { ...a.stateDict() };
    delete sd['1.running_var'];
    expect(() => b.loadStateDict(sd)).toThrow(/loadStateDict: missing 1.running_var/);
    expect(() => b.loadStateDict({ ...a.stateDict(), extra: wg.ones([1]) })).toThrow(/unexpected extra/);
    expect(() => b.loadStateDict({ ...a.stateDict(), '0.bias': wg.ones([3]) })).toThrow(/0.bias has shape \[3\], expected \[2\]/);
    b.loadStateDict({ '0.bias': wg.ones([2]) }, { strict: false });
    expect(Array.from(await b.layers[0]!.parameters()[1]!.toArray())).toEqual([1, 1]);
  });
  test('gradNorm is the global L2 norm of the gradients', async () => {
    const p = wg.tensor([1, 2], [2], { requiresGrad: true });
    const q = wg.tensor([3], [1], { requiresGrad: true });
    const r = wg.tensor([5], [1], { requiresGrad: true }); // no gradient: skipped
    wg.add(p.square().sum(), q.mul(4).sum()).backward();
    // grads: [2, 4] and [4] → sqrt(4 + 16 + 16) = 6
    expect(await nn.utils.gradNorm([p, q, r]).item()).toBeCloseTo(6, 5);
  });
  test('Embedding, Flatten, Unflatten', async () => {
    const e = new nn.Embedding(10, 4);
    expect(e.forward(wg.tensor([1, 2, 3])).shape).toEqual([3, 4]);
    expect(new nn.Flatten().forward(wg.zeros([2, 3, 4, 5])).shape).toEqual([2, 60]);
    expect(new nn.Unflatten(1, [3, 20]).forward(wg.zeros([2, 60])).shape).toEqual([2, 3, 20]);
  });
});
