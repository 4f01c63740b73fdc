// The modules, optimiser and schedules a small transformer or a CNN classifier needs: LayerNorm,
// GELU, SiLU, Softmax, the pools, ModuleList, MultiheadAttention (against a float64 reference of
// PyTorch's computation, with gradients by finite differences), AdamW against PyTorch's formula,
// clipGradNorm, and StepLR / CosineAnnealingLR / LinearLR / SequentialLR against their closed forms.
import { describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { expectClose, expectError, gradcheck, randCpu, rng, toGpu } from './helpers.js';

const cpuOf = async (t: wg.Tensor): Promise<cpu.CpuTensor> => ({ shape: [...t.shape], data: Float64Array.from(await t.toArray()) });

/** PyTorch's multi-head attention in float64: the projections, heads, scaled dot-product attention, the output projection. */
function mhaRef(
  q: cpu.CpuTensor,
  k: cpu.CpuTensor,
  v: cpu.CpuTensor,
  p: { w: cpu.CpuTensor; b: cpu.CpuTensor; ow: cpu.CpuTensor; ob: cpu.CpuTensor },
  H: number,
  causal: boolean,
  batchFirst: boolean,
): cpu.CpuTensor {
  const E = q.shape[2]!;
  const part = (i: number) => ({ w: cpu.slice(p.w, 0, i * E, (i + 1) * E), b: cpu.slice(p.b, 0, i * E, (i + 1) * E) });
  const heads = (t: cpu.CpuTensor, i: number) => {
    const { w, b } = part(i);
    const y = cpu.linear(t, w, b);
    const [a, c] = y.shape as [number, number];
    return cpu.permute(cpu.reshape(y, [a, c, H, E / H]), batchFirst ? [0, 2, 1, 3] : [1, 2, 0, 3]);
  };
  const o = cpu.scaledDotProductAttention(heads(q, 0), heads(k, 1), heads(v, 2), { causal });
  const [N, , L] = o.shape as [number, number, number];
  const merged = cpu.reshape(cpu.permute(o, batchFirst ? [0, 2, 1, 3] : [2, 0, 1, 3]), batchFirst ? [N, L, E] : [L, N, E]);
  return cpu.linear(merged, p.ow, p.ob);
}

describe('modules', () => {
  test('LayerNorm, GELU, SiLU, Softmax, MaxPool2d, AvgPool2d compute their ops; ModuleList names its modules 0, 1, …', async () => {
    const r = rng(401);
    const x = randCpu(r, [2, 3, 8]);
    const ln = new wg.nn.LayerNorm(8);
    expect(Object.keys(ln.stateDict())).toEqual(['weight', 'bias']);
    ln.weight!.copy_(toGpu(randCpu(r, [8], 0.5, 1.5)));
    await expectClose(ln.forward(toGpu(x)), cpu.layerNorm(x, [8], await cpuOf(ln.weight!), await cpuOf(ln.bias!)), 1e-4, 1e-5, 'LayerNorm');
    await expectClose(new wg.nn.GELU().forward(toGpu(x)), cpu.gelu(x), 1e-5, 1e-6, 'GELU');
    await expectClose(new wg.nn.GELU('tanh').forward(toGpu(x)), cpu.gelu(x, { approximate: 'tanh' }), 1e-5, 1e-6, 'GELU tanh');
    await expectClose(new wg.nn.SiLU().forward(toGpu(x)), cpu.silu(x), 1e-5, 1e-6, 'SiLU');
    await expectClose(new wg.nn.Softmax(1).forward(toGpu(x)), cpu.softmax(x, 1), 1e-5, 1e-6, 'Softmax');
    const img = randCpu(r, [1, 2, 6, 6]);
    await expectClose(new wg.nn.MaxPool2d(2).forward(toGpu(img)), cpu.maxPool2d(img, 2), 0, 0, 'MaxPool2d');
    await expectClose(
      new wg.nn.AvgPool2d(3, { stride: 1, padding: 1 }).forward(toGpu(img)),
      cpu.avgPool2d(img, 3, { stride: 1, padding: 1 }),
      1e-5,
      1e-6,
      'AvgPool2d',
    );
    class Net extends wg.nn.Module {
      blocks = new wg.nn.ModuleList([new wg.nn.Linear(4, 4), new wg.nn.LayerNorm(4)]);
      forward(t: wg.Tensor): wg.Tensor {
        let h = t;
        for (const m of this.blocks) h = m.forward(h);
        return h;
      }
    }
    const net = new Net();
    expect(Object.keys(net.stateDict())).toEqual(['blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias']);
    expect(net.blocks.length).toBe(2);
    expect(net.forward(wg.ones([3, 4])).shape).toEqual([3, 4]);
    expectError(() => net.blocks.forward(), 'ModuleList', 'not callable');
  });

  test("MultiheadAttention: PyTorch's parameter names and layout, self and cross attention, causal, batch first or not, gradients", async () => {
    const r = rng(402);
    const E = 8;
    const H = 2;
    for (const batchFirst of [false, true]) {
      const mha = new wg.nn.MultiheadAttention(E, H, { batchFirst });
      expect(Object.keys(mha.stateDict())).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
      expect(mha.inProjWeight.shape).toEqual([3 * E, E]);
      // give the biases values (they start at 0) so that the test sees them
      mha.inProjBias!.copy_(toGpu(randCpu(r, [3 * E])));
      mha.outProj.bias!.copy_(toGpu(randCpu(r, [E])));
      const p = { w: await cpuOf(mha.inProjWeight), b: await cpuOf(mha.inProjBias!), ow: await cpuOf(mha.outProj.weight), ob: await cpuOf(mha.outProj.bias!) };
      const shape = batchFirst ? [2, 5, E] : [5, 2, E];
      const x = randCpu(r, shape);
      for (const causal of [false, true]) {
        await expectClose(
          mha.attend(toGpu(x), toGpu(x), toGpu(x), { isCausal: causal }),
          mhaRef(x, x, x, p, H, causal, batchFirst),
          1e-4,
          1e-5,
          `self ${batchFirst} ${causal}`,
        );
      }
      // cross attention: 5 queries over 3 keys
      const kv = randCpu(r, batchFirst ? [2, 3, E] : [3, 2, E]);
      const xq = toGpu(x);
      const xkv = toGpu(kv);
      await expectClose(mha.attend(xq, xkv, xkv), mhaRef(x, kv, kv, p, H, false, batchFirst), 1e-4, 1e-5, `cross ${batchFirst}`);
      // the input's gradient through a causal self-attention (the packed kernels), by finite
      // differences of the reference; two sequences so that the batch stride is exercised
      await gradcheck(
        (t) => mha.attend(t, t, t, { isCausal: true }),
        (t) => mhaRef(t, t, t, p, H, true, batchFirst),
        [randCpu(r, batchFirst ? [2, 3, E] : [3, 2, E])],
      );
    }
    expectError(() => new wg.nn.MultiheadAttention(10, 3), 'MultiheadAttention', 'embedDim 10 must be a positive multiple of numHeads 3');
  });
});

describe('optimisers and schedules', () => {
  test("AdamW after 5 steps equals PyTorch's formula (decoupled weight decay)", async () => {
    const r = rng(403);
    const init = [randCpu(r, [3, 5]), randCpu(r, [7])];
    const params = init.map((c) => toGpu(c, true));
    const o = { lr: 0.01, betas: [0.9, 0.95] as [number, number], eps: 1e-8, weightDecay: 0.1 };
    const opt = new wg.optim.AdamW(params, o);
    const ref = init.map((c) => ({ p: c.data.slice(), m: new Float64Array(c.data.length), v: new Float64Array(c.data.length) }));
    for (let s = 1; s <= 5; s++) {
      opt.zeroGrad();
      const grads = init.map((c) => randCpu(r, c.shape));
      params.forEach((p, i) => (p.grad = toGpu(grads[i]!)));
      opt.step();
      ref.forEach((st, i) => cpu.adam(st.p, grads[i]!.data, st.m, st.v, s, { ...o, decoupled: true }));
    }
    for (let i = 0; i < params.length; i++) await expectClose(params[i]!, { shape: init[i]!.shape, data: ref[i]!.p }, 1e-5, 1e-6, `param ${i}`);
    const leaf = wg.ones([2]);
    leaf.requiresGrad = true;
    expect(new wg.optim.AdamW([leaf]).weightDecay).toBe(0.01);
    opt.dispose();
  });

  test('clipGradNorm scales the gradients to the norm asked for and returns the norm before', async () => {
    const a = wg.tensor([3, 0], [2], { requiresGrad: true });
    const b = wg.tensor([0, 4], [2], { requiresGrad: true });
    a.grad = wg.tensor([3, 0]);
    b.grad = wg.tensor([0, 4]);
    const norm = wg.nn.utils.clipGradNorm([a, b], 1);
    expect(await norm.item()).toBeCloseTo(5, 5);
    expect(Array.from(await a.grad.toArray())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(await b.grad.toArray())[1]).toBeCloseTo(0.8, 5);
    // under the bound: left alone
    wg.nn.utils.clipGradNorm([a, b], 10);
    expect(Array.from(await b.grad.toArray())[1]).toBeCloseTo(0.8, 5);
    expectError(() => wg.nn.utils.clipGradNorm([a], 0), 'clipGradNorm', 'maxNorm must be a positive number');
  });

  test("clipGradNorm and gradNorm over gradients in an optimiser's flat buffer: one view a run, only the listed gradients", async () => {
    // five parameters laid out end to end by the optimiser; linear's and layerNorm's backward rules
    // write the first four gradients into their slots, the fifth parameter gets none
    const r = rng(71);
    const shapes = [[64, 8], [64], [64], [64], [5]];
    const ps = shapes.map((s) => toGpu(randCpu(r, s), true));
    const opt = new wg.optim.SGD(ps, { lr: 0.1 });
    const x = toGpu(randCpu(r, [4, 8]));
    const loss = () => {
      const h = wg.layerNorm(wg.linear(x, ps[0]!, ps[1]!), 64, ps[2]!, ps[3]!);
      return wg.sum(wg.mul(h, h));
    };
    opt.zeroGrad();
    loss().backward();
    expect(ps[4]!.grad).toBeNull();
    const grads = await Promise.all(ps.slice(0, 4).map((p) => p.grad!.toArray()));
    const sq = (gs: Float32Array[]) => gs.reduce((a, g) => a + g.reduce((b, v) => b + v * v, 0), 0);
    // a list that skips the second parameter: its gradient neither counts nor is scaled
    const sub = [ps[0]!, ps[2]!, ps[3]!, ps[4]!];
    const want = Math.sqrt(sq([grads[0]!, grads[2]!, grads[3]!]));
    expect(await wg.nn.utils.gradNorm(sub).item()).toBeCloseTo(want, 3);
    // the four gradients lie end to end (sizes in whole 256-byte blocks): clipping them all takes
    // the dispatches clipping one does (one view over the run), not four times the work
    const dispatches = (f: () => void) => {
      const before = wg.engineStats().dispatches;
      f();
      return wg.engineStats().dispatches - before;
    };
    const one = dispatches(() => wg.nn.utils.clipGradNorm([ps[0]!], 1e9));
    expect(dispatches(() => wg.nn.utils.clipGradNorm(ps, 1e-3))).toBe(one);
    const total = Math.sqrt(sq(grads));
    const coef = 1e-3 / (total + 1e-6);
    for (const [i, g] of grads.entries()) {
      const got = await ps[i]!.grad!.toArray();
      g.forEach((v, j) => expect(got[j]!).toBeCloseTo(v * coef, 6));
    }
    opt.dispose();
  });

  test('StepLR, CosineAnnealingLR, LinearLR (warm-up) and SequentialLR set the lr of each step', () => {
    const { StepLR, CosineAnnealingLR, LinearLR, SequentialLR } = wg.optim.lr_scheduler;
    const run = (make: (o: { lr: number }) => { step(): void }, n: number) => {
      const o = { lr: 0.1 };
      const s = make(o);
      const lrs = [o.lr];
      for (let i = 0; i < n; i++) {
        s.step();
        lrs.push(o.lr);
      }
      return lrs.map((v) => Number(v.toPrecision(6)));
    };
    expect(run((o) => new StepLR(o, { stepSize: 2, gamma: 0.5 }), 5)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
    // PyTorch: 0.1·(1 + cos(π t / 4)) / 2
    expect(run((o) => new CosineAnnealingLR(o, { tMax: 4 }), 4)).toEqual([0.1, 0.0853553, 0.05, 0.0146447, 0]);
    expect(run((o) => new LinearLR(o, { startFactor: 0.25, totalIters: 3 }), 4)).toEqual([0.025, 0.05, 0.075, 0.1, 0.1]);
    // a 2-step linear warm-up, then cosine over 4 steps from the base lr
    expect(run((o) => new SequentialLR(o, [new LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new CosineAnnealingLR(o, { tMax: 4 })], [2]), 6)).toEqual([
      0.05, 0.075, 0.1, 0.0853553, 0.05, 0.0146447, 0,
    ]);
    expectError(() => new StepLR({ lr: 1 }, { stepSize: 0 }), 'StepLR', 'stepSize must be a positive integer');
  });
});
