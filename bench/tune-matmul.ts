// Times the matmul kernel under several tuning constants on this adapter (bench/NOTES.md):
//   npm run build:examples && node build/bench/tune-matmul.js [--n 4096] [--json FILE] [--modes tiled,vec4,shared,plain]
// Each variant is checked on sampled rows against the CPU reference before it is timed.
import { parseArgs } from 'node:util';
import * as wg from '../src/index.js';
import { randData, stats, writeJson } from './harness.js';

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '4096' },
    json: { type: 'string' },
    reps: { type: 'string', default: '5' },
    modes: { type: 'string', default: 'tiled,vec4,shared,plain' },
  },
});
const n = Number(opt.n);
const reps = Number(opt.reps);
const a = randData(n * n, 1, 0.5);
const b = randData(n * n, 2, 0.5);
const rows = [0, 1, 7, 8, n >> 1, n - 9, n - 1];
const ref = rows.map((r) => {
  const o = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const av = a[r * n + k]!;
    for (let j = 0; j < n; j++) o[j]! += av * b[k * n + j]!;
  }
  return o;
});

type Mode = 'tiled' | 'vec4' | 'shared' | 'plain';
const variants: Record<Mode, wg.internal.Block[]> = {
  tiled: [{ TM: 8, TN: 8, WGX: 16, WGY: 16 }], // matmul_tiled.wgsl: 128×128 tiles, BK 16, fixed
  vec4: [{ ...wg.internal.VEC4_BLOCK }], // software/matmul4.wgsl main4 (needs subgroups): 32 × 4 a lane, 16 lanes, fixed
  shared: [
    { TM: 16, TN: 8, WGX: 16, WGY: 1 },
    { TM: 8, TN: 8, WGX: 32, WGY: 1 },
    { TM: 16, TN: 8, WGX: 32, WGY: 1 },
    { TM: 8, TN: 4, WGX: 64, WGY: 1 },
    { TM: 16, TN: 4, WGX: 64, WGY: 1 },
    // blocks whose accumulators fit lavapipe's 16 vector registers (TM·TN ≤ 16)
    { TM: 8, TN: 1, WGX: 16, WGY: 1 },
    { TM: 16, TN: 1, WGX: 16, WGY: 1 },
    { TM: 8, TN: 2, WGX: 16, WGY: 1 },
    { TM: 12, TN: 1, WGX: 16, WGY: 1 },
    { TM: 24, TN: 1, WGX: 16, WGY: 1 },
    { TM: 16, TN: 2, WGX: 16, WGY: 1 },
    // fewer loads per FMA at 128 accumulators: more shared rows, fewer columns
    { TM: 32, TN: 4, WGX: 16, WGY: 1 },
    { TM: 32, TN: 4, WGX: 32, WGY: 1 },
    { TM: 32, TN: 4, WGX: 64, WGY: 1 },
    // more FMAs per load, the accumulators spilled
    { TM: 24, TN: 8, WGX: 16, WGY: 1 },
    { TM: 32, TN: 8, WGX: 8, WGY: 1 },
    { TM: 16, TN: 16, WGX: 8, WGY: 1 },
    { TM: 16, TN: 12, WGX: 16, WGY: 1 },
  ],
  plain: [
    // one row of lanes: the row operand's address is uniform across the workgroup
    { TM: 16, TN: 8, WGX: 16, WGY: 1 },
    { TM: 8, TN: 8, WGX: 16, WGY: 1 },
    { TM: 32, TN: 4, WGX: 16, WGY: 1 },
    { TM: 16, TN: 4, WGX: 32, WGY: 1 },
    { TM: 8, TN: 8, WGX: 8, WGY: 8 },
    { TM: 8, TN: 8, WGX: 16, WGY: 16 },
    { TM: 8, TN: 4, WGX: 16, WGY: 16 },
    { TM: 4, TN: 4, WGX: 16, WGY: 16 },
    { TM: 8, TN: 8, WGX: 32, WGY: 8 },
    { TM: 4, TN: 8, WGX: 32, WGY: 8 },
  ],
};
const product = (A: wg.Tensor, B: wg.Tensor) => () =>
  wg.scope(() => {
    wg.matmul(A, B);
  });
const out: object[] = [];
for (const mode of ['tiled', 'vec4', 'shared', 'plain'] as const) {
  if (!opt.modes.split(',').includes(mode)) continue;
  const info = await wg.init({ subgroups: mode !== 'plain' });
  if ((mode === 'shared' || mode === 'vec4') && !info.subgroups) {
    console.log(`no subgroups on this adapter: ${mode} variants skipped`);
    continue;
  }
  const A = wg.keep(wg.tensor(a, [n, n]));
  const B = wg.keep(wg.tensor(b, [n, n]));
  const run = product(A, B);
  for (const v of variants[mode]) {
    // the variant for every subgroup width (shared, wide, wide64) or the plain layout
    const { forcing, TABLES } = wg.internal;
    const restore = wg.internal.setTuning(
      mode === 'tiled'
        ? { variants: forcing(TABLES.matmul, 'matmul_tiled.main') }
        : mode === 'vec4'
          ? { variants: forcing(TABLES.matmul, 'software/matmul4.main4') }
          : mode === 'shared'
            ? { variants: forcing(TABLES.matmul, 'matmul.main'), shared: v, wide: v, wide64: v }
            : { variants: forcing(TABLES.matmul, 'matmul.main'), plain: v, software: v },
    );
    const label = mode === 'tiled' ? 'tiled 128×128 (workgroup memory)' : `${mode} TM${v.TM} TN${v.TN} WG${v.WGX}×${v.WGY}`;
    try {
      const C = wg.keep(wg.matmul(A, B));
      const got = await C.toArray();
      C.dispose();
      let err = 0;
      let den = 0;
      rows.forEach((r, i) => {
        for (let j = 0; j < n; j++) {
          err = Math.max(err, Math.abs(got[r * n + j]! - ref[i]![j]!));
          den = Math.max(den, Math.abs(ref[i]![j]!));
        }
      });
      // GPU clocks idle down while the CPU works: run for 300 ms before timing on hardware
      const w0 = performance.now();
      if (!info.software)
        while (performance.now() - w0 < 300) {
          run();
          await wg.sync();
        }
      const ts: number[] = [];
      for (let i = 0; i < reps + 1; i++) {
        const t0 = performance.now();
        run();
        await wg.sync();
        if (i > 0) ts.push(performance.now() - t0);
      }
      const wall = stats(ts).median_ms;
      const k = await wg.profileKernels(run);
      const gpuMs = k ? k.reduce((s, e) => s + e.ms, 0) : null;
      const r = {
        variant: label,
        ...v,
        SG: mode === 'shared' || mode === 'vec4',
        tiled: mode === 'tiled',
        wall_ms: wall,
        gpu_ms: gpuMs,
        tflops: (2 * n ** 3) / (gpuMs ?? wall) / 1e9,
        max_rel_err: err / den,
      };
      out.push(r);
      console.log(
        `${label.padEnd(34)} wall ${wall.toFixed(2)} ms  gpu ${gpuMs?.toFixed(2) ?? '—'} ms  ${r.tflops.toFixed(2)} TFLOP/s  err ${r.max_rel_err.toExponential(1)}`,
      );
    } catch (e) {
      console.log(`${label}: ${(e as Error).message}`);
      out.push({ variant: label, error: (e as Error).message });
    } finally {
      restore();
    }
  }
  A.dispose();
  B.dispose();
  if (opt.json) writeJson(opt.json, { adapter: info.adapter, n, results: out });
}
