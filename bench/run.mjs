// npm run bench [-- --quick] [--only NAME[,NAME]] [--json FILE] [--reps N] [--no-tfjs] [--no-cpu]
//
// Every kernel against its CPU reference (src/cpu, float64) on the same inputs, whole GAN training
// steps, and the same workloads in TF.js 4.22 (webgpu backend on the same Dawn adapter, and wasm),
// all in one invocation so that ratios are measured side by side. Writes
// bench/results/<adapter>-<date>[-quick].json (or --json FILE) and prints a table.
//
// Timing: wall time from recording to the end of the GPU work (wg.sync()), median and min–max of
// --reps runs after warm-up (one run; on a hardware adapter at least 300 ms of runs, as clocks idle down); GPU time per kernel from timestamp queries where the adapter
// has them (the `kernels` field). TF.js rows wait on `await tensor.data()` of each result.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PRESETS } from '../build/examples/mnist-gan/presets.js';
// The library as the examples are built against it (build/src is src/ compiled like dist/): the
// GAN presets come from build/examples, and one module instance must hold the device.
import * as wg from '../build/src/index.js';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
    reps: { type: 'string' },
    'no-tfjs': { type: 'boolean', default: false },
    'no-cpu': { type: 'boolean', default: false },
    subgroups: { type: 'string', default: 'auto' },
    large: { type: 'boolean' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(
    'usage: npm run bench -- [--quick] [--only NAME[,NAME…]] [--json FILE] [--reps N] [--no-tfjs] [--no-cpu] [--subgroups auto|off] [--large]\n  --large adds matmul 2048² and 4096² (on by default on a hardware adapter); --subgroups off runs the kernels that use no subgroup operations',
  );
  process.exit(0);
}
const QUICK = opt.quick;
const REPS = opt.reps ? Number(opt.reps) : QUICK ? 3 : 5;
const ONLY = opt.only ? opt.only.split(',') : null;
const TOL = 2e-3; // max relative error (max |Δ| / max |ref|) above which a row is marked failed
const wanted = (name) => !ONLY || ONLY.some((o) => name.includes(o));

const info = await wg.init({ subgroups: opt.subgroups !== 'off' });
const LARGE = opt.large ?? !info.software;
const C = wg.cpu;

// ------------------------------------------------------------------ TF.js on the same adapter
let tf = null;
let tfNote = '';
if (!opt['no-tfjs']) {
  try {
    const { create } = await import('webgpu');
    const gpu = create([]);
    globalThis.__benchGpu = gpu; // Dawn frees its instance when this object is collected
    if (!globalThis.navigator) globalThis.navigator = {};
    Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
    tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    await import('@tensorflow/tfjs-backend-wasm');
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  } catch (e) {
    tf = null;
    tfNote = `TF.js not loaded: ${e.message}`;
    console.log(tfNote);
  }
}
async function tfBackend(name) {
  if (!tf) return false;
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ helpers
const results = [];
const kernelTables = {};
const seeded = (seed) => () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
function randData(n, seed, scale = 1) {
  const r = seeded(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 * scale;
  return a;
}
const cpuT = (data, shape) => ({ shape: [...shape], data: Float64Array.from(data) });
const gpuT = (data, shape, requiresGrad = false) => wg.tensor(data, shape, { requiresGrad });
/** NCHW data → NHWC (TF.js layout) and back. */
function nchwToNhwc(d, [N, Cc, H, W]) {
  const o = new Float32Array(d.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < Cc; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) o[((n * H + h) * W + w) * Cc + c] = d[((n * Cc + c) * H + h) * W + w];
  return o;
}
function nhwcToNchw(d, [N, Cc, H, W]) {
  const o = new Float32Array(d.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < Cc; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) o[((n * Cc + c) * H + h) * W + w] = d[((n * H + h) * W + w) * Cc + c];
  return o;
}
/** PyTorch conv weight [CO,CI,KH,KW] → TF conv2d filter [KH,KW,CI,CO]; convT weight [CI,CO,KH,KW] → TF conv2dTranspose filter [KH,KW,CO,CI]. */
function permuteW(d, [A, B, KH, KW], transposed) {
  const o = new Float32Array(d.length);
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++)
      for (let h = 0; h < KH; h++)
        for (let w = 0; w < KW; w++) {
          const src = ((a * B + b) * KH + h) * KW + w;
          o[transposed ? ((h * KW + w) * B + b) * A + a : ((h * KW + w) * B + b) * A + a] = d[src];
        }
  return o;
}
function unpermuteW(d, [A, B, KH, KW]) {
  const o = new Float32Array(d.length);
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++)
      for (let h = 0; h < KH; h++) for (let w = 0; w < KW; w++) o[((a * B + b) * KH + h) * KW + w] = d[((h * KW + w) * B + b) * A + a];
  return o;
}
/** max |got − want| / max |want| over several outputs (normwise, so near-zero entries do not dominate). */
function relErr(pairs) {
  let e = 0;
  for (const [got, want] of pairs) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < want.length; i++) {
      num = Math.max(num, Math.abs(got[i] - want[i]));
      den = Math.max(den, Math.abs(want[i]));
    }
    e = Math.max(e, den > 0 ? num / den : num);
  }
  return e;
}
function stats(ts) {
  const s = [...ts].sort((a, b) => a - b);
  return { median_ms: s[s.length >> 1], min_ms: s[0], max_ms: s[s.length - 1], runs: s.length };
}
// A GPU idles down its clocks while the CPU reference runs (an H100 read 345 MHz idle, 1980 MHz
// busy): on a hardware adapter every timed implementation first runs for at least WARM_MS.
const WARM_MS = info.software ? 0 : 300;
async function warm(run) {
  const t0 = performance.now();
  let n = 0;
  do {
    await run();
    n++;
  } while (performance.now() - t0 < WARM_MS && n < 200);
}
async function timeWg(fn, reps = REPS) {
  await warm(async () => {
    wg.scope(fn);
    await wg.sync();
  });
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    wg.scope(fn);
    await wg.sync();
    ts.push(performance.now() - t0);
  }
  return stats(ts);
}
async function timeTf(fn, reps = REPS) {
  const run = async () => {
    const outs = tf.tidy(() => {
      const r = fn();
      return Array.isArray(r) ? r : [r];
    });
    await Promise.all(outs.map((t) => t.data()));
    tf.dispose(outs);
  };
  await warm(run);
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    ts.push(performance.now() - t0);
  }
  return stats(ts);
}
function timeCpu(fn, reps) {
  const ts = [];
  let out;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    out = fn();
    ts.push(performance.now() - t0);
  }
  return { ...stats(ts), out };
}
const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));

