import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { DEFAULT_RUN, PRESET_STEPS, resolveConfig } from '../../examples/mnist-gan/config.js';
import { loadMnist } from '../../examples/mnist-gan/data.js';
import { frechetDistance, symEig } from '../../examples/mnist-gan/evaluate.js';
import { PRESETS, type PresetName } from '../../examples/mnist-gan/presets.js';
import { GanTrainer, presetSetup } from '../../examples/mnist-gan/step.js';
import { GanRun, type RunConfig } from '../../examples/mnist-gan/train.js';
import { fmtTime } from '../../examples/shared/format.js';
import * as wg from '../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'wgslgrad-gan-'));

function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(data)]);
}

/** A small IDX folder: blurry blobs whose position encodes the label; train files gzipped. */
function makeData(n = 64, nTest = 40): string {
  const dir = join(root, `data-${n}`);
  mkdirSync(dir, { recursive: true });
  for (const [split, count, gz] of [
    ['train', n, true],
    ['t10k', nTest, false],
  ] as const) {
    const images = new Uint8Array(count * 784);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const l = i % 10;
      labels[i] = l;
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) images[i * 784 + y * 28 + x] = Math.abs(x - 4 - 2 * l) + Math.abs(y - 14) < 6 ? 255 : 0;
    }
    const im = idx(0x803, [count, 28, 28], images);
    const lb = idx(0x801, [count], labels);
    writeFileSync(join(dir, `${split}-images-idx3-ubyte${gz ? '.gz' : ''}`), gz ? gzipSync(im) : im);
    writeFileSync(join(dir, `${split}-labels-idx1-ubyte${gz ? '.gz' : ''}`), gz ? gzipSync(lb) : lb);
  }
  return dir;
}

const dataDir = makeData();

function config(preset: PresetName, out: string, over: Partial<RunConfig> = {}): RunConfig {
  return {
    ...presetSetup(preset, { batch: 8, seed: 3 }),
    epochs: PRESETS[preset].epochs,
    steps: 20,
    out,
    sampleEvery: 10,
    sampleEpochs: [1],
    logEvery: 5,
    data: dataDir,
    val: 0,
    ...over,
  };
}

