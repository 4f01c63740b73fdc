// Memory over a long run: small Linear+Adam training steps, each in wg.scope, with GPU memory
// (wg.memory()) and the process's RSS after a forced GC sampled along the way.
//   npm run build:examples && node --expose-gc build/bench/soak.js [--steps 10000] [--replay] [--json FILE]
// --replay: the step captured once (wg.capture) and replayed
import { parseArgs } from 'node:util';
import * as wg from '../src/index.js';
import { writeJson } from './harness.js';

const { values: opt } = parseArgs({
  options: { steps: { type: 'string', default: '10000' }, json: { type: 'string' }, replay: { type: 'boolean', default: false } },
});
const steps = Number(opt.steps);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const info = await wg.init();
const m = new wg.nn.Sequential(new wg.nn.Linear(64, 128), new wg.nn.ReLU(), new wg.nn.Linear(128, 1));
const optim = new wg.optim.Adam(m.parameters(), { lr: 1e-3 });
const x = wg.keep(wg.randn([64, 64], { seed: 1 }));
const y = wg.keep(wg.rand([64, 1], { seed: 2 }));
const marks = new Set([100, 1000, 2000, 5000, 10000, 20000, steps].filter((s) => s <= steps));
const rows: Array<{ step: number; rss_mb: number; heap_mb: number; gpu_live_bytes: number; gpu_pooled_bytes: number; buffers: number }> = [];
const t0 = performance.now();
const body = (input: wg.Tensor) => {
  optim.zeroGrad();
  const loss = wg.bceWithLogits(m.forward(input), y);
  loss.backward();
  optim.step();
  return loss;
};
const replayed = opt.replay ? wg.capture(body) : null;
for (let i = 1; i <= steps; i++) {
  if (replayed) replayed(x);
  else wg.scope(() => void body(x));
  if (i % 50 === 0) await wg.sync();
  if (marks.has(i)) {
    await wg.sync();
    gc();
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const mem = wg.memory();
    const row = {
      step: i,
      rss_mb: process.memoryUsage().rss / 2 ** 20,
      heap_mb: process.memoryUsage().heapUsed / 2 ** 20,
      gpu_live_bytes: mem.liveBytes,
      gpu_pooled_bytes: mem.pooledBytes,
      buffers: mem.buffers,
    };
    rows.push(row);
    console.log(
      `step ${String(i).padStart(6)}  RSS ${row.rss_mb.toFixed(1)} MB  heap ${row.heap_mb.toFixed(1)} MB  GPU live ${mem.liveBytes} pooled ${mem.pooledBytes} buffers ${mem.buffers}`,
    );
  }
}
const at = (s: number) => rows.find((r) => r.step === s)!;
const growth = (at(steps).rss_mb - at(1000).rss_mb) / at(1000).rss_mb;
console.log(
  `${steps} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s; RSS ${at(1000).rss_mb.toFixed(1)} → ${at(steps).rss_mb.toFixed(1)} MB from step 1,000 (${(growth * 100).toFixed(2)} %); GPU memory at 100 and ${steps} equal: ${at(100).gpu_live_bytes === at(steps).gpu_live_bytes && at(100).buffers === at(steps).buffers}`,
);
if (opt.json) writeJson(opt.json, { adapter: info.adapter, steps, replay: opt.replay, rows, rss_growth_from_1000: growth });
