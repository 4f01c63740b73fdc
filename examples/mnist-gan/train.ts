// The GAN training loop around step.ts's step: metrics accumulated on the GPU and read once per
// logging interval; samples, plots, checkpoints, exact resume.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as wg from '../../src/index.js';
import { fmtTime } from '../shared/format.js';
import { composite, linePlot } from '../shared/plot.js';
import { gatherBatch, type Mnist, Rng } from './data.js';
import type { GanModule, PRESETS, PresetName } from './presets.js';
import { type GanSetup, GanTrainer, oneHot } from './step.js';

/** A run of the CLI: the step's settings (step.ts) and the loop's. */
export interface RunConfig extends GanSetup {
  epochs: number;
  /** stop after this many steps in all (0: run the epochs) */
  steps: number;
  out: string;
  sampleEvery: number;
  sampleEpochs: number[];
  logEvery: number;
  data: string;
  val: number;
  /** replay the captured step (GanTrainer.replay) rather than record it op by op; default true */
  capture?: boolean;
}

export interface MetricsRow {
  epoch: number;
  step: number;
  d_loss: number;
  g_loss: number;
  d_x: number;
  d_g_z: number;
  g_grad_norm: number;
  d_grad_norm: number;
  lr_g: number;
  lr_d: number;
  images_per_s: number;
}

const CSV_COLUMNS: Array<keyof MetricsRow> = [
  'epoch',
  'step',
  'd_loss',
  'g_loss',
  'd_x',
  'd_g_z',
  'g_grad_norm',
  'd_grad_norm',
  'lr_g',
  'lr_d',
  'images_per_s',
];

interface TrainState {
  epoch: number; // completed epochs
  step: number; // completed steps
  pos: number; // batches done in the current epoch
  rngEpochStart: number; // shuffling generator state at the start of the current epoch
  lrG: number;
  lrD: number;
}

const CHECKPOINT_FILES = ['state.json', 'generator.safetensors', 'discriminator.safetensors', 'optimizer_g.safetensors', 'optimizer_d.safetensors'];
/** checkpoint<TMP_MARK><pid>: a checkpoint being written (complete once its state.json is there) */
const TMP_MARK = '.tmp-';

/** The step of a complete checkpoint folder (all files there, state.json readable), or null. */
async function checkpointStep(dir: string): Promise<number | null> {
  if (!CHECKPOINT_FILES.every((f) => existsSync(join(dir, f)))) return null;
  try {
    const st = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { step?: unknown };
    return typeof st.step === 'number' ? st.step : null;
  } catch {
    return null;
  }
}

/**
 * The checkpoint to resume from `path` (a run folder or a checkpoint folder): the newest complete
 * one among the run's checkpoint/, checkpoint.old and checkpoint.tmp-* (left by a crash during a
 * swap), or `path` itself.
 */
export async function findCheckpoint(path: string): Promise<string> {
  if (!existsSync(path)) throw new wg.WgslgradError('resume', `${path} does not exist`);
  const names = await readdir(path).catch(() => [] as string[]);
  const candidates = [
    path,
    ...names.filter((n) => n === 'checkpoint' || n === 'checkpoint.old' || n.startsWith(`checkpoint${TMP_MARK}`)).map((n) => join(path, n)),
  ];
  let best: { dir: string; step: number } | null = null;
  for (const dir of candidates) {
    const step = await checkpointStep(dir);
    if (step !== null && (!best || step > best.step)) best = { dir, step };
  }
  if (!best) throw new wg.WgslgradError('resume', `${path} holds no complete checkpoint (${CHECKPOINT_FILES.join(', ')} in it or in its checkpoint/)`);
  return best.dir;
}

/** A per-step seed, so noise and dropout masks depend only on (seed, step): resumed runs repeat them. */
const stepSeed = (seed: number, step: number): number => (Math.imul(seed ^ 0x5bd1e995, 2654435761) + Math.imul(step + 1, 40503)) >>> 0;