/**
 * One kernel workload: `cpu()` returns the float64 reference outputs (flat arrays), `gpu()` records
 * the wgslgrad work and returns the tensors to compare, `tfjs(backend)` returns {run, outputs} or
 * a string saying why the backend cannot run it.
 */
const saved = new Map(); // workload → {ref, cpuMs} from the first phase, for the TF.js phase
async function kernel(w, phase) {
  if (!wanted(w.name)) return;
  console.log(`\n${w.name}: ${w.desc}`);
  const rows = [];
  let { cpuMs, ref } = saved.get(w.name) ?? { cpuMs: null, ref: null };
  if (phase === 'own' && !opt['no-cpu']) {
    const reps = w.cpuReps ?? 1;
    const r = timeCpu(w.cpu, reps);
    ref = r.out;
    const row = { workload: w.name, impl: 'cpu-reference', ...stripOut(r), max_rel_err: 0 };
    if (w.cpuScale) {
      for (const k of ['median_ms', 'min_ms', 'max_ms']) row[k] *= w.cpuScale;
      row.note = `timed on a part of the output, scaled ×${w.cpuScale.toFixed(1)}`;
    }
    cpuMs = row.median_ms;
    rows.push(row);
  }
  // wgslgrad: compare first, then time
  let err = null;
  if (phase === 'own') saved.set(w.name, { cpuMs, ref });
  if (phase === 'own' && ref) {
    const outs = [];
    wg.scope(() => {
      for (const t of w.gpu()) outs.push(wg.keep(t));
    });
    let got = await Promise.all(outs.map((t) => t.toArray()));
    if (w.select) got = w.select(got);
    if (!w.ownsOutputs) outs.forEach((t) => t.dispose());
    err = relErr(got.map((g, i) => [g, ref[i]]));
  }
  const t =
    phase === 'own'
      ? await timeWg(() => {
          w.gpu();
        })
      : null;
  const own = { workload: w.name, impl: 'wgslgrad', ...t, max_rel_err: err };
  if (t) rows.push(own);
  if (t && (await hasTimestamps())) {
    const k = await wg.profileKernels(() =>
      wg.scope(() => {
        w.gpu();
      }),
    );
    if (k) {
      kernelTables[w.name] = k.map((e) => ({ kernel: e.kernel, ms: +e.ms.toFixed(3), count: e.count }));
      own.gpu_ms = k.reduce((a, e) => a + e.ms, 0); // one run, each kernel in its own pass
    }
  }
  for (const backend of ['webgpu', 'wasm']) {
    if (phase !== 'tfjs' || !tf || w.tfjs === undefined) continue;
    if (!(await tfBackend(backend))) {
      rows.push({ workload: w.name, impl: `tfjs-${backend}`, unsupported: `backend ${backend} did not start` });
      continue;
    }
    const impl = w.tfjs(backend);
    if (typeof impl === 'string') {
      rows.push({ workload: w.name, impl: `tfjs-${backend}`, unsupported: impl });
      continue;
    }
    try {
      let e = null;
      if (ref && impl.outputs) {
        const outs = tf.tidy(() => impl.run());
        const got = await Promise.all((Array.isArray(outs) ? outs : [outs]).map((o) => o.data()));
        tf.dispose(outs);
        const flat = impl.outputs(got);
        e = relErr((w.select ? w.select(flat) : flat).map((g, i) => [g, ref[i]]));
      }
      const tt = await timeTf(impl.run, backend === 'wasm' ? Math.min(REPS, 3) : REPS);
      rows.push({ workload: w.name, impl: `tfjs-${backend}`, ...tt, max_rel_err: e });
    } catch (ex) {
      rows.push({
        workload: w.name,
        impl: `tfjs-${backend}`,
        unsupported: String(ex.message ?? ex)
          .split('\n')[0]
          .slice(0, 160),
      });
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
    r.shape = w.desc;
    results.push(r);
    printRow(r);
  }
}
function stripOut(r) {
  const { out, ...rest } = r;
  return rest;
}
let tsKnown = null;
async function hasTimestamps() {
  if (tsKnown === null) tsKnown = (await wg.profileKernels(() => {})) !== null;
  return tsKnown;
}
function printRow(r) {
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
          : '';
  const gpu = r.gpu_ms !== undefined ? `  [GPU ${fmt(r.gpu_ms, 2)} ms${r.gflops_gpu_time ? `, ${fmt(r.gflops_gpu_time, 1)} GFLOP/s` : ''}]` : '';
  const extra =
    gpu + (r.submits_per_step !== undefined ? `  submits/step ${fmt(r.submits_per_step, 2)}  new buffers/step ${fmt(r.new_buffers_per_step, 2)}` : '');
  console.log(
    `  ${r.impl.padEnd(14)} ${fmt(r.median_ms).padStart(9)} ms (${fmt(r.min_ms)}–${fmt(r.max_ms)})  ${rate.padEnd(16)} ${r.speedup_vs_cpu ? `×${fmt(r.speedup_vs_cpu, 1)} vs CPU` : ''}${r.max_rel_err !== null && r.max_rel_err !== undefined ? `  err ${r.max_rel_err.toExponential(1)}${r.failed ? ' FAILED' : ''}` : ''}${extra}`,
  );
}

// ------------------------------------------------------------------ kernel workloads
/** Above 1024² the CPU reference computes (and the check compares) 16 sampled rows only. */
function matmulWorkload(name, M, K, N, cpuReps = 1) {
  const a = randData(M * K, 1),
    b = randData(K * N, 2);
  const sampled = M * N * K > 1024 ** 3;
  const rows = sampled ? Array.from({ length: 16 }, (_, i) => Math.floor((i * (M - 1)) / 15)) : null;
  let ga, gb;
  return {
    name,
    desc: `[${M}×${K}]·[${K}×${N}]${sampled ? ' (checked on 16 sampled rows)' : ''}`,
    flop: 2 * M * N * K,
    cpuReps,
    cpuScale: rows ? M / rows.length : 0,
    cpu: () => {
      if (!rows) return [C.matmul(cpuT(a, [M, K]), cpuT(b, [K, N])).data];
      const sub = new Float32Array(rows.length * K);
      rows.forEach((r, i) => sub.set(a.subarray(r * K, (r + 1) * K), i * K));
      return [C.matmul(cpuT(sub, [rows.length, K]), cpuT(b, [K, N])).data];
    },
    select: rows
      ? (outs) => {
          const o = new Float32Array(rows.length * N);
          rows.forEach((r, i) => o.set(outs[0].subarray(r * N, (r + 1) * N), i * N));
          return [o];
        }
      : null,
    gpu: () => {
      ga ??= wg.keep(gpuT(a, [M, K]));
      gb ??= wg.keep(gpuT(b, [K, N]));
      return [wg.matmul(ga, gb)];
    },
    tfjs: () => {
      const ta = tf.tensor2d(a, [M, K]),
        tb = tf.tensor2d(b, [K, N]);
      return { run: () => tf.matMul(ta, tb), outputs: (o) => o, dispose: () => tf.dispose([ta, tb]) };
    },
  };
}

/** conv2d (transposed = false) or convTranspose2d layer, k4 s2 p1 as in R1, forward or forward + all grads. */
function convWorkload(name, { transposed, N, CI, CO, H, grads }) {
  const OH = transposed ? H * 2 : H / 2;
  const xs = [N, CI, H, H],
    ws = transposed ? [CI, CO, 4, 4] : [CO, CI, 4, 4],
    ys = [N, CO, OH, OH];
  const x = randData(N * CI * H * H, 3),
    w = randData(16 * CI * CO, 4, 0.05),
    bias = randData(CO, 5),
    g = randData(N * CO * OH * OH, 6);
  const opts = { stride: 2, padding: 1 };
  const macs = N * CO * OH * OH * CI * (transposed ? 4 : 16);
  let gx, gw, gbias, gg;
  const op = transposed ? wg.convTranspose2d : wg.conv2d;
  return {
    name,
    desc: `${transposed ? 'convT' : 'conv'} [${xs}]→[${ys}] k4 s2 p1${grads ? ', forward + input/weight/bias grads' : ', forward'}`,
    flop: 2 * macs * (grads ? 3 : 1),
    cpu: () => {
      const cx = cpuT(x, xs),
        cw = cpuT(w, ws),
        cb = cpuT(bias, [CO]);
      const y = (transposed ? C.convTranspose2d : C.conv2d)(cx, cw, cb, opts);
      if (!grads) return [y.data];
      const r = (transposed ? C.convTranspose2dBackward : C.conv2dBackward)(cx, cw, cpuT(g, ys), opts);
      return [y.data, r.dx.data, r.dw.data, r.db.data];
    },
    gpu: () => {
      gx ??= wg.keep(gpuT(x, xs, true));
      gw ??= wg.keep(gpuT(w, ws, true));
      gbias ??= wg.keep(gpuT(bias, [CO], true));
      gg ??= wg.keep(gpuT(g, ys));
      if (!grads) return [wg.noGrad(() => op(gx, gw, gbias, opts))];
      for (const p of [gx, gw, gbias]) {
        p.grad?.dispose();
        p.grad = null;
      }
      const y = op(gx, gw, gbias, opts);
      y.backward(gg);
      return [y, gx.grad, gw.grad, gbias.grad];
    },
    tfjs: (backend) => {
      if (grads && backend === 'wasm') return 'TF.js wasm has no Conv2DBackpropFilter kernel';
      const tx = tf.tensor4d(nchwToNhwc(x, xs), [N, H, H, CI]);
      const tw = tf.tensor4d(permuteW(w, ws, transposed), [4, 4, transposed ? CO : CI, transposed ? CI : CO]);
      const tb = tf.tensor1d(bias);
      const tg = tf.tensor4d(nchwToNhwc(g, ys), [N, OH, OH, CO]);
      const fwd = (xx, ww, bb) => tf.add(transposed ? tf.conv2dTranspose(xx, ww, [N, OH, OH, CO], 2, 'same') : tf.conv2d(xx, ww, 2, 'same'), bb);
      const run = grads
        ? () => {
            const y = fwd(tx, tw, tb);
            const gr = tf.grads(fwd)([tx, tw, tb], tg);
            return [y, ...gr];
          }
        : () => fwd(tx, tw, tb);
      const outputs = (o) => {
        const out = [nhwcToNchw(o[0], ys)];
        if (grads) out.push(nhwcToNchw(o[1], xs), unpermuteW(o[2], ws), o[3]);
        return out;
      };
      return { run, outputs, dispose: () => tf.dispose([tx, tw, tb, tg]) };
    },
  };
}

function batchnormWorkload(name, [N, Cc, H, W]) {
  const shape = [N, Cc, H, W],
    n = N * Cc * H * W;
  const x = randData(n, 7),
    gamma = randData(Cc, 8),
    beta = randData(Cc, 9),
    g = randData(n, 10);
  let gx, gga, gbe, gg;
  return {
    name,
    desc: `batchNorm2d training [${shape}], forward + input/weight/bias grads`,
    bytes: 4 * n * 5,
    cpuReps: 1,
    cpu: () => {
      const cx = cpuT(x, shape),
        cga = cpuT(gamma, [Cc]);
      const y = C.batchNorm(cx, null, null, cga, cpuT(beta, [Cc]), { training: true });
      const r = C.batchNormBackward(cx, cga, cpuT(g, shape));
      return [y.data, r.dx.data, r.dw.data, r.db.data];
    },
    gpu: () => {
      gx ??= wg.keep(gpuT(x, shape, true));
      gga ??= wg.keep(gpuT(gamma, [Cc], true));
      gbe ??= wg.keep(gpuT(beta, [Cc], true));
      gg ??= wg.keep(gpuT(g, shape));
      for (const p of [gx, gga, gbe]) {
        p.grad?.dispose();
        p.grad = null;
      }
      const y = wg.batchNorm(gx, null, null, gga, gbe, { training: true });
      y.backward(gg);
      return [y, gx.grad, gga.grad, gbe.grad];
    },
    tfjs: () => {
      const tx = tf.tensor4d(nchwToNhwc(x, shape), [N, H, W, Cc]),
        tga = tf.tensor1d(gamma),
        tbe = tf.tensor1d(beta),
        tg = tf.tensor4d(nchwToNhwc(g, shape), [N, H, W, Cc]);
      const f = (xx, ga, be) => {
        const m = tf.moments(xx, [0, 1, 2]);
        return tf.batchNorm(xx, m.mean, m.variance, be, ga, 1e-5);
      };
      return {
        run: () => [f(tx, tga, tbe), ...tf.grads(f)([tx, tga, tbe], tg)],
        outputs: (o) => [nhwcToNchw(o[0], shape), nhwcToNchw(o[1], shape), o[2], o[3]],
        dispose: () => tf.dispose([tx, tga, tbe, tg]),
      };
    },
  };
}

function leakyWorkload(name, n) {
  const x = randData(n, 11);
  let gx;
  return {
    name,
    desc: `leakyRelu(0.2) forward over ${n} elements`,
    bytes: 8 * n,
    cpuReps: 3,
    cpu: () => [C.leakyRelu(cpuT(x, [n]), 0.2).data],
    gpu: () => {
      gx ??= wg.keep(gpuT(x, [n]));
      return [wg.noGrad(() => wg.leakyRelu(gx, 0.2))];
    },
    tfjs: () => {
      const t = tf.tensor1d(x);
      return { run: () => tf.leakyRelu(t, 0.2), outputs: (o) => o, dispose: () => t.dispose() };
    },
  };
}

function bceWorkload(name, n) {
  const x = randData(n, 12, 4),
    y = Float32Array.from(randData(n, 13), (v) => (v > 0 ? 1 : 0));
  let gx, gy;
  return {
    name,
    desc: `bceWithLogits (mean) + gradient over ${n} logits`,
    bytes: 12 * n,
    cpuReps: 3,
    cpu: () => {
      const loss = C.bceWithLogits(cpuT(x, [n]), cpuT(y, [n])).data;
      const d = new Float64Array(n);
      for (let i = 0; i < n; i++) d[i] = (1 / (1 + Math.exp(-x[i])) - y[i]) / n;
      return [loss, d];
    },
    gpu: () => {
      gx ??= wg.keep(gpuT(x, [n], true));
      gy ??= wg.keep(gpuT(y, [n]));
      gx.grad?.dispose();
      gx.grad = null;
      const l = wg.bceWithLogits(gx, gy);
      l.backward();
      return [l, gx.grad];
    },
    tfjs: () => {
      const tx = tf.tensor1d(x),
        ty = tf.tensor1d(y);
      const f = (xx) => tf.losses.sigmoidCrossEntropy(ty, xx);
      return { run: () => [f(tx), tf.grad(f)(tx)], outputs: (o) => o, dispose: () => tf.dispose([tx, ty]) };
    },
  };
}

function adamWorkload(name, n) {
  const p0 = randData(n, 14),
    g = randData(n, 15);
  const o = { lr: 2e-4, betas: [0.5, 0.999], eps: 1e-8, weightDecay: 0 };
  let param, opt;
  return {
    name,
    desc: `one Adam(2e-4, 0.5, 0.999) step over ${n} parameters`,
    bytes: 4 * n * 7,
    cpuReps: 3,
    ownsOutputs: true,
    cpu: () => {
      const p = Float64Array.from(p0),
        m = new Float64Array(n),
        v = new Float64Array(n);
      C.adam(p, Float64Array.from(g), m, v, 1, o);
      return [p];
    },
    gpu: () => {
      if (!param) {
        param = wg.keep(gpuT(p0, [n], true));
        param.grad = wg.keep(gpuT(g, [n]));
        opt = new wg.optim.Adam([param], { lr: o.lr, betas: o.betas });
      }
      // the first call (the comparison) takes one step from p0; later calls time further steps
      opt.step();
      return [param];
    },
    tfjs: () => {
      const v = tf.variable(tf.tensor1d(p0)),
        tg = tf.tensor1d(g);
      const adam = tf.train.adam(o.lr, o.betas[0], o.betas[1], o.eps);
      return {
        run: () => {
          adam.applyGradients([{ name: v.name, tensor: tg }]);
          return v.clone();
        },
        outputs: (out) => out,
        dispose: () => {
          tf.dispose([v, tg]);
          adam.dispose();
        },
      };
    },
  };
}

// ------------------------------------------------------------------ whole training steps
/** R1 DCGAN or R3 MLP GAN: D step on real + fake, then G step (D frozen), BCE, Adam. As train.ts does it. */
async function ganStep(name, presetName, B, phase) {
  if (!wanted(name)) return;
  const preset = PRESETS[presetName];
  const desc = `${preset.report}; batch ${B}: D step on real + fake, then G step, Adam(${preset.lrG}, ${preset.beta1}, ${preset.beta2})`;
  console.log(`\n${name}: ${desc}`);
  const steps = QUICK ? 3 : presetName === 'dcgan' ? 5 : 10;
  const realData = randData(B * 784, 21);
  const rows = [];
  if (phase === 'own') {
    wg.manualSeed(1);
    const { G, D } = preset.build();
    G.train();
    D.train();
    const optG = new wg.optim.Adam(G.parameters(), { lr: preset.lrG, betas: [preset.beta1, preset.beta2] });
    const optD = new wg.optim.Adam(D.parameters(), { lr: preset.lrD, betas: [preset.beta1, preset.beta2] });
    const ones = wg.keep(wg.ones([B, 1])),
      zeros = wg.keep(wg.zeros([B, 1]));
    const step = () =>
      wg.scope(() => {
        const real = wg.tensor(realData, [B, 784]);
        const z = wg.randn([B, preset.z]);
        const fake = G.forward(z);
        optD.zeroGrad();
        const lossD = wg.add(wg.bce(D.forward(real), ones), wg.bce(D.forward(fake.detach()), zeros));
        lossD.backward();
        optD.step();
        optG.zeroGrad();
        const dParams = D.parameters();
        for (const p of dParams) p.requiresGrad = false;
        const lossG = wg.bce(D.forward(fake), ones);
        for (const p of dParams) p.requiresGrad = true;
        lossG.backward();
        optG.step();
      });
    // two warm-up steps: the first makes the Adam states and the gradients, the second may still
    // grow the pool once, since those now stay alive across the whole step
    for (let i = 0; i < 2; i++) {
      step();
      await wg.sync();
    }
    await warm(async () => {
      step();
      await wg.sync();
    });
    const before = wg.engineStats();
    const ts = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step();
      await wg.sync();
      ts.push(performance.now() - t0);
    }
    const after = wg.engineStats();
    const st = stats(ts);
    const r = {
      workload: name,
      impl: 'wgslgrad',
      ...st,
      images_per_s: (B * 1000) / st.median_ms,
      submits_per_step: (after.submits - before.submits) / steps,
      new_buffers_per_step: (after.created - before.created) / steps,
    };
    if (await hasTimestamps()) {
      const k = await wg.profileKernels(step);
      if (k) {
        kernelTables[name] = k.map((e) => ({ kernel: e.kernel, ms: +e.ms.toFixed(3), count: e.count }));
        r.gpu_ms = k.reduce((a, e) => a + e.ms, 0);
      }
    }
    rows.push(r);
  }
  for (const backend of ['webgpu', 'wasm']) {
    if (phase !== 'tfjs' || !tf) continue;
    if (!(await tfBackend(backend))) {
      rows.push({ workload: name, impl: `tfjs-${backend}`, unsupported: `backend ${backend} did not start` });
      continue;
    }
    if (presetName === 'dcgan' && backend === 'wasm') {
      rows.push({ workload: name, impl: 'tfjs-wasm', unsupported: 'TF.js wasm has no Conv2DBackpropFilter kernel' });
      continue;
    }
    const m = presetName === 'dcgan' ? tfDcgan(B) : tfMlp(B);
    try {
      const run = () => m.step(realData);
      const st = await timeTf(run, Math.min(steps, 3));
      rows.push({ workload: name, impl: `tfjs-${backend}`, ...st, images_per_s: (B * 1000) / st.median_ms });
    } catch (ex) {
      rows.push({
        workload: name,
        impl: `tfjs-${backend}`,
        unsupported: String(ex.message ?? ex)
          .split('\n')[0]
          .slice(0, 160),
      });
    }
    m.dispose();
  }
  for (const r of rows) {
    r.shape = desc;
    results.push(r);
    printRow(r);
  }
}

