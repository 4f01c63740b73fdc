// Interop with real PyTorch (Debian's python3-torch): every preset's G and D give the same outputs
// and the same batchnorm running statistics in both libraries, on weights made by either one;
// every parameter's gradient through D(x) and D(G(z)) equals PyTorch's autograd; one Adam step
// from the same state gives the same parameters; mismatched files are refused.
// Run by `npm run test:pytorch` (scripts/install-pytorch.sh installs PyTorch).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GanModule, PRESETS, type PresetName } from '../../examples/mnist-gan/presets.js';
import { oneHot } from '../../examples/mnist-gan/step.js';
import * as wg from '../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'wgslgrad-torch-'));
const CHECK = 'examples/pytorch/check.py';

/** The first Python that imports torch (Debian's python3 may sit behind another on PATH). */
function findPython(): string {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  }
  throw new Error('no Python with torch: run sudo bash scripts/install-pytorch.sh');
}
const PY = findPython();
const py = (...args: string[]) => spawnSync(PY, [CHECK, ...args], { encoding: 'utf8', timeout: 120_000 });

/** max |got − want| ÷ max |want|, the divisor at least `minDen` */
const relErr = (got: Float32Array, want: Float32Array, minDen = 0) => {
  let num = 0;
  let den = minDen;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - want[i]!));
    den = Math.max(den, Math.abs(want[i]!));
  }
  return den > 0 ? num / den : num;
};

const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Our side of the sequence check.py runs: G and D in training mode, then in eval mode. */
function run(preset: PresetName, G: wg.nn.Module, D: wg.nn.Module, inp: Record<string, wg.Tensor>): Record<string, wg.Tensor> {
  const conditional = PRESETS[preset].conditional;
  const idx = inp.idx;
  const oh = conditional ? wg.tensor(oneHot(Float32Array.from([3, 0, 9, 3])), [4, 10]) : undefined;
  return wg.noGrad(() => {
    const out: Record<string, wg.Tensor> = {};
    G.train();
    D.train();
    out.g_train = wg.keep(G.forward(inp.z!, oh as wg.Tensor));
    if (preset !== 'mlp') out.d_train = wg.keep(D.forward(inp.x!, oh as wg.Tensor, idx as wg.Tensor));
    G.eval();
    D.eval();
    out.g_eval = wg.keep(G.forward(inp.z!, oh as wg.Tensor));
    out.d_eval = wg.keep(D.forward(inp.x!, oh as wg.Tensor, idx as wg.Tensor));
    if (PRESETS[preset].auxClasses !== null) out.d_classes_eval = wg.keep((D as GanModule).classify!(inp.x!).classes);
    return out;
  });
}

async function expectSame(what: string, ours: Record<string, wg.Tensor>, theirs: Record<string, wg.Tensor>, tol: number, minDen = 0): Promise<void> {
  for (const [k, t] of Object.entries(ours)) {
    const ref = theirs[k];
    expect(ref, `${what}: PyTorch has ${k}`).toBeDefined();
    expect(t.shape, `${what} ${k}`).toEqual(ref!.shape);
    const e = relErr(await t.toArray(), await ref!.toArray(), minDen);
    worst.set(what, Math.max(worst.get(what) ?? 0, e));
    expect(e, `${what} ${k}: relative error ${e}`).toBeLessThanOrEqual(tol);
  }
}

/** The largest relative error of each comparison, printed at the end (quoted in the README). */
const worst = new Map<string, number>();

beforeAll(async () => {
  await wg.init();
});
afterAll(() => {
  for (const [k, v] of worst) console.log(`${k.padEnd(28)} max relative error ${v.toExponential(2)}`);
});

