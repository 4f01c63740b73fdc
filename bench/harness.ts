// The benchmark harness: timing (warm-up, median and range of runs), comparison with the CPU
// reference, GPU time per kernel, the result rows and their JSON. Workloads (workloads.ts, steps.ts)
// say what to run; main.ts says which and in what order.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import * as wg from '../src/index.js';
import { type Tf, tfBackend } from './tfjs.js';

export type { Tf };

/** What every workload needs to know about the run. */
export interface Ctx {
  info: wg.InitInfo;
  quick: boolean;
  reps: number;
  /** on a hardware adapter every timed implementation first runs this long (clocks idle down) */
  warmMs: number;
  /** TF.js on the same adapter, when loaded */
  tf: Tf | null;
  wanted(name: string): boolean;
}

export interface Timing {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  runs: number;
}

/** One result row of the JSON. */
export interface Row extends Partial<Timing> {
  workload: string;
  impl: string;
  shape?: string;
  max_rel_err?: number | null;
  unsupported?: string;
  note?: string;
  gpu_ms?: number;
  gflops?: number;
  gflops_gpu_time?: number;
  gbps?: number;
  speedup_vs_cpu?: number | null;
  failed?: boolean;
  images_per_s?: number;
  /** the char-transformer's step: sequences (words) a second */
  words_per_s?: number;
  submits_per_step?: number;
  new_buffers_per_step?: number;
  /** bind groups made per step (the recorder's cache misses; 0 once a repeated step settles) */
  new_bind_groups_per_step?: number;
  /** buffer-to-buffer copies per step (gradients the optimisers had to copy into their flat buffers) */
  copies_per_step?: number;
  dispatches_per_step?: number;
  /** CPU time to record and submit one step (median) */
  record_ms?: number;
  record_us_per_dispatch?: number;
  /** mean time per step with no wait between steps (the next recorded while the GPU runs the last) */
  pipelined_ms?: number;
  pipelined_steps?: number;
  pipelined_images_per_s?: number;
  pipelined_words_per_s?: number;
}

/** max relative error (max |Δ| / max |ref|) above which a row is marked failed */
export const TOL = 2e-3;

export const results: Row[] = [];
export const kernelTables: Record<string, Array<{ kernel: string; ms: number; count: number }>> = {};

/** Deterministic data in [-scale, scale). */
export function randData(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return a;
}

export const cpuT = (data: ArrayLike<number>, shape: readonly number[]): wg.cpu.CpuTensor => ({ shape: [...shape], data: Float64Array.from(data) });
export const gpuT = (data: Float32Array, shape: readonly number[], requiresGrad = false): wg.Tensor => wg.tensor(data, shape, { requiresGrad });

/** max |got − want| / max |want| over several outputs (normwise, so near-zero entries do not dominate). */
export function relErr(pairs: Array<[ArrayLike<number>, ArrayLike<number>]>): number {
  let e = 0;
  for (const [got, want] of pairs) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < want.length; i++) {
      num = Math.max(num, Math.abs(got[i]! - want[i]!));
      den = Math.max(den, Math.abs(want[i]!));
    }
    e = Math.max(e, den > 0 ? num / den : num);
  }
  return e;
}

export function stats(ts: number[]): Timing {
  const s = [...ts].sort((a, b) => a - b);
  return { median_ms: s[s.length >> 1]!, min_ms: s[0]!, max_ms: s[s.length - 1]!, runs: s.length };
}

/** Runs `run` until ctx.warmMs have passed (at least once, at most 200 times). */
export async function warm(ctx: Ctx, run: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  let n = 0;
  do {
    await run();
    n++;
  } while (performance.now() - t0 < ctx.warmMs && n < 200);
}

/** The wall ms of each of `reps` runs, one after another. */
export async function wallTimes(run: () => void | Promise<void>, reps: number): Promise<number[]> {
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    ts.push(performance.now() - t0);
  }
  return ts;
}

/** Wall time of `reps` runs of fn, each in its own scope and waited for, after warm-up. */
export async function timeRuns(ctx: Ctx, run: () => void | Promise<void>, reps = ctx.reps): Promise<Timing> {
  await warm(ctx, async () => {
    await run();
  });
  return stats(await wallTimes(run, reps));
}

