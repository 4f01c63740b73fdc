// The ops a CNN classifier or a small transformer needs beyond the GAN's: each against its float64
// CPU reference on random shapes (forward) and by finite differences (every gradient), through
// checkOp; then the errors bad arguments get.
import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { checkOp, expectClose, expectError, randCpu, randInt, randShape, rng, toGpu } from './helpers.js';

/** Values away from 0 (abs, clamp and the relu family are not differentiable there). */
const awayFrom = (r: () => number, shape: number[], points: number[], gap = 0.05) => {
  const t = randCpu(r, shape, -2, 2);
  t.data = t.data.map((v) => (points.some((p) => Math.abs(v - p) < gap) ? v + 3 * gap : v));
  return t;
};

describe('elementwise: abs, pow, clamp, where, maskedFill', () => {
  test('forward and gradients on random shapes', async () => {
    const r = rng(301);
    for (let k = 0; k < 3; k++) {
      const shape = randShape(r, randInt(r, 1, 3), 1, 6);
      await checkOp(wg.abs, cpu.abs, [awayFrom(r, shape, [0])], { what: `abs ${shape}` });
      await checkOp(
        (x) => wg.clamp(x, -0.5, 1),
        (x) => cpu.clamp(x, -0.5, 1),
        [awayFrom(r, shape, [-0.5, 1])],
        { what: `clamp ${shape}` },
      );
      await checkOp(
        (x) => wg.clamp(x, null, 0.3),
        (x) => cpu.clamp(x, null, 0.3),
        [awayFrom(r, shape, [0.3])],
        { what: `clamp max ${shape}` },
      );
      for (const e of [2, 3, 0.5, -1.5, 0]) {
        const x = e === Math.floor(e) && e > 0 ? randCpu(r, shape, -2, 2) : randCpu(r, shape, 0.3, 2);
        await checkOp(
          (t) => wg.pow(t, e),
          (t) => cpu.pow(t, e),
          [x],
          { what: `pow ${e} ${shape}`, grad: { rtol: 3e-3 } },
        );
      }
    }
    // a negative base to a non-integer power is NaN, as in PyTorch
    expect(Array.from(await wg.pow(wg.tensor([-2, 4]), 0.5).toArray()).map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(['NaN', 2]);
    expect(Array.from(await wg.pow(wg.tensor([-2, 2]), 3).toArray())).toEqual([-8, 8]);
  });
  test('where and maskedFill broadcast their operands; gradients reach a and b, not the condition', async () => {
    const r = rng(302);
    const cond = cpu.cpuTensor(
      Array.from({ length: 12 }, () => (r() > 0.5 ? 1 : 0)),
      [3, 4],
    );
    await checkOp(
      (a, b) => wg.where(toGpu(cond), a, b),
      (a, b) => cpu.where(cond, a, b),
      [randCpu(r, [3, 4]), randCpu(r, [1, 4])],
      { what: 'where' },
    );
    await checkOp(
      (a) => wg.where(toGpu(cond), a, -1),
      (a) => cpu.where(cond, a, -1),
      [randCpu(r, [2, 3, 4])],
      { what: 'where scalar' },
    );
    // a causal mask: −∞ above the diagonal, broadcast over a batch
    const mask = cpu.cpuTensor(
      Array.from({ length: 16 }, (_, e) => (e % 4 > Math.floor(e / 4) ? 1 : 0)),
      [4, 4],
    );
    const x = randCpu(r, [2, 4, 4]);
    const filled = await wg.maskedFill(toGpu(x), toGpu(mask), Number.NEGATIVE_INFINITY).toArray();
    const want = cpu.maskedFill(x, mask, Number.NEGATIVE_INFINITY).data;
    expect(Array.from(filled, (v, i) => Object.is(v, Math.fround(want[i]!)))).toEqual(Array.from(filled, () => true));
    await checkOp(
      (t) => wg.maskedFill(t, toGpu(mask), 0.5),
      (t) => cpu.maskedFill(t, mask, 0.5),
      [x],
      { what: 'maskedFill' },
    );
  });
});

describe('activations: gelu (exact and tanh), silu', () => {
  test('forward and gradients', async () => {
    const r = rng(303);
    const x = randCpu(r, [4, 33], -4, 4);
    await checkOp(
      (t) => wg.gelu(t),
      (t) => cpu.gelu(t),
      [x],
      { rtol: 1e-5, atol: 1e-6, what: 'gelu' },
    );
    await checkOp(
      (t) => wg.gelu(t, { approximate: 'tanh' }),
      (t) => cpu.gelu(t, { approximate: 'tanh' }),
      [x],
      { rtol: 1e-5, atol: 1e-6, what: 'gelu tanh' },
    );
    await checkOp(wg.silu, cpu.silu, [x], { rtol: 1e-5, atol: 1e-6, what: 'silu' });
    expectError(() => wg.gelu(wg.ones([2]), { approximate: 'fast' as 'tanh' }), 'gelu', "approximate must be 'none' or 'tanh'");
    expectError(
      () => wg.linear(wg.ones([2, 2]), wg.ones([2, 2]), null, { activation: 'gelu' as 'relu' }),
      'linear',
      'activation must be one of relu, leakyRelu, tanh, sigmoid',
    );
  });
});

describe('softmax, logSoftmax and layerNorm', () => {
  test('softmax and logSoftmax along every dim of random shapes, stable for large logits', async () => {
    const r = rng(304);
    for (const shape of [
      [5, 7],
      [2, 3, 4],
      [3, 1, 6],
    ]) {
      for (let dim = -1; dim < shape.length; dim++) {
        const x = randCpu(r, shape, -3, 3);
        await checkOp(
          (t) => wg.softmax(t, dim),
          (t) => cpu.softmax(t, dim),
          [x],
          { what: `softmax ${shape} dim ${dim}` },
        );
        await checkOp(
          (t) => wg.logSoftmax(t, dim),
          (t) => cpu.logSoftmax(t, dim),
          [x],
          { what: `logSoftmax ${shape} dim ${dim}` },
        );
      }
    }
    const big = cpu.cpuTensor([1e4, -1e4, 0, 90, 100, 110], [2, 3]);
    await expectClose(wg.softmax(toGpu(big)), cpu.softmax(big), 1e-5, 1e-6, 'large');
    await expectClose(wg.logSoftmax(toGpu(big)), cpu.logSoftmax(big), 1e-5, 1e-4, 'large log');
  });
  test('layerNorm over one or two trailing dims, with and without weight and bias', async () => {
    const r = rng(305);
    for (const [shape, ns] of [
      [[6, 10], [10]],
      [[2, 3, 8], [8]],
      [
        [2, 3, 4],
        [3, 4],
      ],
    ] as const) {
      const D = ns.reduce((a, b) => a * b, 1);
      const x = randCpu(r, [...shape], -2, 3);
      await checkOp(
        (t, w, b) => wg.layerNorm(t, [...ns], w, b),
        (t, w, b) => cpu.layerNorm(t, [...ns], w, b),
        [x, randCpu(r, [...ns], 0.5, 1.5), randCpu(r, [...ns])],
        { what: `layerNorm ${shape} over ${ns}`, grad: { rtol: 3e-3, atol: 3e-4 } },
      );
      await checkOp(
        (t) => wg.layerNorm(t, [...ns]),
        (t) => cpu.layerNorm(t, [...ns]),
        [x],
        { what: `layerNorm ${shape} no affine`, grad: { rtol: 3e-3, atol: 3e-4 } },
      );
      expect(D).toBeGreaterThan(0);
    }
    expectError(() => wg.layerNorm(wg.ones([2, 3]), [4]), 'layerNorm', 'normalizedShape [4] is not the trailing dims of the input [2,3]');
    expectError(() => wg.layerNorm(wg.ones([2, 3]), [3], wg.ones([2]), wg.ones([3])), 'layerNorm', 'weight has shape [2], expected [3]');
  });
});

describe('max, min, argmax, argmin', () => {
  test('along each dim and over everything, keepDim, gradients to the first index of the extreme', async () => {
    const r = rng(306);
    const x = randCpu(r, [3, 4, 5]);
    for (const dim of [0, 1, 2, -1, undefined]) {
      for (const keep of [false, true]) {
        const w = `dim ${dim} keepDim ${keep}`;
        await checkOp(
          (t) => wg.max(t, dim, keep),
          (t) => cpu.max(t, dim, keep),
          [x],
          { what: `max ${w}` },
        );
        await checkOp(
          (t) => wg.min(t, dim, keep),
          (t) => cpu.min(t, dim, keep),
          [x],
          { what: `min ${w}` },
        );
        await expectClose(wg.argmax(toGpu(x), dim, keep), cpu.argmax(x, dim, keep), 0, 0, `argmax ${w}`);
        await expectClose(wg.argmin(toGpu(x), dim, keep), cpu.argmin(x, dim, keep), 0, 0, `argmin ${w}`);
      }
    }
    // ties go to the first index
    expect(Array.from(await wg.argmax(wg.tensor([1, 3, 3, 2])).toArray())).toEqual([1]);
  });
});

describe('pooling', () => {
  test('maxPool2d and avgPool2d: kernels, strides, padding, the padding counted or not', async () => {
    const r = rng(307);
    for (const [shape, k, s, p] of [
      [[2, 3, 6, 6], 2, 2, 0],
      [[1, 2, 7, 5], 3, 2, 1],
      [[2, 1, 5, 5], [3, 2], 1, [1, 0]],
      [[1, 2, 4, 4], 2, 1, 1],
    ] as const) {
      const o = { stride: s as number, padding: p as [number, number] | number };
      const x = randCpu(r, [...shape]);
      await checkOp(
        (t) => wg.maxPool2d(t, k as number, o),
        (t) => cpu.maxPool2d(t, k as number, o),
        [x],
        { what: `maxPool ${shape} ${k} ${s} ${p}` },
      );
      await checkOp(
        (t) => wg.avgPool2d(t, k as number, o),
        (t) => cpu.avgPool2d(t, k as number, o),
        [x],
        { what: `avgPool ${shape} ${k} ${s} ${p}` },
      );
      const ex = { ...o, countIncludePad: false };
      await checkOp(
        (t) => wg.avgPool2d(t, k as number, ex),
        (t) => cpu.avgPool2d(t, k as number, ex),
        [x],
        { what: `avgPool no pad count ${shape}` },
      );
    }
    expectError(() => wg.maxPool2d(wg.ones([1, 1, 4, 4]), 2, { padding: 2 }), 'maxPool2d', 'padding 2,2 must be at most half the kernel 2×2');
  });
});

describe('shape ops: permute, narrow, slice, indexSelect, stack', () => {
  test('forward and gradients', async () => {
    const r = rng(308);
    const x = randCpu(r, [2, 3, 4]);
    for (const p of [
      [2, 0, 1],
      [1, 2, 0],
      [0, 1, 2],
    ])
      await checkOp(
        (t) => wg.permute(t, p),
        (t) => cpu.permute(t, p),
        [x],
        { what: `permute ${p}` },
      );
    await checkOp(
      (t) => wg.narrow(t, 1, 1, 2),
      (t) => cpu.narrow(t, 1, 1, 2),
      [x],
      { what: 'narrow' },
    );
    await checkOp(
      (t) => wg.narrow(t, -1, -3, 2),
      (t) => cpu.narrow(t, -1, -3, 2),
      [x],
      { what: 'narrow from the end' },
    );
    for (const [dim, a, b, st] of [
      [2, 0, 4, 2],
      [1, -2, undefined, 1],
      [0, 1, 2, 1],
      [2, 1, -1, 3],
    ] as const)
      await checkOp(
        (t) => wg.slice(t, dim, a, b, st),
        (t) => cpu.slice(t, dim, a, b, st),
        [x],
        { what: `slice ${dim} ${a}:${b}:${st}` },
      );
    const idx = cpu.cpuTensor([2, 0, 2, 1], [4]);
    for (const dim of [0, 1, 2]) {
      const ix = cpu.cpuTensor(
        Array.from(idx.data, (v) => Math.min(v, x.shape[dim]! - 1)),
        [4],
      );
      await checkOp(
        (t) => wg.indexSelect(t, dim, toGpu(ix)),
        (t) => cpu.indexSelect(t, dim, ix),
        [x],
        { what: `indexSelect dim ${dim}` },
      );
    }
    await checkOp(
      (a, b) => wg.stack([a, b], 1),
      (a, b) => cpu.stack([a, b], 1),
      [randCpu(r, [2, 3]), randCpu(r, [2, 3])],
      { what: 'stack' },
    );
    await expect(wg.indexSelect(wg.ones([3, 2]), 0, wg.tensor([0, 3])).toArray()).rejects.toThrow(/indexSelect: index 3 is not in the dim \(3 long/);
    expect(Array.from(await wg.ones([2]).add(1).toArray())).toEqual([2, 2]);
    expectError(() => wg.permute(wg.ones([2, 3]), [0, 0]), 'permute', 'repeat a dim');
    expectError(() => wg.narrow(wg.ones([2, 3]), 1, 2, 2), 'narrow', 'do not fit dim 1 of [2,3]');
  });
});

describe('crossEntropy: class indices with ignoreIndex and label smoothing, probabilities, reductions', () => {
  test('forward and gradients against the reference', async () => {
    const r = rng(309);
    const labels = (n: number, c: number, ignoreEvery = 0) =>
      cpu.cpuTensor(
        Array.from({ length: n }, (_, i) => (ignoreEvery && i % ignoreEvery === 1 ? -100 : Math.floor(r() * c))),
        [n],
      );
    for (const opts of [
      {},
      { labelSmoothing: 0.1 },
      { reduction: 'sum' as const },
      { reduction: 'none' as const },
      { labelSmoothing: 0.2, reduction: 'none' as const },
    ]) {
      const t = labels(7, 5, 3);
      await checkOp(
        (x) => wg.crossEntropy(x, toGpu(t), opts),
        (x) => cpu.crossEntropy(x, t, opts),
        [randCpu(r, [7, 5], -3, 3)],
        { what: `indices ${JSON.stringify(opts)}` },
      );
    }
    // [N, C, d]: classes along dim 1, a target per position
    const t3 = cpu.cpuTensor(
      Array.from({ length: 6 }, () => Math.floor(r() * 4)),
      [2, 3],
    );
    await checkOp(
      (x) => wg.crossEntropy(x, toGpu(t3)),
      (x) => cpu.crossEntropy(x, t3),
      [randCpu(r, [2, 4, 3])],
      { what: '[N, C, d]' },
    );
    // probabilities of the input's shape
    const probs = cpu.softmax(randCpu(r, [6, 4], -2, 2));
    for (const opts of [{}, { labelSmoothing: 0.1 }, { reduction: 'none' as const }])
      await checkOp(
        (x) => wg.crossEntropy(x, toGpu(probs), opts),
        (x) => cpu.crossEntropy(x, probs, opts),
        [randCpu(r, [6, 4])],
        { what: `probabilities ${JSON.stringify(opts)}` },
      );
    expectError(() => wg.crossEntropy(wg.zeros([2, 3]), wg.zeros([3])), 'crossEntropy', 'target has shape [3], expected [2]');
    expectError(() => wg.crossEntropy(wg.zeros([2, 3]), wg.zeros([2]), { labelSmoothing: 2 }), 'crossEntropy', 'labelSmoothing must be in [0, 1]');
  });
});

describe('scaledDotProductAttention', () => {
  test('fused, causal or not, against the reference and by finite differences; the composed path agrees', async () => {
    const r = rng(310);
    for (const [lead, TQ, TK, D, DV, causal] of [
      [[2, 3], 5, 5, 4, 4, true],
      [[2, 3], 5, 5, 4, 4, false],
      [[3], 4, 7, 3, 5, false],
      [[1, 2], 6, 6, 8, 8, true],
    ] as const) {
      const q = randCpu(r, [...lead, TQ, D]);
      const k = randCpu(r, [...lead, TK, D]);
      const v = randCpu(r, [...lead, TK, DV]);
      const o = { causal };
      await checkOp(
        (a, b, c) => wg.scaledDotProductAttention(a, b, c, o),
        (a, b, c) => cpu.scaledDotProductAttention(a, b, c, o),
        [q, k, v],
        {
          what: `attention ${lead} ${TQ}×${TK}×${D}→${DV} causal ${causal}`,
        },
      );
      await checkOp(
        (a, b, c) => wg.scaledDotProductAttention(a, b, c, { ...o, composed: true }),
        (a, b, c) => cpu.scaledDotProductAttention(a, b, c, o),
        [q, k, v],
        { what: `composed attention ${lead} causal ${causal}` },
      );
    }
    const one = wg.ones([1, 4, 8]);
    const names = wg.traceKernels(() => void wg.scope(() => wg.scaledDotProductAttention(one, one, one)));
    expect(names).toEqual(['attention.forward']);
    expectError(() => wg.scaledDotProductAttention(wg.ones([2, 4, 8]), wg.ones([2, 4, 6]), wg.ones([2, 4, 8])), op(), 'k has 6 features a row, q has 8');
  });
});

function op(): string {
  return 'scaledDotProductAttention';
}
