// wg.capture: a replayed step equals the eager step to the bit (random noise, dropout, batchnorm,
// Adam's step count, an lr change), creates no bind group and no buffer, keeps memory flat, and
// refuses what it cannot replay with a WgslgradError after which the library keeps working.
import { describe, expect, test } from 'vitest';
import { gpuState } from '../src/gpu/device.js';
import * as wg from '../src/index.js';
import { collectGarbage, expectNoGrowth, rng } from './helpers.js';

const B = 6;
const IN = 10;

/** A small classifier with every kind of per-step state: noise, dropout, batchnorm, Adam. */
function setup(seed: number) {
  wg.manualSeed(seed);
  const { nn } = wg;
  const model = new nn.Sequential(new nn.Linear(IN, 16), new nn.BatchNorm1d(16), new nn.LeakyReLU(0.2), new nn.Dropout(0.3), new nn.Linear(16, 1));
  const opt = new wg.optim.Adam(model.parameters(), { lr: 0.01, betas: [0.5, 0.999] });
  const target = wg.keep(
    wg.tensor(
      Float32Array.from({ length: B }, (_, i) => i % 2),
      [B, 1],
    ),
  );
  const step = (x: wg.Tensor) => {
    opt.zeroGrad();
    const noisy = x.add(wg.randn(x.shape, {}, 0, 0.1));
    const loss = wg.bceWithLogits(model.forward(noisy), target);
    loss.backward();
    opt.step();
    return { loss, out: wg.noGrad(() => wg.sigmoid(loss)) };
  };
  return { model, opt, step };
}

const batches = (n: number) => {
  const r = rng(42);
  return Array.from({ length: n }, () => Float32Array.from({ length: B * IN }, () => r() * 2 - 1));
};

/** The library still computes after an error. */
const ok = async () =>
  expect(
    await wg
      .tensor([1, 2])
      .add(wg.tensor([3, 4]))
      .toArray(),
  ).toEqual(new Float32Array([4, 6]));

async function paramsOf(m: wg.nn.Module): Promise<number[][]> {
  return Promise.all([...m.parameters()].map(async (p) => Array.from(await p.toArray())));
}

