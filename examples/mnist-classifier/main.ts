// npm run example:mnist-classifier -- [--epochs 5] [--batch 128] [--lr 1e-3] [--shift 2] [--out FILE] [--init FILE]
// Trains the scoring CNN on MNIST with wgslgrad and writes its weights (the file the GAN evaluation reads).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as wg from '../../src/index.js';
import { defaultDataDir, gatherBatch, loadMnist, Rng, type Split } from '../mnist-gan/data.js';
import { Classifier, WEIGHTS } from './model.js';

/** Test accuracy (and mean loss) in eval mode, in batches. */
export async function accuracy(model: Classifier, split: Split, batch = 500): Promise<number> {
  model.eval();
  let correct = 0;
  for (let i = 0; i < split.count; i += batch) {
    const n = Math.min(batch, split.count - i);
    const logits = await wg.scope(() => wg.noGrad(() => model.forward(wg.tensor(split.images.subarray(i * 784, (i + n) * 784), [n, 784])))).toArray();
    for (let k = 0; k < n; k++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[k * 10 + c]! > logits[k * 10 + best]!) best = c;
      if (best === split.labels[i + k]) correct++;
    }
  }
  model.train();
  return correct / split.count;
}

/** One image's copy, reused by every call of shiftBatch (no allocation per batch). */
const shiftScratch = new Float32Array(784);

/**
 * Moves each image of a batch by a random whole-pixel offset in [−s, s] on both axes (in place),
 * filling with the background value −1: the usual MNIST augmentation against over-fitting.
 */
export function shiftBatch(x: Float32Array, batch: number, s: number, rng: Rng): void {
  if (s <= 0) return;
  const src = shiftScratch;
  for (let b = 0; b < batch; b++) {
    const img = x.subarray(b * 784, (b + 1) * 784);
    const dx = Math.floor(rng.next() * (2 * s + 1)) - s;
    const dy = Math.floor(rng.next() * (2 * s + 1)) - s;
    if (dx === 0 && dy === 0) continue;
    src.set(img);
    for (let r = 0; r < 28; r++) {
      const sr = r - dy;
      for (let c = 0; c < 28; c++) {
        const sc = c - dx;
        img[r * 28 + c] = sr >= 0 && sr < 28 && sc >= 0 && sc < 28 ? src[sr * 28 + sc]! : -1;
      }
    }
  }
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      epochs: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      out: { type: 'string' },
      data: { type: 'string' },
      seed: { type: 'string' },
      init: { type: 'string' },
      shift: { type: 'string' },
    },
  });
  const epochs = Number(a.epochs ?? 5);
  const B = Number(a.batch ?? 128);
  const lr0 = Number(a.lr ?? 1e-3);
  const seed = Number(a.seed ?? 1);
  const shift = Number(a.shift ?? 2);
  if (!Number.isInteger(shift) || shift < 0 || shift > 8)
    throw new wg.WgslgradError('mnist-classifier', `--shift ${a.shift} is not a whole number of pixels in 0..8`);
  const out = a.out ?? WEIGHTS;
  const info = await wg.init();
  console.error(`mnist-classifier on ${info.adapter.description} [${info.backend}]`);
  const data = await loadMnist(a.data ?? defaultDataDir());
  wg.manualSeed(seed);
  const model = new Classifier();
  if (a.init) {
    // continue from saved weights (the optimiser starts afresh)
    model.loadStateDict(await wg.io.loadSafetensors(a.init));
  }
  let best = a.init ? await accuracy(model, data.test) : 0;
  if (a.init) console.error(`starting from ${a.init}: test accuracy ${(best * 100).toFixed(2)} %`);
  const opt = new wg.optim.Adam(model.parameters(), { lr: lr0 });
  const rng = new Rng(seed);
  const x = new Float32Array(B * 784);
  const y = new Float32Array(B);
  const steps = Math.floor(data.train.count / B);
  for (let e = 0; e < epochs; e++) {
    opt.lr = lr0 * 0.5 ** e; // halve per epoch
    const order = rng.permutation(data.train.count);
    const t0 = performance.now();
    let acc: wg.Tensor | null = null;
    for (let s = 0; s < steps; s++) {
      gatherBatch(data.train, order, s * B, B, x, y);
      shiftBatch(x, B, shift, rng);
      wg.scope(() => {
        const loss = wg.crossEntropy(model.forward(wg.tensor(x, [B, 784])), wg.tensor(y, [B]));
        opt.zeroGrad();
        loss.backward();
        opt.step();
        const next = wg.keep(wg.noGrad(() => (acc ? acc.add(loss) : loss.clone())));
        acc?.dispose();
        acc = next;
      });
      if ((s + 1) % 100 === 0 || s === steps - 1) {
        const mean = (await acc!.item()) / ((s % 100) + 1); // waits for the GPU, so the rate below is real
        const done = (performance.now() - t0) / 1000;
        acc!.dispose();
        acc = null;
        console.error(`epoch ${e + 1}/${epochs} step ${s + 1}/${steps} loss ${mean.toFixed(4)} ${(((s + 1) * B) / done).toFixed(0)} img/s`);
      }
    }
    const testAcc = await accuracy(model, data.test);
    console.error(`epoch ${e + 1}: test accuracy ${(testAcc * 100).toFixed(2)} %`);
    if (testAcc >= best) {
      best = testAcc;
      model.eval();
      await wg.io.saveSafetensors(out, model.stateDict(), {
        test_accuracy: testAcc.toFixed(4),
        epochs: String(e + 1),
        trained_with: `wgslgrad on ${info.adapter.description}`,
      });
      model.train();
    }
  }
  console.log(`best test accuracy ${(best * 100).toFixed(2)} %, weights in ${out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    if (e instanceof wg.WgslgradError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  });
}
