// Bad input of every kind gets a WgslgradError that names what is wrong, and the library keeps
// working after it: each case below is followed by a correct op whose answer is checked.
import { describe, expect, test } from 'vitest';
import { gpuState as gpuStateOf } from '../src/gpu/device.js';
import * as wg from '../src/index.js';
import { collectGarbage, expectNoGrowth } from './helpers.js';

const t = (shape: number[], v = 1) => wg.full(shape, v);
const p = (shape: number[]) => wg.randn(shape, { seed: 7, requiresGrad: true });
const asAny = <T>(v: unknown) => v as T;

/** [what, the bad call, fragments its message must contain] */
const CASES: Array<[string, () => unknown, ...string[]]> = [
  // creation
  ['tensor of strings', () => wg.tensor(asAny(['a', 'b']), [2]), 'tensor', 'element 0 is "a" (string)'],
  ['tensor of null', () => wg.tensor(asAny(null)), 'tensor', 'got null'],
  ['tensor with a wrong length', () => wg.tensor([1, 2, 3], [2, 2]), 'tensor', 'data has 3 values', 'needs 4'],
  ['tensor with a fractional dim', () => wg.tensor([1, 2], [1.5]), 'tensor', 'non-negative integers'],
  ['tensor with NaN under validate', () => wg.tensor([1, Number.NaN], [2], { validate: true }), 'tensor', 'value 1 is NaN'],
  ['zeros of 4 TiB', () => wg.zeros([1 << 20, 1 << 20]), 'zeros', '[1048576,1048576]', 'bytes', "this device's limit"],
  ['zeros over the binding limit', () => wg.zeros([33_554_432 + 1024]), 'zeros', "this device's limit"],
  ['ones with a negative dim', () => wg.ones([2, -1]), 'ones', 'non-negative integers'],
  ['full with a string value', () => wg.full([2], asAny('x')), 'full', 'value must be a number'],
  ['randn with a bad seed', () => wg.randn([2], { seed: -1 }), 'randn', 'seed must be a non-negative integer'],
  ['rand with a shape that is not an array', () => wg.rand(asAny(3)), 'rand', 'shape must be an array'],
  ['manualSeed of a float', () => wg.manualSeed(1.5), 'manualSeed', 'integer'],
  // elementwise and shapes
  ['add of shapes that do not broadcast', () => wg.add(t([2, 3]), t([4])), 'add', 'do not broadcast'],
  ['mul of two numbers', () => wg.mul(asAny(2), asAny(3)), 'mul', 'two numbers'],
  ['sub of a string', () => wg.sub(t([2]), asAny('x')), 'sub', 'second operand must be a Tensor'],
  ['exp of null', () => wg.exp(asAny(null)), 'exp', 'input must be a Tensor'],
  ['relu of an array', () => wg.relu(asAny([1, 2])), 'relu', 'input must be a Tensor'],
  ['leakyRelu with a NaN slope', () => wg.leakyRelu(t([2]), Number.NaN), 'leakyRelu', 'slope must be a finite number'],
  ['reshape to another size', () => t([2, 3]).reshape([4, 2]), 'reshape', '[2,3]', '[4,2]'],
  ['reshape with two -1', () => t([4]).reshape([-1, -1]), 'reshape', 'only one dim may be -1'],
  ['reshape with a non-array', () => t([4]).reshape(asAny(4)), 'reshape', 'shape must be an array'],
  ['transpose out of range', () => t([2, 3]).transpose(0, 5), 'transpose', 'dim 5 out of range'],
  ['sum over a dim twice', () => t([2, 3]).sum([1, 1]), 'sum', 'given twice'],
  ['mean over a missing dim', () => t([2, 3]).mean(3), 'mean', 'dim 3 out of range'],
  ['concat of nothing', () => wg.concat([]), 'concat', 'non-empty array'],
  ['concat of mismatched shapes', () => wg.concat([t([2, 3]), t([3, 3])], 1), 'concat', 'tensors[1] has shape [3,3]'],
  ['concat with a bad dim', () => wg.concat([t([2])], 2), 'concat', 'dim 2 out of range'],
  // matmul and linear
  ['matmul of mismatched inner dims', () => wg.matmul(t([2, 3]), t([4, 5])), 'matmul', '3 vs 4'],
  ['matmul of a vector', () => wg.matmul(t([2]), t([2, 2])), 'matmul', 'expected 2-D'],
  ['matmul of 4-D tensors', () => wg.matmul(t([1, 1, 2, 2]), t([2, 2])), 'matmul', 'expected 2-D [M,K] or batched 3-D'],
  ['batched matmul with other batch sizes', () => wg.matmul(t([2, 2, 2]), t([3, 2, 2])), 'matmul', 'batch sizes differ'],
  ['linear with the wrong features', () => wg.linear(t([2, 3]), t([5, 4])), 'linear', 'input has 3 features', 'weight expects 4'],
  ['linear with a 1-D weight', () => wg.linear(t([2, 3]), t([3])), 'linear', 'weight has shape [3]'],
  ['linear with a wrong bias', () => wg.linear(t([2, 3]), t([5, 3]), t([4])), 'linear', 'bias has shape [4], expected [5]'],
  // convolution
  ['conv2d of a 3-D input', () => wg.conv2d(t([1, 4, 4]), t([2, 1, 3, 3])), 'conv2d', 'expected 4-D'],
  ['conv2d with the wrong channels', () => wg.conv2d(t([1, 3, 8, 8]), t([2, 1, 3, 3])), 'conv2d', 'input has 3 channels', 'weight expects 1'],
  ['conv2d with stride 0', () => wg.conv2d(t([1, 1, 8, 8]), t([2, 1, 3, 3]), null, { stride: 0 }), 'conv2d', 'stride must be an integer ≥ 1'],
  ['conv2d with a negative padding', () => wg.conv2d(t([1, 1, 8, 8]), t([2, 1, 3, 3]), null, { padding: -1 }), 'conv2d', 'padding must be an integer ≥ 0'],
  ['conv2d with a kernel larger than the input', () => wg.conv2d(t([1, 1, 2, 2]), t([2, 1, 3, 3])), 'conv2d', 'smaller than the kernel'],
  ['conv2d with a wrong bias', () => wg.conv2d(t([1, 1, 8, 8]), t([2, 1, 3, 3]), t([3])), 'conv2d', 'bias has shape [3], expected [2]'],
  [
    'convTranspose2d with outputPadding ≥ stride',
    () => wg.convTranspose2d(t([1, 2, 4, 4]), t([2, 1, 3, 3]), null, { stride: 2, outputPadding: 2 }),
    'convTranspose2d',
    'outputPadding 2,2 must be smaller than stride 2,2',
  ],
  [
    'convTranspose2d with a pair of three',
    () => wg.convTranspose2d(t([1, 2, 4, 4]), t([2, 1, 3, 3]), null, { stride: asAny([1, 2, 3]) }),
    'convTranspose2d',
    'stride must be an integer ≥ 1 or a pair',
  ],
  // normalisation, losses, lookups
  ['batchNorm of a 3-D input', () => wg.batchNorm(t([2, 3, 4]), null, null, null, null), 'batchNorm', 'expected [N,C] or [N,C,H,W]'],
  ['batchNorm with a wrong weight', () => wg.batchNorm(t([4, 3]), null, null, t([2]), null), 'batchNorm', 'weight has shape [2], expected [3]'],
  [
    'batchNorm in eval without running stats',
    () => wg.batchNorm(t([4, 3]), null, null, null, null, { training: false }),
    'batchNorm',
    'eval mode needs runningMean and runningVar',
  ],
  ['batchNorm training on one value per channel', () => wg.batchNorm(t([1, 3]), null, null, null, null), 'batchNorm', 'more than one value per channel'],
  ['batchNorm with eps 0', () => wg.batchNorm(t([4, 3]), null, null, null, null, { eps: 0 }), 'batchNorm', 'eps must be positive'],
  ['bce with mismatched targets', () => wg.bce(t([2, 3], 0.5), t([3, 2])), 'bce', 'targets have shape [3,2]'],
  ['bceWithLogits of nothing', () => wg.bceWithLogits(t([0]), t([0])), 'bceWithLogits', 'is empty'],
  ['crossEntropy of 1-D logits', () => wg.crossEntropy(t([3]), t([1])), 'crossEntropy', 'expected [N, C]'],
  ['crossEntropy with wrong targets', () => wg.crossEntropy(t([2, 3]), t([3])), 'crossEntropy', 'target has shape [3], expected [2] (a class index per row)'],
  ['dropout with p = 1', () => wg.dropout(t([2]), 1), 'dropout', 'p must be in [0, 1)'],
  ['embedding of a 1-D table', () => wg.embedding(t([2], 0), t([3])), 'embedding', 'table has shape [3]'],
  ['embedding with indices that require grad', () => wg.embedding(p([2]), t([3, 2])), 'embedding', 'indices cannot require grad'],
  // autograd
  ['backward of a non-scalar without a gradient', () => p([2]).mul(2).backward(), 'backward', 'pass a gradient'],
  [
    'backward with a gradient of another shape',
    () =>
      p([2])
        .mul(2)
        .backward(t([3])),
    'backward',
    "expected the output's [2]",
  ],
  ['backward of a tensor that needs no grad', () => t([1]).backward(), 'backward', 'does not require grad'],
  [
    'backward through a freed graph',
    () => {
      const l = p([2]).square().sum();
      l.backward();
      l.backward();
    },
    'backward',
    'freed by an earlier backward',
    'retainGraph',
  ],
  ['requiresGrad off on an op output', () => (p([2]).mul(2).requiresGrad = false), 'requiresGrad', 'only leaf tensors'],
  ['item of a vector', () => t([2]).item(), 'item', 'tensor has 2 elements'],
  [
    'a disposed tensor used again',
    () => {
      const x = t([2]);
      x.dispose();
      x.add(1);
    },
    'tensor',
    'was disposed',
  ],
  ['copy_ of another shape', () => t([2]).copy_(t([3])), 'copy_', 'source has shape [3], expected [2]'],
  ['scope with an async function', () => wg.scope(asAny(async () => 1)), 'scope', 'returned a Promise'],
  // layers
  ['Conv2d with kernel size 0', () => new wg.nn.Conv2d(1, 2, 0), 'Conv2d', 'kernelSize must be an integer ≥ 1', 'got 0'],
  ['Conv2d with a fractional kernel', () => new wg.nn.Conv2d(1, 2, asAny([3, 1.5])), 'Conv2d', 'kernelSize', '[3,1.5]'],
  ['ConvTranspose2d with stride 0', () => new wg.nn.ConvTranspose2d(1, 2, 4, { stride: 0 }), 'ConvTranspose2d', 'stride must be an integer ≥ 1'],
  ['Linear with 0 inputs', () => new wg.nn.Linear(0, 2), 'Linear', 'inFeatures must be a positive integer'],
  ['Linear with a string', () => new wg.nn.Linear(asAny('3'), 2), 'Linear', 'inFeatures must be a positive integer', '"3"'],
  ['BatchNorm2d of 0 features', () => new wg.nn.BatchNorm2d(0), 'BatchNorm2d', 'numFeatures'],
  ['BatchNorm2d given a 2-D input', () => new wg.nn.BatchNorm2d(3).forward(t([4, 3])), 'BatchNorm2d', 'expected [N,C,H,W]'],
  ['loadStateDict(undefined)', () => new wg.nn.Linear(2, 2).loadStateDict(asAny(undefined)), 'loadStateDict', 'expected an object of named tensors'],
  ['loadStateDict with a missing name', () => new wg.nn.Linear(2, 2).loadStateDict({ weight: t([2, 2]) }), 'loadStateDict', 'missing bias'],
  [
    'loadStateDict with a wrong shape',
    () => new wg.nn.Linear(2, 2).loadStateDict({ weight: t([2, 3]), bias: t([2]) }),
    'loadStateDict',
    'weight has shape [2,3], expected [2,2]',
  ],
  ['loadStateDict with a number', () => new wg.nn.Linear(2, 2).loadStateDict(asAny({ weight: 1, bias: t([2]) })), 'loadStateDict', 'weight is not a Tensor'],
  // optimisers
  ['Adam with lr -1', () => new wg.optim.Adam([p([2])], { lr: -1 }), 'Adam', 'lr must be a number ≥ 0, got -1'],
  ['Adam with betas out of range', () => new wg.optim.Adam([p([2])], { betas: [1, 0.9] }), 'Adam', 'betas must be in [0, 1)'],
  ['Adam with one beta', () => new wg.optim.Adam([p([2])], { betas: asAny([0.9]) }), 'Adam', 'betas must be a pair'],
  ['Adam of no parameters', () => new wg.optim.Adam([]), 'Adam', 'empty parameter list'],
  ['Adam of a non-leaf', () => new wg.optim.Adam([p([2]).mul(2)]), 'Adam', 'not a leaf tensor'],
  ['Adam with null options', () => new wg.optim.Adam([p([2])], asAny(null)), 'Adam', 'options must be an object'],
  ['SGD with nesterov and no momentum', () => new wg.optim.SGD([p([2])], { nesterov: true }), 'SGD', 'nesterov needs momentum > 0'],
  ['SGD with a negative dampening', () => new wg.optim.SGD([p([2])], { dampening: -1 }), 'SGD', 'must be numbers ≥ 0'],
  [
    'step() of a disposed optimiser',
    () => {
      const o = new wg.optim.SGD([p([2])], { lr: 0.1 });
      o.dispose();
      o.step();
    },
    'SGD',
    'step() after dispose()',
  ],
  [
    'Adam lr set negative later',
    () => {
      const o = new wg.optim.Adam([p([2])]);
      o.lr = -2;
      o.step();
    },
    'Adam',
    'lr must be a number ≥ 0, got -2',
  ],
  ['Adam loadStateDict of nothing', () => new wg.optim.Adam([p([2])]).loadStateDict(asAny({})), 'Adam.loadStateDict', 'expected {step, hyper, tensors}'],
  ['gradNorm of a non-tensor', () => wg.nn.utils.gradNorm(asAny([1])), 'gradNorm'],
  // tuning
  ['setTuning of an unknown setting', () => wg.internal.setTuning(asAny({ fast: true })), 'setTuning', 'unknown setting fast'],
  ['setTuning of a bad block', () => wg.internal.setTuning({ plain: { TM: 0, TN: 1, WGX: 1, WGY: 1 } }), 'setTuning', 'plain must be a block'],
];