describe('wg.capture', () => {
  test('5 replayed steps equal 5 eager steps to the bit: losses, parameters, running statistics (noise, dropout, Adam, an lr change)', async () => {
    const data = batches(6);
    const eager = setup(3);
    const eagerLosses: number[] = [];
    for (let s = 0; s < 6; s++) {
      if (s === 4) eager.opt.lr = 0.003;
      wg.manualSeed(100 + s);
      const l = wg.scope(() => wg.keep(eager.step(wg.tensor(data[s]!, [B, IN])).loss));
      eagerLosses.push(await l.item());
      l.dispose();
    }
    const replayed = setup(3);
    const step = wg.capture(replayed.step);
    const losses: number[] = [];
    const x0 = wg.tensor(data[0]!, [B, IN]);
    wg.manualSeed(100);
    const first = step(x0);
    losses.push(await first.loss.item());
    expect(step.captured).toBe(true);
    for (let s = 1; s < 6; s++) {
      if (s === 4) replayed.opt.lr = 0.003;
      wg.manualSeed(100 + s);
      const r = step(data[s]!);
      expect(r).toBe(first); // the same result, holding the replay's values
      losses.push(await r.loss.item());
    }
    expect(step.replays).toBe(5);
    expect(losses).toEqual(eagerLosses);
    expect(new Set(losses).size).toBe(6); // the steps did differ
    expect(await paramsOf(replayed.model)).toEqual(await paramsOf(eager.model));
    const stats = (m: wg.nn.Module) => Promise.all([...m.namedBuffers()].map(async ([, t]) => Array.from(await t.toArray())));
    expect(await stats(replayed.model)).toEqual(await stats(eager.model));
    expect(replayed.opt.stateDict().step).toBe(6);
    // a replay given a tensor copies it in; one given the captured input itself copies nothing
    wg.manualSeed(7);
    const a = await step(wg.tensor(data[0]!, [B, IN])).loss.item();
    wg.manualSeed(7);
    x0.copy_(wg.tensor(data[0]!, [B, IN]));
    const b = await step(x0).loss.item();
    expect(a).not.toBe(b); // Adam moved on between them
    expect(Number.isFinite(a) && Number.isFinite(b)).toBe(true);
    step.dispose();
    expect(() => step(data[0]!)).toThrow(/captured step was disposed/);
  });

  test('replays create no bind group and no buffer, and memory stays flat over 1,000 replays', async () => {
    const { step: fn, opt } = setup(5);
    const step = wg.capture(fn);
    const data = batches(2);
    const x0 = wg.tensor(data[0]!, [B, IN]);
    step(x0);
    step(data[1]!);
    await wg.sync();
    // disposed here rather than left to the garbage collector, whose finalizer could free it in the
    // middle of the loop below and move its bytes from live to pooled
    x0.dispose();
    await collectGarbage();
    const { device } = gpuState();
    const made = { bindGroups: 0 };
    const orig = device.createBindGroup.bind(device);
    device.createBindGroup = (d: GPUBindGroupDescriptor) => {
      made.bindGroups++;
      return orig(d);
    };
    const before = wg.memory();
    const stats0 = wg.engineStats();
    try {
      for (let i = 0; i < 1000; i++) {
        step(data[i % 2]!);
        if (i % 100 === 99) await wg.sync();
      }
      await wg.sync();
    } finally {
      device.createBindGroup = orig;
    }
    const stats1 = wg.engineStats();
    expect(made.bindGroups).toBe(0);
    expect(stats1.created).toBe(stats0.created);
    expect(stats1.dispatches - stats0.dispatches).toBe(1000 * step.dispatches);
    expectNoGrowth(before);
    expect(Number.isFinite(await step(data[0]!).loss.item())).toBe(true);
    step.dispose();
    opt.dispose();
  });

  test('refuses what it cannot replay, naming it, and the library keeps working', async () => {
    const x = wg.tensor(new Float32Array(B * IN), [B, IN]);
    expect(() => wg.capture((t: wg.Tensor) => t.add(wg.tensor(new Float32Array(B * IN), [B, IN])))(x)).toThrow(/tensor: host data uploaded.*captured step/);
    await ok();
    expect(() =>
      wg.capture((t: wg.Tensor) => {
        void t
          .sum()
          .toArray()
          .catch(() => undefined);
        return t.mul(2);
      })(x),
    ).toThrow(/readback: a readback \(toArray, item\), inside a captured step/);
    await ok();
    expect(() =>
      wg.capture((t: wg.Tensor) => {
        wg.manualSeed(1);
        return t.mul(2);
      })(x),
    ).toThrow(/manualSeed: the generator reseeded/);
    await ok();
    expect(() => wg.capture((t: wg.Tensor) => t.mul(2))(new Float32Array(3) as unknown as wg.Tensor)).toThrow(
      /input 0 is a Float32Array; the first call captures/,
    );
    expect(() => wg.capture(() => Promise.resolve(1))()).toThrow(/returned a Promise/);
    expect(() => wg.capture(42 as unknown as () => void)).toThrow(/capture: expected a function, got number/);
    await ok();
    // a step that throws while it is captured: the error comes through, nothing is left capturing
    const failing = wg.capture((t: wg.Tensor) => t.matmul(wg.zeros([3, 3])));
    expect(() => failing(x)).toThrow(/matmul: inner dims differ/);
    expect(failing.captured).toBe(false);
    const doubled = wg.capture((t: wg.Tensor) => ({ y: t.mul(2) }));
    const xs = wg.tensor(
      Float32Array.from({ length: B * IN }, (_, i) => i),
      [B, IN],
    );
    const { y } = doubled(xs);
    expect((await y.toArray())[5]).toBe(10);
    doubled(Float32Array.from({ length: B * IN }, (_, i) => -i));
    expect((await y.toArray())[5]).toBe(-10);
    doubled.dispose();
    expect(y.disposed).toBe(true);
    await ok();

    const { step: fn, opt } = setup(9);
    const step = wg.capture(fn);
    step(x);
    expect(() => step(wg.zeros([B, IN + 1]))).toThrow(/input 0 has shape \[6,11\]; the step was captured with \[6,10\]/);
    expect(() => step(new Float32Array(5))).toThrow(/input 0 holds 5 values; the step was captured with \[6,10\] \(60 values\)/);
    expect(() => (step as unknown as () => void)()).toThrow(/captured with 1 inputs, got 0/);
    expect(() => wg.capture((t: wg.Tensor) => step(t))(x)).toThrow(/called inside another capture/);
    await ok();
    step(x); // still replays
    await ok();
    opt.dispose(); // its gradient and state buffers go back to the pool
    expect(() => step(x)).toThrow(/made outside the captured step and used by it .* was disposed since the capture/);
    await ok();
    step.dispose();
    await ok();
  });

  // without timestamp queries profileKernels times nothing and runs its function as it is: a replay is then allowed
  test.skipIf(!gpuState().hasTimestamps)('refuses a replay inside profileKernels, and the library keeps working (needs timestamp queries)', async () => {
    const { step: fn } = setup(10);
    const step = wg.capture(fn);
    const x = wg.randn([B, IN], { seed: 5 });
    step(x);
    await expect(wg.profileKernels(() => step(x))).rejects.toThrow(/a replay inside profileKernels/);
    await ok();
    step(x);
    step.dispose();
    await ok();
  });

  test('a GPU error in a replay (a buffer destroyed behind the library) surfaces at the next sync, and the library keeps working', async () => {
    const doubled = wg.capture((t: wg.Tensor) => ({ y: t.mul(2) }));
    const { y } = doubled(wg.tensor(new Float32Array(B * IN).fill(1), [B, IN]));
    expect((await y.toArray())[0]).toBe(2);
    // what check() cannot see: the output's buffer destroyed from outside, as a driver might lose it
    (y as unknown as { storage: { buffer: GPUBuffer } }).storage.buffer.destroy();
    doubled(new Float32Array(B * IN).fill(3));
    await expect(wg.sync()).rejects.toThrow(/gpu: .*used in submit while destroyed/);
    doubled.dispose();
    wg.emptyPool(); // the destroyed buffer went back to the pool with the capture's; drop them all
    await ok();
  });
});