function tfAdam(preset) {
  return tf.train.adam(preset.lrG, preset.beta1, preset.beta2, 1e-8);
}

/** R1 in TF.js core ops (NHWC), same layer sizes and step. */
function tfDcgan(B) {
  const preset = PRESETS.dcgan;
  const nrm = (shape) => tf.variable(tf.randomNormal(shape, 0, 0.02));
  const zer = (shape) => tf.variable(tf.zeros(shape));
  const one = (shape) => tf.variable(tf.ones(shape));
  const g = {
    l1W: nrm([100, 6272]),
    l1b: zer([6272]),
    bn1g: one([6272]),
    bn1b: zer([6272]),
    t1W: nrm([4, 4, 64, 128]),
    t1b: zer([64]),
    bn2g: one([64]),
    bn2b: zer([64]),
    t2W: nrm([4, 4, 1, 64]),
    t2b: zer([1]),
  };
  const d = { c1W: nrm([4, 4, 1, 64]), c1b: zer([64]), c2W: nrm([4, 4, 64, 128]), c2b: zer([128]), fW: nrm([6272, 1]), fb: zer([1]) };
  const bn = (x, gm, bt, axes) => {
    const m = tf.moments(x, axes);
    return tf.batchNorm(x, m.mean, m.variance, bt, gm, 1e-5);
  };
  const G = (z) => {
    let h = tf.relu(bn(tf.add(tf.matMul(z, g.l1W), g.l1b), g.bn1g, g.bn1b, [0]));
    h = tf.reshape(h, [B, 7, 7, 128]);
    h = tf.relu(bn(tf.add(tf.conv2dTranspose(h, g.t1W, [B, 14, 14, 64], 2, 'same'), g.t1b), g.bn2g, g.bn2b, [0, 1, 2]));
    return tf.tanh(tf.add(tf.conv2dTranspose(h, g.t2W, [B, 28, 28, 1], 2, 'same'), g.t2b));
  };
  const D = (x) => {
    let h = tf.leakyRelu(tf.add(tf.conv2d(x, d.c1W, 2, 'same'), d.c1b), 0.2);
    h = tf.leakyRelu(tf.add(tf.conv2d(h, d.c2W, 2, 'same'), d.c2b), 0.2);
    return tf.add(tf.matMul(tf.reshape(h, [B, 6272]), d.fW), d.fb); // logits; the loss applies the sigmoid
  };
  return tfGan(B, preset, G, D, Object.values(g), Object.values(d), [B, 28, 28, 1]);
}

