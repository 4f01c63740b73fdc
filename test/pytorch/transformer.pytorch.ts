// The ops, modules, optimiser and schedules for CNN classifiers and transformers against real
// PyTorch (Debian's python3-torch): each op's output and its inputs' gradients of sum(out · w),
// MultiheadAttention's output and every parameter's gradient, AdamW's steps, clipGradNorm, the lr
// of every schedule; then the char-transformer: one step's loss and gradients from the same
// weights, and 300 steps of both examples (same words, split, batches and initial weights)
// reaching the same validation loss within 2 %.
// Run by `npm run test:pytorch` (scripts/install-pytorch.sh installs PyTorch).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encode, loadWords } from '../../examples/char-transformer/data.js';
import { CharGpt } from '../../examples/char-transformer/model.js';
import * as wg from '../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'wgslgrad-torch-tf-'));
const WORDS = '/usr/share/dict/words';

function findPython(): string {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  }
  throw new Error('no Python with torch: run bash scripts/install-pytorch.sh (as root, or with sudo)');
}
const PY = findPython();
const py = (script: string, ...args: string[]) => spawnSync(PY, [join('examples/pytorch', script), ...args], { encoding: 'utf8', timeout: 300_000 });

/** max |got − want| ÷ max(|want|, 1e-3) */
const relErr = (got: Float32Array, want: Float32Array) => {
  let num = 0;
  let den = 1e-3;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - want[i]!));
    den = Math.max(den, Math.abs(want[i]!));
  }
  return num / den;
};

const worst = new Map<string, number>();
beforeAll(async () => {
  await wg.init();
});
afterAll(() => {
  for (const [k, v] of worst) console.log(`${k.padEnd(34)} max relative error ${v.toExponential(2)}`);
});

interface Case {
  name: string;
  op: string;
  args?: Record<string, unknown>;
  /** inputs by name (kept; `w` is added for cases with gradients) */
  inputs: Record<string, wg.Tensor>;
  /** the inputs whose gradients are compared */
  grad?: string[];
  /** our op on the inputs */
  run?: (t: Record<string, wg.Tensor>) => wg.Tensor;
  /** tolerance (default 1e-4) */
  tol?: number;
}

let seed = 100;
const randn = (shape: number[], scale = 1) => wg.keep(wg.randn(shape, { seed: seed++ }).mul(scale));
/** a kept leaf that requires grad, with the values of t */
const leaf = (t: wg.Tensor): wg.Tensor => {
  const l = wg.keep(t.detach());
  l.requiresGrad = true;
  return l;
};
/** integers in [0, n) as float32 */
const randInt = (shape: number[], n: number): wg.Tensor => {
  const r = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (i * 7 + seed * 3) % n);
  seed++;
  return wg.keep(wg.tensor(r, shape));
};