describe('bad input', () => {
  test(`${CASES.length} bad calls across the API each raise a WgslgradError naming what is wrong, and the library keeps working`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    await wg.init();
    const before = wg.memory().liveBytes;
    for (const [what, fn, ...fragments] of CASES) {
      let err: unknown;
      try {
        let r: unknown;
        wg.scope(() => {
          r = fn();
        });
        await r; // item() and readbacks reject
      } catch (e) {
        err = e;
      }
      expect(err, `${what}: expected a WgslgradError`).toBeInstanceOf(wg.WgslgradError);
      for (const f of fragments) expect((err as Error).message, what).toContain(f);
      // a correct op afterwards still gives the right answer
      const ok = await wg.scope(() => wg.matmul(wg.tensor([1, 2, 3, 4], [2, 2]), wg.tensor([1, 1, 1, 1], [2, 2])).sum()).item();
      expect(ok, `after ${what}`).toBe(20);
    }
    // rejected calls leave nothing alive (the optimisers rejected above allocated nothing)
    expect(wg.memory().liveBytes - before).toBeLessThan(64 * 1024);
  });

  test('an async bad call (a readback of a bad lookup) rejects naming the index, then reads work', async () => {
    await wg.init();
    const table = wg.randn([3, 2], { seed: 1 });
    await expect(wg.embedding(wg.tensor([0, 7]), table).toArray()).rejects.toThrow('embedding: index 7 is not a row of the table (3 rows');
    await expect(wg.embedding(wg.tensor([-1]), table).toArray()).rejects.toThrow('index -1 is not a row');
    expect(Array.from(await wg.embedding(wg.tensor([2]), table).toArray()).every(Number.isFinite)).toBe(true);
  });
});

