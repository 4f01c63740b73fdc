// Activations fused into linear, conv2d and convTranspose2d (the kernels' epilogue): the same
// values and gradients as the separate ops, to the bit, with one dispatch fewer; Sequential fuses.
import { describe, expect, onTestFinished, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import { deviceFacts } from '../src/gpu/device.js';
import * as wg from '../src/index.js';
import { gradcheck, randCpu, rng, toGpu } from './helpers.js';

const ACTS = [
  ['relu', (x: wg.Tensor) => wg.relu(x), { activation: 'relu' as const }],
  ['leakyRelu(0.2)', (x: wg.Tensor) => wg.leakyRelu(x, 0.2), { activation: 'leakyRelu' as const, slope: 0.2 }],
  ['tanh', (x: wg.Tensor) => wg.tanh(x), { activation: 'tanh' as const }],
  ['sigmoid', (x: wg.Tensor) => wg.sigmoid(x), { activation: 'sigmoid' as const }],
] as const;

/** Output and gradients of fn on fresh leaves made from `inputs`, as arrays. */
async function run(fn: (...xs: wg.Tensor[]) => wg.Tensor, inputs: cpu.CpuTensor[]): Promise<number[][]> {
  const xs = inputs.map((c) => toGpu(c, true));
  const y = fn(...xs);
  y.mul(wg.randn(y.shape, { seed: 9 }))
    .sum()
    .backward();
  return Promise.all([y, ...xs.map((x) => x.grad!)].map(async (t) => Array.from(await t.toArray())));
}

describe('fused activations', () => {
  for (const [name, act, fused] of ACTS) {
    test(`${name}: linear, conv2d and convTranspose2d fused equal the separate ops exactly, values and gradients`, async () => {
      const r = rng(name.length * 5);
      const lin = [randCpu(r, [6, 9]), randCpu(r, [5, 9]), randCpu(r, [5])];
      expect(await run((x, w, b) => wg.linear(x, w, b, fused), lin)).toEqual(await run((x, w, b) => act(wg.linear(x, w, b)), lin));
      // few columns and a long inner sum: split-K, the activation after the chunks are summed
      const split = [randCpu(r, [8, 1100]), randCpu(r, [1, 1100]), randCpu(r, [1])];
      expect(await run((x, w, b) => wg.linear(x, w, b, fused), split)).toEqual(await run((x, w, b) => act(wg.linear(x, w, b)), split));
      const opts = { stride: 2, padding: 1 };
      const conv = [randCpu(r, [2, 3, 8, 8]), randCpu(r, [4, 3, 4, 4]), randCpu(r, [4])];
      expect(await run((x, w, b) => wg.conv2d(x, w, b, { ...opts, ...fused }), conv)).toEqual(await run((x, w, b) => act(wg.conv2d(x, w, b, opts)), conv));
      const convT = [randCpu(r, [2, 4, 4, 4]), randCpu(r, [4, 3, 4, 4]), randCpu(r, [3])];
      expect(await run((x, w, b) => wg.convTranspose2d(x, w, b, { ...opts, ...fused }), convT)).toEqual(
        await run((x, w, b) => act(wg.convTranspose2d(x, w, b, opts)), convT),
      );
    });
  }

  test('a fused linear + leakyRelu checks out by finite differences against the CPU reference', async () => {
    const r = rng(77);
    const inputs = [randCpu(r, [3, 4]), randCpu(r, [5, 4]), randCpu(r, [5])];
    await gradcheck(
      (x, w, b) => wg.linear(x, w, b, { activation: 'leakyRelu', slope: 0.2 }),
      (x, w, b) => cpu.leakyRelu(cpu.linear(x, w, b), 0.2),
      inputs,
    );
  });

  test('Sequential runs Linear + activation in one dispatch; a negative fused slope is refused', async () => {
    const x = wg.randn([4, 8], { seed: 1 });
    const lin = new wg.nn.Linear(8, 3);
    const count = (fn: () => unknown) => {
      const d0 = wg.engineStats().dispatches;
      wg.scope(() => {
        fn();
      });
      return wg.engineStats().dispatches - d0;
    };
    const fusedN = count(() => new wg.nn.Sequential(lin, new wg.nn.Tanh()).forward(x));
    const separateN = count(() => wg.tanh(lin.forward(x)));
    expect(fusedN).toBe(separateN - 1);
    expect(Array.from(await new wg.nn.Sequential(lin, new wg.nn.Tanh()).forward(x).toArray())).toEqual(Array.from(await wg.tanh(lin.forward(x)).toArray()));
    expect(() => wg.linear(x, lin.weight, lin.bias, { activation: 'leakyRelu', slope: -0.1 })).toThrow(
      'linear: a fused leakyRelu needs a finite slope ≥ 0, got -0.1',
    );
    expect(() => wg.linear(x, lin.weight, lin.bias, { activation: 'gelu' as never })).toThrow(
      /linear: activation must be one of relu, leakyRelu, tanh, sigmoid/,
    );
    // a LeakyReLU with a negative slope after a layer stays separate, and still computes
    expect((await new wg.nn.Sequential(lin, new wg.nn.LeakyReLU(-0.5)).forward(x).toArray()).length).toBe(12);
  });
});

describe('gradient accumulation folded into the kernels that make the gradients', () => {
  test('a layer applied twice: weight and bias gradients equal the two separate gradients added, to the bit, with no add kernel', async () => {
    const r = rng(31);
    const cases: Array<[string, cpu.CpuTensor[], (x: wg.Tensor, w: wg.Tensor, b: wg.Tensor) => wg.Tensor]> = [
      ['linear', [randCpu(r, [6, 9]), randCpu(r, [5, 9]), randCpu(r, [5])], (x, w, b) => wg.linear(x, w, b, { activation: 'leakyRelu', slope: 0.2 })],
      // few columns and a long inner sum: the weight gradient is split into chunks
      ['linear split-K', [randCpu(r, [700, 8]), randCpu(r, [1, 8]), randCpu(r, [1])], (x, w, b) => wg.linear(x, w, b)],
      ['conv2d', [randCpu(r, [2, 3, 8, 8]), randCpu(r, [4, 3, 4, 4]), randCpu(r, [4])], (x, w, b) => wg.conv2d(x, w, b, { stride: 2, padding: 1 })],
      [
        'conv2d 1 channel',
        [randCpu(r, [8, 1, 12, 12]), randCpu(r, [16, 1, 4, 4]), randCpu(r, [16])],
        (x, w, b) => wg.conv2d(x, w, b, { stride: 2, padding: 1 }),
      ],
      [
        'convTranspose2d',
        [randCpu(r, [2, 4, 4, 4]), randCpu(r, [4, 3, 4, 4]), randCpu(r, [3])],
        (x, w, b) => wg.convTranspose2d(x, w, b, { stride: 2, padding: 1, activation: 'relu' }),
      ],
    ];
    for (const [name, [xc, wc, bc], layer] of cases) {
      const x2 = randCpu(r, xc!.shape);
      const xs = [toGpu(xc!), toGpu(x2)];
      const weights = () => [toGpu(wc!, true), toGpu(bc!, true)] as const;
      const loss = (w: wg.Tensor, b: wg.Tensor, x: wg.Tensor, seed: number) =>
        layer(x, w, b)
          .mul(wg.randn(layer(x, w, b).shape, { seed }))
          .sum();
      // both uses in one backward: the second gradient takes in the first in its own kernel
      const [w, b] = weights();
      const total = wg.add(loss(w, b, xs[0]!, 1), loss(w, b, xs[1]!, 2));
      await wg.sync();
      const before = wg.engineStats();
      total.backward();
      const dispatched = wg.engineStats().dispatches - before.dispatches;
      // each use separately, then added
      const [w1, b1] = weights();
      loss(w1, b1, xs[0]!, 1).backward();
      const [w2, b2] = weights();
      loss(w2, b2, xs[1]!, 2).backward();
      expect(await w.grad!.toArray(), name).toEqual(await wg.add(w1.grad!, w2.grad!).toArray());
      expect(await b.grad!.toArray(), name).toEqual(await wg.add(b1.grad!, b2.grad!).toArray());
      // one backward of a single use, to count the kernels a use costs
      const [w3, b3] = weights();
      const single = loss(w3, b3, xs[0]!, 1);
      await wg.sync();
      const s0 = wg.engineStats().dispatches;
      single.backward();
      const perUse = wg.engineStats().dispatches - s0;
      expect(dispatched, name).toBe(2 * perUse); // no extra kernel to add the two uses' gradients
    }
  });
});

describe('kernels per training step', () => {
  test('the R1 DCGAN step at batch 128 (the bench row) runs at most 60 kernels (57 without weight gradients as GEMMs where subgroups are shared), the R3 MLP step at batch 100 at most 90, neither copying a gradient', async () => {
    const { GanTrainer, presetSetup } = await import('../examples/mnist-gan/step.js');
    // the weight-gradient GEMM (software adapters with subgroups) adds one kernel a large conv layer,
    // 3 in R1; without subgroups the conv kernels that need none take 60 either way; the D head's
    // forward is one kernel (dot_rows), not split-K's two
    const shared = deviceFacts().subgroupShare;
    for (const [preset, B, most, wgradGemm] of [
      ['dcgan', 128, shared ? 57 : 60, 'off'],
      ['dcgan', 128, 60, 'auto'],
      ['mlp', 100, 90, 'auto'],
    ] as const) {
      const restore = wg.internal.setTuning({ variants: { 'software/conv_cols.columns': wgradGemm } });
      onTestFinished(restore);
      const t = new GanTrainer(presetSetup(preset, { batch: B }));
      const x = new Float32Array(B * 784);
      wg.scope(() => void t.step(x, null)); // the first step makes the Adam states
      await wg.sync();
      const before = wg.engineStats();
      wg.scope(() => void t.step(x, null));
      const after = wg.engineStats();
      const n = after.dispatches - before.dispatches;
      await wg.sync();
      expect(n, `${preset}, wgradGemm ${wgradGemm}`).toBeLessThanOrEqual(most);
      // every parameter's gradient is written into its optimiser slot by the kernel that makes it
      expect(after.copies - before.copies, `${preset}: gradient copies`).toBe(0);
      t.optG.dispose();
      t.optD.dispose();
      restore();
    }
  });
});