describe('PyTorch interop', () => {
  for (const preset of PRESET_NAMES) {
    test(`${preset}: our weights in PyTorch and PyTorch's weights here give the same outputs and running statistics`, async () => {
      const width = 1;
      // ours → PyTorch
      const dir = join(root, `ours-${preset}`);
      mkdirSync(dir, { recursive: true });
      wg.manualSeed(11);
      const { G, D } = PRESETS[preset].build(width);
      await wg.io.saveSafetensors(join(dir, 'g.safetensors'), G.stateDict());
      await wg.io.saveSafetensors(join(dir, 'd.safetensors'), D.stateDict());
      const inp: Record<string, wg.Tensor> = {
        z: wg.keep(wg.randn([4, PRESETS[preset].z], { seed: 3 })),
        x: wg.keep(wg.rand([4, 784], { seed: 4 }).mul(2).sub(1)),
      };
      if (PRESETS[preset].conditional) inp.idx = wg.keep(wg.tensor([3, 0, 9, 3]));
      await wg.io.saveSafetensors(join(dir, 'inputs.safetensors'), inp);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ preset, width }));
      const ours = run(preset, G, D, inp);
      const r = py('forward', dir);
      expect(r.status, r.stderr).toBe(0);
      const theirs = (await wg.io.readSafetensors(join(dir, 'torch_out.safetensors'))).tensors;
      await expectSame(`${preset} ours→torch`, ours, theirs, 1e-5);
      // the running statistics after the training-mode calls, num_batches_tracked included
      const state: Record<string, wg.Tensor> = {};
      for (const [k, t] of Object.entries(G.stateDict())) if (!G.namedParameters().some(([n]) => n === k)) state[`g_state.${k}`] = t;
      for (const [k, t] of Object.entries(D.stateDict())) if (!D.namedParameters().some(([n]) => n === k)) state[`d_state.${k}`] = t;
      await expectSame(`${preset} running stats`, state, theirs, 1e-5);

      // PyTorch → ours (strict load, int64 counters converted)
      const dir2 = join(root, `torch-${preset}`);
      mkdirSync(dir2, { recursive: true });
      const e = py('export', preset, String(width), dir2);
      expect(e.status, e.stderr).toBe(0);
      const built = PRESETS[preset].build(width);
      built.G.loadStateDict(await wg.io.loadSafetensors(join(dir2, 'g.safetensors')));
      built.D.loadStateDict(await wg.io.loadSafetensors(join(dir2, 'd.safetensors')));
      const inp2 = (await wg.io.readSafetensors(join(dir2, 'inputs.safetensors'))).tensors;
      const ours2 = run(preset, built.G, built.D, inp2);
      await expectSame(`${preset} torch→ours`, ours2, (await wg.io.readSafetensors(join(dir2, 'torch_out.safetensors'))).tensors, 1e-5);
    }, 120_000);
  }

  /** Dropout layers to eval mode, the rest left as they are: each library draws its own masks. */
  const dropoutOff = (m: wg.nn.Module): void => {
    for (const [, c] of m.children()) {
      if (c instanceof wg.nn.Dropout) c.eval();
      else dropoutOff(c);
    }
  };
  for (const preset of PRESET_NAMES) {
    test(`${preset}: every parameter's gradient through D(x) and D(G(z)) equals PyTorch's autograd`, async () => {
      const dir = join(root, `grads-${preset}`);
      mkdirSync(dir, { recursive: true });
      const p = PRESETS[preset];
      wg.manualSeed(17);
      const { G, D } = p.build(1);
      await wg.io.saveSafetensors(join(dir, 'g.safetensors'), G.stateDict());
      await wg.io.saveSafetensors(join(dir, 'd.safetensors'), D.stateDict());
      const B = 4;
      const inp: Record<string, wg.Tensor> = {
        z: wg.keep(wg.randn([B, p.z], { seed: 5 })),
        x: wg.keep(wg.rand([B, 784], { seed: 6 }).mul(2).sub(1)),
        u_real: wg.keep(wg.randn([B, 1], { seed: 7 })),
        u_fake: wg.keep(wg.randn([B, 1], { seed: 8 })),
        u_cls: wg.keep(wg.randn([B, 10], { seed: 9 })),
      };
      if (p.conditional) inp.idx = wg.keep(wg.tensor([3, 0, 9, 3]));
      await wg.io.saveSafetensors(join(dir, 'inputs.safetensors'), inp);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ preset, width: 1 }));
      G.train();
      D.train();
      dropoutOff(G);
      dropoutOff(D);
      const oh = p.conditional ? wg.tensor(oneHot(Float32Array.from([3, 0, 9, 3])), [B, 10]) : undefined;
      const loss = wg.scope(() => {
        const fake = G.forward(inp.z!, oh);
        let l = D.forward(inp.x!, oh, inp.idx)
          .mul(inp.u_real!)
          .sum()
          .add(D.forward(fake, oh, inp.idx).mul(inp.u_fake!).sum());
        if (p.auxClasses !== null) l = l.add((D as GanModule).classify!(inp.x!).classes.mul(inp.u_cls!).sum());
        l.backward();
        return l;
      });
      const r = py('grads', dir);
      expect(r.status, r.stderr).toBe(0);
      const theirs = (await wg.io.readSafetensors(join(dir, 'torch_grads.safetensors'))).tensors;
      const ours: Record<string, wg.Tensor> = { loss: loss.reshape([1]) };
      for (const [side, m] of [
        ['g', G],
        ['d', D],
      ] as const) {
        for (const [k, t] of m.namedParameters()) {
          expect(t.grad, `${side}.${k} has a gradient`).not.toBeNull();
          ours[`${side}.${k}`] = t.grad!;
        }
      }
      expect(Object.keys(theirs).sort()).toEqual(Object.keys(ours).sort());
      // relative to each tensor's largest value, or to a hundredth of the largest gradient when
      // that is smaller: the bias of a layer followed by batchnorm has an exact gradient of 0, and
      // both libraries give rounding noise there (up to ~1e-7 of the largest, behind a conv)
      let top = 0;
      for (const [k, t] of Object.entries(theirs)) if (k !== 'loss') for (const v of await t.toArray()) top = Math.max(top, Math.abs(v));
      await expectSame(`${preset} gradients`, ours, theirs, 1e-4, 1e-2 * top);
    }, 120_000);
  }

  test('one Adam step from the same state gives the same parameters (1e-6)', async () => {
    const dir = join(root, 'adam');
    mkdirSync(dir, { recursive: true });
    const shapes = [[5, 3], [7], [2, 2, 3]];
    const params = shapes.map((s, i) => wg.randn(s, { seed: 20 + i, requiresGrad: true }));
    const opt = new wg.optim.Adam(params, { lr: 2e-4, betas: [0.5, 0.999], eps: 1e-8 });
    const st = opt.stateDict();
    const tensors: Record<string, wg.Tensor> = {};
    params.forEach((p, i) => {
      tensors[`param.${i}`] = p;
      tensors[`grad.${i}`] = wg.keep(wg.randn(p.shape, { seed: 40 + i }));
      tensors[`exp_avg.${i}`] = wg.keep(wg.randn(p.shape, { seed: 60 + i }).mul(0.01));
      tensors[`exp_avg_sq.${i}`] = wg.keep(wg.rand(p.shape, { seed: 80 + i }).mul(0.001));
    });
    await wg.io.saveSafetensors(join(dir, 'adam_in.safetensors'), tensors, { count: '3', step: '3', hyper: JSON.stringify(st.hyper) });
    opt.loadStateDict({ step: 3, hyper: st.hyper, tensors: Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith('exp_'))) });
    params.forEach((p, i) => (p.grad = wg.keep(tensors[`grad.${i}`]!.clone())));
    opt.step();
    const r = py('adam', dir);
    expect(r.status, r.stderr).toBe(0);
    const theirs = (await wg.io.readSafetensors(join(dir, 'adam_out.safetensors'))).tensors;
    for (let i = 0; i < params.length; i++) {
      const got = await params[i]!.toArray();
      const want = await theirs[`param.${i}`]!.toArray();
      for (let j = 0; j < got.length; j++) expect(Math.abs(got[j]! - want[j]!), `param ${i}[${j}]`).toBeLessThanOrEqual(1e-6);
    }
  });

  test('files whose tensor names or shapes do not match are refused naming the tensor, on both sides', async () => {
    const dir = join(root, 'torch-dcgan');
    // PyTorch's R1 discriminator into R4's conditional one (11 input planes, a BatchNorm)
    const { D } = PRESETS.cdcgan.build(1);
    const sd = await wg.io.loadSafetensors(join(dir, 'd.safetensors'));
    expect(() => D.loadStateDict(sd)).toThrow(/loadStateDict: missing net\.3\.weight, net\.3\.bias.*; unexpected net\.5\.bias, net\.5\.weight/);
    expect(() => D.loadStateDict(sd, { strict: false })).toThrow(/loadStateDict: net\.0\.weight has shape \[64,1,4,4\], expected \[64,11,4,4\]/);
    // ours into the wrong PyTorch model: check.py with a config naming another preset
    const bad = join(root, 'bad-config');
    mkdirSync(bad, { recursive: true });
    const { G: g2, D: d2 } = PRESETS.vanilla.build();
    await wg.io.saveSafetensors(join(bad, 'g.safetensors'), g2.stateDict());
    await wg.io.saveSafetensors(join(bad, 'd.safetensors'), d2.stateDict());
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ preset: 'mlp', width: 1 }));
    const r = py('forward', bad);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/size mismatch for net\.0\.weight|Missing key\(s\) in state_dict: .*net\./);
  });
});

