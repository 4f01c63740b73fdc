// Quality of a generator measured with the library's own MNIST classifier: classifier score
// (exp E[KL(p(y|x) ‖ p(y))], as TF-GAN's mnist_score), Fréchet distance between the classifier's
// penultimate features on generated and real test images, per-digit shares, and the share
// classified with confidence ≥ 0.9. Real test images scored the same way are the ceiling.
import { existsSync } from 'node:fs';
import * as wg from '../../src/index.js';
import { Classifier, WEIGHTS } from '../mnist-classifier/model.js';
import type { Split } from './data.js';
import type { GanModule } from './presets.js';
import { oneHot } from './step.js';

export interface Scores {
  count: number;
  classifier_score: number;
  confident_share: number;
  digit_shares: number[];
  /** mean max probability */
  mean_confidence: number;
}

export interface EvalResult {
  /** label_accuracy (conditional models): the share classified as the digit it was asked for */
  generated: Scores & { frechet_distance: number; label_accuracy?: number };
  real_test: Scores & { accuracy: number };
  classifier: { weights: string; test_accuracy: string };
}

interface Batch {
  probs: Float64Array; // n × 10
  feats: Float64Array; // n × 128
}

async function classify(model: Classifier, images: (from: number, n: number) => wg.Tensor, count: number, batch = 500): Promise<Batch> {
  const probs = new Float64Array(count * 10);
  const feats = new Float64Array(count * 128);
  model.eval();
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const [f, l] = await Promise.all(
      wg
        .scope(() =>
          wg.noGrad(() => {
            const x = images(i, n);
            const feat = model.features(x);
            return [feat, model.head.forward(feat)];
          }),
        )
        .map(async (t) => {
          const a = await t.toArray();
          t.dispose();
          return a;
        }),
    );
    feats.set(f!, i * 128);
    for (let k = 0; k < n; k++) {
      const row = l!.subarray(k * 10, k * 10 + 10);
      const m = Math.max(...row);
      let s = 0;
      for (let c = 0; c < 10; c++) s += Math.exp(row[c]! - m);
      for (let c = 0; c < 10; c++) probs[(i + k) * 10 + c] = Math.exp(row[c]! - m) / s;
    }
  }
  return { probs, feats };
}

function scores(probs: Float64Array, count: number): Scores {
  const marginal = new Float64Array(10);
  const shares = new Array<number>(10).fill(0);
  let confident = 0;
  let conf = 0;
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 0; c < 10; c++) {
      marginal[c]! += probs[i * 10 + c]! / count;
      if (probs[i * 10 + c]! > probs[i * 10 + best]!) best = c;
    }
    shares[best]!++;
    conf += probs[i * 10 + best]!;
    if (probs[i * 10 + best]! >= 0.9) confident++;
  }
  let kl = 0;
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 10; c++) {
      const p = probs[i * 10 + c]!;
      if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[c]!));
    }
  }
  return {
    count,
    classifier_score: Math.exp(kl / count),
    confident_share: confident / count,
    digit_shares: shares.map((s) => s / count),
    mean_confidence: conf / count,
  };
}

/** Mean and covariance (d × d) of n feature rows. */
function moments(x: Float64Array, n: number, d: number): { mu: Float64Array; cov: Float64Array } {
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j]! += x[i * d + j]! / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - mu[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b]! /= n - 1;
      cov[b * d + a] = cov[a * d + b]!;
    }
  }
  return { mu, cov };
}

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: values and column vectors. */
export function symEig(aIn: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = aIn.slice();
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: d }, (_, i) => a[i * d + i]!), vectors: v };
}

/** ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1^½ Σ2 Σ1^½)^½), the Fréchet distance of two Gaussians. */
export function frechetDistance(m1: { mu: Float64Array; cov: Float64Array }, m2: { mu: Float64Array; cov: Float64Array }, d: number): number {
  let diff = 0;
  for (let i = 0; i < d; i++) diff += (m1.mu[i]! - m2.mu[i]!) ** 2;
  const e1 = symEig(m1.cov, d);
  // Σ1^½ = V diag(√λ) Vᵀ
  const s1 = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += e1.vectors[i * d + k]! * Math.sqrt(Math.max(0, e1.values[k]!)) * e1.vectors[j * d + k]!;
      s1[i * d + j] = s;
    }
  const mul = (x: Float64Array, y: Float64Array) => {
    const o = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let k = 0; k < d; k++) {
        const xik = x[i * d + k]!;
        if (xik === 0) continue;
        for (let j = 0; j < d; j++) o[i * d + j]! += xik * y[k * d + j]!;
      }
    return o;
  };
  const m = mul(mul(s1, m2.cov), s1);
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) m[i * d + j] = m[j * d + i] = (m[i * d + j]! + m[j * d + i]!) / 2;
  const em = symEig(m, d);
  let trSqrt = 0;
  for (const l of em.values) trSqrt += Math.sqrt(Math.max(0, l));
  let tr = 0;
  for (let i = 0; i < d; i++) tr += m1.cov[i * d + i]! + m2.cov[i * d + i]!;
  return diff + tr - 2 * trSqrt;
}

/** The share of rows whose most probable class is `label(i)`. */
function agreement(probs: Float64Array, count: number, label: (i: number) => number): number {
  let hits = 0;
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (probs[i * 10 + c]! > probs[i * 10 + best]!) best = c;
    if (best === label(i)) hits++;
  }
  return hits / count;
}

/** Scores `count` images of G (and the real test set); null with a message when no classifier weights exist. */
export async function evaluateGenerator(G: GanModule, z: number, conditional: boolean, test: Split, count: number, seed: number): Promise<EvalResult | null> {
  const path = WEIGHTS;
  if (!existsSync(path)) {
    process.stderr.write(`no classifier weights at ${path}: run npm run example:mnist-classifier first; skipping evaluation\n`);
    return null;
  }
  const model = new Classifier();
  const { tensors, metadata } = await wg.io.readSafetensors(path);
  model.loadStateDict(tensors);
  for (const t of Object.values(tensors)) t.dispose();
  G.eval();
  const gen = await classify(
    model,
    (from, n) => {
      const noise = wg.randn([n, z], { seed: seed * 7919 + 13 + from });
      if (!conditional) return G.forward(noise);
      const idx = Float32Array.from({ length: n }, (_, k) => (from + k) % 10);
      return G.forward(noise, wg.tensor(oneHot(idx), [n, 10]), wg.tensor(idx, [n]));
    },
    count,
  );
  G.train();
  const real = await classify(model, (from, n) => wg.tensor(test.images.subarray(from * 784, (from + n) * 784), [n, 784]), test.count);
  const fd = frechetDistance(moments(gen.feats, count, 128), moments(real.feats, test.count, 128), 128);
  return {
    // generated image i was asked for digit i mod 10
    generated: { ...scores(gen.probs, count), frechet_distance: fd, ...(conditional ? { label_accuracy: agreement(gen.probs, count, (i) => i % 10) } : {}) },
    real_test: { ...scores(real.probs, test.count), accuracy: agreement(real.probs, test.count, (i) => test.labels[i]!) },
    classifier: { weights: path, test_accuracy: metadata.test_accuracy ?? '?' },
  };
}

export function formatEval(r: EvalResult): string {
  const pct = (v: number, digits = 1) => `${(v * 100).toFixed(digits)} %`;
  const g = r.generated;
  const t = r.real_test;
  return [
    `quality (classifier test accuracy ${pct(t.accuracy, 2)}; real test images as the ceiling):`,
    `                    generated   real test`,
    `classifier score    ${g.classifier_score.toFixed(3).padStart(9)}   ${t.classifier_score.toFixed(3).padStart(9)}`,
    `confident (≥ 0.9)   ${pct(g.confident_share).padStart(9)}   ${pct(t.confident_share).padStart(9)}`,
    `Fréchet distance    ${g.frechet_distance.toFixed(3).padStart(9)}   ${'0'.padStart(9)}`,
    ...(g.label_accuracy !== undefined
      ? [`label accuracy      ${pct(g.label_accuracy).padStart(9)}   ${pct(t.accuracy).padStart(9)}   (classified as the digit asked for)`]
      : []),
    `digit shares        ${g.digit_shares.map((s) => (s * 100).toFixed(0)).join(' ')} (%) generated`,
    `                    ${t.digit_shares.map((s) => (s * 100).toFixed(0)).join(' ')} (%) real`,
  ].join('\n');
}