/** R3 in TF.js core ops. */
function tfMlp(B) {
  const preset = PRESETS.mlp;
  const lin = (i, o) => {
    const k = 1 / Math.sqrt(i);
    return [tf.variable(tf.randomUniform([i, o], -k, k)), tf.variable(tf.randomUniform([o], -k, k))];
  };
  const gl = [lin(100, 256), lin(256, 512), lin(512, 1024), lin(1024, 784)];
  const dl = [lin(784, 1024), lin(1024, 512), lin(512, 256), lin(256, 1)];
  const G = (z) => {
    let h = z;
    gl.forEach(([w, b], i) => {
      h = tf.add(tf.matMul(h, w), b);
      h = i < 3 ? tf.leakyRelu(h, 0.2) : tf.tanh(h);
    });
    return h;
  };
  const D = (x) => {
    let h = x;
    dl.forEach(([w, b], i) => {
      h = tf.add(tf.matMul(h, w), b);
      if (i < 3) h = tf.dropout(tf.leakyRelu(h, 0.2), 0.3);
    });
    return h;
  };
  return tfGan(B, preset, G, D, gl.flat(), dl.flat(), [B, 784]);
}

function tfGan(B, preset, G, D, gVars, dVars, xShape) {
  const optG = tfAdam(preset),
    optD = tfAdam(preset);
  const ones = tf.ones([B, 1]),
    zeros = tf.zeros([B, 1]);
  return {
    step: (data) => {
      const real = tf.tensor(data, xShape);
      const z = tf.randomNormal([B, preset.z]);
      const lossD = optD.minimize(() => tf.add(tf.losses.sigmoidCrossEntropy(ones, D(real)), tf.losses.sigmoidCrossEntropy(zeros, D(G(z)))), true, dVars);
      const lossG = optG.minimize(() => tf.losses.sigmoidCrossEntropy(ones, D(G(z))), true, gVars);
      return [lossD, lossG];
    },
    dispose: () => {
      tf.dispose([...gVars, ...dVars, ones, zeros]);
      optG.dispose();
      optD.dispose();
    },
  };
}

