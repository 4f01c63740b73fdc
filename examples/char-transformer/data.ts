// The char-transformer's data: words (one a line), a character vocabulary with '.' as the start and
// end token, a seeded shuffle into training and validation words, and makemore's sequences: x =
// '.' + word, y = word + '.', padded to the block size (y's padding −1, ignored by the loss). The
// random stream is mulberry32, which examples/pytorch/char_transformer.py repeats to the bit.
import { readFile } from 'node:fs/promises';
import * as wg from '../../src/index.js';

export const DEFAULT_WORDS = '/usr/share/dict/words';

/** mulberry32: a 32-bit seeded stream of numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Words {
  /** the characters, index + 1 is each one's token ('.', token 0, is the start and end) */
  chars: string;
  train: string[];
  val: string[];
  /** the block size: the longest word kept plus one */
  blockSize: number;
}

/**
 * The words of a file: one a line, trimmed, de-duplicated in file order. The default word list
 * (wamerican) keeps its lowercase a–z words (no proper nouns, no possessives); another file keeps
 * every non-empty line. Words longer than maxLen are left out; the rest are shuffled with `seed`
 * and the last valFraction (at most maxVal) become the validation words.
 */
export async function loadWords(
  path: string,
  opts: { seed: number; maxLen: number; valFraction?: number; maxVal?: number; lowerAZ?: boolean },
): Promise<Words> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new wg.WgslgradError(
      'data',
      `${path} cannot be read${path === DEFAULT_WORDS ? ': install the word list with bash scripts/install-words.sh (Debian wamerican), or give a text file with --data' : ''}`,
    );
  }
  const seen = new Set<string>();
  const words: string[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim();
    if (!w || w.includes('.') || seen.has(w) || w.length > opts.maxLen) continue;
    if (opts.lowerAZ && !/^[a-z]+$/.test(w)) continue;
    seen.add(w);
    words.push(w);
  }
  if (words.length < 10)
    throw new wg.WgslgradError('data', `${path} has ${words.length} usable lines (at most ${opts.maxLen} characters, no '.'): too few to train on`);
  const r = mulberry32(opts.seed);
  for (let i = words.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [words[i], words[j]] = [words[j]!, words[i]!];
  }
  const nVal = Math.min(opts.maxVal ?? 2000, Math.max(1, Math.floor(words.length * (opts.valFraction ?? 0.1))));
  const chars = [...new Set(words.join(''))].sort().join('');
  const longest = words.reduce((m, w) => Math.max(m, w.length), 0);
  return { chars, train: words.slice(0, words.length - nVal), val: words.slice(words.length - nVal), blockSize: longest + 1 };
}

/** x and y rows of `words` into the given buffers ([n·T] each): tokens, y's padding −1. */
export function encode(words: readonly string[], chars: string, T: number, x: Float32Array, y: Float32Array): void {
  x.fill(0);
  y.fill(-1);
  words.forEach((w, n) => {
    for (let t = 0; t < w.length; t++) {
      const tok = chars.indexOf(w[t]!) + 1;
      x[n * T + t + 1] = tok;
      y[n * T + t] = tok;
    }
    y[n * T + w.length] = 0;
  });
}

/** Training batches: `batch` words drawn with replacement from a seeded stream (as makemore's torch.randint). */
export class Batches {
  private readonly r: () => number;
  constructor(
    readonly words: readonly string[],
    seed: number,
  ) {
    this.r = mulberry32(seed ^ 0x9e3779b9);
  }
  next(batch: number): string[] {
    return Array.from({ length: batch }, () => this.words[Math.floor(this.r() * this.words.length)]!);
  }
}

/** The entropy in nats of the characters a model must predict (each word's letters and its end), by frequency alone. */
export function unigramEntropy(words: readonly string[]): number {
  const counts = new Map<string, number>();
  let n = 0;
  for (const w of words)
    for (const c of `${w}.`) {
      counts.set(c, (counts.get(c) ?? 0) + 1);
      n++;
    }
  let h = 0;
  for (const k of counts.values()) h -= (k / n) * Math.log(k / n);
  return h;
}
