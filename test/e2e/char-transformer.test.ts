// The char-transformer example: its data (mulberry32, the word filter and split, makemore's
// sequences), its model (PyTorch's parameter names, tied head, a saved model gives the same logits),
// and its CLI on a small word file: the outputs written, the replayed step training exactly as the
// eager one, bad input refused in one line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Batches, encode, loadWords, mulberry32, unigramEntropy } from '../../examples/char-transformer/data.js';
import { CharGpt } from '../../examples/char-transformer/model.js';
import * as wg from '../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'wgslgrad-chars-'));
const MAIN = 'build/examples/char-transformer/main.js';

/** A word file: 300 made-up lowercase words, a duplicate, a long one, a proper noun, one with a '.'. */
function wordFile(): string {
  const r = mulberry32(9);
  const syl = ['ka', 'to', 'ri', 'men', 'sa', 'lo', 'ven', 'di', 'ar', 'tu', 'ne', 'po'];
  const words = Array.from({ length: 300 }, () => Array.from({ length: 1 + Math.floor(r() * 3) }, () => syl[Math.floor(r() * syl.length)]).join(''));
  const file = join(root, 'words.txt');
  writeFileSync(file, [...words, words[0], 'abcdefghijklmnopqrstuvwxyz', 'Paris', 'e.g.', ''].join('\n'));
  return file;
}

describe('char-transformer data', () => {
  test('mulberry32 gives the stream the PyTorch twin repeats; words are filtered, de-duplicated, shuffled and split', async () => {
    // the first values of seed 1, as examples/pytorch/char_transformer.py's mulberry32 gives them
    const r = mulberry32(1);
    expect([r(), r(), r()].map((v) => Math.round(v * 2 ** 32))).toEqual([2693262067, 11749833, 2265367787]);
    const file = wordFile();
    const w = await loadWords(file, { seed: 3, maxLen: 12, lowerAZ: true, valFraction: 0.1 });
    const all = [...w.train, ...w.val];
    expect(new Set(all).size).toBe(all.length);
    expect(all).not.toContain('Paris');
    expect(all).not.toContain('e.g.');
    expect(all.every((x) => x.length <= 12)).toBe(true);
    expect(w.val.length).toBe(Math.floor(all.length * 0.1));
    expect(w.blockSize).toBe(Math.max(...all.map((x) => x.length)) + 1);
    expect(w.chars).toBe([...new Set(all.join(''))].sort().join(''));
    // the same seed, the same split; another seed, another
    expect((await loadWords(file, { seed: 3, maxLen: 12, lowerAZ: true })).val).toEqual(w.val);
    expect((await loadWords(file, { seed: 4, maxLen: 12, lowerAZ: true })).val).not.toEqual(w.val);
    await expect(loadWords(join(root, 'none.txt'), { seed: 1, maxLen: 5 })).rejects.toThrow(/cannot be read/);
  });

  test("encode writes makemore's sequences: x = '.' + word, y = word + '.', y's padding −1", () => {
    const x = new Float32Array(2 * 5);
    const y = new Float32Array(2 * 5);
    encode(['ab', 'c'], 'abc', 5, x, y);
    expect(Array.from(x)).toEqual([0, 1, 2, 0, 0, 0, 3, 0, 0, 0]);
    expect(Array.from(y)).toEqual([1, 2, 0, -1, -1, 3, 0, -1, -1, -1]);
    const b = new Batches(['a', 'b', 'c'], 1);
    const drawn = b.next(30);
    expect(new Set(drawn)).toEqual(new Set(['a', 'b', 'c']));
    expect(new Batches(['a', 'b', 'c'], 1).next(30)).toEqual(drawn);
    // two characters equally often, and the end: log 3
    expect(unigramEntropy(['ab'])).toBeCloseTo(Math.log(3), 12);
  });
});