// ------------------------------------------------------------------ the suite
const t0 = performance.now();
console.log(
  `wgslgrad benchmark${QUICK ? ' (--quick)' : ''} on ${info.adapter.description || info.adapter.device} [${info.backend}${info.software ? ', software' : ''}${info.subgroups ? ', subgroups' : ''}], node ${process.version}${tf ? `, TF.js ${tf.version.tfjs}` : ''}`,
);
const S = QUICK
  ? { mm: [256, 512], b: 8, gan: 16, mlp: 100, n: 1 << 18, adam: 1 << 18 }
  : { mm: [256, 512, 1024], b: 64, gan: 128, mlp: 100, n: 1 << 20, adam: 1 << 20 };
if (LARGE && !QUICK) S.mm.push(2048, 4096);
const W = S.mm.map((n) => matmulWorkload(`matmul-${n}`, n, n, n, n >= 1024 ? 1 : 3));
W.push(matmulWorkload('matmul-skinny', S.gan, 6272, 1, 3));
const b = S.b;
W.push(convWorkload('conv1-fwd', { transposed: false, N: b, CI: 1, CO: 64, H: 28, grads: false }));
W.push(convWorkload('conv1-fwd-bwd', { transposed: false, N: b, CI: 1, CO: 64, H: 28, grads: true }));
W.push(convWorkload('conv2-fwd', { transposed: false, N: b, CI: 64, CO: 128, H: 14, grads: false }));
W.push(convWorkload('conv2-fwd-bwd', { transposed: false, N: b, CI: 64, CO: 128, H: 14, grads: true }));
W.push(convWorkload('convT-fwd', { transposed: true, N: b, CI: 128, CO: 64, H: 7, grads: false }));
W.push(convWorkload('convT-fwd-bwd', { transposed: true, N: b, CI: 128, CO: 64, H: 7, grads: true }));
W.push(convWorkload('convT2-fwd', { transposed: true, N: b, CI: 64, CO: 1, H: 14, grads: false }));
W.push(convWorkload('convT2-fwd-bwd', { transposed: true, N: b, CI: 64, CO: 1, H: 14, grads: true }));
W.push(batchnormWorkload('batchnorm2d-fwd-bwd', [b, 64, 14, 14]));
W.push(leakyWorkload('leakyrelu', S.n));
W.push(bceWorkload('bce-with-logits', S.n));
W.push(adamWorkload(`adam-${S.adam >= 1 << 20 ? '1M' : '256k'}`, S.adam));
const steps = [
  [`dcgan-step-b${S.gan}`, 'dcgan', S.gan],
  [`mlp-step-b${S.mlp}`, 'mlp', S.mlp],
];
// Two phases in one invocation: the CPU reference and wgslgrad rows first, then TF.js's. On an
// H100, once TF.js's WebGPU device had run work, our device's timings doubled (the DCGAN step
// 14.9 → 34.8 ms): two devices on one GPU interfere, so neither measures while the other has run.
for (const phase of ['own', 'tfjs']) {
  if (phase === 'tfjs') {
    if (!tf) break;
    console.log('\n---- TF.js on the same adapter (webgpu) and wasm, same inputs ----');
  }
  for (const w of W) await kernel(w, phase);
  for (const [name, preset, B] of steps) await ganStep(name, preset, B, phase);
}

