// The five GAN reports' layers at their own sizes (channels, planes, features; a batch of 8), forward
// and every gradient against the float64 CPU reference's (its analytic backward: finite differences
// of layers this size would take hours), under four tunings: the planner's choice for this adapter,
// every variant for one kind of device on, every one off, and the tiled matmul forced on. These
// are the shapes that reach the specialised kernels (main_rows, main_few, main4, conv_rows,
// dot_rows, vec4 batchnorm, the weight-gradient GEMM): the last test checks that they were reached
// wherever the adapter can run them.
import { afterAll, describe, expect, test } from 'vitest';
import * as cpu from '../src/cpu/index.js';
import { deviceFacts } from '../src/gpu/device.js';
import * as wg from '../src/index.js';
import { expectClose, randCpu, rng, toGpu } from './helpers.js';

// every variant chosen for one kind of device (software adapters, hardware GPUs) turned on or off;
// the ones chosen by shape everywhere (dot_rows, the [N, C] batchnorm, a lane a sum) stay as they are
const choices = wg.internal.allVariants().filter(({ variant }) => variant.where !== 'everywhere');
const every = (mode: 'on' | 'off'): Partial<wg.internal.Tuning> => ({
  variants: Object.fromEntries(choices.map(({ variant }) => [wg.internal.variantId(variant), mode])),
});
const TUNINGS: Record<string, Partial<wg.internal.Tuning>> = {
  planner: {},
  'device variants on': { variants: { ...every('on').variants, 'matmul_tiled.main': 'off' } },
  'device variants off': every('off'),
  'tiled matmul': { variants: { 'matmul_tiled.main': 'on' } },
};
const B = 8;
/** kernels run per tuning, over the whole file */
const ran = new Map<string, Set<string>>(Object.keys(TUNINGS).map((k) => [k, new Set()]));

/** Runs `body` under each tuning, recording the kernels it dispatched. */
async function underEachTuning(body: (tuning: string) => Promise<void>): Promise<void> {
  for (const [name, t] of Object.entries(TUNINGS)) {
    const restore = wg.internal.setTuning(t);
    try {
      let pending: Promise<void> = Promise.resolve();
      for (const k of wg.traceKernels(() => (pending = body(name)))) ran.get(name)!.add(k);
      await pending;
    } finally {
      restore();
    }
  }
}

const lrelu = (t: cpu.CpuTensor, s: number) => cpu.leakyRelu(t, s);
/** g · act'(pre) for the activations the layers fuse (from the pre-activation, or from the output for tanh) */
function throughAct(g: cpu.CpuTensor, pre: cpu.CpuTensor, act: 'leakyRelu' | 'relu' | 'tanh' | null): cpu.CpuTensor {
  if (!act) return g;
  const d = g.data.map((v, i) => {
    const p = pre.data[i]!;
    if (act === 'tanh') return v * (1 - Math.tanh(p) ** 2);
    return p > 0 ? v : act === 'relu' ? 0 : v * 0.2;
  });
  return { shape: g.shape, data: d };
}
const applyAct = (t: cpu.CpuTensor, act: 'leakyRelu' | 'relu' | 'tanh' | null) =>
  act === 'leakyRelu' ? lrelu(t, 0.2) : act === 'relu' ? cpu.relu(t) : act === 'tanh' ? cpu.tanh(t) : t;

/** Tolerance for sums of `k` float32 products of values about 1. */
const atolFor = (k: number) => 2e-5 * Math.sqrt(k);