describe('char-transformer model', () => {
  test("PyTorch's parameter names, a tied head without lm_head, and a saved state dict gives the same logits", async () => {
    const c = { vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8, tied: false };
    wg.manualSeed(3);
    const m = new CharGpt(c);
    const names = m.namedParameters().map(([k]) => k);
    expect(names).toContain('transformer.h.1.attn.in_proj_weight');
    expect(names).toContain('transformer.h.0.mlp.c_fc.weight');
    expect(names).toContain('lm_head.weight');
    const tied = new CharGpt({ ...c, tied: true });
    expect(tied.namedParameters().map(([k]) => k)).not.toContain('lm_head.weight');
    const x = wg.tensor([0, 1, 2, 3, 4, 5, 0, 6, 6, 1, 0, 0], [2, 6]);
    const file = join(root, 'm.safetensors');
    await wg.io.saveSafetensors(file, m.stateDict());
    wg.manualSeed(4);
    const m2 = new CharGpt(c);
    m2.loadStateDict(await wg.io.loadSafetensors(file));
    expect(Array.from(await wg.noGrad(() => m2.forward(x)).toArray())).toEqual(Array.from(await wg.noGrad(() => m.forward(x)).toArray()));
    // causal: the logits at a position do not depend on the tokens after it
    const x2 = wg.tensor([0, 1, 2, 6, 6, 6, 0, 6, 6, 1, 0, 0], [2, 6]);
    const a = await wg.noGrad(() => m.forward(x)).toArray();
    const b = await wg.noGrad(() => m.forward(x2)).toArray();
    expect(Array.from(b.subarray(0, 3 * 7))).toEqual(Array.from(a.subarray(0, 3 * 7)));
    expect(() => m.forward(wg.zeros([1, 7]))).toThrow(/expected \[B, T\] with T ≤ 6/);
  });
});

describe('char-transformer CLI', () => {
  const small = [
    '--steps',
    '24',
    '--batch',
    '8',
    '--layers',
    '1',
    '--heads',
    '2',
    '--embd',
    '16',
    '--warmup',
    '4',
    '--log-every',
    '8',
    '--samples',
    '6',
    '--max-len',
    '10',
  ];
  const run = (out: string, ...extra: string[]) =>
    spawnSync(process.execPath, [MAIN, '--data', wordFile(), '--out', out, ...small, ...extra], { encoding: 'utf8', timeout: 240_000 });

  test('trains on a word file and writes metrics, a loss plot, samples, config and both checkpoints; the replayed step trains as the eager one', () => {
    expect(existsSync(MAIN), 'npm test builds the examples first').toBe(true);
    const out = join(root, 'replay');
    const r = run(out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/validation loss \d+\.\d+ nats a character; the unigram baseline \d+\.\d+/);
    for (const f of ['metrics.csv', 'losses.png', 'samples.txt', 'config.json', 'init.safetensors', 'model.safetensors'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const rows = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('step,train_loss,val_loss,lr,words_per_s');
    expect(rows.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([8, 16, 24]);
    const samples = readFileSync(join(out, 'samples.txt'), 'utf8').trim().split('\n');
    expect(samples.filter((l) => !l.startsWith('#'))).toHaveLength(6);
    // the warm-up's lr rises, the cosine's falls
    const lrs = rows.slice(1).map((l) => Number(l.split(',')[3]));
    expect(lrs[0]).toBeGreaterThan(lrs[2]!);
    const eager = join(root, 'eager');
    const e = run(eager, '--no-capture');
    expect(e.status, e.stderr).toBe(0);
    const cols = (f: string) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(',').slice(0, 4).join(','));
    expect(cols(join(eager, 'metrics.csv'))).toEqual(cols(join(out, 'metrics.csv')));
    expect(readFileSync(join(eager, 'samples.txt'), 'utf8')).toBe(readFileSync(join(out, 'samples.txt'), 'utf8'));
  }, 300_000);

  test('--help lists the flags; bad input ends with one line and exit code 1', () => {
    const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--no-capture');
    const bad = spawnSync(process.execPath, [MAIN, '--embd', '10', '--heads', '4'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/error: args: --embd must be a positive multiple of --heads \(4\), got '10'/);
    const missing = spawnSync(process.execPath, [MAIN, '--data', join(root, 'missing.txt')], { encoding: 'utf8', timeout: 240_000 });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/error: data: .*missing.txt cannot be read/);
    const flag = spawnSync(process.execPath, [MAIN, '--bogus'], { encoding: 'utf8' });
    expect(flag.status).toBe(1);
    expect(flag.stderr).toMatch(/error: args: Unknown option '--bogus'/);
  });
});