export class GanRun {
  readonly G: GanModule;
  readonly D: GanModule;
  readonly optG: wg.optim.Adam;
  readonly optD: wg.optim.Adam;
  readonly preset: (typeof PRESETS)[PresetName];
  state: TrainState;
  rows: MetricsRow[] = [];
  samples: Array<{ name: string; data: Float32Array }> = [];
  private accSteps = 0;
  private norms: [wg.Tensor, wg.Tensor] | null = null;
  private lastLog = { time: performance.now(), step: 0 };
  private readonly fixedZ: wg.Tensor;
  /** the models, optimisers and the step (step.ts) */
  readonly trainer: GanTrainer;
  private readonly fixedOneHot: wg.Tensor | null;
  private readonly fixedIdx: wg.Tensor | null;
  readonly sampleCount: number;
  private readonly onProgress: (line: string, final: boolean) => void;

  constructor(
    readonly cfg: RunConfig,
    readonly data: Mnist,
    onProgress?: (line: string, final: boolean) => void,
  ) {
    this.trainer = new GanTrainer(cfg, { metrics: true });
    const { preset, G, D, optG, optD } = this.trainer;
    this.preset = preset;
    this.G = G;
    this.D = D;
    this.optG = optG;
    this.optD = optD;
    this.state = { epoch: 0, step: 0, pos: 0, rngEpochStart: cfg.seed >>> 0, lrG: cfg.lrG, lrD: cfg.lrD };
    // fixed noise for the progress grids: 64 samples, or 10 per digit (a row per digit) when conditional
    this.sampleCount = this.preset.conditional ? 100 : 64;
    this.fixedZ = wg.keep(wg.randn([this.sampleCount, cfg.z], { seed: cfg.seed + 777 }));
    if (this.preset.conditional) {
      const idx = Float32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10));
      this.fixedIdx = wg.keep(wg.tensor(idx, [100]));
      this.fixedOneHot = wg.keep(wg.tensor(oneHot(idx), [100, 10]));
    } else {
      this.fixedIdx = this.fixedOneHot = null;
    }
    this.onProgress = onProgress ?? (() => undefined);
  }

  get stepsPerEpoch(): number {
    return Math.floor(this.data.train.count / this.cfg.batch);
  }

  get totalSteps(): number {
    const byEpochs = this.cfg.epochs * this.stepsPerEpoch;
    return this.cfg.steps ? Math.min(this.cfg.steps, byEpochs || this.cfg.steps) : byEpochs;
  }

  /** One training step on the given batch, its metrics accumulated on the GPU; submits once at the end of the scope. */
  private trainStep(x: Float32Array, labels: Float32Array, logNow: boolean): void {
    wg.scope(() => {
      const opts = { seed: stepSeed(this.cfg.seed, this.state.step), norms: logNow };
      const y = this.preset.conditional ? labels : null;
      // the step adds its losses and D's means to the trainer's sums itself (in the replay too)
      const r = this.cfg.capture === false ? this.trainer.step(x, y, opts) : this.trainer.replay(x, y, opts);
      this.accSteps++;
      if (r.dNorm && r.gNorm) this.norms = [wg.keep(r.gNorm), wg.keep(r.dNorm)];
    });
  }

  /** Reads the accumulated metrics (one readback), appends a row, resets the accumulators. */
  private async log(): Promise<MetricsRow | null> {
    if (this.accSteps === 0) return null;
    const [a, norms] = await Promise.all([
      this.trainer.takeMetrics().then((m) => m!),
      this.norms ? Promise.all(this.norms.map((t) => t.item())) : Promise.resolve([NaN, NaN]),
    ]);
    const n = this.accSteps;
    const now = performance.now();
    const row: MetricsRow = {
      epoch: this.state.epoch + this.state.pos / this.stepsPerEpoch,
      step: this.state.step,
      d_loss: a[0]! / n,
      g_loss: a[1]! / n,
      d_x: a[2]! / n,
      d_g_z: a[3]! / n,
      g_grad_norm: norms[0]!,
      d_grad_norm: norms[1]!,
      lr_g: this.optG.lr,
      lr_d: this.optD.lr,
      images_per_s: ((this.state.step - this.lastLog.step) * this.cfg.batch) / ((now - this.lastLog.time) / 1000),
    };
    if (!Number.isFinite(row.d_loss) || !Number.isFinite(row.g_loss)) {
      throw new wg.WgslgradError(
        'train',
        `the losses are not finite at step ${row.step} (D ${row.d_loss}, G ${row.g_loss}): training diverged; try a lower --lr`,
      );
    }
    this.lastLog = { time: now, step: this.state.step };
    this.accSteps = 0;
    this.norms?.forEach((t) => t.dispose());
    this.norms = null;
    this.rows.push(row);
    await this.writeCsv();
    return row;
  }

  /** metrics.csv, rewritten whole (temp file + rename) at each logging interval. */
  private async writeCsv(): Promise<void> {
    const path = join(this.cfg.out, 'metrics.csv');
    const header = `${CSV_COLUMNS.join(',')}\n`;
    const body = `${this.rows
      .map((r) => CSV_COLUMNS.map((k) => (k === 'epoch' ? r[k].toFixed(3) : k === 'step' ? String(r[k]) : Number(r[k].toPrecision(6)))).join(','))
      .join('\n')}\n`;
    await wg.io.writeFileAtomic(path, header + body, 'train');
  }

  /** The fixed-noise grid at this point of training, saved as samples/<name>.png. */
  async sample(name: string): Promise<void> {
    const G = this.G;
    G.eval();
    const data = await wg.scope(() => wg.noGrad(() => G.forward(this.fixedZ, this.fixedOneHot ?? undefined, this.fixedIdx ?? undefined))).toArray();
    G.train();
    this.samples.push({ name, data });
    await mkdir(join(this.cfg.out, 'samples'), { recursive: true });
    await wg.io.saveImageGrid(join(this.cfg.out, 'samples', `${name}.png`), data, this.sampleCount, 28, 28, { cols: this.preset.conditional ? 10 : 8 });
    const pick =
      this.samples.length <= 12 ? this.samples : Array.from({ length: 12 }, (_, i) => this.samples[Math.round((i * (this.samples.length - 1)) / 11)]!);
    const tiles = pick.map((s) => ({
      ...wg.io.imageGrid(s.data, this.sampleCount, 28, 28, { cols: this.preset.conditional ? 10 : 8, pad: 1 }),
      caption: s.name,
    }));
    await composite(tiles, Math.min(4, tiles.length)).save(join(this.cfg.out, 'progress.png'));
  }

  async plots(): Promise<void> {
    if (this.rows.length < 2) return;
    const xs = this.rows.map((r) => r.step);
    const xl = 'step';
    await linePlot(
      `${this.cfg.preset}: losses`,
      xl,
      [
        { name: 'D loss', color: [214, 39, 40], xs, ys: this.rows.map((r) => r.d_loss) },
        { name: 'G loss', color: [31, 119, 180], xs, ys: this.rows.map((r) => r.g_loss) },
      ],
      {
        hlines: this.preset.logits
          ? []
          : [
              { y: Math.log(4), label: 'log 4' },
              { y: Math.log(2), label: 'log 2' },
            ],
      },
    ).save(join(this.cfg.out, 'losses.png'));
    await linePlot(
      `${this.cfg.preset}: mean D confidence`,
      xl,
      [
        { name: 'D(x)', color: [44, 160, 44], xs, ys: this.rows.map((r) => r.d_x) },
        { name: 'D(G(z))', color: [148, 103, 189], xs, ys: this.rows.map((r) => r.d_g_z) },
      ],
      { hlines: [{ y: 0.5, label: '1/2' }] },
    ).save(join(this.cfg.out, 'confidence.png'));
  }

  /**
   * Writes models, optimiser states and state.json (last) into a new folder and swaps it in for
   * checkpoint/. A crash at any point leaves a complete checkpoint behind: the old one, or the new
   * one under its temp name (findCheckpoint picks the newest complete one).
   */
  async checkpoint(): Promise<void> {
    const dir = join(this.cfg.out, 'checkpoint');
    const tmp = `${dir}${TMP_MARK}${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await wg.io.saveSafetensors(join(tmp, 'generator.safetensors'), this.G.stateDict(), { preset: this.cfg.preset });
    await wg.io.saveSafetensors(join(tmp, 'discriminator.safetensors'), this.D.stateDict(), { preset: this.cfg.preset });
    // the progress grids' noise (and labels), so another library (examples/pytorch) draws the same grid
    await wg.io.saveSafetensors(join(tmp, 'fixed_noise.safetensors'), { z: this.fixedZ, ...(this.fixedIdx ? { labels: this.fixedIdx } : {}) });
    for (const [name, opt] of [
      ['optimizer_g', this.optG],
      ['optimizer_d', this.optD],
    ] as const) {
      const st = opt.stateDict();
      await wg.io.saveSafetensors(join(tmp, `${name}.safetensors`), st.tensors, { step: String(st.step), hyper: JSON.stringify(st.hyper) });
      for (const t of Object.values(st.tensors)) t.dispose();
    }
    await wg.io.writeFileAtomic(
      join(tmp, 'state.json'),
      JSON.stringify({ ...this.state, config: this.cfg, rows: this.rows, samples: this.samples.map((s) => s.name) }, null, 1),
      'checkpoint',
    );
    // checkpoint/ is the newest complete one, so a checkpoint.old beside it is stale
    if (existsSync(dir)) {
      await rm(`${dir}.old`, { recursive: true, force: true });
      await rename(dir, `${dir}.old`);
    }
    await rename(tmp, dir);
    await rm(`${dir}.old`, { recursive: true, force: true });
    // folders of writes that a crash interrupted (older than the one just swapped in)
    for (const n of await readdir(this.cfg.out)) if (n.startsWith(`checkpoint${TMP_MARK}`)) await rm(join(this.cfg.out, n), { recursive: true, force: true });
  }

  /** Restores models, optimisers and the loop position from a checkpoint folder. */
  async restore(dir: string): Promise<void> {
    for (const f of CHECKPOINT_FILES) if (!existsSync(join(dir, f))) throw new wg.WgslgradError('resume', `${dir} is not a checkpoint: ${f} is missing`);
    let st: TrainState & { rows?: MetricsRow[]; samples?: string[] };
    try {
      st = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
    } catch (e) {
      throw new wg.WgslgradError('resume', `${join(dir, 'state.json')} is not valid JSON (${(e as Error).message})`);
    }
    for (const k of ['epoch', 'step', 'pos', 'rngEpochStart', 'lrG', 'lrD'] as const) {
      if (typeof st[k] !== 'number') throw new wg.WgslgradError('resume', `${join(dir, 'state.json')}: ${k} is missing or not a number`);
    }
    for (const [m, file] of [
      [this.G, 'generator'],
      [this.D, 'discriminator'],
    ] as const) {
      const sd = await wg.io.loadSafetensors(join(dir, `${file}.safetensors`));
      try {
        m.loadStateDict(sd);
      } finally {
        for (const t of Object.values(sd)) t.dispose();
      }
    }
    for (const [name, opt] of [
      ['optimizer_g', this.optG],
      ['optimizer_d', this.optD],
    ] as const) {
      const { tensors, metadata } = await wg.io.readSafetensors(join(dir, `${name}.safetensors`));
      let hyper: Record<string, number | number[] | boolean>;
      try {
        hyper = JSON.parse(metadata.hyper ?? '');
      } catch {
        throw new wg.WgslgradError('resume', `${name}.safetensors has no readable hyperparameters in its metadata`);
      }
      opt.loadStateDict({ step: Number(metadata.step), hyper, tensors });
      for (const t of Object.values(tensors)) t.dispose();
    }
    this.state = { epoch: st.epoch, step: st.step, pos: st.pos, rngEpochStart: st.rngEpochStart, lrG: st.lrG, lrD: st.lrD };
    this.optG.lr = st.lrG;
    this.optD.lr = st.lrD;
    this.rows = Array.isArray(st.rows) ? st.rows : [];
    this.lastLog = { time: performance.now(), step: st.step };
  }

  /** Trains until the configured epochs or steps are done. */
  async run(): Promise<void> {
    const { cfg, data } = this;
    const n = data.train.count;
    const B = cfg.batch;
    if (B > n) throw new wg.WgslgradError('train', `--batch ${B} is larger than the training set (${n})`);
    await mkdir(cfg.out, { recursive: true });
    const xBuf = new Float32Array(B * 784);
    const yBuf = new Float32Array(B);
    const total = this.totalSteps;
    const rng = new Rng(this.state.rngEpochStart);
    let order = rng.permutation(n);
    const t0 = performance.now();
    const step0 = this.state.step;
    while (this.state.step < total) {
      gatherBatch(data.train, order, this.state.pos * B, B, xBuf, yBuf);
      const logNow = (this.state.step + 1) % cfg.logEvery === 0 || this.state.step + 1 === total;
      this.trainStep(xBuf, yBuf, logNow);
      this.state.step++;
      this.state.pos++;
      if (logNow) {
        const row = await this.log();
        if (row) this.progress(row, total, t0, step0);
      }
      if (cfg.sampleEvery > 0 && this.state.step % cfg.sampleEvery === 0) await this.sample(`step-${String(this.state.step).padStart(6, '0')}`);
      if (this.state.pos === this.stepsPerEpoch) {
        this.state.epoch++;
        this.state.pos = 0;
        this.state.rngEpochStart = rng.state;
        order = rng.permutation(n);
        const sch = this.preset.schedule;
        if (sch.every > 0 && this.state.epoch % sch.every === 0) {
          this.optG.lr = this.state.lrG = this.state.lrG * sch.gamma;
          this.optD.lr = this.state.lrD = this.state.lrD * sch.gamma;
        }
        if (cfg.sampleEpochs.includes(this.state.epoch)) await this.sample(`epoch-${String(this.state.epoch).padStart(3, '0')}`);
        await this.checkpoint();
      }
    }
    // the final grid, unless this step already has one (a step grid, or the grid of the epoch it ended)
    const endName = `step-${String(this.state.step).padStart(6, '0')}`;
    const epochGridNow = this.state.step > 0 && this.state.pos === 0 && cfg.sampleEpochs.includes(this.state.epoch);
    if (!epochGridNow && !this.samples.some((s) => s.name === endName)) await this.sample(endName);
    await this.plots();
    await this.checkpoint();
  }

  private progress(row: MetricsRow, total: number, t0: number, step0: number): void {
    const done = this.state.step - step0;
    const rate = done / ((performance.now() - t0) / 1000);
    const eta = (total - this.state.step) / Math.max(rate, 1e-9);
    const pct = this.state.step / total;
    const bar = '#'.repeat(Math.round(pct * 20)).padEnd(20, '.');
    this.onProgress(
      `[${bar}] step ${this.state.step}/${total} epoch ${row.epoch.toFixed(2)} D ${row.d_loss.toFixed(3)} G ${row.g_loss.toFixed(3)} D(x) ${row.d_x.toFixed(2)} D(G(z)) ${row.d_g_z.toFixed(2)} ${row.images_per_s.toFixed(0)} img/s ETA ${fmtTime(eta)}`,
      this.state.step === total,
    );
  }

  /** R3's table: mean D and G loss per epoch, every 10th epoch (every epoch for short runs). */
  lossTable(): string {
    const byEpoch = new Map<number, { d: number; g: number; n: number }>();
    for (const r of this.rows) {
      const e = Math.max(1, Math.ceil(r.epoch));
      const a = byEpoch.get(e) ?? { d: 0, g: 0, n: 0 };
      a.d += r.d_loss;
      a.g += r.g_loss;
      a.n++;
      byEpoch.set(e, a);
    }
    const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
    const shown = epochs.length > 10 ? epochs.filter((e) => e === 1 || e % 10 === 0 || e === epochs[epochs.length - 1]) : epochs;
    const lines = ['epoch   D loss   G loss'];
    for (const e of shown) {
      const a = byEpoch.get(e)!;
      lines.push(`${String(e).padStart(5)}  ${(a.d / a.n).toFixed(4).padStart(7)}  ${(a.g / a.n).toFixed(4).padStart(7)}`);
    }
    return lines.join('\n');
  }
}