function cases(): Case[] {
  const x357 = randn([3, 5, 7]);
  const img = randn([2, 3, 9, 9]);
  const logits = randn([6, 5], 2);
  const target = wg.keep(wg.tensor([0, 4, -1, 2, 1, 3]));
  return [
    { name: 'softmax', op: 'softmax', args: { dim: 1 }, inputs: { x: x357 }, grad: ['x'], run: (t) => wg.softmax(t.x!, 1) },
    { name: 'logSoftmax', op: 'logSoftmax', args: { dim: -1 }, inputs: { x: x357 }, grad: ['x'], run: (t) => wg.logSoftmax(t.x!, -1) },
    {
      name: 'layerNorm',
      op: 'layerNorm',
      args: { shape: [6, 8] },
      inputs: { x: randn([4, 6, 8], 3), weight: randn([6, 8]), bias: randn([6, 8]) },
      grad: ['x', 'weight', 'bias'],
      run: (t) => wg.layerNorm(t.x!, [6, 8], t.weight, t.bias),
    },
    { name: 'gelu', op: 'gelu', args: { approximate: 'none' }, inputs: { x: randn([5, 9], 3) }, grad: ['x'], run: (t) => wg.gelu(t.x!) },
    {
      name: 'geluTanh',
      op: 'gelu',
      args: { approximate: 'tanh' },
      inputs: { x: randn([5, 9], 3) },
      grad: ['x'],
      run: (t) => wg.gelu(t.x!, { approximate: 'tanh' }),
    },
    { name: 'silu', op: 'silu', inputs: { x: randn([5, 9], 3) }, grad: ['x'], run: (t) => wg.silu(t.x!) },
    { name: 'max', op: 'max', args: { dim: 1, keepDim: false }, inputs: { x: x357 }, grad: ['x'], run: (t) => wg.max(t.x!, 1) },
    { name: 'min', op: 'min', args: { dim: 0, keepDim: true }, inputs: { x: x357 }, grad: ['x'], run: (t) => wg.min(t.x!, 0, true) },
    { name: 'argmax', op: 'argmax', args: { dim: 2, keepDim: false }, inputs: { x: x357 }, run: (t) => wg.argmax(t.x!, 2), tol: 0 },
    { name: 'argmin', op: 'argmin', args: { dim: 1, keepDim: true }, inputs: { x: x357 }, run: (t) => wg.argmin(t.x!, 1, true), tol: 0 },
    {
      name: 'maxPool2d',
      op: 'maxPool2d',
      args: { kernel: 3, stride: 2, padding: 1 },
      inputs: { x: img },
      grad: ['x'],
      run: (t) => wg.maxPool2d(t.x!, 3, { stride: 2, padding: 1 }),
    },
    ...[true, false].map(
      (countIncludePad): Case => ({
        name: `avgPool2d_${countIncludePad}`,
        op: 'avgPool2d',
        args: { kernel: [3, 2], stride: [2, 1], padding: [1, 1], countIncludePad },
        inputs: { x: img },
        grad: ['x'],
        run: (t) => wg.avgPool2d(t.x!, [3, 2], { stride: [2, 1], padding: [1, 1], countIncludePad }),
      }),
    ),
    { name: 'permute', op: 'permute', args: { dims: [2, 0, 3, 1] }, inputs: { x: img }, grad: ['x'], run: (t) => wg.permute(t.x!, [2, 0, 3, 1]) },
    { name: 'narrow', op: 'narrow', args: { dim: 1, start: 1, length: 2 }, inputs: { x: x357 }, grad: ['x'], run: (t) => wg.narrow(t.x!, 1, 1, 2) },
    {
      name: 'slice',
      op: 'slice',
      args: { dim: 2, start: 1, end: 6, step: 2 },
      inputs: { x: x357 },
      grad: ['x'],
      run: (t) => wg.slice(t.x!, 2, 1, 6, 2),
    },
    {
      name: 'indexSelect',
      op: 'indexSelect',
      args: { dim: 1 },
      inputs: { x: x357, index: wg.keep(wg.tensor([4, 0, 4, 2])) },
      grad: ['x'],
      run: (t) => wg.indexSelect(t.x!, 1, t.index!),
    },
    {
      name: 'stack',
      op: 'stack',
      args: { dim: 1 },
      inputs: { a: randn([4, 5]), b: randn([4, 5]), c: randn([4, 5]) },
      grad: ['a', 'b', 'c'],
      run: (t) => wg.stack([t.a!, t.b!, t.c!], 1),
    },
    {
      name: 'where',
      op: 'where',
      inputs: { cond: randInt([4, 5], 2), a: randn([4, 5]), b: randn([5]) },
      grad: ['a', 'b'],
      run: (t) => wg.where(t.cond!, t.a!, t.b!),
    },
    {
      name: 'maskedFill',
      op: 'maskedFill',
      args: { value: -3 },
      inputs: { x: randn([4, 5]), mask: randInt([4, 5], 2) },
      grad: ['x'],
      run: (t) => wg.maskedFill(t.x!, t.mask!, -3),
    },
    { name: 'pow3', op: 'pow', args: { exponent: 3 }, inputs: { x: randn([4, 5]) }, grad: ['x'], run: (t) => wg.pow(t.x!, 3) },
    {
      name: 'pow2_5',
      op: 'pow',
      args: { exponent: 2.5 },
      inputs: { x: wg.keep(randn([4, 5]).abs().add(0.1)) },
      grad: ['x'],
      run: (t) => wg.pow(t.x!, 2.5),
    },
    { name: 'abs', op: 'abs', inputs: { x: randn([4, 5]) }, grad: ['x'], run: (t) => wg.abs(t.x!) },
    { name: 'clamp', op: 'clamp', args: { min: -0.5, max: 0.7 }, inputs: { x: randn([4, 5]) }, grad: ['x'], run: (t) => wg.clamp(t.x!, -0.5, 0.7) },
    ...(['mean', 'sum', 'none'] as const).map(
      (reduction): Case => ({
        name: `crossEntropy_${reduction}`,
        op: 'crossEntropy',
        args: { ignoreIndex: -1, labelSmoothing: 0.1, reduction },
        inputs: { x: logits, target },
        grad: ['x'],
        run: (t) => wg.crossEntropy(t.x!, t.target!, { ignoreIndex: -1, labelSmoothing: 0.1, reduction }),
      }),
    ),
    {
      name: 'crossEntropy_probs',
      op: 'crossEntropy',
      args: { probabilities: true },
      inputs: { x: logits, target: wg.keep(wg.softmax(randn([6, 5]), 1)) },
      grad: ['x'],
      run: (t) => wg.crossEntropy(t.x!, t.target!),
    },
    {
      name: 'crossEntropy_spatial',
      op: 'crossEntropy',
      args: {},
      inputs: { x: randn([2, 5, 3, 3]), target: randInt([2, 3, 3], 5) },
      grad: ['x'],
      run: (t) => wg.crossEntropy(t.x!, t.target!),
    },
    {
      name: 'sdpa',
      op: 'sdpa',
      args: { causal: false },
      inputs: { q: randn([2, 3, 5, 8]), k: randn([2, 3, 7, 8]), v: randn([2, 3, 7, 6]) },
      grad: ['q', 'k', 'v'],
      run: (t) => wg.scaledDotProductAttention(t.q!, t.k!, t.v!),
    },
    ...[false, true].map(
      (composed): Case => ({
        name: `sdpa_causal_${composed ? 'composed' : 'fused'}`,
        op: 'sdpa',
        args: { causal: true, scale: 0.3 },
        inputs: { q: randn([2, 6, 16]), k: randn([2, 6, 16]), v: randn([2, 6, 16]) },
        grad: ['q', 'k', 'v'],
        run: (t) => wg.scaledDotProductAttention(t.q!, t.k!, t.v!, { causal: true, scale: 0.3, composed }),
      }),
    ),
  ];
}

