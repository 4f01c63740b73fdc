// Activations fused into linear, conv2d and convTranspose2d (the kernels' epilogue): the same
// values and gradients as the separate ops, to the bit, with one dispatch fewer; Sequential fuses.
import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
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
