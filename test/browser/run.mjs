// Runs wgslgrad's built dist/ in headless Chromium (Debian's, WebGPU through SwiftShader) and checks a
// forward + backward against known values; then, in a fresh page, init({ device }) as the first call
// with a device at WebGPU's default limits, training 5 steps of every GAN preset; then runs the bench's page step (bench/browser.ts:
// R3's step in Chromium and in Node) and checks its rows. Usage: npm run test:browser

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const types = { '.js': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };
const page = `<!doctype html><script type="module">
import * as wg from '/dist/index.js';
try {
  const info = await wg.init();
  const x = wg.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
  const w = wg.tensor([1, 0, -1, 2, 1, 0], [2, 3], { requiresGrad: true });
  const y = wg.linear(x, w);                       // [[-2, 4], [-2, 13]]; convT of ones: 2 channels × 10 × 10 in-range taps = 200
  const loss = wg.bceWithLogits(y, wg.ones([2, 2]));
  loss.backward();
  const c = wg.convTranspose2d(wg.ones([1, 2, 3, 3]), wg.ones([2, 1, 4, 4]), null, { stride: 2, padding: 1 });
  window.result = { info, y: Array.from(await y.toArray()), loss: await loss.item(), gx: Array.from(await x.grad.toArray()), convSum: await c.sum().item(), convShape: c.shape };
} catch (e) { window.result = { error: String(e && e.stack || e) }; }
</script>`;
// a page whose first call is wg.init({ device }) with a device it made at WebGPU's default limits:
// 5 steps of every GAN preset (the examples' step, built to build/ by npm run build:examples)
const externalPage = `<!doctype html><script type="module">
import * as wg from '/build/src/index.js';
import { PRESETS } from '/build/examples/mnist-gan/presets.js';
import { GanTrainer, presetSetup } from '/build/examples/mnist-gan/step.js';
try {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter.requestDevice();
  const info = await wg.init({ device });
  const B = 16, presets = {};
  const images = Float32Array.from({ length: B * 784 }, (_, i) => Math.sin(i) * 0.9);
  const labels = Float32Array.from({ length: B }, (_, i) => i % 10);
  for (const preset of Object.keys(PRESETS)) {
    const t = new GanTrainer(presetSetup(preset, { batch: B, width: 0.5, seed: 2 }));
    const losses = [];
    for (let s = 0; s < 5; s++) {
      const [d, g] = wg.scope(() => { const r = t.step(images, labels, { seed: s }); return [wg.keep(r.lossD), wg.keep(r.lossG)]; });
      losses.push([await d.item(), await g.item()]);
      d.dispose(); g.dispose();
    }
    t.optG.dispose(); t.optD.dispose();
    presets[preset] = losses;
  }
  window.result = { info, presets, names: Object.keys(PRESETS) };
} catch (e) { window.result = { error: String(e && e.stack || e) }; }
</script>`;
const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  if (url.pathname === '/external') return res.writeHead(200, { 'content-type': 'text/html' }).end(externalPage);
  const path = normalize(join(root, url.pathname));
  if (!path.startsWith(join(root, 'dist')) && !path.startsWith(join(root, 'build'))) return res.writeHead(404).end();
  try {
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(await readFile(path));
  } catch {
    res.writeHead(404).end();
  }
}).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const browser = await launchChromium();
let ok = false;
let externalOk = false;
try {
  const p = await browser.newPage();
  p.on('console', (m) => console.log('[page]', m.text()));
  await p.goto(`http://127.0.0.1:${server.address().port}/`);
  await p.waitForFunction(() => window.result, null, { timeout: 60_000 });
  const r = await p.evaluate(() => window.result);
  console.log(JSON.stringify(r));
  if (r.error) throw new Error(r.error);
  const near = (a, b) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-4);
  const sig = (v) => 1 / (1 + Math.exp(-v));
  const loss = [-2, 4, -2, 13].reduce((s, v) => s + Math.log1p(Math.exp(-v)), 0) / 4;
  const g = [-2, 4, -2, 13].map((v) => (sig(v) - 1) / 4); // dL/dy
  const gx = [0, 1].flatMap((n) => [0, 1, 2].map((k) => g[2 * n] * [1, 0, -1][k] + g[2 * n + 1] * [2, 1, 0][k]));
  ok = near(r.y, [-2, 4, -2, 13]) && Math.abs(r.loss - loss) < 1e-5 && near(r.gx, gx) && r.convShape.join() === '1,1,6,6' && Math.abs(r.convSum - 200) < 1e-4;
  console.log(
    `browser: ${[r.info.adapter.vendor, r.info.adapter.architecture, r.info.adapter.description].filter(Boolean).join(' ')} (${r.info.backend}, software ${r.info.software}): ${ok ? 'ok' : 'MISMATCH'}`,
  );
  // a fresh page: init({ device }) first, at WebGPU's default limits
  const q = await browser.newPage();
  q.on('console', (m) => console.log('[page]', m.text()));
  await q.goto(`http://127.0.0.1:${server.address().port}/external`);
  await q.waitForFunction(() => window.result, null, { timeout: 240_000 });
  const e = await q.evaluate(() => window.result);
  if (e.error) throw new Error(e.error);
  const finite = e.names.every((n) => e.presets[n]?.length === 5 && e.presets[n].every(([d, g]) => Number.isFinite(d) && d > 0 && Number.isFinite(g) && g > 0));
  externalOk = e.info.backend === 'external' && e.info.limits.maxStorageBufferBindingSize === 128 * 2 ** 20 && finite;
  console.log(
    `browser, init({ device }) first at default limits: 5 steps of ${e.names.join(', ')}: ${externalOk ? 'ok' : 'MISMATCH'} ${JSON.stringify(e.presets.dcgan)}`,
  );
} finally {
  await browser.close();
  server.close();
}

// the bench's page step (bench/browser.ts): the same R3 step in Chromium and in Node, both timed
const json = join(mkdtempSync(join(tmpdir(), 'wgslgrad-bench-')), 'b.json');
const bench = spawnSync(
  process.execPath,
  ['build/bench/main.js', '--quick', '--only', 'browser-mlp-b32', '--no-tfjs', '--no-cpu', '--no-torch', '--rounds', '0', '--json', json],
  { cwd: root, encoding: 'utf8', timeout: 300_000 },
);
let benchOk = bench.status === 0;
if (benchOk) {
  const out = JSON.parse(readFileSync(json, 'utf8'));
  const rows = out.results.filter((r) => r.workload === 'browser-mlp-b32');
  const impls = ['wgslgrad', 'wgslgrad-replay', 'wgslgrad-chromium', 'wgslgrad-chromium-replay'];
  benchOk = impls.every((i) => rows.some((r) => r.impl === i && r.median_ms > 0 && r.runs === 2)) && /^Chromium .*swiftshader/i.test(out.browser);
  console.log(`bench ${rows.map((r) => `${r.impl} ${r.median_ms.toFixed(0)} ms`).join(', ')}; ${out.browser}: ${benchOk ? 'ok' : 'MISMATCH'}`);
} else console.log(`bench failed: ${bench.stderr.trim().split('\n').pop()}`);
const passed = [ok, externalOk, benchOk].filter(Boolean).length;
console.log(`${passed} passed, ${3 - passed} failed`);
process.exitCode = passed === 3 ? 0 : 1;