/** fn recorded in a scope (its end submits) and waited for. */
export const wgRun = (fn: () => void) => async (): Promise<void> => {
  wg.scope(fn);
  await wg.sync();
};

/** A TF.js computation run in tf.tidy, waited for through data() of each result. */
export const tfRun = (tf: Tf, fn: () => TF.Tensor | TF.Tensor[]) => async (): Promise<void> => {
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  await Promise.all(outs.map((t) => t.data()));
  tf.dispose(outs);
};

export function timeCpu<T>(fn: () => T, reps: number): Timing & { out: T } {
  const ts: number[] = [];
  let out: T | undefined;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    out = fn();
    ts.push(performance.now() - t0);
  }
  return { ...stats(ts), out: out! };
}

let tsKnown: boolean | null = null;
/** Timestamp queries on this device (GPU time per kernel). */
export async function hasTimestamps(): Promise<boolean> {
  if (tsKnown === null) tsKnown = (await wg.profileKernels(() => {})) !== null;
  return tsKnown;
}

/** GPU time of one run of fn, per kernel (kept for the JSON) and summed; null without timestamps. */
export async function gpuTime(name: string, fn: () => void): Promise<number | null> {
  if (!(await hasTimestamps())) return null;
  const k = await wg.profileKernels(fn);
  if (!k) return null;
  kernelTables[name] = k.map((e) => ({ kernel: e.kernel, ms: +e.ms.toFixed(3), count: e.count }));
  return k.reduce((a, e) => a + e.ms, 0);
}

export const fmt = (v: number | null | undefined, d = 1): string => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));

/** The first line of an error, for an `unsupported` field. */
export const errLine = (ex: unknown): string =>
  String((ex as Error).message ?? ex)
    .split('\n')[0]!
    .slice(0, 160);

export function printRow(r: Row): void {
  if (r.unsupported) {
    console.log(`  ${r.impl.padEnd(14)} unsupported: ${r.unsupported}`);
    return;
  }
  const rate =
    r.gflops !== undefined
      ? `${fmt(r.gflops, 2)} GFLOP/s`
      : r.gbps !== undefined
        ? `${fmt(r.gbps, 2)} GB/s`
        : r.images_per_s !== undefined
          ? `${fmt(r.images_per_s, 0)} img/s`
          : r.words_per_s !== undefined
            ? `${fmt(r.words_per_s, 0)} words/s`
            : '';
  const gpu = r.gpu_ms !== undefined ? `  [GPU ${fmt(r.gpu_ms, 2)} ms${r.gflops_gpu_time ? `, ${fmt(r.gflops_gpu_time, 1)} GFLOP/s` : ''}]` : '';
  const extra =
    gpu +
    (r.submits_per_step !== undefined
      ? `  submits/step ${fmt(r.submits_per_step, 2)}  new buffers/step ${fmt(r.new_buffers_per_step, 2)}  new bind groups/step ${fmt(r.new_bind_groups_per_step, 2)}  copies/step ${fmt(r.copies_per_step, 2)}`
      : '') +
    (r.record_ms !== undefined
      ? `  ${fmt(r.dispatches_per_step, 0)} dispatches recorded in ${fmt(r.record_ms, 2)} ms (${fmt(r.record_us_per_dispatch, 1)} µs each)`
      : '') +
    (r.pipelined_ms !== undefined ? `  pipelined ${fmt(r.pipelined_ms)} ms/step over ${r.pipelined_steps}` : '');
  const err = r.max_rel_err !== null && r.max_rel_err !== undefined ? `  err ${r.max_rel_err.toExponential(1)}${r.failed ? ' FAILED' : ''}` : '';
  console.log(
    `  ${r.impl.padEnd(14)} ${fmt(r.median_ms).padStart(9)} ms (${fmt(r.min_ms)}–${fmt(r.max_ms)})  ${rate.padEnd(16)} ${r.speedup_vs_cpu ? `×${fmt(r.speedup_vs_cpu, 1)} vs CPU` : ''}${err}${extra}`,
  );
}