/** A small IDX folder (32 training images), plain files. */
function dataDir(): string {
  const dir = join(root, 'data');
  mkdirSync(dir, { recursive: true });
  const idx = (magic: number, dims: number[], data: Uint8Array) => {
    const h = Buffer.alloc(4 + 4 * dims.length);
    h.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([h, Buffer.from(data)]);
  };
  for (const [split, n] of [
    ['train', 32],
    ['t10k', 20],
  ] as const) {
    const images = Uint8Array.from({ length: n * 784 }, (_, i) => ((i * 37) % 251) & 0xff);
    writeFileSync(join(dir, `${split}-images-idx3-ubyte`), idx(0x803, [n, 28, 28], images));
    writeFileSync(
      join(dir, `${split}-labels-idx1-ubyte`),
      idx(
        0x801,
        [n],
        Uint8Array.from({ length: n }, (_, i) => i % 10),
      ),
    );
  }
  return dir;
}

describe('continuing in PyTorch and coming back', () => {
  const MAIN = 'build/examples/mnist-gan/main.js';
  const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  const torchTrain = (...args: string[]) => spawnSync(PY, ['examples/pytorch/train_torch.py', ...args], { encoding: 'utf8', timeout: 120_000 });

  test('a run continues in PyTorch (same fixed-noise grid, both Adam states) and comes back with --resume', async () => {
    const data = dataDir();
    const ours = join(root, 'run-ours');
    let r = cli('--preset', 'cdcgan', '--width', '0.5', '--batch', '8', '--steps', '3', '--data', data, '--out', ours, '--no-eval', '--sample-every', '0');
    expect(r.status, r.stderr).toBe(0);
    const inTorch = join(root, 'run-torch');
    r = torchTrain('--resume', ours, '--steps', '2', '--data', data, '--out', inTorch);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trained 2 steps in PyTorch/);
    // PyTorch's grid at step 3 is ours: the checkpoint's G on the checkpoint's fixed noise
    const { G } = PRESETS.cdcgan.build(0.5);
    G.loadStateDict(await wg.io.loadSafetensors(join(ours, 'checkpoint', 'generator.safetensors')));
    const noise = await wg.io.loadSafetensors(join(ours, 'checkpoint', 'fixed_noise.safetensors'));
    G.eval();
    const labels = await noise.labels!.toArray();
    const mine = wg.noGrad(() => G.forward(noise.z!, wg.tensor(oneHot(labels), [100, 10])));
    const theirs = (await wg.io.readSafetensors(join(inTorch, 'samples', 'torch-step-000003.safetensors'))).tensors.images!;
    expect(relErr(await mine.toArray(), await theirs.toArray())).toBeLessThanOrEqual(1e-5);
    expect(
      readFileSync(join(inTorch, 'samples', 'torch-step-000005.png'))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    // and back: our CLI resumes PyTorch's checkpoint at step 5 and trains to 7
    r = cli('--resume', inTorch, '--steps', '7', '--data', data, '--no-eval');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resumed .*run-torch.* at step 5/);
    const st = JSON.parse(readFileSync(join(inTorch, 'checkpoint', 'state.json'), 'utf8'));
    expect(st.step).toBe(7);
  }, 180_000);

  test("PyTorch's own initialisation, saved by train_torch.py, is a checkpoint --resume accepts", () => {
    const data = dataDir();
    const fresh = join(root, 'torch-init');
    let r = torchTrain('--preset', 'dcgan', '--width', '0.5', '--steps', '0', '--out', fresh);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(fresh, 'checkpoint', 'generator.safetensors'))).toBe(true);
    r = cli('--resume', fresh, '--steps', '2', '--batch', '8', '--data', data, '--no-eval');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(fresh, 'checkpoint', 'state.json'), 'utf8')).step).toBe(2);
  }, 120_000);
});
