// Times the DCGAN generator layer ConvTranspose2d(128→64, k4 s2 p1) on [64,128,7,7] → [64,64,14,14]:
// forward, and forward + input/weight/bias grads, and writes bench/results/convt-layer-<date>.json
// with the adapter. Usage: npm run bench (the full suite of issue 5 will extend it).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as wg from '../dist/index.js';
const results = [];

const info = await wg.init();
const x = wg.randn([64, 128, 7, 7], { seed: 1, requiresGrad: true });
const w = wg.randn([128, 64, 4, 4], { seed: 2, requiresGrad: true }, 0, 0.02);
const b = wg.zeros([64], { requiresGrad: true });
const g = wg.randn([64, 64, 14, 14], { seed: 3 });
async function time(label, fn, reps = 5) {
  fn(); await wg.sync(); // warm-up: pipelines compiled, buffers pooled
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    await wg.sync();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  console.log(`${label}: median ${ts[reps >> 1].toFixed(1)} ms (min ${ts[0].toFixed(1)}, max ${ts[reps - 1].toFixed(1)})`);
  results.push({ workload: label, impl: 'wgslgrad', median_ms: ts[reps >> 1], min_ms: ts[0], max_ms: ts[reps - 1], runs: reps });
}
console.log(`adapter: ${info.adapter.description || info.adapter.device} (${info.backend}${info.software ? ', software' : ''})`);
await time('convT-fwd', () => wg.scope(() => { wg.noGrad(() => wg.convTranspose2d(x, w, b, { stride: 2, padding: 1 })); }));
await time('convT-fwd-bwd', () => wg.scope(() => {
  for (const p of [x, w, b]) { p.grad?.dispose(); p.grad = null; }
  wg.convTranspose2d(x, w, b, { stride: 2, padding: 1 }).backward(g);
}));
const date = new Date().toISOString();
const out = { adapter: { ...info.adapter, backend: info.backend, software: info.software }, node: process.version, date, shape: '[64,128,7,7] -> [64,64,14,14], k4 s2 p1', results };
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/convt-layer-${date.slice(0, 10)}.json`, import.meta.url);
writeFileSync(`${file.pathname}.tmp`, JSON.stringify(out, null, 1) + '\n');
renameSync(`${file.pathname}.tmp`, file.pathname);
console.log(`written ${file.pathname}`);
