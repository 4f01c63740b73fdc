// npm run example:char-transformer -- [flags]   (--help lists them)
//
// A makemore-style character-level GPT trained on an English word list: AdamW with a linear warm-up
// and a cosine decay, gradients clipped to norm 1, the step captured once and replayed (wg.capture),
// the training loss summed on the GPU and read once per interval. Writes metrics.csv, losses.png,
// samples.txt, config.json, init.safetensors (the weights before training, which the PyTorch twin
// examples/pytorch/char_transformer.py starts from) and model.safetensors, each atomically.

import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as wg from '../../src/index.js';
import { fmtTime } from '../shared/format.js';
import { linePlot } from '../shared/plot.js';
import { Batches, DEFAULT_WORDS, encode, loadWords, mulberry32, unigramEntropy, type Words } from './data.js';
import { CharGpt, type GptConfig } from './model.js';

const FLAGS = {
  data: { type: 'string', default: DEFAULT_WORDS, help: 'a text file, one word (or name, or line) a line' },
  out: { type: 'string', default: 'runs/char-transformer', help: 'output directory' },
  steps: { type: 'string', default: '3000', help: 'training steps' },
  batch: { type: 'string', default: '32', help: 'words a step' },
  layers: { type: 'string', default: '4', help: 'transformer blocks' },
  heads: { type: 'string', default: '4', help: 'attention heads a block' },
  embd: { type: 'string', default: '64', help: 'embedding width' },
  tied: { type: 'boolean', default: false, help: 'the head reuses the token embedding' },
  lr: { type: 'string', default: '5e-4', help: 'peak learning rate (AdamW, betas 0.9, 0.99)' },
  'weight-decay': { type: 'string', default: '0.01', help: "AdamW's decoupled weight decay" },
  warmup: { type: 'string', default: '100', help: 'steps of linear warm-up, then a cosine decay to lr/10' },
  'max-len': { type: 'string', default: '15', help: 'longest word kept (the block size is one more)' },
  'log-every': { type: 'string', default: '250', help: 'steps between train/validation loss lines' },
  samples: { type: 'string', default: '40', help: 'words sampled at the end' },
  seed: { type: 'string', default: '1337', help: 'seed of the split, the initial weights and the batches' },
  'no-capture': { type: 'boolean', default: false, help: 'run every step eagerly instead of replaying the captured one' },
  help: { type: 'boolean', default: false, help: 'this list' },
} as const;

export interface RunConfig {
  data: string;
  out: string;
  steps: number;
  batch: number;
  lr: number;
  weightDecay: number;
  warmup: number;
  maxLen: number;
  logEvery: number;
  samples: number;
  seed: number;
  capture: boolean;
  model: Omit<GptConfig, 'vocabSize' | 'blockSize'>;
}

function usage(): string {
  const lines = ['npm run example:char-transformer -- [flags]', ''];
  for (const [k, v] of Object.entries(FLAGS)) lines.push(`  --${k.padEnd(14)} ${v.help}${v.type === 'string' ? ` (default ${v.default})` : ''}`);
  lines.push('', 'The default run takes about 4 minutes on 2 CPU cores with a software adapter; the progress line gives the ETA.');
  return lines.join('\n');
}