/** Adds rows to the results (with the workload's description) and prints them. */
export function report(rows: Row[], shape: string): void {
  for (const r of rows) {
    r.shape = shape;
    results.push(r);
    printRow(r);
  }
}

/** The summary table: median ms of each implementation, and TF.js webgpu ÷ wgslgrad. */
export function printSummary(names: string[]): void {
  const torchImpl = results.find((r) => r.impl.startsWith('pytorch'))?.impl ?? 'pytorch-cpu';
  console.log('\nsummary (median ms; ratios = the peer ÷ wgslgrad, same run: above 1, wgslgrad is faster)');
  console.log(
    `${'workload'.padEnd(22)}${'cpu-reference'.padStart(14)}${'wgslgrad'.padStart(11)}${'replay'.padStart(9)}${'tfjs-webgpu'.padStart(13)}${'tfjs-wasm'.padStart(11)}${torchImpl.padStart(15)}${'ratio webgpu'.padStart(14)}${'ratio torch'.padStart(13)}${'replay/torch'.padStart(14)}`,
  );
  for (const name of names) {
    const get = (impl: string) => results.find((r) => r.workload === name && r.impl === impl);
    const ms = (impl: string) => {
      const r = get(impl);
      return r?.median_ms !== undefined ? fmt(r.median_ms, r.median_ms < 10 ? 2 : 1) : r?.unsupported ? 'n/a' : '—';
    };
    const w = get('wgslgrad');
    const t = get('tfjs-webgpu');
    if (!w) continue;
    const ratio = w.median_ms && t?.median_ms ? `×${fmt(t.median_ms / w.median_ms, 1)}` : '—';
    const pt = get(torchImpl);
    const ratioTorch = w.median_ms && pt?.median_ms ? `×${fmt(pt.median_ms / w.median_ms, 2)}` : '—';
    const rp = get('wgslgrad-replay');
    const ratioReplay = rp?.median_ms && pt?.median_ms ? `×${fmt(pt.median_ms / rp.median_ms, 2)}` : '—';
    console.log(
      `${name.padEnd(22)}${ms('cpu-reference').padStart(14)}${ms('wgslgrad').padStart(11)}${ms('wgslgrad-replay').padStart(9)}${ms('tfjs-webgpu').padStart(13)}${ms('tfjs-wasm').padStart(11)}${ms(torchImpl).padStart(15)}${ratio.padStart(14)}${ratioTorch.padStart(13)}${ratioReplay.padStart(14)}`,
    );
  }
}

