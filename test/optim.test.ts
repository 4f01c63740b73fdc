import { describe, expect, onTestFinished, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import * as wg from '../src/index.js';
import { slotHolderCount } from '../src/optim/slots.js';
import { expectClose, randCpu, rng, toGpu } from './helpers.js';

/** Params of odd sizes (not multiples of the 64-float slot), and their per-step gradients. */
function problem(seed: number) {
  const r = rng(seed);
  const shapes = [[3, 5], [7], [1], [2, 3, 4]];
  const init = shapes.map((s) => randCpu(r, s));
  const grads = Array.from({ length: 5 }, () => shapes.map((s) => randCpu(r, s)));
  return { shapes, init, grads };
}

describe('Adam', () => {
  // both kernels: one parameter a lane, and four (the software adapters' choice)
  test.each(['off', 'on'] as const)(
    "after 5 steps equals the CPU reference of PyTorch's formula (with weight decay, an lr change, a missing grad), vec4Update %s",
    async (v4) => {
      const restore = wg.internal.setTuning({ variants: { 'software/adam4.main4': v4 } });
      onTestFinished(restore);
      const { init, grads } = problem(1);
      const params = init.map((c) => toGpu(c, true));
      const o = { lr: 0.01, betas: [0.5, 0.999] as [number, number], eps: 1e-8, weightDecay: 0.01 };
      const opt = new wg.optim.Adam(params, o);
      const ref = init.map((c) => ({ p: c.data.slice(), m: new Float64Array(c.data.length), v: new Float64Array(c.data.length), t: 0 }));
      for (let s = 0; s < 5; s++) {
        if (s === 3) opt.lr = o.lr = 0.003;
        opt.zeroGrad();
        params.forEach((p, i) => {
          if (s === 2 && i === 1) return; // no gradient: PyTorch leaves this parameter and its state alone
          p.grad = toGpu(grads[s]![i]!);
        });
        opt.step();
        ref.forEach((st, i) => {
          if (s === 2 && i === 1) return;
          st.t++;
          cpu.adam(st.p, grads[s]![i]!.data, st.m, st.v, s + 1, o);
        });
      }
      for (let i = 0; i < params.length; i++) await expectClose(params[i]!, { shape: init[i]!.shape, data: ref[i]!.p }, 1e-5, 1e-6, `param ${i}`);
    },
  );
  test('one kernel dispatch per step updates every parameter', async () => {
    const params = [
      wg.randn([10, 10], { seed: 1, requiresGrad: true }),
      wg.randn([3], { seed: 2, requiresGrad: true }),
      wg.randn([100], { seed: 3, requiresGrad: true }),
    ];
    const opt = new wg.optim.Adam(params, { lr: 1e-3 });
    for (const p of params) p.grad = wg.ones(p.shape);
    await wg.sync();
    const before = wg.engineStats().dispatches;
    opt.step();
    expect(wg.engineStats().dispatches - before).toBe(1);
  });
  test('stateDict / loadStateDict resume exactly', async () => {
    const { init, grads } = problem(2);
    const a = init.map((c) => toGpu(c, true));
    const b = init.map((c) => toGpu(c, true));
    const oa = new wg.optim.Adam(a, { lr: 0.05 });
    const ob = new wg.optim.Adam(b, { lr: 0.05 });
    const stepWith = (opt: wg.optim.Adam, ps: wg.Tensor[], s: number) => {
      opt.zeroGrad();
      ps.forEach((p, i) => (p.grad = toGpu(grads[s]![i]!)));
      opt.step();
    };
    for (let s = 0; s < 3; s++) stepWith(oa, a, s);
    // b gets a's parameters and optimiser state, then both take two more steps
    const state = oa.stateDict();
    expect(state.step).toBe(3);
    expect(Object.keys(state.tensors)).toContain('exp_avg_sq.3');
    b.forEach((p, i) => p.copy_(a[i]!));
    ob.loadStateDict(state);
    for (let s = 3; s < 5; s++) {
      stepWith(oa, a, s);
      stepWith(ob, b, s);
    }
    for (let i = 0; i < a.length; i++) expect(await b[i]!.toArray()).toEqual(await a[i]!.toArray());
    expect(() => ob.loadStateDict({ step: 1, hyper: {}, tensors: {} })).toThrow(/missing state tensor exp_avg.0/);
  });
  test('bad options and parameters', () => {
    expect(() => new wg.optim.Adam([wg.ones([2])])).toThrow(/params\[0\] \[2\] is not a leaf tensor with requiresGrad/);
    expect(() => new wg.optim.Adam([wg.ones([2], { requiresGrad: true })], { betas: [1, 0.9] })).toThrow(/Adam: betas must be in \[0, 1\)/);
  });
});

describe('SGD', () => {
  for (const o of [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true },
  ]) {
    test(`5 steps equal the CPU reference ${JSON.stringify(o)}`, async () => {
      const { init, grads } = problem(3);
      const params = init.map((c) => toGpu(c, true));
      const opt = new wg.optim.SGD(params, o);
      const ref = init.map((c) => ({ p: c.data.slice(), b: new Float64Array(c.data.length) }));
      for (let s = 0; s < 5; s++) {
        opt.zeroGrad();
        params.forEach((p, i) => (p.grad = toGpu(grads[s]![i]!)));
        opt.step();
        ref.forEach((st, i) => cpu.sgd(st.p, grads[s]![i]!.data, st.b, s === 0, o));
      }
      for (let i = 0; i < params.length; i++) await expectClose(params[i]!, { shape: init[i]!.shape, data: ref[i]!.p }, 1e-5, 1e-6, `param ${i}`);
    });
  }
});

