// The training page (examples/browser) in Debian's headless Chromium (WebGPU through SwiftShader),
// tested as a person would use it: it finds the adapter, trains, redraws the grid, keeps memory
// flat, saves a checkpoint that Node loads, loads a CLI checkpoint and refuses a corrupt one.
// Usage: npm run test:page (builds the page, then runs this). Screenshots: build/test-output/page-training.png, page.png
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';
import * as wg from '../../build/src/index.js';
import { launchChromium } from './chromium.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = join(root, 'build', 'test-output');
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'wgslgrad-page-'));
let failures = 0;
let passes = 0;
const check = (what, ok, detail = '') => {
  if (ok) passes++;
  else failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` (${detail})` : ''}`);
};

// a CLI checkpoint to upload: R3's MLP, 2 steps
const cliOut = join(tmp, 'cli-run');
const cli = spawnSync(
  process.execPath,
  ['build/examples/mnist-gan/main.js', '--preset', 'mlp', '--steps', '2', '--batch', '8', '--no-eval', '--sample-every', '0', '--out', cliOut],
  { cwd: root, encoding: 'utf8', timeout: 120_000 },
);
if (cli.status !== 0) throw new Error(`the CLI run failed: ${cli.stderr}`);

const server = await preview({ configFile: join(root, 'examples/browser/vite.config.ts'), preview: { host: '127.0.0.1', port: 0 }, logLevel: 'warn' });
const url = server.resolvedUrls.local[0];
const browser = await launchChromium();
const errors = [];
try {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/node:|externalized|Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('adapter').textContent.startsWith('adapter:'), null, { timeout: 60_000 });
  const adapter = await page.textContent('#adapter');
  check('the page names the adapter and says it is software', /adapter: .*software adapter/.test(adapter), adapter);
  await page.waitForFunction(() => !document.getElementById('start').disabled, null, { timeout: 120_000 });
  check('MNIST loaded from the IDX files and the first grid drawn', (await page.getAttribute('#grid', 'data-step')) === '0');
  const pixels = () =>
    page.evaluate(() => {
      const c = document.getElementById('grid');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      let hash = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] > 16) lit++;
        hash = (hash * 31 + d[i]) >>> 0;
      }
      return { lit, hash, n: d.length / 4 };
    });
  await page.click('#start');
  const waitStep = (n) => page.waitForFunction((k) => Number(document.getElementById('grid').dataset.step) >= k, n, { timeout: 180_000 });
  await waitStep(5);
  const tFirst = Date.now();
  const a = await pixels();
  const mem5 = Number(await page.getAttribute('#stats', 'data-live'));
  await waitStep(10);
  const b = await pixels();
  const mem10 = Number(await page.getAttribute('#stats', 'data-live'));
  await page.screenshot({ path: join(outDir, 'page-training.png'), fullPage: true });
  const steps = Number(await page.getAttribute('#stats', 'data-step'));
  const secs = (Date.now() - tFirst) / 1000;
  // a time, reported (not asserted: a busy machine is slower)
  console.log(`step 5 ${((tFirst - t0) / 1000).toFixed(1)} s after opening the page`);
  check('the grid is not blank', a.lit > a.n * 0.05 && b.lit > b.n * 0.05, `${a.lit} and ${b.lit} of ${a.n} pixels lit`);
  check('the grid changes between two redraws', a.hash !== b.hash);
  check('wg.memory() stays flat while training', mem5 === mem10, `${mem5} → ${mem10} live bytes`);
  const stats = await page.textContent('#stats');
  const m = /D loss ([\d.eE+-]+)\s+G loss ([\d.eE+-]+)/.exec(stats);
  check('the losses are finite', !!m && Number.isFinite(Number(m[1])) && Number.isFinite(Number(m[2])), m?.[0]);
  await page.click('#pause');
  await page.waitForFunction(() => !document.getElementById('save').disabled);
  const stepsPaused = Number(await page.getAttribute('#stats', 'data-step'));
  console.log(`steps/s in the page (R3 MLP, batch 32, SwiftShader): ${((steps - 5) / secs).toFixed(2)} (steps 5 → ${steps} in ${secs.toFixed(1)} s)`);
  // save: five downloads in the CLI's layout; Node loads the generator and finds the page's parameters
  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await page.click('#save');
  await page.waitForFunction(() => true);
  for (let i = 0; i < 100 && downloads.length < 5; i++) await new Promise((r) => setTimeout(r, 100));
  const saved = join(tmp, 'page-checkpoint');
  mkdirSync(saved, { recursive: true });
  for (const d of downloads) await d.saveAs(join(saved, d.suggestedFilename()));
  check(
    'the checkpoint downloads as the CLI lays it out',
    downloads
      .map((d) => d.suggestedFilename())
      .sort()
      .join() === 'discriminator.safetensors,generator.safetensors,optimizer_d.safetensors,optimizer_g.safetensors,state.json',
  );
  await wg.init();
  const fromPage = await page.evaluate(() => window.wgslgradPage.params());
  const loaded = await wg.io.loadSafetensors(join(saved, 'generator.safetensors'));
  let same = Object.keys(fromPage).length > 0;
  for (const [k, v] of Object.entries(fromPage)) {
    const t = loaded[k.slice(2)];
    const arr = t ? Array.from(await t.toArray()) : [];
    if (arr.length !== v.length || arr.some((x, i) => x !== v[i])) same = false;
  }
  check("Node loads the downloaded generator and it holds the page's parameters", same);
  // a CLI checkpoint uploads and samples
  const ck = join(cliOut, 'checkpoint');
  await page.setInputFiles(
    '#load',
    ['generator.safetensors', 'discriminator.safetensors', 'state.json'].map((f) => join(ck, f)),
  );
  await page.waitForFunction(() => document.getElementById('grid').dataset.step === '2', null, { timeout: 60_000 });
  check("the CLI's checkpoint loads and samples (step 2)", (await page.getAttribute('#stats', 'data-step')) === '2');
  // a corrupt one is refused, visibly, and the loaded run stays
  const bad = join(tmp, 'bad');
  mkdirSync(bad, { recursive: true });
  writeFileSync(join(bad, 'generator.safetensors'), 'this is not a checkpoint');
  writeFileSync(join(bad, 'discriminator.safetensors'), 'nor is this');
  await page.setInputFiles('#load', [join(bad, 'generator.safetensors'), join(bad, 'discriminator.safetensors')]);
  await page.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: 30_000 });
  const err = await page.textContent('#error');
  check('a corrupt checkpoint shows an error naming the file', /loadSafetensors: generator\.safetensors/.test(err), err);
  check('and the running state is untouched', (await page.getAttribute('#stats', 'data-step')) === '2');
  await page.screenshot({ path: join(outDir, 'page.png'), fullPage: true });
  console.log(
    `screenshots: ${join(outDir, 'page-training.png')} (training, step 10), ${join(outDir, 'page.png')} (after the loads); paused at step ${stepsPaused}`,
  );
  // choosing the CLI's default model (the AC-GAN) starts a new run of it, which trains with its class terms
  await page.selectOption('#preset', 'default');
  await page.waitForFunction(() => document.getElementById('stats').dataset.step === '0', null, { timeout: 60_000 });
  await page.click('#start');
  check('the model choice is locked while training', await page.isDisabled('#preset'));
  await page.waitForFunction(() => Number(document.getElementById('stats').dataset.step) >= 2, null, { timeout: 300_000 });
  await page.click('#pause');
  const acStats = await page.textContent('#stats');
  const ac = /G loss ([\d.eE+-]+)/.exec(acStats);
  // BCE ≈ 0.7 plus 5 × a 10-way cross-entropy of ≈ 2.3 from a D that cannot yet name digits
  check("the default model trains in the page, G's loss holding its class term", !!ac && Number(ac[1]) > 5 && Number.isFinite(Number(ac[1])), ac?.[0]);
  check('no page error or console error', errors.length === 0, errors.join(' | '));
} finally {
  await browser.close();
  await new Promise((r) => server.httpServer.close(r));
}
console.log(`${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