function config(a: Record<string, string | boolean | undefined>): RunConfig {
  const num = (k: keyof typeof FLAGS, check: (v: number) => boolean, what: string): number => {
    const raw = a[k] as string;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || !check(v)) throw new wg.WgslgradError('args', `--${k} must be ${what}, got '${raw}'`);
    return v;
  };
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  const c: RunConfig = {
    data: a.data as string,
    out: resolve(a.out as string),
    steps: num('steps', posInt, 'a positive integer'),
    batch: num('batch', posInt, 'a positive integer'),
    lr: num('lr', (v) => v > 0, 'a positive number'),
    weightDecay: num('weight-decay', (v) => v >= 0, 'a number ≥ 0'),
    warmup: num('warmup', (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
    maxLen: num('max-len', posInt, 'a positive integer'),
    logEvery: num('log-every', posInt, 'a positive integer'),
    samples: num('samples', (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
    seed: num('seed', (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
    capture: !a['no-capture'],
    model: { nLayer: num('layers', posInt, 'a positive integer'), nHead: num('heads', posInt, 'a positive integer'), nEmbd: 0, tied: !!a.tied },
  };
  c.model.nEmbd = num('embd', (v) => posInt(v) && v % c.model.nHead === 0, `a positive multiple of --heads (${c.model.nHead})`);
  if (c.warmup >= c.steps) throw new wg.WgslgradError('args', `--warmup ${c.warmup} must be less than --steps ${c.steps}`);
  return c;
}

/** The schedule: linear warm-up from lr/100 over `warmup` steps, then a cosine decay to lr/10 (torch's LinearLR, CosineAnnealingLR, SequentialLR). */
export function schedule(opt: wg.optim.AdamW, c: RunConfig): wg.optim.lr_scheduler.LRScheduler {
  const { LinearLR, CosineAnnealingLR, SequentialLR } = wg.optim.lr_scheduler;
  const cosine = new CosineAnnealingLR(opt, { tMax: c.steps - c.warmup, etaMin: c.lr / 10 });
  if (c.warmup === 0) return cosine;
  const warm = new LinearLR(opt, { startFactor: 0.01, endFactor: 1, totalIters: c.warmup });
  return new SequentialLR(opt, [warm, cosine], [c.warmup]);
}

/** Mean cross-entropy over every predicted character of `words` (no gradients), in chunks of 512 words. */
async function evalLoss(model: CharGpt, words: readonly string[], chars: string, T: number): Promise<number> {
  let total = 0;
  let count = 0;
  for (let s = 0; s < words.length; s += 512) {
    const chunk = words.slice(s, s + 512);
    const x = new Float32Array(chunk.length * T);
    const y = new Float32Array(chunk.length * T);
    encode(chunk, chars, T, x, y);
    const n = y.reduce((a, v) => a + (v >= 0 ? 1 : 0), 0);
    const l = wg.scope(() => wg.noGrad(() => wg.keep(model.loss(wg.tensor(x, [chunk.length, T]), wg.tensor(y, [chunk.length, T])))));
    total += (await l.item()) * n;
    count += n;
    l.dispose();
  }
  return total / count;
}

/** Words drawn one character at a time from the model (temperature 1), until '.' or the block is full. */
async function sample(model: CharGpt, chars: string, T: number, n: number, seed: number): Promise<string[]> {
  const r = mulberry32(seed);
  const V = chars.length + 1;
  const x = new Float32Array(n * T);
  const done = new Array<boolean>(n).fill(false);
  const words = new Array<string>(n).fill('');
  for (let t = 0; t < T && done.some((d) => !d); t++) {
    const logits = wg.scope(() => wg.noGrad(() => wg.keep(model.forward(wg.tensor(x, [n, T])))));
    const v = await logits.toArray();
    logits.dispose();
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      const row = v.subarray((i * T + t) * V, (i * T + t + 1) * V);
      const m = Math.max(...row);
      let z = 0;
      for (const l of row) z += Math.exp(l - m);
      let u = r() * z;
      let tok = V - 1;
      for (let k = 0; k < V; k++) {
        u -= Math.exp(row[k]! - m);
        if (u <= 0) {
          tok = k;
          break;
        }
      }
      if (tok === 0) done[i] = true;
      else {
        words[i] += chars[tok - 1];
        if (t + 1 < T) x[i * T + t + 1] = tok;
      }
    }
  }
  return words;
}

interface Row {
  step: number;
  train_loss: number;
  val_loss: number;
  lr: number;
  words_per_s: number;
}

async function main(): Promise<void> {
  let a: Record<string, string | boolean | undefined>;
  try {
    a = parseArgs({ options: FLAGS, allowPositionals: false }).values;
  } catch (e) {
    throw new wg.WgslgradError('args', `${(e as Error).message.split('\n')[0]} (--help lists the flags and what each takes)`);
  }
  if (a.help) {
    console.log(usage());
    return;
  }
  const c = config(a);
  const words: Words = await loadWords(c.data, { seed: c.seed, maxLen: c.maxLen, maxVal: 1000, lowerAZ: c.data === DEFAULT_WORDS });
  const T = words.blockSize;
  const info = await wg.init();
  await mkdir(c.out, { recursive: true });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const unigram = unigramEntropy(words.train);
  log(
    `${words.train.length} training words, ${words.val.length} validation words, ${words.chars.length} characters, block ${T}; on ${info.adapter.description || info.adapter.device} [${info.backend}${info.software ? ', software' : ''}]`,
  );

  wg.manualSeed(c.seed);
  const gpt: GptConfig = { vocabSize: words.chars.length + 1, blockSize: T, ...c.model };
  const model = new CharGpt(gpt);
  const nParams = model.parameters().reduce((s, p) => s + p.size, 0);
  await wg.io.writeFileAtomic(
    join(c.out, 'config.json'),
    JSON.stringify(
      {
        model: gpt,
        chars: words.chars,
        split: { train: words.train.length, val: words.val.length, firstTrain: words.train[0], firstVal: words.val[0] },
        run: c,
      },
      null,
      1,
    ),
    'config',
  );
  await wg.io.saveSafetensors(join(c.out, 'init.safetensors'), model.stateDict());
  log(`model: ${c.model.nLayer} blocks, ${c.model.nHead} heads, width ${c.model.nEmbd}${c.model.tied ? ', tied head' : ''}: ${nParams} parameters`);

  const opt = new wg.optim.AdamW(model.parameters(), { lr: c.lr, betas: [0.9, 0.99], weightDecay: c.weightDecay });
  const sched = schedule(opt, c);
  const lossSum = wg.keep(wg.zeros([1]));
  const stepFn = (x: wg.Tensor, y: wg.Tensor): wg.Tensor => {
    opt.zeroGrad();
    const loss = model.loss(x, y);
    loss.backward();
    wg.nn.utils.clipGradNorm(model.parameters(), 1);
    opt.step();
    wg.noGrad(() => lossSum.copy_(lossSum.add(loss.reshape([1]))));
    return loss;
  };
  const step = c.capture ? wg.capture(stepFn) : null;
  const batches = new Batches(words.train, c.seed);
  const xb = new Float32Array(c.batch * T);
  const yb = new Float32Array(c.batch * T);

  const rows: Row[] = [];
  const t0 = performance.now();
  let last = { time: t0, step: 0 };
  let acc = 0;
  const interactive = process.stderr.isTTY;
  for (let s = 1; s <= c.steps; s++) {
    encode(batches.next(c.batch), words.chars, T, xb, yb);
    wg.scope(() => {
      if (step) step(step.captured ? xb : wg.tensor(xb, [c.batch, T]), step.captured ? yb : wg.tensor(yb, [c.batch, T]));
      else stepFn(wg.tensor(xb, [c.batch, T]), wg.tensor(yb, [c.batch, T]));
    });
    acc++;
    const lr = opt.lr;
    sched.step();
    if (s % c.logEvery === 0 || s === c.steps) {
      const train = (await lossSum.toArray())[0]! / acc;
      lossSum.copy_(wg.zeros([1]));
      if (!Number.isFinite(train)) throw new wg.WgslgradError('train', `the training loss is not finite at step ${s} (${train}): try a lower --lr`);
      const val = await evalLoss(model, words.val, words.chars, T);
      const now = performance.now();
      const row: Row = { step: s, train_loss: train, val_loss: val, lr, words_per_s: ((s - last.step) * c.batch) / ((now - last.time) / 1000) };
      rows.push(row);
      last = { time: performance.now(), step: s };
      acc = 0;
      const rate = s / ((now - t0) / 1000);
      const bar = '#'.repeat(Math.round((s / c.steps) * 20)).padEnd(20, '.');
      const line = `[${bar}] step ${s}/${c.steps} train ${train.toFixed(4)} val ${val.toFixed(4)} lr ${lr.toExponential(2)} ${row.words_per_s.toFixed(0)} words/s ETA ${fmtTime((c.steps - s) / rate)}`;
      log(interactive ? `\r${line}` : line);
    } else if (interactive && s % 10 === 0) {
      const rate = s / ((performance.now() - t0) / 1000);
      process.stderr.write(`\r[${'#'.repeat(Math.round((s / c.steps) * 20)).padEnd(20, '.')}] step ${s}/${c.steps} ETA ${fmtTime((c.steps - s) / rate)}   `);
    }
  }
  const secs = (performance.now() - t0) / 1000;

  const csv = ['step,train_loss,val_loss,lr,words_per_s', ...rows.map((r) => [r.step, r.train_loss, r.val_loss, r.lr, r.words_per_s.toFixed(1)].join(','))];
  await wg.io.writeFileAtomic(join(c.out, 'metrics.csv'), `${csv.join('\n')}\n`, 'metrics');
  if (rows.length >= 2) {
    const xs = rows.map((r) => r.step);
    await linePlot(
      'char-transformer: cross-entropy (nats a character)',
      'step',
      [
        { name: 'train', color: [31, 119, 180], xs, ys: rows.map((r) => r.train_loss) },
        { name: 'validation', color: [214, 39, 40], xs, ys: rows.map((r) => r.val_loss) },
      ],
      { hlines: [{ y: unigram, label: 'unigram' }] },
    ).save(join(c.out, 'losses.png'));
  }
  await wg.io.saveSafetensors(join(c.out, 'model.safetensors'), model.stateDict());

  const samples = c.samples ? await sample(model, words.chars, T, c.samples, c.seed + 1) : [];
  const known = new Set([...words.train, ...words.val]);
  const inList = samples.filter((w) => known.has(w)).length;
  const report = [
    `# ${samples.length} words sampled after ${c.steps} steps (temperature 1)`,
    `# in the word list: ${inList} (${samples.length ? ((100 * inList) / samples.length).toFixed(0) : 0} %); the rest are new`,
    ...samples.map((w) => `${w}${known.has(w) ? '' : ' *'}`),
  ];
  await wg.io.writeFileAtomic(join(c.out, 'samples.txt'), `${report.join('\n')}\n`, 'samples');
  const end = rows[rows.length - 1]!;
  log(
    `trained ${c.steps} steps in ${fmtTime(secs)} (${((c.steps * c.batch) / secs).toFixed(0)} words/s${step ? `, ${step.dispatches} dispatches a replayed step` : ''})`,
  );
  log(`validation loss ${end.val_loss.toFixed(4)} nats a character; the unigram baseline ${unigram.toFixed(4)}`);
  if (samples.length)
    log(
      `samples (* not in the word list): ${samples
        .slice(0, 16)
        .map((w) => `${w}${known.has(w) ? '' : '*'}`)
        .join(' ')}`,
    );
  log(`outputs in ${c.out}`);
  step?.dispose();
}

main().then(
  () => undefined,
  (e: unknown) => {
    // one line and exit 1, never a hang (as the GAN example)
    if (e instanceof wg.WgslgradError) process.stderr.write(`\nerror: ${e.message}\n`);
    else process.stderr.write(`\nerror: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