// [name, CI, CO, H, activation]: k4 s2 p1 convs of R1/R4's discriminators at width 1 and 0.5 (AC-GAN's
// default run), R4's conditional one with the 10 label planes
const CONVS: Array<[string, number, number, number, 'leakyRelu' | null]> = [
  ['D conv1 (R1)', 1, 64, 28, 'leakyRelu'],
  ['D conv2 (R1)', 64, 128, 14, 'leakyRelu'],
  ['D conv1 (cDCGAN)', 11, 64, 28, 'leakyRelu'],
  ['D conv2 (AC-GAN, width 0.5)', 32, 64, 14, null],
];
// [name, CI, CO, H, activation]: the generators' k4 s2 p1 transposed convs
const CONVTS: Array<[string, number, number, number, 'relu' | 'tanh' | null]> = [
  ['G convT1 (R1)', 128, 64, 7, null],
  ['G convT2 (R1)', 64, 1, 14, 'tanh'],
  ['G convT1 (AC-GAN, width 0.5)', 64, 32, 7, null],
  ['G convT2 (AC-GAN, width 0.5)', 32, 1, 14, 'tanh'],
];
// [name, in, out, activation]: the linear layers of the MLP GANs, the DCGAN heads and G's first layer
const LINEARS: Array<[string, number, number, 'leakyRelu' | 'relu' | null]> = [
  ['G fc (R1)', 100, 6272, null],
  ['G fc (AC-GAN, width 0.5, label)', 110, 3136, null],
  ['D head (R1)', 6272, 1, null],
  ['D head + classes (AC-GAN)', 3136, 11, null],
  ['R3 G', 256, 512, 'leakyRelu'],
  ['R3 D', 1024, 512, 'leakyRelu'],
  ['R2 G out', 1024, 784, null],
  ['R5 D in', 794, 256, 'leakyRelu'],
];
// [name, shape, activation]: the generators' batchnorms
const NORMS: Array<[string, number[], 'relu' | null]> = [
  ['G bn1d (R1)', [B, 6272], 'relu'],
  ['G bn2d (R1)', [B, 64, 14, 14], 'relu'],
  ['G bn2d (AC-GAN, width 0.5)', [B, 32, 14, 14], null],
  ['D bn2d (R4)', [B, 128, 7, 7], null],
];

afterAll(() => wg.emptyPool());

