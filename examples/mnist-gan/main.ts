// npm run example:mnist-gan -- [flags]   (--help lists them)

import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as wg from '../../src/index.js';
import { fmtTime } from '../shared/format.js';
import { FLAGS, num, resolveConfig, usage } from './config.js';
import { loadMnist } from './data.js';
import { evaluateGenerator, formatEval } from './evaluate.js';
import { PRESETS } from './presets.js';
import { findCheckpoint, GanRun, type RunConfig } from './train.js';

async function evaluateAndReport(
  run: GanRun,
  cfg: RunConfig,
  conditional: boolean,
  test: Parameters<typeof evaluateGenerator>[3],
  count: number,
): Promise<void> {
  const result = await evaluateGenerator(run.G, cfg.z, conditional, test, count, cfg.seed);
  if (!result) return;
  await wg.io.writeFileAtomic(join(cfg.out, 'eval.json'), JSON.stringify(result, null, 1), 'eval');
  console.log(formatEval(result));
}

async function main(): Promise<void> {
  let a: Record<string, string | boolean | undefined>;
  try {
    a = parseArgs({
      options: Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [k, { type: v.type }])) as Record<string, { type: 'string' | 'boolean' }>,
      allowPositionals: false,
    }).values;
  } catch (e) {
    // Node's messages name the flag (`Unknown option '--bogus'`, `Option '--steps <value>' argument
    // is ambiguous`, `Unexpected argument 'x'`); one line, with where the flags are listed
    throw new wg.WgslgradError('args', `${(e as Error).message.split('\n')[0]} (--help lists the flags and what each takes)`);
  }
  const s = (k: string) => a[k] as string | undefined;
  if (a.help) {
    console.log(usage());
    return;
  }
  let resumeDir = '';
  let saved: Partial<RunConfig> = {};
  if (s('resume')) {
    const r = s('resume')!;
    resumeDir = await findCheckpoint(r);
    try {
      saved = JSON.parse(await readFile(join(resumeDir, 'state.json'), 'utf8')).config ?? {};
    } catch (e) {
      throw new wg.WgslgradError('resume', `${join(resumeDir, 'state.json')} is not valid JSON (${(e as Error).message})`);
    }
  }
  const cfg = resolveConfig(s, saved, resumeDir);
  await checkWritable(cfg.out);
  const presetName = cfg.preset;
  const preset = PRESETS[presetName];
  const info = await wg.init();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const rates = cfg.lrG !== preset.lrG || cfg.lrD !== preset.lrD ? `, Adam ${cfg.lrG === cfg.lrD ? cfg.lrG : `G ${cfg.lrG} / D ${cfg.lrD}`} here` : '';
  const shape = `${cfg.width !== 1 ? `width ${cfg.width}, ` : ''}batch ${cfg.batch}${rates}, ${cfg.steps ? `${cfg.steps} steps` : `${cfg.epochs} epochs`}`;
  log(
    `wgslgrad mnist-gan: ${presetName} (${preset.report}; ${shape}) on ${info.adapter.description || info.adapter.device} [${info.backend}${info.software ? ', software' : ''}]`,
  );
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
  await wg.io.writeFileAtomic(join(cfg.out, 'config.json'), JSON.stringify(cfg, null, 1), 'train');
  const t0 = performance.now();
  await run.run();
  const secs = (performance.now() - t0) / 1000;
  const rows = run.rows;
  const ips = rows.length ? rows.reduce((s2, r) => s2 + r.images_per_s, 0) / rows.length : 0;
  log(`trained ${run.state.step} steps in ${fmtTime(secs)} (${ips.toFixed(0)} images/s); outputs in ${cfg.out}`);
  console.log(run.lossTable());
  if (!a['no-eval']) await evaluateAndReport(run, cfg, preset.conditional, data.test, evalCount);
}

/** The output folder exists (made if need be) and takes a file, or the run stops before it starts. */
async function checkWritable(dir: string): Promise<void> {
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    // one level at a time: Node's recursive mkdir loops forever under /proc, where a missing
    // folder reads as ENOENT even though its parent exists
    const missing: string[] = [];
    for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
    for (const d of missing) await mkdir(d).catch((e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)));
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw new wg.WgslgradError('args', `--out ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

main().then(
  () => undefined,
  (e: unknown) => {
    // one line and exit 1, never a hang: Dawn's handles would keep a process with an uncaught error alive
    if (e instanceof wg.WgslgradError) process.stderr.write(`\nerror: ${e.message}\n`);
    else process.stderr.write(`\nerror: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