describe('transformer and CNN ops against PyTorch', () => {
  test('every op and its gradients, MultiheadAttention, AdamW, clipGradNorm and the lr schedules equal PyTorch', async () => {
    const dir = join(root, 'ops');
    spawnSync('mkdir', ['-p', dir]);
    const all = cases();
    const inputs: Record<string, wg.Tensor> = {};
    const ours: Record<string, wg.Tensor> = {};
    const tol: Record<string, number> = {};
    const spec: Array<{ name: string; op: string; args?: Record<string, unknown>; grad?: string[] }> = [];
    for (const c of all) {
      const leaves: Record<string, wg.Tensor> = {};
      for (const [k, t] of Object.entries(c.inputs)) {
        inputs[`${c.name}.${k}`] = t;
        leaves[k] = c.grad?.includes(k) ? leaf(t) : t;
      }
      const out = wg.keep(c.run!(leaves));
      ours[`${c.name}.out`] = out;
      if (c.grad) {
        const w = randn(out.shape as number[]);
        inputs[`${c.name}.w`] = w;
        wg.sum(wg.mul(out, w)).backward();
        for (const k of c.grad) ours[`${c.name}.grad.${k}`] = wg.keep(leaves[k]!.grad!);
      }
      for (const k of Object.keys(ours)) if (k.startsWith(`${c.name}.`)) tol[k] = c.tol ?? 1e-4;
      spec.push({ name: c.name, op: c.op, args: c.args, grad: c.grad });
    }

    // MultiheadAttention: self (causal, batch first) and cross (sequence first), random biases
    for (const [name, self, batchFirst, causal] of [
      ['mha_self', true, true, true],
      ['mha_cross', false, false, false],
    ] as const) {
      const E = 12;
      const H = 3;
      const m = new wg.nn.MultiheadAttention(E, H, { batchFirst });
      for (const [k, p] of m.namedParameters()) {
        if (k.endsWith('bias')) wg.noGrad(() => p.copy_(randn(p.shape as number[], 0.5)));
        inputs[`${name}.${k}`] = p;
      }
      const q = leaf(randn(batchFirst ? [2, 5, E] : [5, 2, E]));
      const kv = self ? q : leaf(randn([4, 2, E]));
      inputs[`${name}.q`] = q;
      if (!self) {
        inputs[`${name}.k`] = kv;
        inputs[`${name}.v`] = kv;
      }
      const out = wg.keep(m.attend(q, kv, kv, { isCausal: causal }));
      const w = randn(out.shape as number[]);
      inputs[`${name}.w`] = w;
      wg.sum(wg.mul(out, w)).backward();
      ours[`${name}.out`] = out;
      for (const [k, p] of m.namedParameters()) ours[`${name}.grad.${k}`] = wg.keep(p.grad!);
      ours[`${name}.grad.q`] = wg.keep(q.grad!);
      for (const k of Object.keys(ours)) if (k.startsWith(`${name}.`)) tol[k] = 1e-4;
      // (the cross case's key and value are one tensor, so its gradient there is not compared)
      spec.push({ name, op: 'mha', args: { embedDim: E, numHeads: H, batchFirst, self, causal }, grad: ['q'] });
    }

    // AdamW: three steps from the same parameters and gradients
    const p = leaf(randn([7, 3]));
    inputs['adamw.p'] = wg.keep(p.clone());
    const adam = new wg.optim.AdamW([p], { lr: 1e-2, betas: [0.9, 0.99], weightDecay: 0.1, eps: 1e-8 });
    for (let i = 0; i < 3; i++) {
      const g = randn([7, 3]);
      inputs[`adamw.g${i}`] = g;
      p.grad = wg.keep(g.clone());
      adam.step();
    }
    ours['adamw.out'] = p;
    tol['adamw.out'] = 1e-5;
    spec.push({ name: 'adamw', op: 'adamw', args: { lr: 1e-2, betas: [0.9, 0.99], weightDecay: 0.1, eps: 1e-8, steps: 3 } });

    // clipGradNorm over two parameters
    const ps = [leaf(randn([5])), leaf(randn([2, 3]))];
    for (const [i, t] of ps.entries()) {
      inputs[`clip.p${i}`] = t;
      const g = randn(t.shape as number[]);
      inputs[`clip.g${i}`] = g;
      t.grad = wg.keep(g.clone());
    }
    ours['clip.out'] = wg.keep(wg.nn.utils.clipGradNorm(ps, 0.5).reshape([1]));
    ours['clip.grad.g0'] = ps[0]!.grad!;
    ours['clip.grad.g1'] = ps[1]!.grad!;
    for (const k of ['clip.out', 'clip.grad.g0', 'clip.grad.g1']) tol[k] = 1e-5;
    spec.push({ name: 'clip', op: 'clipGradNorm', args: { maxNorm: 0.5 } });

    // the schedules' lr over 30 steps
    const S = wg.optim.lr_scheduler;
    type Sched = { kind: string; args: Record<string, number> };
    const schedules: Record<string, { kind: string; lr: number; steps: number; args?: Record<string, number>; schedulers?: Sched[]; milestones?: number[] }> = {
      step: { kind: 'StepLR', lr: 0.1, steps: 30, args: { stepSize: 7, gamma: 0.5 } },
      cosine: { kind: 'CosineAnnealingLR', lr: 0.1, steps: 30, args: { tMax: 20, etaMin: 0.01 } },
      linear: { kind: 'LinearLR', lr: 0.1, steps: 30, args: { startFactor: 0.25, endFactor: 0.9, totalIters: 8 } },
      sequential: {
        kind: 'SequentialLR',
        lr: 5e-4,
        steps: 30,
        schedulers: [
          { kind: 'LinearLR', args: { startFactor: 0.01, endFactor: 1, totalIters: 10 } },
          { kind: 'CosineAnnealingLR', args: { tMax: 20, etaMin: 5e-5 } },
        ],
        milestones: [10],
      },
    };
    const make = (o: wg.optim.lr_scheduler.HasLr, s: Sched) =>
      s.kind === 'StepLR'
        ? new S.StepLR(o, s.args as { stepSize: number })
        : s.kind === 'LinearLR'
          ? new S.LinearLR(o, s.args)
          : new S.CosineAnnealingLR(o, s.args as { tMax: number });
    const ourLrs: Record<string, number[]> = {};
    for (const [k, s] of Object.entries(schedules)) {
      const o = { lr: s.lr };
      const sched =
        s.kind === 'SequentialLR'
          ? new S.SequentialLR(
              o,
              s.schedulers!.map((x) => make(o, x)),
              s.milestones!,
            )
          : make(o, s as Sched);
      const lrs = [o.lr];
      for (let i = 0; i < s.steps; i++) {
        sched.step();
        lrs.push(o.lr);
      }
      ourLrs[k] = lrs;
    }

    await wg.io.saveSafetensors(join(dir, 'inputs.safetensors'), inputs);
    writeFileSync(join(dir, 'cases.json'), JSON.stringify({ cases: spec, schedules }));
    const r = py('ops_check.py', dir);
    expect(r.status, r.stderr).toBe(0);
    const theirs = (await wg.io.readSafetensors(join(dir, 'torch_ops.safetensors'))).tensors;
    for (const [k, t] of Object.entries(ours)) {
      const ref = theirs[k];
      expect(ref, `PyTorch has ${k}`).toBeDefined();
      expect(t.size, k).toBe(ref!.size);
      const e = relErr(await t.toArray(), await ref!.toArray());
      const group = k.split('.')[0]!;
      worst.set(group, Math.max(worst.get(group) ?? 0, e));
      expect(e, `${k}: relative error ${e}`).toBeLessThanOrEqual(tol[k]!);
    }
    const torchLrs = JSON.parse(readFileSync(join(dir, 'torch_lrs.json'), 'utf8')) as Record<string, number[]>;
    for (const [k, lrs] of Object.entries(ourLrs)) {
      expect(torchLrs[k]!.length, k).toBe(lrs.length);
      lrs.forEach((v, i) => expect(Math.abs(v - torchLrs[k]![i]!) / torchLrs[k]![i]!, `${k} step ${i}: ${v} vs ${torchLrs[k]![i]}`).toBeLessThan(1e-9));
    }
  }, 300_000);
});