describe('the GAN reports’ layers at their sizes', () => {
  for (const [name, CI, CO, H, act] of CONVS) {
    test(`conv2d ${name}: [${B}, ${CI}, ${H}, ${H}] → ${CO}, forward and gradients`, async () => {
      const r = rng(CI * 7 + CO);
      const x = randCpu(r, [B, CI, H, H]),
        w = randCpu(r, [CO, CI, 4, 4], -0.25, 0.25),
        b = randCpu(r, [CO]);
      const opts = { stride: 2, padding: 1 };
      const pre = cpu.conv2d(x, w, b, opts);
      const want = applyAct(pre, act);
      const g = randCpu(r, want.shape);
      const ref = cpu.conv2dBackward(x, w, throughAct(g, pre, act), opts);
      const k = CI * 16;
      await underEachTuning(async (t) => {
        const [gx, gw, gb] = [toGpu(x, true), toGpu(w, true), toGpu(b, true)];
        const y = wg.conv2d(gx, gw, gb, { ...opts, activation: act, slope: 0.2 });
        y.backward(toGpu(g));
        await expectClose(y, want, 1e-4, atolFor(k), `${name} forward, ${t}`);
        await expectClose(gx.grad!, ref.dx, 1e-4, atolFor(CO * 16), `${name} dx, ${t}`);
        await expectClose(gw.grad!, ref.dw, 1e-4, atolFor(B * H * H), `${name} dw, ${t}`);
        await expectClose(gb.grad!, ref.db, 1e-4, atolFor(B * H * H), `${name} db, ${t}`);
      });
    });
  }
  for (const [name, CI, CO, H, act] of CONVTS) {
    test(`convTranspose2d ${name}: [${B}, ${CI}, ${H}, ${H}] → ${CO}, forward and gradients`, async () => {
      const r = rng(CI * 11 + CO);
      const x = randCpu(r, [B, CI, H, H]),
        w = randCpu(r, [CI, CO, 4, 4], -0.25, 0.25),
        b = randCpu(r, [CO]);
      const opts = { stride: 2, padding: 1 };
      const pre = cpu.convTranspose2d(x, w, b, opts);
      const want = applyAct(pre, act);
      const g = randCpu(r, want.shape);
      const ref = cpu.convTranspose2dBackward(x, w, throughAct(g, pre, act), opts);
      await underEachTuning(async (t) => {
        const [gx, gw, gb] = [toGpu(x, true), toGpu(w, true), toGpu(b, true)];
        const y = wg.convTranspose2d(gx, gw, gb, { ...opts, activation: act });
        y.backward(toGpu(g));
        await expectClose(y, want, 1e-4, atolFor(CI * 4), `${name} forward, ${t}`);
        await expectClose(gx.grad!, ref.dx, 1e-4, atolFor(CO * 16), `${name} dx, ${t}`);
        await expectClose(gw.grad!, ref.dw, 1e-4, atolFor(B * H * H), `${name} dw, ${t}`);
        await expectClose(gb.grad!, ref.db, 1e-4, atolFor(4 * B * H * H), `${name} db, ${t}`);
      });
    });
  }
  for (const [name, inF, outF, act] of LINEARS) {
    test(`linear ${name}: [${B}, ${inF}] → ${outF}, forward and gradients`, async () => {
      const r = rng(inF + outF);
      const x = randCpu(r, [B, inF]),
        w = randCpu(r, [outF, inF], -0.1, 0.1),
        b = randCpu(r, [outF]);
      const pre = cpu.linear(x, w, b);
      const want = applyAct(pre, act);
      const g = randCpu(r, want.shape);
      const gp = throughAct(g, pre, act);
      const dx = cpu.matmul(gp, w);
      const dw = cpu.matmul(cpu.transpose(gp, 0, 1), x);
      const db = cpu.sum(gp, 0);
      await underEachTuning(async (t) => {
        const [gx, gw, gb] = [toGpu(x, true), toGpu(w, true), toGpu(b, true)];
        const y = wg.linear(gx, gw, gb, { activation: act, slope: 0.2 });
        y.backward(toGpu(g));
        await expectClose(y, want, 1e-4, atolFor(inF), `${name} forward, ${t}`);
        await expectClose(gx.grad!, dx, 1e-4, atolFor(outF), `${name} dx, ${t}`);
        await expectClose(gw.grad!, dw, 1e-4, atolFor(B), `${name} dw, ${t}`);
        await expectClose(gb.grad!, db, 1e-4, atolFor(B), `${name} db, ${t}`);
      });
    });
  }
  for (const [name, shape, act] of NORMS) {
    test(`batchNorm ${name}: [${shape}], training forward, running statistics and gradients`, async () => {
      const r = rng(shape[1]! * 3 + shape.length);
      const C = shape[1]!;
      const x = randCpu(r, shape, -2, 3),
        w = randCpu(r, [C], 0.5, 1.5),
        b = randCpu(r, [C]);
      const pre = cpu.batchNorm(x, null, null, w, b, { training: true });
      const want = applyAct(pre, act);
      const g = randCpu(r, shape);
      const ref = cpu.batchNormBackward(x, w, throughAct(g, pre, act));
      const rmWant = cpu.full([C], 0),
        rvWant = cpu.full([C], 1);
      cpu.batchNorm(x, rmWant, rvWant, w, b, { training: true, momentum: 0.1 });
      await underEachTuning(async (t) => {
        const [gx, gw, gb] = [toGpu(x, true), toGpu(w, true), toGpu(b, true)];
        const rm = wg.zeros([C]),
          rv = wg.ones([C]);
        const y = wg.batchNorm(gx, rm, rv, gw, gb, { training: true, momentum: 0.1, activation: act });
        y.backward(toGpu(g));
        await expectClose(y, want, 1e-4, 1e-4, `${name} forward, ${t}`);
        await expectClose(rm, rmWant, 1e-4, 1e-5, `${name} running mean, ${t}`);
        await expectClose(rv, rvWant, 1e-4, 1e-5, `${name} running var, ${t}`);
        await expectClose(gx.grad!, ref.dx, 1e-3, 1e-4, `${name} dx, ${t}`);
        await expectClose(gw.grad!, ref.dw, 1e-4, atolFor(x.data.length / C), `${name} dw, ${t}`);
        await expectClose(gb.grad!, ref.db, 1e-4, atolFor(x.data.length / C), `${name} db, ${t}`);
      });
    });
  }
  test('the layers reached the specialised kernels wherever the adapter can run them, and the portable ones with those variants off', () => {
    const on = ran.get('device variants on')!;
    const off = ran.get('device variants off')!;
    // the variants that need no subgroups
    for (const k of [
      'software/batchnorm4.stats_apply4',
      'software/batchnorm4.backward4',
      'software/batchnorm4.stats_apply_cols4',
      'software/reduce4.sum_wg4',
      'matmul.dot_rows4',
    ])
      expect([...on], k).toContain(k);
    // the ones that share loads through subgroups
    const sg = [
      'software/conv_transpose_rows.main_rows',
      'software/conv_transpose_rows.main_few',
      'software/conv_rows.forward_rows',
      'software/matmul4.main4',
      'software/conv_cols.columns',
    ];
    if (deviceFacts().subgroupShare) for (const k of sg) expect([...on], k).toContain(k);
    for (const k of [...sg, 'software/batchnorm4.stats_apply4', 'software/reduce4.sum_wg4']) expect([...off], k).not.toContain(k);
    for (const k of [
      'conv_transpose.main',
      'conv.forward',
      'conv.weight_grad',
      'batchnorm.stats_apply',
      'batchnorm.stats_apply_cols',
      'matmul.main',
      'matmul.sum_chunks',
    ])
      expect([...off], k).toContain(k);
    expect([...ran.get('tiled matmul')!]).toContain('matmul_tiled.main');
  });
});