describe('MNIST GAN example', () => {
  for (const preset of Object.keys(PRESETS) as PresetName[]) {
    test(`${preset}: 20 steps write metrics, samples, plots and a checkpoint, and resume`, async () => {
      const out = join(root, preset);
      const data = await loadMnist(dataDir);
      const run = new GanRun(config(preset, out), data);
      await run.run();
      const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('epoch,step,d_loss,g_loss,d_x,d_g_z,g_grad_norm,d_grad_norm,lr_g,lr_d,images_per_s');
      expect(csv.length).toBe(5);
      for (const row of csv.slice(1)) expect(row.split(',').map(Number).every(Number.isFinite)).toBe(true);
      for (const f of [
        'samples/step-000010.png',
        'samples/step-000020.png',
        'samples/epoch-001.png',
        'progress.png',
        'losses.png',
        'confidence.png',
        'checkpoint/state.json',
        'checkpoint/generator.safetensors',
        'checkpoint/optimizer_d.safetensors',
      ]) {
        expect(existsSync(join(out, f)), f).toBe(true);
      }
      const resumed = new GanRun(config(preset, out, { steps: 24 }), data);
      await resumed.restore(join(out, 'checkpoint'));
      expect(resumed.state.step).toBe(20);
      await resumed.run();
      expect(resumed.state.step).toBe(24);
    });
  }

  test('a resumed run repeats the uninterrupted run exactly (same adapter)', async () => {
    const data = await loadMnist(dataDir);
    for (const preset of ['mlp', 'dcgan'] as PresetName[]) {
      const whole = new GanRun(config(preset, join(root, `${preset}-whole`), { steps: 14, logEvery: 1, sampleEvery: 0, sampleEpochs: [] }), data);
      await whole.run();
      const first = new GanRun(config(preset, join(root, `${preset}-part`), { steps: 6, logEvery: 1, sampleEvery: 0, sampleEpochs: [] }), data);
      await first.run();
      const second = new GanRun(config(preset, join(root, `${preset}-part`), { steps: 14, logEvery: 1, sampleEvery: 0, sampleEpochs: [] }), data);
      await second.restore(join(root, `${preset}-part`, 'checkpoint'));
      await second.run();
      const pick = (rows: typeof whole.rows) => rows.filter((r) => r.step > 6).map((r) => [r.step, r.d_loss, r.g_loss, r.d_x, r.d_g_z]);
      expect(pick(second.rows), preset).toEqual(pick(whole.rows));
    }
  });

  test('the replayed step (the default) trains exactly as the eager one (--no-capture): every metric, every parameter', async () => {
    const data = await loadMnist(dataDir);
    for (const [preset, width] of [
      ['mlp', 1],
      ['cgan', 1],
      ['dcgan', 1],
      ['acgan', 0.25], // the default run's model (its class losses), narrowed to keep the test short
    ] as Array<[PresetName, number]>) {
      const quiet = { steps: 8, logEvery: 1, sampleEvery: 0, sampleEpochs: [], width };
      const eager = new GanRun(config(preset, join(root, `${preset}-eager`), { ...quiet, capture: false }), data);
      await eager.run();
      const replayed = new GanRun(config(preset, join(root, `${preset}-replayed`), quiet), data);
      await replayed.run();
      expect(replayed.trainer.replayDispatches, preset).toBeGreaterThan(0);
      const pick = (rows: typeof eager.rows) => rows.map(({ images_per_s: _, ...r }) => r);
      expect(pick(replayed.rows), preset).toEqual(pick(eager.rows));
      const params = (run: GanRun) => Promise.all([...run.G.parameters(), ...run.D.parameters()].map((t) => t.toArray()));
      expect(await params(replayed), preset).toEqual(await params(eager));
    }
  });

  test('bad data folders end with a clear WgslgradError', async () => {
    await expect(loadMnist(join(root, 'nope'))).rejects.toThrow(/idx: data folder .*nope does not exist/);
    const bad = join(root, 'bad');
    mkdirSync(bad, { recursive: true });
    const good = makeData(20, 10);
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
      writeFileSync(join(bad, f), readFileSync(join(good, f)));
    writeFileSync(join(bad, 't10k-labels-idx1-ubyte'), idx(0x801, [9], new Uint8Array(9)));
    await expect(loadMnist(bad)).rejects.toThrow(/10 images but 9 labels/);
    writeFileSync(join(bad, 't10k-labels-idx1-ubyte'), idx(0x999, [10], new Uint8Array(10)));
    await expect(loadMnist(bad)).rejects.toThrow(/magic number 0x00000999 is not an IDX file/);
    writeFileSync(join(bad, 't10k-labels-idx1-ubyte'), idx(0x801, [10], new Uint8Array(4)));
    await expect(loadMnist(bad)).rejects.toThrow(/truncated: the header promises 10 values/);
  });

  test('flags resolve to the default run, a named preset, or an error for a width an MLP lacks', () => {
    const flags = (f: Record<string, string>) => (k: string) => f[k];
    const d = resolveConfig(flags({}), {});
    expect([d.preset, d.width, d.batch, d.steps, d.lrG, d.lrD]).toEqual([
      DEFAULT_RUN.preset,
      DEFAULT_RUN.width,
      DEFAULT_RUN.batch,
      DEFAULT_RUN.steps,
      DEFAULT_RUN.lr,
      DEFAULT_RUN.lr,
    ]);
    // a named preset trains at its report's rates; --lr sets both, --lr-d then D's
    expect([resolveConfig(flags({ preset: 'cdcgan' }), {}).lrG, resolveConfig(flags({ lr: '1e-3', 'lr-d': '5e-4' }), {}).lrD]).toEqual([
      PRESETS.cdcgan.lrG,
      5e-4,
    ]);
    const n = resolveConfig(flags({ preset: 'dcgan' }), {});
    expect([n.width, n.batch, n.steps]).toEqual([1, PRESETS.dcgan.batch, PRESET_STEPS]);
    const e = resolveConfig(flags({ preset: 'cdcgan', epochs: '2', width: '0.25' }), {});
    expect([e.width, e.batch, e.steps, e.epochs]).toEqual([0.25, PRESETS.cdcgan.batch, 0, 2]);
    expect(() => resolveConfig(flags({ preset: 'mlp', width: '0.5' }), {})).toThrow(/only the convolutional presets \(dcgan, cdcgan, acgan\) have a width/);
    expect(() => resolveConfig(flags({ width: '0' }), {})).toThrow(/--width 0 must be greater than 0/);
    // resuming keeps the saved width; another one is refused
    const saved = { ...d };
    expect(resolveConfig(flags({}), saved, '/tmp/x/checkpoint').width).toBe(DEFAULT_RUN.width);
    expect(() => resolveConfig(flags({ width: '1' }), saved, '/tmp/x/checkpoint')).toThrow(/trained with --width 0.5, not 1/);
  });

  test('width scales the channels of the convolutional presets', async () => {
    const full = PRESETS.cdcgan.build(1);
    const half = PRESETS.cdcgan.build(0.5);
    const shapes = (m: typeof full.G) =>
      m
        .namedParameters()
        .filter(([, p]) => p.ndim === 4)
        .map(([, p]) => p.shape);
    expect(shapes(full.G)).toEqual([
      [128, 64, 4, 4],
      [64, 1, 4, 4],
    ]);
    expect(shapes(half.G)).toEqual([
      [64, 32, 4, 4],
      [32, 1, 4, 4],
    ]);
    expect(shapes(half.D)).toEqual([
      [32, 11, 4, 4],
      [64, 32, 4, 4],
    ]);
    for (const m of [full.G, full.D, half.G, half.D]) m.parameters().forEach((p) => p.dispose());
    const out = join(root, 'half');
    const data = await loadMnist(dataDir);
    const run = new GanRun(config('cdcgan', out, { width: 0.5, steps: 4, logEvery: 2 }), data);
    await run.run();
    expect(run.rows.length).toBe(2);
    expect(Number.isFinite(run.rows[1]!.g_loss)).toBe(true);
  });

  test("acgan: D's digit head is trained by the step's class loss", async () => {
    const B = 8;
    const trainer = new GanTrainer(presetSetup('acgan', { width: 0.25, batch: B }));
    const names = trainer.D.namedParameters().map(([n]) => n);
    // the real/fake discriminator of R4 on the image alone, then the digit head (PyTorch's order)
    expect(names.slice(0, 2)).toEqual(['net.0.weight', 'net.0.bias']);
    expect(names.slice(-2)).toEqual(['cls.weight', 'cls.bias']);
    const cls = trainer.D.namedParameters().find(([n]) => n === 'cls.weight')![1];
    const before = await cls.toArray();
    const images = new Float32Array(B * 784).map((_, i) => Math.sin(i));
    const labels = Float32Array.from({ length: B }, (_, i) => i % 10);
    const classes = wg.scope(() => {
      trainer.step(images, labels);
      return wg.keep(wg.noGrad(() => trainer.D.classify!(wg.tensor(images, [B, 784])).classes));
    });
    expect(classes.shape).toEqual([B, 10]);
    classes.dispose();
    const after = await cls.toArray();
    // Adam moves every weight that got a gradient by about lr on its first step; without the
    // class loss the head would get none and stay as it was
    expect(after.filter((v, i) => Math.abs(v - before[i]!) > 1e-5).length).toBeGreaterThan(after.length / 2);
    for (const m of [trainer.G, trainer.D]) m.parameters().forEach((p) => p.dispose());
  });

  test('a run that ends with an epoch grid saves no second, identical end-of-run grid', async () => {
    const out = join(root, 'epoch-end');
    const data = await loadMnist(dataDir);
    const run = new GanRun(config('vanilla', out, { epochs: 1, steps: 0, sampleEvery: 0, sampleEpochs: [1] }), data);
    await run.run();
    expect(run.state.step).toBe(8);
    expect(run.samples.map((x) => x.name)).toEqual(['epoch-001']);
    const mid = new GanRun(config('vanilla', join(root, 'mid-end'), { steps: 5, sampleEvery: 0, sampleEpochs: [1] }), data);
    await mid.run();
    expect(mid.samples.map((x) => x.name)).toEqual(['step-000005']);
  });

  test('fmtTime rounds to whole seconds before splitting minutes', () => {
    expect(fmtTime(179.6)).toBe('3m00s');
    expect(fmtTime(59.6)).toBe('1m00s');
    expect(fmtTime(59.4)).toBe('59s');
    expect(fmtTime(357.2)).toBe('5m57s');
    expect(fmtTime(NaN)).toBe('?');
  });

  test('a corrupt checkpoint gives a clear error', async () => {
    const out = join(root, 'corrupt');
    const data = await loadMnist(dataDir);
    await new GanRun(config('vanilla', out, { steps: 3 }), data).run();
    const g = join(out, 'checkpoint', 'generator.safetensors');
    truncateSync(g, 100);
    const run = new GanRun(config('vanilla', out), data);
    await expect(run.restore(join(out, 'checkpoint'))).rejects.toThrow(wg.WgslgradError);
    await expect(run.restore(join(out, 'checkpoint'))).rejects.toThrow(/generator.safetensors/);
    await expect(run.restore(join(root, 'nope'))).rejects.toThrow(/is not a checkpoint: state.json is missing/);
  });

  test('the CLI prints --help and ends bad input with one line and exit code 1', () => {
    const main = 'build/examples/mnist-gan/main.js';
    expect(existsSync(main), 'npm test builds the examples first').toBe(true);
    const help = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--sample-epochs');
    expect(help.stdout).toContain('cgan');
    const bad = spawnSync(process.execPath, [main, '--data', join(root, 'missing')], { encoding: 'utf8', timeout: 240_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/error: idx: data folder .*missing does not exist/);
    const badPreset = spawnSync(process.execPath, [main, '--preset', 'nope'], { encoding: 'utf8' });
    expect(badPreset.status).toBe(1);
    expect(badPreset.stderr).toMatch(/error: args: --preset nope is not one of/);
  });
});

describe('evaluation maths', () => {
  test('symmetric eigen-decomposition and the Fréchet distance of Gaussians', () => {
    const a = Float64Array.from([4, 1, 0, 1, 3, 0, 0, 0, 2]);
    const { values } = symEig(a, 3);
    const sorted = Array.from(values).sort((x, y) => x - y);
    expect(sorted[0]).toBeCloseTo(2, 9);
    expect(sorted[1]).toBeCloseTo((7 - Math.sqrt(5)) / 2, 9);
    expect(sorted[2]).toBeCloseTo((7 + Math.sqrt(5)) / 2, 9);
    const m = { mu: Float64Array.from([0, 0, 0]), cov: a };
    expect(frechetDistance(m, m, 3)).toBeCloseTo(0, 8);
    expect(frechetDistance(m, { mu: Float64Array.from([1, 2, 2]), cov: a }, 3)).toBeCloseTo(9, 8);
    // two diagonal Gaussians: Σ (σ1 − σ2)² per dim
    const d1 = { mu: new Float64Array(2), cov: Float64Array.from([1, 0, 0, 4]) };
    const d2 = { mu: new Float64Array(2), cov: Float64Array.from([4, 0, 0, 9]) };
    expect(frechetDistance(d1, d2, 2)).toBeCloseTo(1 + 1, 8);
  });
});
