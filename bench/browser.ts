// The training page's step in a browser: R3's MLP GAN step at the page's batch on a software
// adapter (32), op by op and replayed, in Debian's headless Chromium (WebGPU through its own
// adapter: SwiftShader here) and, for the ratio, the same step in this Node process. The page
// imports the built library and GanTrainer from build/ as plain ES modules, served from here.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import * as wg from '../src/index.js';
import { type Ctx, type Row, randData, report, stats, wallTimes } from './harness.js';
import { ganStep } from './steps.js';

export const BROWSER_STEP = 'browser-mlp-b32';
const B = 32;
const WARM = 2;

/** What the page runs: WARM steps, then `reps` steps each waited for, op by op and then replayed. */
const page = (reps: number): string => `<!doctype html><script type="module">
import * as wg from '/build/src/index.js';
import { GanTrainer, presetSetup } from '/build/examples/mnist-gan/step.js';
try {
  const info = await wg.init();
  // the images the Node rows train on (served as /real.f32)
  const real = new Float32Array(await (await fetch('/real.f32')).arrayBuffer());
  const times = {};
  for (const mode of ['eager', 'replay']) {
    const trainer = new GanTrainer(presetSetup('mlp', { batch: ${B} }));
    const step = mode === 'eager' ? () => wg.scope(() => trainer.step(real, null)) : () => trainer.replay(real, null);
    const ts = [];
    for (let i = 0; i < ${WARM} + ${reps}; i++) {
      const t0 = performance.now();
      step();
      await wg.sync();
      if (i >= ${WARM}) ts.push(performance.now() - t0);
    }
    trainer.dropCapture();
    times[mode] = ts;
  }
  window.result = { adapter: info.adapter, software: info.software, times };
} catch (e) {
  window.result = { error: String((e && e.stack) || e) };
}
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html' };

/**
 * Adds the rows of BROWSER_STEP: wgslgrad / wgslgrad-replay in this process, and
 * wgslgrad-chromium / wgslgrad-chromium-replay in the page, each with the adapter it ran on.
 * Returns a note for the JSON (why it did not run, or where it ran).
 */
export async function browserStep(ctx: Ctx): Promise<string> {
  const exe = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(exe)) {
    const note = `not run: no Chromium at ${exe} (sudo bash scripts/install-chromium.sh, or set CHROMIUM)`;
    console.log(`\n${BROWSER_STEP}: ${note}`);
    return note;
  }
  const reps = ctx.quick ? 2 : ctx.reps;
  console.log(`\n---- ${BROWSER_STEP}: R3's MLP step at batch ${B} in Node and in headless Chromium ----`);
  const real = randData(B * 784, 21);
  const rows: Row[] = [];
  for (const mode of ['eager', 'replay'] as const) {
    const { step, dispose } = ganStep('mlp', B, mode, real);
    const ts = await wallTimes(async () => {
      step();
      await wg.sync();
    }, WARM + reps);
    dispose();
    rows.push(stepRow(mode === 'eager' ? 'wgslgrad' : 'wgslgrad-replay', ts.slice(WARM), ctx.info.adapter.description || ctx.info.adapter.device));
  }
  // build/bench/browser.js → the checkout's root, whose build/ the page imports
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(page(reps));
    if (path === '/real.f32') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(real.buffer));
    const file = normalize(join(root, path));
    if (!file.startsWith(join(root, 'build') + sep) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  // the project's Chromium launcher (the browser tests' too); computed, so tsc leaves the .mjs alone
  const launcher = new URL('../../test/browser/chromium.mjs', import.meta.url).href;
  const { launchChromium } = (await import(launcher)) as { launchChromium: () => Promise<Browser> };
  let note: string;
  const browser = await launchChromium();
  try {
    const p = await browser.newPage();
    const { port } = server.address() as { port: number };
    await p.goto(`http://127.0.0.1:${port}/`);
    await p.waitForFunction('window.result', null, { timeout: 600_000, polling: 500 });
    const r = (await p.evaluate('window.result')) as PageResult;
    if ('error' in r) throw new Error(r.error);
    const adapter = [r.adapter.vendor, r.adapter.architecture, r.adapter.description].filter(Boolean).join(' ');
    rows.push(stepRow('wgslgrad-chromium', r.times.eager, adapter), stepRow('wgslgrad-chromium-replay', r.times.replay, adapter));
    note = `Chromium ${browser.version()}, adapter ${adapter}${r.software ? ' (software)' : ''}`;
  } catch (e) {
    note = `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  } finally {
    await browser.close();
    server.close();
  }
  report(rows, `R3 MLP GAN step, batch ${B} (the page's batch on a software adapter), a wait after each step`);
  const ms = (impl: string) => rows.find((r) => r.impl === impl)?.median_ms;
  const slower = (a: string, b: string) => (ms(a) && ms(b) ? `×${(ms(a)! / ms(b)!).toFixed(1)}` : '—');
  console.log(
    `  ${note}; Chromium's step ÷ Node's: ${slower('wgslgrad-chromium', 'wgslgrad')} op by op, ${slower('wgslgrad-chromium-replay', 'wgslgrad-replay')} replayed`,
  );
  return note;
}

type PageResult = { error: string } | { adapter: GPUAdapterInfo; software: boolean; times: { eager: number[]; replay: number[] } };

function stepRow(impl: string, ts: number[], adapter: string): Row {
  const st = stats(ts);
  return { workload: BROWSER_STEP, impl, ...st, images_per_s: (B * 1000) / st.median_ms, note: `adapter: ${adapter}` };
}