/** Writes `data` as JSON to `file` through a temp file and a rename. */
export function writeJson(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(data, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** A TF.js implementation of a workload: `run` computes, `outputs` maps its results to ours. */
export interface TfImpl {
  run(): TF.Tensor | TF.Tensor[];
  outputs?(o: Float32Array[]): ArrayLike<number>[];
  dispose?(): void;
}

/**
 * One kernel workload: `cpu()` returns the float64 reference outputs (flat arrays), `gpu()` records
 * the wgslgrad work and returns the tensors to compare, `tfjs(backend)` returns an implementation
 * or a string saying why the backend cannot run it.
 */
export interface Workload {
  name: string;
  desc: string;
  flop?: number;
  bytes?: number;
  cpuReps?: number;
  /** the CPU reference computes part of the output: its time is scaled by this */
  cpuScale?: number;
  /** the outputs to compare, when the reference computes part of them */
  select?: ((outs: Float32Array[]) => Float32Array[]) | null;
  /** gpu() returns tensors the workload keeps (not disposed after the comparison) */
  ownsOutputs?: boolean;
  cpu(): ArrayLike<number>[];
  gpu(): Array<wg.Tensor | null>;
  tfjs?(backend: string): TfImpl | string;
}

export type Phase = 'own' | 'tfjs';

const saved = new Map<string, { cpuMs: number | null; ref: ArrayLike<number>[] | null }>(); // from the first phase, for the TF.js phase

/**
 * Runs a kernel workload: in the 'own' phase the CPU reference and wgslgrad (compared, timed, GPU
 * time per kernel); in the 'tfjs' phase TF.js webgpu and wasm against the same reference.
 */
export async function runKernel(ctx: Ctx, w: Workload, phase: Phase, noCpu: boolean): Promise<void> {
  if (!ctx.wanted(w.name)) return;
  console.log(`\n${w.name}: ${w.desc}`);
  const rows: Row[] = [];
  let { cpuMs, ref } = saved.get(w.name) ?? { cpuMs: null, ref: null };
  if (phase === 'own') {
    if (!noCpu) {
      const { out, ...r } = timeCpu(() => w.cpu(), w.cpuReps ?? 1);
      ref = out;
      const row: Row = { workload: w.name, impl: 'cpu-reference', ...r, max_rel_err: 0 };
      if (w.cpuScale) {
        row.median_ms! *= w.cpuScale;
        row.min_ms! *= w.cpuScale;
        row.max_ms! *= w.cpuScale;
        row.note = `timed on a part of the output, scaled ×${w.cpuScale.toFixed(1)}`;
      }
      cpuMs = row.median_ms!;
      rows.push(row);
    }
    saved.set(w.name, { cpuMs, ref });
    // wgslgrad: compare first, then time
    let err: number | null = null;
    if (ref) {
      const outs: wg.Tensor[] = [];
      wg.scope(() => {
        for (const t of w.gpu()) outs.push(wg.keep(t!));
      });
      let got = await Promise.all(outs.map((t) => t.toArray()));
      if (w.select) got = w.select(got);
      if (!w.ownsOutputs) for (const t of outs) t.dispose();
      const want = ref;
      err = relErr(got.map((g, i) => [g, want[i]!]));
    }
    const own: Row = {
      workload: w.name,
      impl: 'wgslgrad',
      ...(await timeRuns(
        ctx,
        wgRun(() => void w.gpu()),
      )),
      max_rel_err: err,
    };
    const gpu = await gpuTime(w.name, () => wg.scope(() => void w.gpu())); // one run, each kernel in its own pass
    if (gpu !== null) own.gpu_ms = gpu;
    rows.push(own);
  }
  for (const backend of ['webgpu', 'wasm']) {
    const tf = ctx.tf;
    if (phase !== 'tfjs' || !tf || w.tfjs === undefined) continue;
    if (!(await tfBackend(tf, backend))) {
      rows.push({ workload: w.name, impl: `tfjs-${backend}`, unsupported: `backend ${backend} did not start` });
      continue;
    }
    const impl = w.tfjs(backend);
    if (typeof impl === 'string') {
      rows.push({ workload: w.name, impl: `tfjs-${backend}`, unsupported: impl });
      continue;
    }
    try {
      let e: number | null = null;
      if (ref && impl.outputs) {
        const outs = tf.tidy(() => impl.run());
        const got = (await Promise.all((Array.isArray(outs) ? outs : [outs]).map((o) => o.data()))) as Float32Array[];
        tf.dispose(outs);
        const flat = impl.outputs(got) as Float32Array[];
        const want = ref;
        e = relErr((w.select ? w.select(flat) : flat).map((g, i) => [g, want[i]!]));
      }
      const tt = await timeRuns(
        ctx,
        tfRun(tf, () => impl.run()),
        backend === 'wasm' ? Math.min(ctx.reps, 3) : ctx.reps,
      );
      rows.push({ workload: w.name, impl: `tfjs-${backend}`, ...tt, max_rel_err: e });
    } catch (ex) {
      rows.push({ workload: w.name, impl: `tfjs-${backend}`, unsupported: errLine(ex) });
    }
    impl.dispose?.();
  }
  for (const r of rows) {
    if (r.median_ms !== undefined) {
      if (w.flop) r.gflops = w.flop / r.median_ms / 1e6;
      if (w.flop && r.gpu_ms) r.gflops_gpu_time = w.flop / r.gpu_ms / 1e6;
      if (w.bytes) r.gbps = w.bytes / r.median_ms / 1e6;
      r.speedup_vs_cpu = cpuMs !== null ? cpuMs / r.median_ms : null;
      if (r.max_rel_err !== null && r.max_rel_err !== undefined) r.failed = r.max_rel_err > TOL;
    }
  }
  report(rows, w.desc);
}