console.log('\nsummary (median ms; ratio = TF.js ÷ wgslgrad, same run)');
console.log(
  `${'workload'.padEnd(22)}${'cpu-reference'.padStart(14)}${'wgslgrad'.padStart(11)}${'tfjs-webgpu'.padStart(13)}${'tfjs-wasm'.padStart(11)}${'ratio webgpu'.padStart(14)}`,
);
for (const name of [...W.map((w) => w.name), ...steps.map((x) => x[0])]) {
  const get = (impl) => results.find((r) => r.workload === name && r.impl === impl);
  const ms = (impl) => {
    const r = get(impl);
    return r?.median_ms !== undefined ? fmt(r.median_ms, r.median_ms < 10 ? 2 : 1) : r?.unsupported ? 'n/a' : '—';
  };
  const w = get('wgslgrad'),
    t = get('tfjs-webgpu');
  if (!w) continue;
  const ratio = w.median_ms && t?.median_ms ? `×${fmt(t.median_ms / w.median_ms, 1)}` : '—';
  console.log(
    `${name.padEnd(22)}${ms('cpu-reference').padStart(14)}${ms('wgslgrad').padStart(11)}${ms('tfjs-webgpu').padStart(13)}${ms('tfjs-wasm').padStart(11)}${ratio.padStart(14)}`,
  );
}