describe('gradients written into the optimiser slots', () => {
  // a small G-and-D-like net applied twice in one loss: each parameter gets two gradients, the
  // last written into its slot of the optimiser's flat gradient buffer by the op that makes it
  function net(): wg.nn.Sequential {
    wg.manualSeed(11);
    const { Sequential, ConvTranspose2d, BatchNorm2d, LeakyReLU, Conv2d, Flatten, Linear } = wg.nn;
    return new Sequential(
      new ConvTranspose2d(4, 8, 4, { stride: 2, padding: 1 }),
      new BatchNorm2d(8),
      new LeakyReLU(0.2),
      new Conv2d(8, 6, 3, { padding: 1 }),
      new Flatten(),
      new Linear(6 * 8 * 8, 5),
    );
  }
  const backward = (m: wg.nn.Sequential, times: number) => {
    const r = rng(31);
    const x1 = toGpu(randCpu(r, [3, 4, 4, 4]));
    const x2 = toGpu(randCpu(r, [3, 4, 4, 4]));
    for (let i = 0; i < times; i++) wg.scope(() => m.forward(x1).add(m.forward(x2).mul(0.5)).sum().backward());
    x1.dispose();
    x2.dispose();
  };
  const grads = async (m: wg.nn.Sequential) => Promise.all(m.parameters().map(async (p) => Array.from(await p.grad!.toArray())));

  /** The net with an optimiser after `times` backwards, its gradients checked against the net's without one. */
  const slottedLikePlain = async (times: number) => {
    const plain = net();
    backward(plain, times);
    const slotted = net();
    const opt = new wg.optim.Adam(slotted.parameters(), { lr: 0.01 });
    backward(slotted, times);
    expect(await grads(slotted)).toEqual(await grads(plain));
    return { slotted, opt };
  };

  test('the same bits as without an optimiser, no copy at the step, and the same update as through copies', async () => {
    const { slotted, opt } = await slottedLikePlain(1);
    const copied = net();
    const opt2 = new wg.optim.Adam(copied.parameters(), { lr: 0.01 });
    backward(copied, 1);
    // the same gradients in tensors of their own: the step copies each into its slot
    for (const p of copied.parameters()) {
      const g = p.grad!;
      p.grad = wg.keep(g.mul(1));
      g.dispose();
    }
    const c0 = wg.engineStats().copies;
    opt.step();
    const c1 = wg.engineStats().copies;
    opt2.step();
    const c2 = wg.engineStats().copies;
    expect(c1 - c0).toBe(0);
    expect(c2 - c1).toBe(copied.parameters().length);
    const valuesOf = async (m: wg.nn.Sequential) => Promise.all(m.parameters().map(async (p) => Array.from(await p.toArray())));
    expect(await valuesOf(slotted)).toEqual(await valuesOf(copied));
    opt.dispose();
    opt2.dispose();
  });

  test('a gradient set aside (or a view of it) keeps its values when the next backward and step write the slot', async () => {
    const m = net();
    const opt = new wg.optim.Adam(m.parameters(), { lr: 0.01 });
    backward(m, 1);
    opt.step(); // the parameters move, so the next gradients differ
    const first = await grads(m);
    const ps = m.parameters();
    // parameter 0: its .grad set aside as it is; parameter 1: a view of it kept, the .grad disposed
    const kept = ps[0]!.grad!;
    ps[0]!.grad = null;
    const view = wg.keep(ps[1]!.grad!.reshape([-1]));
    opt.zeroGrad();
    backward(m, 1);
    opt.step();
    expect(Array.from(await kept.toArray())).toEqual(first[0]);
    expect(Array.from(await view.toArray())).toEqual(first[1]);
    const second = await grads(m);
    expect(second[0]).not.toEqual(first[0]);
    kept.dispose();
    view.dispose();
    opt.dispose();
    // a gradient the sweep cannot write into the slot (w twice in one op): the step copies it
    // there, and a .grad set aside from the slot before keeps its values
    const lin = new wg.nn.Linear(3, 2);
    const o2 = new wg.optim.SGD(lin.parameters(), { lr: 0.1 });
    const xin = toGpu(randCpu(rng(5), [4, 3]));
    wg.scope(() => lin.forward(xin).sum().backward());
    const w = lin.weight;
    const aside = w.grad!;
    const asideValues = Array.from(await aside.toArray());
    w.grad = null;
    wg.scope(() => w.mul(w).sum().backward());
    o2.step();
    expect(Array.from(await aside.toArray())).toEqual(asideValues);
    expect(Array.from(await w.grad!.toArray())).not.toEqual(asideValues);
    aside.dispose();
    xin.dispose();
    o2.dispose();
  });

  test('a slot keeps no trace of the gradients it held in earlier steps (the JS heap stays flat)', async () => {
    // every backward makes a new tensor on each slot; each slot's holders once kept a ref to every
    // one of them (16 refs a step in the R1 step, ~0.9 KB of heap a step that no GC freed)
    const m = net();
    const opt = new wg.optim.Adam(m.parameters(), { lr: 0.01 });
    const held = () => Math.max(...m.parameters().map((p) => slotHolderCount(p)));
    for (let i = 0; i < 150; i++) {
      opt.zeroGrad();
      backward(m, 1);
      opt.step();
    }
    await wg.sync();
    expect(held()).toBeLessThanOrEqual(16);
    // what the sweeps keep: the live .grad on each slot, and a gradient set aside stays readable
    const p0 = m.parameters()[0]!;
    const aside = p0.grad!;
    p0.grad = null;
    const values = Array.from(await aside.toArray());
    for (let i = 0; i < 40; i++) {
      opt.zeroGrad();
      backward(m, 1);
      opt.step();
    }
    expect(Array.from(await aside.toArray())).toEqual(values);
    expect(held()).toBeLessThanOrEqual(16);
    aside.dispose();
    opt.dispose();
  });

  test('a second backward adds to the gradients in the slots, and a disposed optimiser leaves them readable', async () => {
    const { slotted, opt } = await slottedLikePlain(2);
    const before = await grads(slotted);
    opt.dispose();
    expect(await grads(slotted)).toEqual(before);
    opt.zeroGrad();
    expect(slotted.parameters().every((p) => p.grad === null)).toBe(true);
  });

  // Random programs over layers and raw parameters: a parameter used twice in one op, through views,
  // in several ops, behind batchnorm and the convolutions; a gradient set beforehand, one set aside,
  // a retained graph's second backward, accumulation over two backwards. With an optimiser's slots
  // the gradients must be those without, to the bit.
  test('random programs: every gradient, kept or set aside, equals the one made without an optimiser', async () => {
    const { Linear, Conv2d, ConvTranspose2d, BatchNorm1d, LayerNorm, Embedding } = wg.nn;
    const model = (seed: number) => {
      wg.manualSeed(seed);
      const lin = new Linear(6, 6);
      const conv = new Conv2d(2, 2, 3, { padding: 1 });
      const convT = new ConvTranspose2d(2, 2, 4, { stride: 2, padding: 1 });
      const bn = new BatchNorm1d(6);
      const ln = new LayerNorm(6);
      const emb = new Embedding(5, 6);
      const raw = wg.randn([6, 6], { requiresGrad: true });
      const vec = wg.randn([6], { requiresGrad: true });
      const idx = wg.tensor([3, 0, 3, 4]);
      return {
        lin,
        conv,
        convT,
        bn,
        ln,
        emb,
        raw,
        vec,
        idx,
        params: [...lin.parameters(), ...conv.parameters(), ...convT.parameters(), ...bn.parameters(), ...ln.parameters(), ...emb.parameters(), raw, vec],
      };
    };
    type M = ReturnType<typeof model>;
    const op = (m: M, kind: number, a: wg.Tensor, b: wg.Tensor): wg.Tensor => {
      switch (kind) {
        case 0:
          return m.lin.forward(a);
        case 1:
          return a.matmul(m.raw);
        case 2:
          return a.add(m.vec);
        case 3:
          return a.mul(b);
        case 4:
          return a.matmul(m.raw.mul(m.raw)); // one parameter twice in one op
        case 5:
          return m.bn.forward(a);
        case 6: {
          const img = a.reshape([4, 2, 3, 1]);
          return m.conv
            .forward(wg.concat([img, img, img], 3))
            .reshape([4, 18])
            .matmul(wg.ones([18, 6]))
            .add(a);
        }
        case 7:
          return m.convT
            .forward(a.reshape([4, 2, 3, 1]))
            .reshape([4, 24])
            .matmul(wg.ones([24, 6]))
            .mul(0.1)
            .add(a);
        case 8:
          return a.matmul(m.raw.reshape([36]).reshape([6, 6])).add(m.lin.weight.sum()); // views; lin.weight in a second op
        case 9:
          return m.ln.forward(a.add(b));
        case 10:
          return a.add(m.emb.forward(m.idx)); // a repeated index: rows of the table's gradient add up
        default:
          return wg.tanh(a.add(b));
      }
    };
    const run = async (seed: number, withOptimiser: boolean): Promise<Array<number[] | null>> => {
      const r = rng(seed);
      const ops = Array.from({ length: 3 + Math.floor(r() * 5) }, () => [Math.floor(r() * 12), Math.floor(r() * 100), Math.floor(r() * 100)] as const);
      const [preset, retain, twice, setAside, zeroBetween] = [r() < 0.25, r() < 0.3, r() < 0.4, r() < 0.3, r() < 0.3];
      const m = model(seed);
      const opt = withOptimiser ? new wg.optim.Adam(m.params, { lr: 0.01 }) : null;
      const x = toGpu(randCpu(r, [4, 6]));
      const loss = () => {
        const pool = [x];
        for (const [k, i, j] of ops) pool.push(op(m, k, pool[i % pool.length]!, pool[j % pool.length]!));
        return pool.at(-1)!.add(m.vec.mul(0.5)).square().mean();
      };
      if (preset) {
        m.params[0]!.grad = wg.keep(wg.ones(m.params[0]!.shape));
        m.vec.grad = wg.keep(wg.full([6], 2));
      }
      wg.scope(() => {
        const l = loss();
        if (retain) l.backward(undefined, { retainGraph: true });
        l.backward();
      });
      const aside = setAside ? m.params.map((p) => p.grad) : [];
      if (setAside) for (const p of m.params) p.grad = null;
      if (twice) {
        if (zeroBetween && !setAside)
          opt
            ? opt.zeroGrad()
            : m.params.forEach((p) => {
                p.grad?.dispose();
                p.grad = null;
              });
        wg.scope(() => loss().backward());
      }
      const out = await Promise.all([...m.params.map((p) => p.grad), ...aside].map(async (g) => (g ? Array.from(await g.toArray()) : null)));
      opt?.dispose();
      for (const t of [x, ...m.params, ...m.params.map((p) => p.grad), ...aside, ...m.bn.namedBuffers().map(([, t]) => t)]) t?.dispose();
      return out;
    };
    for (let seed = 1; seed <= 24; seed++) expect(await run(seed, true), `seed ${seed}`).toEqual(await run(seed, false));
  });
});