describe('device loss and long runs', () => {
  test('the device lost mid-training: the next op names device loss, wg.init() gives a working library, old tensors are refused by name', async () => {
    await wg.init();
    const { gpuState } = await import('../src/gpu/device.js');
    const w = wg.keep(wg.randn([16, 16], { seed: 2, requiresGrad: true }));
    const opt = new wg.optim.Adam([w], { lr: 1e-3 });
    const step = () =>
      wg.scope(() => {
        opt.zeroGrad();
        w.matmul(w).square().mean().backward();
        opt.step();
      });
    step();
    await wg.sync();
    gpuState().device.destroy(); // from outside, as a driver reset would
    let err: unknown;
    try {
      step();
      await wg.sync();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(wg.WgslgradError);
    expect((err as Error).message).toMatch(/device: the GPU device was lost .*call wg.init\(\) again/);
    await wg.init();
    expect(Array.from(await wg.tensor([1, 2]).mul(3).toArray())).toEqual([3, 6]);
    expect(() => w.add(1)).toThrow(/tensor \[16,16\] lives on a GPU device that is gone/);
  });

  test('readbacks leave nothing on the heap: 300 losses read back keep no promise alive', async () => {
    // a Promise.race of each map against device.lost (which never settles) left three promises and
    // their closures on it at every readback, ~0.5 KB a step for the whole run
    await wg.init();
    const { Session } = await import('node:inspector/promises');
    const session = new Session();
    session.connect();
    const livePromises = async (): Promise<number> => {
      await collectGarbage();
      const proto = await session.post('Runtime.evaluate', { expression: 'Promise.prototype', objectGroup: 'count' });
      const found = await session.post('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId! });
      const n = await session.post('Runtime.callFunctionOn', {
        objectId: found.objects.objectId!,
        functionDeclaration: 'function () { return this.length; }',
        returnByValue: true,
      });
      await session.post('Runtime.releaseObject', { objectId: found.objects.objectId! });
      await session.post('Runtime.releaseObjectGroup', { objectGroup: 'count' });
      return n.result.value as number;
    };
    const w = wg.keep(wg.randn([8, 8], { seed: 3, requiresGrad: true }));
    const opt = new wg.optim.Adam([w], { lr: 1e-3 });
    const read = async () => {
      const loss = wg.scope(() => {
        opt.zeroGrad();
        const l = w.square().mean();
        l.backward();
        opt.step();
        return l;
      });
      expect(Number.isFinite(await loss.item())).toBe(true);
      loss.dispose();
    };
    for (let i = 0; i < 20; i++) await read();
    const before = await livePromises();
    for (let i = 0; i < 300; i++) await read();
    const after = await livePromises();
    session.disconnect();
    expect(after - before, `live promises ${before} → ${after}`).toBeLessThan(30);
    expect(gpuStateOf().lostWaiters.size).toBe(0);
    opt.dispose();
    w.dispose();
  });

  test('GPU memory is flat over 1,000 small training steps', async () => {
    await wg.init();
    const m = new wg.nn.Sequential(new wg.nn.Linear(8, 16), new wg.nn.ReLU(), new wg.nn.Linear(16, 1));
    const opt = new wg.optim.Adam(m.parameters(), { lr: 1e-3 });
    const x = wg.keep(wg.randn([32, 8], { seed: 1 }));
    const y = wg.keep(wg.rand([32, 1], { seed: 2 }));
    let at100: ReturnType<typeof wg.memory> | null = null;
    for (let i = 1; i <= 1000; i++) {
      wg.scope(() => {
        opt.zeroGrad();
        wg.bceWithLogits(m.forward(x), y).backward();
        opt.step();
      });
      if (i % 100 === 0) await wg.sync();
      if (i === 100) {
        await collectGarbage();
        at100 = wg.memory();
      }
    }
    expectNoGrowth(at100!);
  });
});
