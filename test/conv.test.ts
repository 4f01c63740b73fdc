import { describe, expect, onTestFinished, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import { deviceFacts } from '../src/gpu/device.js';
import * as wg from '../src/index.js';
import { expectClose, expectError, gradcheck, randCpu, randInt, rng, toGpu, variantsOn } from './helpers.js';

interface Cfg {
  N: number;
  CI: number;
  CO: number;
  H: number;
  W: number;
  K: [number, number];
  s: number;
  p: number;
  op: number;
}

function configs(seed: number, count: number, transposed: boolean): Cfg[] {
  const r = rng(seed);
  const fixed: Cfg[] = [
    { N: 1, CI: 1, CO: 1, H: 5, W: 5, K: [3, 3], s: 1, p: 0, op: 0 },
    { N: 2, CI: 3, CO: 5, H: 7, W: 6, K: [4, 4], s: 2, p: 1, op: transposed ? 1 : 0 }, // DCGAN-style k4 s2 p1, non-square
    { N: 1, CI: 3, CO: 2, H: 4, W: 9, K: [3, 2], s: 2, p: 2, op: 0 },
    { N: 3, CI: 1, CO: 3, H: 6, W: 6, K: [5, 5], s: 1, p: 2, op: 0 },
  ];
  for (let i = 0; i < count; i++) {
    const s = randInt(r, 1, 2);
    const K: [number, number] = [randInt(r, 1, 4), randInt(r, 1, 4)];
    const p = randInt(r, 0, Math.min(2, K[0] - 1, K[1] - 1));
    fixed.push({
      N: randInt(r, 1, 3),
      CI: [1, 3, 4][randInt(r, 0, 2)]!,
      CO: randInt(r, 1, 9),
      H: randInt(r, K[0], 9),
      W: randInt(r, K[1], 9),
      K,
      s,
      p,
      op: transposed && s > 1 ? randInt(r, 0, 1) : 0,
    });
  }
  return fixed;
}

describe('conv2d against the CPU reference', () => {
  test('forward on random configurations (stride 1/2, padding 0-2, non-square, batch 1, channels 1 and 3)', async () => {
    const r = rng(31);
    for (const c of configs(31, 8, false)) {
      const x = randCpu(r, [c.N, c.CI, c.H, c.W]);
      const w = randCpu(r, [c.CO, c.CI, ...c.K]);
      const b = randCpu(r, [c.CO]);
      const opts = { stride: c.s, padding: c.p };
      await expectClose(wg.conv2d(toGpu(x), toGpu(w), toGpu(b), opts), cpu.conv2d(x, w, b, opts), 1e-4, 1e-5, JSON.stringify(c));
      await expectClose(wg.conv2d(toGpu(x), toGpu(w), null, opts), cpu.conv2d(x, w, null, opts), 1e-4, 1e-5, JSON.stringify(c));
    }
  });
  test('input, weight and bias gradients by finite differences', async () => {
    const r = rng(32);
    for (const c of configs(32, 3, false)) {
      const opts = { stride: c.s, padding: c.p };
      await gradcheck(
        (x, w, b) => wg.conv2d(x, w, b, opts),
        (x, w, b) => cpu.conv2d(x, w, b, opts),
        [randCpu(r, [c.N, c.CI, c.H, c.W]), randCpu(r, [c.CO, c.CI, ...c.K]), randCpu(r, [c.CO])],
      );
    }
  });
  test("a larger layer (the DCGAN discriminator's second conv) matches", async () => {
    const r = rng(33);
    const x = randCpu(r, [4, 64, 14, 14]);
    const w = randCpu(r, [128, 64, 4, 4], -0.1, 0.1);
    await expectClose(wg.conv2d(toGpu(x), toGpu(w), null, { stride: 2, padding: 1 }), cpu.conv2d(x, w, null, { stride: 2, padding: 1 }), 1e-4, 1e-4);
  });
});

// the software adapters' row kernels for 4-wide convs and 4×4 stride-2 transposed convs to few channels
const CONV_ROWS = ['software/conv_rows.forward_rows', 'software/conv_transpose_rows.main_few'];

describe.each(['on', 'off'] as const)('conv2d with conv_rows %s (4-wide kernels on software adapters)', (mode) => {
  // [N, CI, CO, H, W, KH, stride, padding]: output widths 7, 14, 6, 5, 11 (no divisor: 7-pixel
  // blocks past the row's end), 3 and 1; strides 1-3; windows past both ends of the input; 8-15
  // channels (8-row blocks); an input whose size is not a multiple of 4 floats
  const shapes: Array<[number, number, number, number, number, number, number, number]> = [
    [2, 5, 16, 14, 14, 4, 2, 1],
    [1, 3, 12, 28, 28, 4, 2, 1],
    [3, 4, 9, 9, 14, 3, 2, 2],
    [1, 2, 20, 6, 8, 4, 1, 1],
    [2, 3, 8, 7, 12, 2, 2, 0],
    [1, 1, 17, 5, 25, 4, 2, 0],
    [2, 3, 24, 7, 9, 4, 3, 1],
    [1, 2, 8, 4, 4, 1, 2, 0],
    [3, 7, 13, 5, 3, 4, 1, 1],
  ];
  test('forward against the CPU reference: output widths, strides, padding, bias with a fused activation', async () => {
    const restore = wg.internal.setTuning(variantsOn(CONV_ROWS, mode));
    onTestFinished(restore);
    const r = rng(36);
    for (const [N, CI, CO, H, W, KH, s, p] of shapes) {
      const x = randCpu(r, [N, CI, H, W]);
      const w = randCpu(r, [CO, CI, KH, 4]);
      const b = randCpu(r, [CO]);
      const c = JSON.stringify({ N, CI, CO, H, W, KH, s, p, mode });
      await expectClose(wg.conv2d(toGpu(x), toGpu(w), null, { stride: s, padding: p }), cpu.conv2d(x, w, null, { stride: s, padding: p }), 1e-4, 1e-5, c);
      const fused = wg.conv2d(toGpu(x), toGpu(w), toGpu(b), { stride: s, padding: p, activation: 'leakyRelu', slope: 0.2 });
      await expectClose(fused, cpu.leakyRelu(cpu.conv2d(x, w, b, { stride: s, padding: p }), 0.2), 1e-4, 1e-5, `${c} + bias + leakyRelu`);
    }
    // which kernel ran (forward_rows shares rows through subgroups: only where the device has them)
    const x = toGpu(randCpu(r, [2, 4, 14, 14])),
      w = toGpu(randCpu(r, [16, 4, 4, 4]));
    const kernels = wg.traceKernels(() => {
      wg.scope(() => {
        wg.conv2d(x, w, null, { stride: 2, padding: 1 });
      });
    });
    expect(kernels).toContain(mode === 'on' && deviceFacts().subgroupShare ? 'software/conv_rows.forward_rows' : 'conv.forward');
  });
  test("gradients by finite differences, and a transposed conv's input gradient (the same kernel)", async () => {
    const restore = wg.internal.setTuning(variantsOn(CONV_ROWS, mode));
    onTestFinished(restore);
    const r = rng(37);
    const opts = { stride: 2, padding: 1 };
    await gradcheck(
      (x, w, b) => wg.conv2d(x, w, b, opts),
      (x, w, b) => cpu.conv2d(x, w, b, opts),
      [randCpu(r, [2, 2, 6, 6]), randCpu(r, [8, 2, 4, 4]), randCpu(r, [8])],
    );
    // convTranspose2d [2, 8, 3, 3] → [2, 2, 6, 6]: its input gradient is a conv of the output gradient with 8 output channels
    await gradcheck(
      (x, w) => wg.convTranspose2d(x, w, null, opts),
      (x, w) => cpu.convTranspose2d(x, w, null, opts),
      [randCpu(r, [2, 8, 3, 3]), randCpu(r, [8, 2, 4, 4])],
    );
  });
});

/**
 * convTranspose2d (4×4, stride 2) on [N, CI, CO, H, W, padding, outputPadding] shapes against the CPU
 * reference, without bias and with bias and a fused activation; then which kernel a
 * [2, CI, 7, 7] → CO layer ran.
 */
async function convTransposeForwardCase(
  seed: number,
  mode: string,
  shapes: Array<[number, number, number, number, number, number, number]>,
  activation: 'tanh' | 'relu',
  probe: { CI: number; CO: number; kernel: string },
): Promise<void> {
  const r = rng(seed);
  const act = activation === 'tanh' ? cpu.tanh : cpu.relu;
  for (const [N, CI, CO, H, W, p, op] of shapes) {
    const x = randCpu(r, [N, CI, H, W]);
    const w = randCpu(r, [CI, CO, 4, 4]);
    const b = randCpu(r, [CO]);
    const opts = { stride: 2, padding: p, outputPadding: op };
    const c = JSON.stringify({ N, CI, CO, H, W, p, op, mode });
    await expectClose(wg.convTranspose2d(toGpu(x), toGpu(w), null, opts), cpu.convTranspose2d(x, w, null, opts), 1e-4, 1e-5, c);
    const fused = wg.convTranspose2d(toGpu(x), toGpu(w), toGpu(b), { ...opts, activation });
    await expectClose(fused, act(cpu.convTranspose2d(x, w, b, opts)), 1e-4, 1e-5, `${c} + bias + ${activation}`);
  }
  const x = toGpu(randCpu(r, [2, probe.CI, 7, 7])),
    w = toGpu(randCpu(r, [probe.CI, probe.CO, 4, 4]));
  const kernels = wg.traceKernels(() => {
    wg.scope(() => {
      wg.convTranspose2d(x, w, null, { stride: 2, padding: 1 });
    });
  });
  expect(kernels).toContain(probe.kernel);
}

describe.each(['on', 'off'] as const)('convTranspose2d to 1-4 channels with main_few %s (4×4, stride 2, software adapters)', (mode) => {
  // [N, CI, CO, H, W, padding, outputPadding]: 1-4 output channels; padding 0-3 (blocks that start
  // above and left of the output); an output 80 wide (3 column blocks), 1 × 1 and odd sizes
  const shapes: Array<[number, number, number, number, number, number, number]> = [
    [2, 6, 1, 7, 7, 1, 0],
    [1, 3, 3, 5, 6, 0, 1],
    [2, 5, 4, 4, 9, 2, 0],
    [1, 2, 2, 6, 40, 1, 1],
    [3, 4, 1, 1, 1, 0, 0],
    [1, 9, 2, 3, 5, 3, 1],
  ];
  test('forward against the CPU reference, with bias and a fused tanh', async () => {
    const restore = wg.internal.setTuning(variantsOn(CONV_ROWS, mode));
    onTestFinished(restore);
    await convTransposeForwardCase(44, mode, shapes, 'tanh', {
      CI: 8,
      CO: 1,
      kernel: mode === 'on' ? 'software/conv_transpose_rows.main_few' : 'conv_transpose.main',
    });
  });
  test("gradients by finite differences, and a 1-channel conv's input gradient (the same kernel)", async () => {
    const restore = wg.internal.setTuning(variantsOn(CONV_ROWS, mode));
    onTestFinished(restore);
    const r = rng(45);
    const opts = { stride: 2, padding: 1 };
    await gradcheck(
      (x, w, b) => wg.convTranspose2d(x, w, b, opts),
      (x, w, b) => cpu.convTranspose2d(x, w, b, opts),
      [randCpu(r, [2, 3, 4, 5]), randCpu(r, [3, 1, 4, 4]), randCpu(r, [1])],
    );
    // conv2d [2, 1, 8, 8] → [2, 4, 4, 4]: its input gradient is a transposed conv to 1 channel
    await gradcheck(
      (x, w) => wg.conv2d(x, w, null, opts),
      (x, w) => cpu.conv2d(x, w, null, opts),
      [randCpu(r, [2, 1, 8, 8]), randCpu(r, [4, 1, 4, 4])],
    );
  });
});

describe.each(['on', 'off'] as const)('convTranspose2d to 8 or more channels with main_rows %s (4×4, stride 2, software adapters)', (mode) => {
  // [N, CI, CO, H, W, padding, outputPadding]: channels not a multiple of 8 (a workgroup's last
  // lanes clamped), padding 0-3 of both parities, output widths below 8, of 14 (one block), of 28
  // and of 13 (a block past the row's end), odd heights (the two row parities unequal), 1 × 1
  const shapes: Array<[number, number, number, number, number, number, number]> = [
    [2, 5, 16, 7, 7, 1, 0],
    [1, 3, 8, 14, 14, 1, 0],
    [2, 4, 12, 7, 9, 2, 1],
    [1, 6, 9, 3, 2, 0, 1],
    [3, 2, 20, 1, 1, 0, 0],
    [1, 7, 8, 5, 6, 3, 1],
    [2, 3, 10, 6, 4, 1, 1],
  ];
  test('forward against the CPU reference, with bias and a fused ReLU', async () => {
    const restore = wg.internal.setTuning(variantsOn(['software/conv_transpose_rows.main_rows'], mode));
    onTestFinished(restore);
    // an adapter without subgroups runs `main` either way
    const rows = mode === 'on' && deviceFacts().subgroupShare;
    await convTransposeForwardCase(46, mode, shapes, 'relu', {
      CI: 8,
      CO: 16,
      kernel: rows ? 'software/conv_transpose_rows.main_rows' : 'conv_transpose.main',
    });
  });
  test("gradients by finite differences, and a conv's input gradient to 8 channels (the same kernel)", async () => {
    const restore = wg.internal.setTuning(variantsOn(['software/conv_transpose_rows.main_rows'], mode));
    onTestFinished(restore);
    const r = rng(47);
    const opts = { stride: 2, padding: 1 };
    await gradcheck(
      (x, w, b) => wg.convTranspose2d(x, w, b, opts),
      (x, w, b) => cpu.convTranspose2d(x, w, b, opts),
      [randCpu(r, [2, 3, 3, 4]), randCpu(r, [3, 8, 4, 4]), randCpu(r, [8])],
    );
    // conv2d [2, 8, 6, 6] → [2, 3, 3, 3]: its input gradient is a transposed conv to 8 channels
    await gradcheck(
      (x, w) => wg.conv2d(x, w, null, opts),
      (x, w) => cpu.conv2d(x, w, null, opts),
      [randCpu(r, [2, 8, 6, 6]), randCpu(r, [3, 8, 4, 4])],
    );
  });
});

describe.each(['on', 'off'] as const)('conv weight gradients as one GEMM %s (software adapters)', (mode) => {
  // conv2dBackward / convTranspose2dBackward are the CPU reference; [N, CI, CO, H, W, KH, KW, s, p]:
  // batch 1 (no swap), non-square kernels, stride 1 and 2, padding past the kernel's reach, K not a
  // multiple of 4, and 1-channel inputs
  const shapes: Array<[number, number, number, number, number, number, number, number, number]> = [
    [2, 3, 5, 7, 6, 4, 4, 2, 1],
    [1, 4, 2, 5, 5, 3, 2, 1, 0],
    [3, 1, 6, 9, 7, 4, 3, 2, 2],
    [2, 5, 3, 6, 5, 2, 2, 1, 1],
    [1, 2, 4, 4, 4, 1, 1, 1, 0],
  ];
  test('weight gradients of conv2d and convTranspose2d against the CPU reference, and one accumulated over two uses', async () => {
    const restore = wg.internal.setTuning(variantsOn(['software/conv_cols.columns'], mode));
    onTestFinished(restore);
    const r = rng(52);
    for (const [N, CI, CO, H, W, KH, KW, s, p] of shapes) {
      for (const transposed of [false, true]) {
        const x = randCpu(r, [N, CI, H, W]);
        const w = randCpu(r, transposed ? [CI, CO, KH, KW] : [CO, CI, KH, KW]);
        const opts = { stride: s, padding: p };
        const gw = toGpu(w, true);
        const y = transposed ? wg.convTranspose2d(toGpu(x), gw, null, opts) : wg.conv2d(toGpu(x), gw, null, opts);
        const g = randCpu(r, [...y.shape]);
        y.backward(toGpu(g));
        const ref = transposed ? cpu.convTranspose2dBackward(x, w, g, opts) : cpu.conv2dBackward(x, w, g, opts);
        await expectClose(gw.grad!, ref.dw, 1e-4, 1e-5, JSON.stringify({ N, CI, CO, H, W, KH, KW, s, p, transposed, mode }));
      }
    }
    // one weight in two convs of a graph: the second weight gradient takes in the first (the GEMM's addend)
    const x1 = randCpu(r, [2, 3, 8, 8]);
    const x2 = randCpu(r, [2, 3, 8, 8]);
    const w = randCpu(r, [4, 3, 4, 4]);
    const opts = { stride: 2, padding: 1 };
    const gw = toGpu(w, true);
    const g1 = randCpu(r, [2, 4, 4, 4]);
    const g2 = randCpu(r, [2, 4, 4, 4]);
    const loss = wg.add(wg.sum(wg.mul(wg.conv2d(toGpu(x1), gw, null, opts), toGpu(g1))), wg.sum(wg.mul(wg.conv2d(toGpu(x2), gw, null, opts), toGpu(g2))));
    loss.backward();
    const want = cpu.add(cpu.conv2dBackward(x1, w, g1, opts).dw, cpu.conv2dBackward(x2, w, g2, opts).dw);
    await expectClose(gw.grad!, want, 1e-4, 1e-5, `accumulated, ${mode}`);
  });
  test('finite differences, and which kernels ran on the R1 discriminator layer', async () => {
    const restore = wg.internal.setTuning(variantsOn(['software/conv_cols.columns'], mode));
    onTestFinished(restore);
    const r = rng(53);
    await gradcheck(
      (x, w) => wg.conv2d(x, w, null, { stride: 2, padding: 1 }),
      (x, w) => cpu.conv2d(x, w, null, { stride: 2, padding: 1 }),
      [randCpu(r, [2, 3, 6, 6]), randCpu(r, [4, 3, 4, 4])],
    );
    const x = toGpu(randCpu(r, [2, 64, 14, 14]));
    const w = toGpu(randCpu(r, [128, 64, 4, 4], -0.1, 0.1), true);
    const names = wg.traceKernels(() => {
      wg.scope(() => {
        wg.sum(wg.conv2d(x, w, null, { stride: 2, padding: 1 })).backward();
      });
    });
    expect(names.includes('software/conv_cols.columns')).toBe(mode === 'on');
    expect(names.includes('conv.weight_grad')).toBe(mode === 'off');
  });
});

describe('convTranspose2d against the CPU reference', () => {
  test('forward on random configurations, output size as PyTorch', async () => {
    const r = rng(41);
    for (const c of configs(41, 8, true)) {
      const x = randCpu(r, [c.N, c.CI, c.H, c.W]);
      const w = randCpu(r, [c.CI, c.CO, ...c.K]);
      const b = randCpu(r, [c.CO]);
      const opts = { stride: c.s, padding: c.p, outputPadding: c.op };
      const got = wg.convTranspose2d(toGpu(x), toGpu(w), toGpu(b), opts);
      expect(got.shape).toEqual([c.N, c.CO, (c.H - 1) * c.s - 2 * c.p + c.K[0] + c.op, (c.W - 1) * c.s - 2 * c.p + c.K[1] + c.op]);
      await expectClose(got, cpu.convTranspose2d(x, w, b, opts), 1e-4, 1e-5, JSON.stringify(c));
    }
  });
  test('input, weight and bias gradients by finite differences', async () => {
    const r = rng(42);
    for (const c of configs(42, 3, true)) {
      const opts = { stride: c.s, padding: c.p, outputPadding: c.op };
      await gradcheck(
        (x, w, b) => wg.convTranspose2d(x, w, b, opts),
        (x, w, b) => cpu.convTranspose2d(x, w, b, opts),
        [randCpu(r, [c.N, c.CI, c.H, c.W]), randCpu(r, [c.CI, c.CO, ...c.K]), randCpu(r, [c.CO])],
      );
    }
  });
  test('the DCGAN generator layer [2,128,7,7] → [2,64,14,14] (k4 s2 p1) matches', async () => {
    const r = rng(43);
    const x = randCpu(r, [2, 128, 7, 7]);
    const w = randCpu(r, [128, 64, 4, 4], -0.1, 0.1);
    await expectClose(
      wg.convTranspose2d(toGpu(x), toGpu(w), null, { stride: 2, padding: 1 }),
      cpu.convTranspose2d(x, w, null, { stride: 2, padding: 1 }),
      1e-4,
      1e-4,
    );
  });
});

describe('CPU backward references (used by the benchmark)', () => {
  test('conv2dBackward and convTranspose2dBackward equal the GPU gradients', async () => {
    const r = rng(51);
    for (const transposed of [false, true]) {
      const x = randCpu(r, [2, 5, 6, 5]);
      const w = randCpu(r, transposed ? [5, 7, 4, 3] : [7, 5, 4, 3]);
      const opts = { stride: 2, padding: 1 };
      const gx = toGpu(x, true),
        gw = toGpu(w, true),
        gb = wg.zeros([7], { requiresGrad: true });
      const y = transposed ? wg.convTranspose2d(gx, gw, gb, opts) : wg.conv2d(gx, gw, gb, opts);
      const g = randCpu(r, [...y.shape]);
      y.backward(toGpu(g));
      const ref = transposed ? cpu.convTranspose2dBackward(x, w, g, opts) : cpu.conv2dBackward(x, w, g, opts);
      await expectClose(gx.grad!, ref.dx, 1e-4, 1e-5, `dx ${transposed}`);
      await expectClose(gw.grad!, ref.dw, 1e-4, 1e-5, `dw ${transposed}`);
      await expectClose(gb.grad!, ref.db, 1e-4, 1e-5, `db ${transposed}`);
    }
  });
});

describe('conv errors', () => {
  test('bad shapes and options name the op', () => {
    expectError(() => wg.conv2d(wg.zeros([1, 3, 8, 8]), wg.zeros([64, 1, 4, 4])), 'conv2d', 'input has 3 channels, weight expects 1 ([64,1,4,4])');
    expectError(() => wg.conv2d(wg.zeros([3, 8, 8]), wg.zeros([4, 3, 3, 3])), 'conv2d', 'input has shape [3,8,8], expected 4-D');
    expectError(() => wg.conv2d(wg.zeros([1, 1, 2, 2]), wg.zeros([1, 1, 3, 3])), 'conv2d', 'smaller than the kernel');
    expectError(() => wg.conv2d(wg.zeros([1, 1, 4, 4]), wg.zeros([1, 1, 3, 3]), null, { stride: 0 }), 'conv2d', 'stride must be an integer ≥ 1');
    expectError(
      () => wg.convTranspose2d(wg.zeros([1, 2, 4, 4]), wg.zeros([2, 3, 4, 4]), null, { stride: 2, outputPadding: 2 }),
      'convTranspose2d',
      'outputPadding 2,2 must be smaller than stride 2,2',
    );
    expectError(() => wg.convTranspose2d(wg.zeros([1, 2, 4, 4]), wg.zeros([2, 3, 4, 4]), wg.zeros([2])), 'convTranspose2d', 'bias has shape [2], expected [3]');
  });
});