const date = new Date().toISOString();
const slug = (info.adapter.device || info.adapter.description || 'adapter')
  .toLowerCase()
  .replace(/[^a-z0-9]+/g, '-')
  .replace(/^-|-$/g, '')
  .slice(0, 40);
const out = {
  adapter: { ...info.adapter, backend: info.backend, software: info.software, subgroups: info.subgroups },
  options: { subgroups: opt.subgroups, large: LARGE, reps: REPS },
  node: process.version,
  date,
  quick: QUICK,
  tfjs: tf ? tf.version.tfjs : tfNote || 'not run (--no-tfjs)',
  timing:
    "wall ms from recording to GPU completion (wgslgrad: wg.sync(); TF.js: await data() of each result); median and min–max after warm-up (one run; on a hardware adapter ≥ 300 ms of runs); gpu_ms: sum of the kernels' timestamp-query times in one further run; CPU and wgslgrad rows are measured first, TF.js rows after them in the same process",
  max_rel_err: `max |result − CPU float64 reference| / max |reference| over all outputs; rows above ${TOL} are marked failed`,
  results,
  kernels_gpu_ms: kernelTables,
};
const file = opt.json ?? new URL(`./results/${slug}-${date.slice(0, 10)}${QUICK ? '-quick' : ''}.json`, import.meta.url).pathname;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(`${file}.tmp`, `${JSON.stringify(out, null, 1)}\n`);
renameSync(`${file}.tmp`, file);
const failed = results.filter((r) => r.failed);
console.log(
  `\n${results.length} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s; written ${file}${failed.length ? `; FAILED (error over tolerance): ${failed.map((r) => `${r.workload}/${r.impl}`).join(', ')}` : ''}`,
);
process.exit(failed.some((r) => r.impl === 'wgslgrad') ? 1 : 0);
