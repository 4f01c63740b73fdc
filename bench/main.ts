// npm run bench [-- --quick] [--only NAME[,NAME]] [--json FILE] [--reps N] [--no-tfjs] [--no-cpu] [--no-browser]
//
// Every kernel against its CPU reference (src/cpu, float64) on the same inputs, whole GAN training
// steps, and the same workloads in TF.js 4.22 (webgpu backend on the same Dawn adapter, and wasm),
// all in one invocation so that ratios are measured side by side; then the training page's step in
// headless Chromium beside the same step here (bench/browser.ts), where Chromium is installed. Writes
// bench/results/<adapter>-<date>[-quick].json (or --json FILE) and prints a table.
//
// Timing: wall time from recording to the end of the GPU work (wg.sync()), median and min–max of
// --reps runs after warm-up (one run; on a hardware adapter at least 300 ms of runs, as clocks idle
// down); GPU time per kernel from timestamp queries where the adapter has them (`kernels_gpu_ms`).
// TF.js rows wait on `await tensor.data()` of each result.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as wg from '../src/index.js';
import { BROWSER_STEP, browserStep } from './browser.js';
import {
  type Ctx,
  kernelTables,
  printRow,
  printSummary,
  type Row,
  randData,
  results,
  runKernel,
  TOL,
  tfRun,
  type Workload,
  wgRun,
  writeJson,
} from './harness.js';
import { type PairedRow, type PairedWorkload, pairedRounds, printPaired } from './paired.js';
import { ganStep, ganStepBench, transformerStep, transformerStepBench } from './steps.js';
import { loadTfjs, tfBackend } from './tfjs.js';
import {
  adamWorkload,
  attentionWorkload,
  batchnormWorkload,
  bceWorkload,
  convWorkload,
  layerNormWorkload,
  leakyWorkload,
  matmulWorkload,
  softmaxWorkload,
} from './workloads.js';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
    reps: { type: 'string' },
    'no-tfjs': { type: 'boolean', default: false },
    'no-cpu': { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    'no-browser': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    subgroups: { type: 'string', default: 'auto' },
    large: { type: 'boolean' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(
    'usage: npm run bench -- [--quick] [--only NAME[,NAME…]] [--json FILE] [--reps N] [--no-tfjs] [--no-cpu] [--no-torch] [--no-browser] [--rounds N] [--subgroups auto|off] [--large]\n  --no-browser leaves out the training page step in headless Chromium (browser-mlp-b32)\n  --large adds matmul 2048² and 4096² (on by default on a hardware adapter); --subgroups off runs the kernels that use no subgroup operations\n  --rounds N: paired rounds against PyTorch on the CPU (software adapters; default 4, 2 with --quick, 0 for none)',
  );
  process.exit(0);
}
const quick = opt.quick ?? false;
const only = opt.only ? opt.only.split(',') : null;
const info = await wg.init({ subgroups: opt.subgroups !== 'off' });
const large = opt.large ?? !info.software;
const { tf, note: tfNote } = opt['no-tfjs'] ? { tf: null, note: '' } : await loadTfjs();
const ctx: Ctx = {
  info,
  quick,
  reps: opt.reps ? Number(opt.reps) : quick ? 3 : 5,
  // a GPU idles down its clocks while the CPU reference runs (an H100 read 345 MHz idle, 1980 MHz busy)
  warmMs: info.software ? 0 : 300,
  tf,
  wanted: (name) => !only || only.some((o) => name.includes(o)),
};

// the host's CPU: a software adapter's speed follows it (the same commit ran 2× apart on two hosts)
const host = hostCpu();
const t0 = performance.now();
console.log(`host: ${host.cpu}, ${host.cores} cores${host.simd ? `, ${host.simd}` : ''}`);
console.log(
  `wgslgrad benchmark${quick ? ' (--quick)' : ''} on ${info.adapter.description || info.adapter.device} [${info.backend}${info.software ? ', software' : ''}${info.subgroups ? ', subgroups' : ''}], node ${process.version}${tf ? `, TF.js ${tf.version.tfjs}` : ''}`,
);
const S = quick
  ? { mm: [256, 512], b: 8, gan: 16, mlp: 100, n: 1 << 18, adam: 1 << 18, rows: 1024, tr: 32 }
  : { mm: [256, 512, 1024], b: 64, gan: 128, mlp: 100, n: 1 << 20, adam: 1 << 20, rows: 4096, tr: 32 };
if (large && !quick) S.mm.push(2048, 4096);
const b = S.b;
const W: Workload[] = [
  ...S.mm.map((n) => matmulWorkload(ctx, `matmul-${n}`, n, n, n, n >= 1024 ? 1 : 3)),
  matmulWorkload(ctx, 'matmul-skinny', S.gan, 6272, 1, 3),
  convWorkload(ctx, 'conv1-fwd', { transposed: false, N: b, CI: 1, CO: 64, H: 28, grads: false }),
  convWorkload(ctx, 'conv1-fwd-bwd', { transposed: false, N: b, CI: 1, CO: 64, H: 28, grads: true }),
  convWorkload(ctx, 'conv2-fwd', { transposed: false, N: b, CI: 64, CO: 128, H: 14, grads: false }),
  convWorkload(ctx, 'conv2-fwd-bwd', { transposed: false, N: b, CI: 64, CO: 128, H: 14, grads: true }),
  convWorkload(ctx, 'convT-fwd', { transposed: true, N: b, CI: 128, CO: 64, H: 7, grads: false }),
  convWorkload(ctx, 'convT-fwd-bwd', { transposed: true, N: b, CI: 128, CO: 64, H: 7, grads: true }),
  convWorkload(ctx, 'convT2-fwd', { transposed: true, N: b, CI: 64, CO: 1, H: 14, grads: false }),
  convWorkload(ctx, 'convT2-fwd-bwd', { transposed: true, N: b, CI: 64, CO: 1, H: 14, grads: true }),
  batchnormWorkload(ctx, 'batchnorm2d-fwd-bwd', [b, 64, 14, 14]),
  leakyWorkload(ctx, 'leakyrelu', S.n),
  bceWorkload(ctx, 'bce-with-logits', S.n),
  adamWorkload(ctx, `adam-${S.adam >= 1 << 20 ? '1M' : '256k'}`, S.adam),
  softmaxWorkload(ctx, `softmax-${S.rows}x256`, S.rows, 256),
  layerNormWorkload(ctx, `layernorm-${S.rows}x256`, S.rows, 256),
  // the char-transformer's heads (4 × 4 of 16 features) at T = 64 and 256, fused and composed
  ...[64, 256].flatMap((T) => [
    attentionWorkload(ctx, `attention-T${T}`, 4, 4, T, 16, false),
    attentionWorkload(ctx, `attention-T${T}-composed`, 4, 4, T, 16, true),
  ]),
];
const TRANSFORMER_STEP = `transformer-step-b${S.tr}`;
const steps: Array<[string, 'dcgan' | 'mlp', number]> = [
  [`dcgan-step-b${S.gan}`, 'dcgan', S.gan],
  [`mlp-step-b${S.mlp}`, 'mlp', S.mlp],
];
// Two phases in one invocation: the CPU reference and wgslgrad rows first, then TF.js's. On an
// H100, once TF.js's WebGPU device had run work, our device's timings doubled (the DCGAN step
// 14.9 → 34.8 ms): two devices on one GPU interfere, so neither measures while the other has run.
for (const phase of ['own', 'tfjs'] as const) {
  if (phase === 'tfjs') {
    if (!tf) break;
    console.log('\n---- TF.js on the same adapter (webgpu) and wasm, same inputs ----');
  }
  for (const w of W) await runKernel(ctx, w, phase, opt['no-cpu'] ?? false);
  for (const [name, preset, B] of steps) await ganStepBench(ctx, name, preset, B, phase);
  await transformerStepBench(ctx, TRANSFORMER_STEP, S.tr, phase);
}
// PyTorch on the same machine, after every other row: on the CPU beside a software adapter (the
// user's real alternative there), on CUDA beside a hardware one
const python = opt['no-torch'] ? null : torchPython();
const torchNote = opt['no-torch'] ? 'not run (--no-torch)' : runTorch(info.software ? 'cpu' : 'cuda');
const browserNote = opt['no-browser'] ? 'not run (--no-browser)' : ctx.wanted(BROWSER_STEP) ? await browserStep(ctx) : 'not run (--only)';
printSummary([...W.map((w) => w.name), ...steps.map((x) => x[0]), TRANSFORMER_STEP, BROWSER_STEP]);
// then the goal rows again in paired rounds, on the CPU only (on a GPU the two processes would share
// the device, and its clocks are steady once warm)
const rounds = opt.rounds !== undefined ? Number(opt.rounds) : quick ? 2 : 4;
let paired: { rows: PairedRow[]; note: string } = { rows: [], note: 'not run' };
if (!info.software) paired.note = 'not run: a hardware adapter (paired rounds are for the CPU, where both share the cores)';
else if (!python) paired.note = opt['no-torch'] ? 'not run (--no-torch)' : 'not run: no Python with torch';
else if (!(rounds > 0)) paired.note = 'not run (--rounds 0)';
else {
  console.log(`\n---- paired rounds against PyTorch (cpu): ${rounds} rounds ----`);
  const drop: Array<() => void> = [];
  const wasm = await tfBackend(tf, 'wasm');
  paired = await pairedRounds(python, torchArgs('cpu'), pairedWorkloads(drop, wasm), rounds, 'pytorch-cpu');
  for (const d of drop) d();
  if (paired.rows.length === 0) console.log(`paired rounds: ${paired.note}`);
  printPaired(paired.rows);
}

const date = new Date().toISOString();
const slug = (info.adapter.device || info.adapter.description || 'adapter')
  .toLowerCase()
  .replace(/[^a-z0-9]+/g, '-')
  .replace(/^-|-$/g, '')
  .slice(0, 40);
// build/bench/main.js → the checkout's bench/results/
const file = opt.json ?? join(fileURLToPath(new URL('../../bench/results/', import.meta.url)), `${slug}-${date.slice(0, 10)}${quick ? '-quick' : ''}.json`);
writeJson(file, {
  adapter: { ...info.adapter, backend: info.backend, software: info.software, subgroups: info.subgroups },
  options: { subgroups: opt.subgroups, large, reps: ctx.reps },
  node: process.version,
  host,
  date,
  quick,
  tfjs: tf ? tf.version.tfjs : tfNote || 'not run (--no-tfjs)',
  pytorch: torchNote,
  browser: browserNote,
  paired: {
    timing:
      'per round, the median wall ms of a few runs of each side right after one another (which side goes first alternates); ratio[peer][impl] = the peer ÷ ours per round, then the median and range over the rounds',
    ...paired,
  },
  timing:
    "wall ms from recording to GPU completion (wgslgrad: wg.sync(); TF.js: await data() of each result); median and min–max after warm-up (one run; on a hardware adapter ≥ 300 ms of runs); gpu_ms: sum of the kernels' timestamp-query times in one further run; CPU and wgslgrad rows are measured first, TF.js rows after them in the same process",
  max_rel_err: `max |result − CPU float64 reference| / max |reference| over all outputs; rows above ${TOL} are marked failed`,
  results,
  kernels_gpu_ms: kernelTables,
});
const failed = results.filter((r) => r.failed);
console.log(
  `\n${results.length} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s; written ${file}${failed.length ? `; FAILED (error over tolerance): ${failed.map((r) => `${r.workload}/${r.impl}`).join(', ')}` : ''}`,
);
process.exit(failed.some((r) => r.impl === 'wgslgrad') ? 1 : 0);

/** A Python that imports torch: $PYTHON, python3 on the PATH or Debian's. */
function torchPython(): string | null {
  return [process.env.PYTHON, 'python3', '/usr/bin/python3'].find((p) => p && spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) ?? null;
}

/** bench/torch_step.py and its arguments for the sizes of this run. */
function torchArgs(device: 'cpu' | 'cuda'): string[] {
  const script = fileURLToPath(new URL('../../bench/torch_step.py', import.meta.url));
  return [
    script,
    '--device',
    device,
    '--matmul',
    S.mm.join(','),
    '--conv-batch',
    String(S.b),
    '--gan-batch',
    String(S.gan),
    '--transformer-batch',
    String(S.tr),
  ];
}

/**
 * The rows with goals against PyTorch on the CPU, as far as this run has them: matmul 1024² (against
 * TF.js wasm too, when it runs), the convT layer forward + grads, and both steps op by op and
 * replayed.
 */
function pairedWorkloads(drop: Array<() => void>, wasm: boolean): PairedWorkload[] {
  const out: PairedWorkload[] = [];
  const kernel = (name: string, reps: number, peers?: Record<string, () => Promise<void>>) => {
    const w = W.find((x) => x.name === name);
    if (w && ctx.wanted(name)) out.push({ name, ours: { wgslgrad: wgRun(() => void w.gpu()) }, peers, reps });
  };
  // the goal's 1024² where this run has it (--large adds 2048² and 4096²), else the largest selected
  const mm = S.mm.includes(1024) && ctx.wanted('matmul-1024') ? 1024 : [...S.mm].reverse().find((n) => ctx.wanted(`matmul-${n}`));
  if (mm) {
    // TF.js wasm beside PyTorch: the matmul's other goal is a ratio to it
    const impl = wasm ? W.find((x) => x.name === `matmul-${mm}`)?.tfjs?.('wasm') : undefined;
    const peer = tf && impl && typeof impl !== 'string' ? impl : null;
    if (peer?.dispose) drop.push(peer.dispose);
    kernel(`matmul-${mm}`, quick ? 3 : 5, tf && peer ? { 'tfjs-wasm': tfRun(tf, () => peer.run()) } : undefined);
  }
  kernel('convT-fwd-bwd', quick ? 3 : 5);
  for (const [name, preset, B] of steps) {
    if (!ctx.wanted(name)) continue;
    const real = randData(B * 784, 21);
    const ours: Record<string, () => Promise<void>> = {};
    for (const mode of ['eager', 'replay'] as const) {
      const { step, dispose } = ganStep(preset, B, mode, real);
      drop.push(dispose);
      ours[mode === 'eager' ? 'wgslgrad' : 'wgslgrad-replay'] = async () => {
        step();
        await wg.sync();
      };
    }
    out.push({ name, ours, reps: quick ? 1 : preset === 'dcgan' ? 2 : 4 });
  }
  if (ctx.wanted(TRANSFORMER_STEP)) {
    const ours: Record<string, () => Promise<void>> = {};
    for (const mode of ['eager', 'replay'] as const) {
      const { step, dispose } = transformerStep(S.tr, mode);
      drop.push(dispose);
      ours[mode === 'eager' ? 'wgslgrad' : 'wgslgrad-replay'] = async () => {
        step();
        await wg.sync();
      };
    }
    out.push({ name: TRANSFORMER_STEP, ours, reps: quick ? 2 : 5 });
  }
  return out;
}

/** Runs bench/torch_step.py and adds its rows (impl pytorch-cpu or pytorch-eager); returns a note for the JSON. */
function runTorch(device: 'cpu' | 'cuda'): string {
  if (!python) {
    const note = "not run: no Python with torch (install Debian's: sudo bash scripts/install-pytorch.sh)";
    console.log(`\nPyTorch rows: ${note}`);
    return note;
  }
  console.log(`\n---- PyTorch (${device}) on the same machine, same workloads ----`);
  const json = join(tmpdir(), `wgslgrad-torch-${process.pid}.json`);
  // the same sizes as our rows of this run
  const args = [...torchArgs(device), '--json', json, ...(quick ? ['--quick'] : [])];
  const r = spawnSync(python, args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    const note = `failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
    console.log(`PyTorch rows: ${note}`);
    return note;
  }
  const out = JSON.parse(readFileSync(json, 'utf8')) as { device: string; torch: string; blas: string[]; results: Row[] };
  for (const row of out.results) {
    if (!ctx.wanted(row.workload)) continue;
    const own = results.find((x) => x.workload === row.workload && x.impl === 'wgslgrad');
    row.shape = own?.shape ?? row.workload;
    results.push(row);
    printRow(row);
  }
  return `torch ${out.torch} on ${out.device}; BLAS ${out.blas.map((b) => b.split('/').pop()).join(', ') || 'unknown'}`;
}

/** The CPU model, core count and widest vector extension (from /proc/cpuinfo where there is one). */
function hostCpu(): { cpu: string; cores: number; simd: string } {
  const list = cpus();
  let flags = '';
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux: the model and core count alone
  }
  const has = (f: string) => flags.split(/\s+/).includes(f);
  const simd = has('avx512f') ? 'avx512' : has('avx2') ? 'avx2' : has('avx') ? 'avx' : has('sse4_2') ? 'sse4.2' : '';
  return { cpu: list[0]?.model.trim() || 'unknown', cores: list.length, simd };
}
