// The GAN training step, written once: the models and optimisers of a preset, and one D step on
// real + fake followed by one G step with D frozen. The CLI (train.ts), the benchmark and the
// browser page all train through it; it touches no files, so it runs wherever the library does.
import * as wg from '../../src/index.js';
import { type GanModule, PRESETS, type Preset, type PresetName } from './presets.js';

export interface GanSetup {
  preset: PresetName;
  /** channel multiplier of the convolutional presets (1: full size) */
  width: number;
  batch: number;
  lrG: number;
  lrD: number;
  beta1: number;
  beta2: number;
  /** noise size */
  z: number;
  /** seeds the weights (through wg.manualSeed) */
  seed: number;
}

/** What a step leaves for metrics: tensors of the caller's scope, freed when it ends unless kept. */
export interface StepResult {
  lossD: wg.Tensor;
  lossG: wg.Tensor;
  /** D's probabilities on the real and the fake batch, [B, 1] */
  pReal: wg.Tensor;
  pFake: wg.Tensor;
  /** global gradient norms of G and D, when asked for */
  gNorm: wg.Tensor | null;
  dNorm: wg.Tensor | null;
}

export interface StepOptions {
  /** wg.manualSeed before the step draws its noise and dropout masks (a resumed run repeats them) */
  seed?: number;
  /** compute the gradient norms (a reduction over every parameter: only when they are logged) */
  norms?: boolean;
}

/** A preset's own settings (what the CLI trains unless flags say otherwise), at a width, batch and seed. */
export function presetSetup(preset: PresetName, opts: { width?: number; batch?: number; seed?: number } = {}): GanSetup {
  const p = PRESETS[preset];
  return { preset, width: opts.width ?? 1, batch: opts.batch ?? p.batch, lrG: p.lrG, lrD: p.lrD, beta1: p.beta1, beta2: p.beta2, z: p.z, seed: opts.seed ?? 1 };
}

/** A loss term times its weight (no kernel for a weight of 1). */
const weighted = (t: wg.Tensor, w: number): wg.Tensor => (w === 1 ? t : wg.mul(t, w));

/** One-hot rows of 10 for digit labels (written into `out` when given, which is zeroed first). */
export function oneHot(labels: Float32Array, out: Float32Array = new Float32Array(labels.length * 10)): Float32Array {
  out.fill(0);
  labels.forEach((l, i) => (out[i * 10 + l] = 1));
  return out;
}

export class GanTrainer {
  readonly preset: Preset;
  readonly G: GanModule;
  readonly D: GanModule;
  readonly optG: wg.optim.Adam;
  readonly optD: wg.optim.Adam;
  /** BCE targets of a batch (all ones, all zeros), made once */
  private readonly targets: { ones: wg.Tensor; zeros: wg.Tensor };
  /** the step captured for replay (replay()), made at its first call */
  private captured: wg.CapturedStep<wg.Tensor[], StepResult> | null = null;
  /** the host buffer a replay writes its one-hot labels into, made once */
  private readonly hotRows: Float32Array;
  /**
   * With `metrics`, the sums over steps of D's loss, G's loss, mean D(x) and mean D(G(z)), added
   * up on the GPU inside each step (so a replayed step keeps them too), read with takeMetrics().
   */
  private readonly sums: wg.Tensor | null;

  constructor(
    readonly setup: GanSetup,
    opts: { metrics?: boolean } = {},
  ) {
    const preset = PRESETS[setup.preset];
    if (!preset) throw new wg.WgslgradError('GanTrainer', `preset ${setup.preset} is not one of ${Object.keys(PRESETS).join(', ')}`);
    this.preset = preset;
    wg.manualSeed(setup.seed);
    const { G, D } = preset.build(setup.width);
    this.G = G;
    this.D = D;
    if (preset.xavier) {
      for (const m of [G, D])
        for (const [name, p] of m.namedParameters()) if (name.endsWith('weight') && p.ndim === 2 && !name.includes('embed')) wg.nn.init.xavierUniform(p);
      for (const m of [G, D]) for (const [name, p] of m.namedParameters()) if (name.endsWith('bias')) wg.nn.init.zeros(p);
    }
    this.optG = new wg.optim.Adam(G.parameters(), { lr: setup.lrG, betas: [setup.beta1, setup.beta2] });
    this.optD = new wg.optim.Adam(D.parameters(), { lr: setup.lrD, betas: [setup.beta1, setup.beta2] });
    this.targets = { ones: wg.keep(wg.ones([setup.batch, 1])), zeros: wg.keep(wg.zeros([setup.batch, 1])) };
    this.sums = opts.metrics ? wg.keep(wg.zeros([4])) : null;
    this.hotRows = new Float32Array(setup.batch * 10);
  }

  /** The metric sums since the last call (one readback) and zeroes them; null without `metrics`. */
  async takeMetrics(): Promise<Float32Array | null> {
    if (!this.sums) return null;
    const a = await this.sums.toArray();
    wg.scope(() => this.sums!.copy_(wg.zeros([4])));
    return a;
  }