describe('char-transformer against its PyTorch twin', () => {
  test('one step from the same weights: the same loss and every parameter gradient', async () => {
    const dir = join(root, 'step');
    spawnSync('mkdir', ['-p', dir]);
    const words = await loadWords(WORDS, { seed: 5, maxLen: 12, lowerAZ: true });
    const T = words.blockSize;
    for (const tied of [false, true]) {
      wg.manualSeed(21);
      const model = new CharGpt({ vocabSize: words.chars.length + 1, blockSize: T, nLayer: 2, nHead: 4, nEmbd: 32, tied });
      await wg.io.saveSafetensors(join(dir, 'init.safetensors'), model.stateDict());
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: model.config }));
      const batch = words.train.slice(0, 8);
      const x = new Float32Array(8 * T);
      const y = new Float32Array(8 * T);
      encode(batch, words.chars, T, x, y);
      const xt = wg.keep(wg.tensor(x, [8, T]));
      const yt = wg.keep(wg.tensor(y, [8, T]));
      await wg.io.saveSafetensors(join(dir, 'batch.safetensors'), { x: xt, y: yt });
      const loss = wg.keep(model.loss(xt, yt));
      loss.backward();
      const r = py('char_transformer.py', 'step', dir);
      expect(r.status, r.stderr).toBe(0);
      const theirs = (await wg.io.readSafetensors(join(dir, 'torch_step.safetensors'))).tensors;
      const e = relErr(await loss.toArray(), await theirs.loss!.toArray());
      expect(e, `loss ${await loss.item()} vs ${await theirs.loss!.item()}`).toBeLessThan(1e-5);
      const names = model.namedParameters();
      expect(
        Object.keys(theirs)
          .filter((k) => k.startsWith('grad.'))
          .sort(),
      ).toEqual(names.map(([k]) => `grad.${k}`).sort());
      for (const [k, p] of names) {
        const g = relErr(await p.grad!.toArray(), await theirs[`grad.${k}`]!.toArray());
        worst.set(`char-gpt step gradients${tied ? ' (tied)' : ''}`, Math.max(worst.get(`char-gpt step gradients${tied ? ' (tied)' : ''}`) ?? 0, g));
        expect(g, `${k}: relative error ${g}`).toBeLessThan(1e-4);
      }
    }
  }, 120_000);

  test('300 steps of both examples from the same weights reach the same validation loss (within 2 %)', async () => {
    const out = join(root, 'run300');
    const ours = spawnSync(
      process.execPath,
      ['build/examples/char-transformer/main.js', '--steps', '300', '--log-every', '100', '--samples', '0', '--out', out],
      {
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    expect(ours.status, ours.stderr).toBe(0);
    const rows = readFileSync(join(out, 'metrics.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));
    const r = py('char_transformer.py', 'train', out);
    expect(r.status, r.stderr).toBe(0);
    const torch = JSON.parse(r.stdout.trim().split('\n').pop()!) as { val_loss: number; train_loss: number; seconds: number };
    const torchRows = readFileSync(join(out, 'torch_metrics.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));
    console.log(`300 steps: validation loss ${rows.at(-1)![2]!.toFixed(4)} here, ${torch.val_loss.toFixed(4)} in PyTorch`);
    expect(torchRows.map((x) => x[0])).toEqual(rows.map((x) => x[0]));
    // the same lr at every logged step (the schedules agree)
    torchRows.forEach((t, i) => expect(Math.abs(t[3]! - rows[i]![3]!) / t[3]!, `lr at step ${t[0]}`).toBeLessThan(1e-6));
    const ourVal = rows.at(-1)![2]!;
    expect(Math.abs(ourVal - torch.val_loss) / torch.val_loss, `validation loss ${ourVal} here, ${torch.val_loss} in PyTorch`).toBeLessThan(0.02);
  }, 600_000);
});
