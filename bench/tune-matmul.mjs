// Times the matmul kernel under several tuning constants on this adapter (bench/NOTES.md):
//   npm run build:examples && node bench/tune-matmul.mjs [--n 4096] [--json FILE]
// Each variant is checked on sampled rows against the CPU reference before it is timed.
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as wg from '../build/src/index.js';

const { values: opt } = parseArgs({ options: { n: { type: 'string', default: '4096' }, json: { type: 'string' }, reps: { type: 'string', default: '5' } } });
const n = Number(opt.n);
const reps = Number(opt.reps);
const seeded = (seed) => () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
const rand = (len, seed) => {
  const r = seeded(seed);
  return Float32Array.from({ length: len }, () => r());
};
const a = rand(n * n, 1),
  b = rand(n * n, 2);
const rows = [0, 1, 7, 8, n >> 1, n - 9, n - 1];
const ref = rows.map((r) => {
  const o = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const av = a[r * n + k];
    for (let j = 0; j < n; j++) o[j] += av * b[k * n + j];
  }
  return o;
});

const variants = {
  tiled: [{ TM: 8, TN: 8, WGX: 16, WGY: 16 }], // matmul_tiled.wgsl: 128×128 tiles, BK 16, fixed
  shared: [
    { TM: 16, TN: 8, WGX: 16, WGY: 1 },
    { TM: 8, TN: 8, WGX: 32, WGY: 1 },
    { TM: 16, TN: 8, WGX: 32, WGY: 1 },
    { TM: 8, TN: 4, WGX: 64, WGY: 1 },
    { TM: 16, TN: 4, WGX: 64, WGY: 1 },
  ],
  plain: [
    { TM: 8, TN: 8, WGX: 8, WGY: 8 },
    { TM: 8, TN: 8, WGX: 16, WGY: 16 },
    { TM: 8, TN: 4, WGX: 16, WGY: 16 },
    { TM: 4, TN: 4, WGX: 16, WGY: 16 },
    { TM: 8, TN: 8, WGX: 32, WGY: 8 },
    { TM: 4, TN: 8, WGX: 32, WGY: 8 },
  ],
};
const out = [];
for (const mode of ['tiled', 'shared', 'plain']) {
  const info = await wg.init({ subgroups: mode !== 'plain' });
  if (mode === 'shared' && !info.subgroups) {
    console.log('no subgroups on this adapter: shared variants skipped');
    continue;
  }
  const A = wg.keep(wg.tensor(a, [n, n])),
    B = wg.keep(wg.tensor(b, [n, n]));
  for (const v of variants[mode]) {
    // the variant for every subgroup width (shared, wide, wide64) or the plain layout
    const restore = wg.setTuning(
      mode === 'tiled' ? { tiled: 'on' } : mode === 'shared' ? { tiled: 'off', shared: v, wide: v, wide64: v } : { tiled: 'off', plain: v },
    );
    const label = mode === 'tiled' ? 'tiled 128×128 (workgroup memory)' : `${mode} TM${v.TM} TN${v.TN} WG${v.WGX}×${v.WGY}`;
    try {
      const C = wg.keep(wg.matmul(A, B));
      const got = await C.toArray();
      C.dispose();
      let err = 0,
        den = 0;
      rows.forEach((r, i) => {
        for (let j = 0; j < n; j++) {
          err = Math.max(err, Math.abs(got[r * n + j] - ref[i][j]));
          den = Math.max(den, Math.abs(ref[i][j]));
        }
      });
      // GPU clocks idle down while the CPU works: run for 300 ms before timing on hardware
      const w0 = performance.now();
      if (!info.software)
        while (performance.now() - w0 < 300) {
          wg.scope(() => {
            wg.matmul(A, B);
          });
          await wg.sync();
        }
      const ts = [];
      for (let i = 0; i < reps + 1; i++) {
        const t0 = performance.now();
        wg.scope(() => {
          wg.matmul(A, B);
        });
        await wg.sync();
        if (i > 0) ts.push(performance.now() - t0);
      }
      ts.sort((x, y) => x - y);
      const k = await wg.profileKernels(() =>
        wg.scope(() => {
          wg.matmul(A, B);
        }),
      );
      const gpuMs = k ? k.reduce((s, e) => s + e.ms, 0) : null;
      const r = {
        variant: label,
        ...v,
        SG: mode === 'shared',
        tiled: mode === 'tiled',
        wall_ms: ts[ts.length >> 1],
        gpu_ms: gpuMs,
        tflops: (2 * n ** 3) / (gpuMs ?? ts[ts.length >> 1]) / 1e9,
        max_rel_err: err / den,
      };
      out.push(r);
      console.log(
        `${label.padEnd(34)} wall ${r.wall_ms.toFixed(2)} ms  gpu ${gpuMs?.toFixed(2) ?? '—'} ms  ${r.tflops.toFixed(2)} TFLOP/s  err ${r.max_rel_err.toExponential(1)}`,
      );
    } catch (e) {
      console.log(`${label}: ${e.message}`);
      out.push({ variant: label, error: e.message });
    } finally {
      restore();
    }
  }
  A.dispose();
  B.dispose();
  if (opt.json) {
    writeFileSync(`${opt.json}.tmp`, JSON.stringify({ adapter: info.adapter, n, results: out }, null, 1));
    renameSync(`${opt.json}.tmp`, opt.json);
  }
}