  /**
   * One training step on a batch of images ([B·784] in [-1, 1]) and, for conditional presets, their
   * labels: D learns real → 1, fake → 0, then G learns to make D call its fakes real. Records work
   * only; call it inside wg.scope, whose end submits the step.
   */
  step(images: Float32Array, labels: Float32Array | null, opts: StepOptions = {}): StepResult {
    this.checkBatch('GanTrainer.step', images, labels);
    const B = this.setup.batch;
    if (opts.seed !== undefined) wg.manualSeed(opts.seed);
    const real = wg.tensor(images, [B, 784]);
    const cond = this.preset.conditional && labels;
    return this.stepOn(real, cond ? wg.tensor(labels, [B]) : undefined, cond ? wg.tensor(oneHot(labels), [B, 10]) : undefined, opts.norms ?? false);
  }

  /**
   * The same step, captured (wg.capture) at its first call and replayed after: the batch is written
   * into the captured input tensors, and no op or autograd work runs on the CPU. A replay after
   * the same seed equals step() to the bit (test/capture.test.ts). The gradient norms, when asked
   * for, are computed after the replay from the gradients it left.
   */
  replay(images: Float32Array, labels: Float32Array | null, opts: StepOptions = {}): StepResult {
    this.checkBatch('GanTrainer.replay', images, labels);
    const B = this.setup.batch;
    const cond = this.preset.conditional && labels;
    if (opts.seed !== undefined) wg.manualSeed(opts.seed);
    let r: StepResult;
    if (!this.captured) {
      this.captured = wg.capture((real: wg.Tensor, idx?: wg.Tensor, onehot?: wg.Tensor) => this.stepOn(real, idx, onehot, false));
      const inputs = [wg.tensor(images, [B, 784]), ...(cond ? [wg.tensor(labels, [B]), wg.tensor(oneHot(labels), [B, 10])] : [])];
      r = this.captured(...inputs);
      for (const t of inputs) t.dispose(); // the capture holds their buffers
    } else {
      r = this.captured(...(cond ? [images, labels, oneHot(labels, this.hotRows)] : [images]));
    }
    if (!opts.norms) return r;
    return { ...r, gNorm: wg.nn.utils.gradNorm(this.G.parameters()), dNorm: wg.nn.utils.gradNorm(this.D.parameters()) };
  }

  /** GPU dispatches of one replayed step (0 before the first replay() call). */
  get replayDispatches(): number {
    return this.captured?.dispatches ?? 0;
  }

  /** Frees the captured step (replay() captures again at its next call). */
  dropCapture(): void {
    this.captured?.dispose();
    this.captured = null;
  }

  private checkBatch(op: string, images: Float32Array, labels: Float32Array | null): void {
    const { preset, setup } = this;
    const B = setup.batch;
    if (images.length !== B * 784) throw new wg.WgslgradError(op, `images hold ${images.length} values, expected ${B}·784 for batch ${B}`);
    if (preset.conditional && (!labels || labels.length !== B)) {
      throw new wg.WgslgradError(op, `${preset.name} is conditional: expected ${B} labels, got ${labels ? labels.length : 'none'}`);
    }
  }

  /** The step on input tensors: what step() runs eagerly and replay() captures. */
  private stepOn(real: wg.Tensor, idx: wg.Tensor | undefined, onehot: wg.Tensor | undefined, norms: boolean): StepResult {
    const { G, D, preset, setup } = this;
    const B = setup.batch;
    const lossFn = preset.logits ? wg.bceWithLogits : wg.bce;
    const z = wg.randn([B, setup.z]);
    const { ones, zeros } = this.targets;
    const fake = G.forward(z, onehot);
    // D step: real → 1, fake → 0
    this.optD.zeroGrad();
    // an AC-GAN's D also names the digit of each real image (its class loss: real images only)
    const w = preset.auxClasses;
    const aux = w ? D.classify!(real) : null;
    const dReal = aux ? aux.out : D.forward(real, onehot, idx);
    const dFake = D.forward(fake.detach(), onehot, idx);
    let lossD = wg.add(lossFn(dReal, ones), lossFn(dFake, zeros));
    if (aux && w) lossD = wg.add(lossD, weighted(wg.crossEntropy(aux.classes, idx!), w.d));
    lossD.backward();
    const dNorm = norms ? wg.nn.utils.gradNorm(D.parameters()) : null;
    this.optD.step();
    // G step: make D call the fakes real (and, for an AC-GAN, name them as the digits asked for).
    // D's weights are frozen for it: their gradients would be computed only to be zeroed before
    // the next D step.
    this.optG.zeroGrad();
    const dParams = D.parameters();
    for (const p of dParams) p.requiresGrad = false;
    const auxG = w ? D.classify!(fake) : null;
    const lossG = auxG && w ? wg.add(lossFn(auxG.out, ones), weighted(wg.crossEntropy(auxG.classes, idx!), w.g)) : lossFn(D.forward(fake, onehot, idx), ones);
    for (const p of dParams) p.requiresGrad = true;
    lossG.backward();
    const gNorm = norms ? wg.nn.utils.gradNorm(G.parameters()) : null;
    this.optG.step();
    const [pReal, pFake] = wg.noGrad(() => (preset.logits ? [wg.sigmoid(dReal), wg.sigmoid(dFake)] : [dReal, dFake]));
    const sums = this.sums;
    if (sums) {
      wg.noGrad(() => {
        const m = wg.concat([lossD.reshape([1]), lossG.reshape([1]), pReal!.mean().reshape([1]), pFake!.mean().reshape([1])], 0);
        sums.copy_(sums.add(m));
      });
    }
    return { lossD, lossG, pReal: pReal!, pFake: pFake!, gNorm, dNorm };
  }
}
