// The models of the five MNIST GAN reports (examples/mnist-gan/REPORTS.md) as presets.
import * as wg from '../../src/index.js';

const { nn } = wg;

export type PresetName = 'dcgan' | 'mlp' | 'mlp64' | 'vanilla' | 'cdcgan' | 'cgan' | 'acgan';

export interface Preset {
  name: PresetName;
  report: string;
  z: number;
  batch: number;
  epochs: number;
  lrG: number;
  lrD: number;
  beta1: number;
  beta2: number;
  /** D ends in a logit (BCEWithLogits) rather than a sigmoid (BCE) */
  logits: boolean;
  conditional: boolean;
  /**
   * AC-GAN (Odena et al., 2017): D sees the image alone and also names its digit (D.classify); D's
   * loss adds `d` × the cross-entropy of its guess on the real images against their labels, G's
   * adds `g` × that on its fakes against the labels asked for. null: no digit head.
   */
  auxClasses: { d: number; g: number } | null;
  /** epochs at which to save sample grids (R1); otherwise every sampleEvery steps */
  sampleEpochs: number[];
  sampleEvery: number;
  /** R5's step schedule: both rates × gamma every `every` epochs (0 = none) */
  schedule: { every: number; gamma: number };
  xavier: boolean;
  /** whether `width` scales the model (the convolutional presets) */
  widthScales: boolean;
  /**
   * The two models. `width` multiplies the channel counts of the convolutional models (the reports
   * give the layer structure, not the channels; 1 = 64 and 128 channels).
   */
  build(width?: number): { G: GanModule; D: GanModule };
}

/** G(z, onehot) → images [B,784]; D(images [B,784], labels) → [B,1] probabilities or logits. */
export abstract class GanModule extends wg.nn.Module {
  abstract override forward(x: wg.Tensor, labelsOneHot?: wg.Tensor, labelIdx?: wg.Tensor): wg.Tensor;
  /** An AC-GAN discriminator's two heads on images [B,784]: real/fake as forward gives it, and digit logits [B,10]. */
  classify?(x: wg.Tensor): { out: wg.Tensor; classes: wg.Tensor };
}

class Seq extends GanModule {
  constructor(
    readonly net: wg.nn.Sequential,
    private readonly inShape?: number[],
    private readonly condition: 'none' | 'concat' = 'none',
  ) {
    super();
  }
  forward(x: wg.Tensor, onehot?: wg.Tensor): wg.Tensor {
    let h = this.condition === 'concat' && onehot ? wg.concat([x, onehot], 1) : x;
    if (this.inShape) h = h.reshape([h.shape[0]!, ...this.inShape]);
    const y = this.net.forward(h);
    return y.reshape([y.shape[0]!, -1]);
  }
}

/** Channels of a convolutional preset at `width` (1: the full model). */
export const channels = (n: number, width: number): number => Math.max(1, Math.round(n * width));

/**
 * The DCGAN discriminator of R1 and R4: Conv(inCh → 64) + LeakyReLU, Conv(64 → 128) [+ BatchNorm,
 * R4] + LeakyReLU, Linear → Sigmoid, channels scaled by `width`.
 */
const dcganD = (inCh: number, width: number, batchNorm: boolean) => {
  const c1 = channels(64, width);
  const c2 = channels(128, width);
  return new nn.Sequential(
    new nn.Conv2d(inCh, c1, 4, { stride: 2, padding: 1 }),
    new nn.LeakyReLU(0.2),
    new nn.Conv2d(c1, c2, 4, { stride: 2, padding: 1 }),
    ...(batchNorm ? [new nn.BatchNorm2d(c2)] : []),
    new nn.LeakyReLU(0.2),
    new nn.Flatten(),
    new nn.Linear(c2 * 7 * 7, 1),
    new nn.Sigmoid(),
  );
};

/** R4's conditional DCGAN discriminator: the one-hot label as 10 constant 28×28 planes next to the image. */
class CondConvD extends GanModule {
  constructor(readonly net: wg.nn.Sequential) {
    super();
  }
  private planes: wg.Tensor | null = null;
  forward(x: wg.Tensor, onehot?: wg.Tensor): wg.Tensor {
    const B = x.shape[0]!;
    this.planes ??= wg.keep(wg.ones([1, 10, 28, 28]));
    const maps = wg.mul(onehot!.reshape([B, 10, 1, 1]), this.planes);
    return this.net.forward(wg.concat([x.reshape([B, 1, 28, 28]), maps], 1));
  }
}

/**
 * The AC-GAN discriminator on R4's: the image alone goes in (no label planes, or the digit head
 * could read the label off them), and a second head, Linear(features → 10), gives digit logits
 * beside the real/fake one. Parameters: `net.…` as R4's D (on 1 input channel), `cls.weight`, `cls.bias`.
 */
class AuxConvD extends GanModule {
  // the parts of `net` run separately (underscored: not registered again)
  private readonly _features: wg.nn.Sequential;
  private readonly _head: wg.nn.Sequential;
  readonly cls: wg.nn.Linear;
  constructor(readonly net: wg.nn.Sequential) {
    super();
    const layers = net.layers;
    const head = layers[layers.length - 2];
    if (!(head instanceof nn.Linear)) throw new wg.WgslgradError('AuxConvD', 'expected a discriminator ending in Linear → Sigmoid');
    this._features = new nn.Sequential(...layers.slice(0, -2));
    this._head = new nn.Sequential(...layers.slice(-2));
    // registered in PyTorch's order (net, then cls): optimiser state files are numbered in it
    this.module('net', net);
    this.cls = this.module('cls', new nn.Linear(head.inFeatures, 10));
  }
  forward(x: wg.Tensor): wg.Tensor {
    return this._head.forward(this.features(x));
  }
  override classify(x: wg.Tensor): { out: wg.Tensor; classes: wg.Tensor } {
    const h = this.features(x);
    return { out: this._head.forward(h), classes: this.cls.forward(h) };
  }
  private features(x: wg.Tensor): wg.Tensor {
    return this._features.forward(x.reshape([x.shape[0]!, 1, 28, 28]));
  }
}

/** R5's discriminator: [flat image ‖ label embedding(10)] → 256 → 128 (LeakyReLU 0.2) → 1 → Sigmoid. */
class EmbedD extends GanModule {
  embed = new nn.Embedding(10, 10);
  net = new nn.Sequential(
    new nn.Linear(784 + 10, 256),
    new nn.LeakyReLU(0.2),
    new nn.Linear(256, 128),
    new nn.LeakyReLU(0.2),
    new nn.Linear(128, 1),
    new nn.Sigmoid(),
  );
  forward(x: wg.Tensor, _onehot?: wg.Tensor, idx?: wg.Tensor): wg.Tensor {
    return this.net.forward(wg.concat([x, this.embed.forward(idx!)], 1));
  }
}

const dcganG = (zIn: number, conditional: boolean, width: number) => {
  const c1 = channels(128, width);
  const c2 = channels(64, width);
  return new Seq(
    new nn.Sequential(
      new nn.Linear(zIn, c1 * 7 * 7),
      new nn.BatchNorm1d(c1 * 7 * 7),
      new nn.ReLU(),
      new nn.Unflatten([c1, 7, 7]),
      new nn.ConvTranspose2d(c1, c2, 4, { stride: 2, padding: 1 }),
      new nn.BatchNorm2d(c2),
      new nn.ReLU(),
      new nn.ConvTranspose2d(c2, 1, 4, { stride: 2, padding: 1 }),
      new nn.Tanh(),
    ),
    undefined,
    conditional ? 'concat' : 'none',
  );
};

const base = {
  beta2: 0.999,
  logits: false,
  conditional: false,
  auxClasses: null,
  sampleEpochs: [] as number[],
  sampleEvery: 500,
  schedule: { every: 0, gamma: 1 },
  xavier: false,
  widthScales: false,
};

/** R4's training settings (its vanilla GAN and conditional DCGAN) */
const r4 = { ...base, z: 100, batch: 128, epochs: 100, lrG: 2e-4, lrD: 2e-4, beta1: 0.5 };
/** and those of its conditional DCGAN, which `cdcgan` and `acgan` share */
const r4Conditional = {
  ...r4,
  conditional: true,
  sampleEpochs: [1, 5, 10, 25, 50, 100],
  widthScales: true,
};

export const PRESETS: Record<PresetName, Preset> = {
  dcgan: {
    ...base,
    name: 'dcgan',
    report: 'R1 (U. Maryland): DCGAN, BCE, Adam 2e-4 β=(0.5, 0.999)',
    z: 100,
    batch: 64,
    epochs: 200,
    lrG: 2e-4,
    lrD: 2e-4,
    beta1: 0.5,
    sampleEpochs: [1, 5, 50, 100, 150, 200],
    widthScales: true,
    build: (width = 1) => ({
      G: dcganG(100, false, width),
      D: new Seq(dcganD(1, width, false), [1, 28, 28]),
    }),
  },
  mlp: {
    ...base,
    name: 'mlp',
    report: 'R3 (M. Evans): MLP GAN, LeakyReLU 0.2, Dropout 0.3, BCE, Adam 2e-4',
    z: 100,
    batch: 100,
    epochs: 200,
    lrG: 2e-4,
    lrD: 2e-4,
    beta1: 0.9,
    build: () => ({
      G: new Seq(
        new nn.Sequential(
          new nn.Linear(100, 256),
          new nn.LeakyReLU(0.2),
          new nn.Linear(256, 512),
          new nn.LeakyReLU(0.2),
          new nn.Linear(512, 1024),
          new nn.LeakyReLU(0.2),
          new nn.Linear(1024, 784),
          new nn.Tanh(),
        ),
      ),
      D: new Seq(
        new nn.Sequential(
          new nn.Linear(784, 1024),
          new nn.LeakyReLU(0.2),
          new nn.Dropout(0.3),
          new nn.Linear(1024, 512),
          new nn.LeakyReLU(0.2),
          new nn.Dropout(0.3),
          new nn.Linear(512, 256),
          new nn.LeakyReLU(0.2),
          new nn.Dropout(0.3),
          new nn.Linear(256, 1),
          new nn.Sigmoid(),
        ),
      ),
    }),
  },
  mlp64: {
    ...base,
    name: 'mlp64',
    report: 'R2 (DeepLearning.AI): MLP GAN, z 64, BCEWithLogits, Adam 2e-4, batch 128',
    z: 64,
    batch: 128,
    epochs: 200,
    lrG: 2e-4,
    lrD: 2e-4,
    beta1: 0.9,
    logits: true,
    sampleEvery: 500,
    build: () => {
      const block = (i: number, o: number) => [new nn.Linear(i, o), new nn.BatchNorm1d(o), new nn.ReLU()];
      const dblock = (i: number, o: number) => [new nn.Linear(i, o), new nn.LeakyReLU(0.2)];
      return {
        G: new Seq(new nn.Sequential(...block(64, 128), ...block(128, 256), ...block(256, 512), ...block(512, 1024), new nn.Linear(1024, 784), new nn.Tanh())),
        D: new Seq(new nn.Sequential(...dblock(784, 512), ...dblock(512, 256), ...dblock(256, 128), new nn.Linear(128, 1))),
      };
    },
  },
  vanilla: {
    ...r4,
    name: 'vanilla',
    report: 'R4 (TensorFlow course): vanilla GAN 100 → 150 → 300 → 784, BCE, Adam 2e-4 β1 0.5',
    build: () => ({
      G: new Seq(new nn.Sequential(new nn.Linear(100, 150), new nn.ReLU(), new nn.Linear(150, 300), new nn.ReLU(), new nn.Linear(300, 784), new nn.Tanh())),
      D: new Seq(new nn.Sequential(new nn.Linear(784, 300), new nn.ReLU(), new nn.Linear(300, 150), new nn.ReLU(), new nn.Linear(150, 1), new nn.Sigmoid())),
    }),
  },
  cdcgan: {
    ...r4Conditional,
    name: 'cdcgan',
    report: "R4 (TensorFlow course): conditional DCGAN, one-hot label joined to z and to D's input, Adam 2e-4 β1 0.5",
    build: (width = 1) => ({ G: dcganG(110, true, width), D: new CondConvD(dcganD(11, width, true)) }),
  },
  acgan: {
    ...r4Conditional,
    name: 'acgan',
    report: "AC-GAN (Odena et al. 2017) on R4's conditional DCGAN: D sees the image alone and also names its digit; class losses (G's ×5)",
    // G's class term weighs 5: at the default run's budget 96.8 % of its digits are classified as
    // asked for, against 94.9 % with 3 and 94.0 % with 1 (bench/NOTES.md, "AC-GAN for the default run")
    auxClasses: { d: 1, g: 5 },
    build: (width = 1) => ({ G: dcganG(110, true, width), D: new AuxConvD(dcganD(1, width, true)) }),
  },
  cgan: {
    ...base,
    name: 'cgan',
    report: 'R5 (Politecnico di Milano): conditional MLP GAN, label embedding in D, Xavier init, separate G/D rates, step schedule',
    z: 128,
    batch: 64,
    epochs: 1500,
    lrG: 2e-4,
    lrD: 1e-4,
    beta1: 0.5,
    conditional: true,
    xavier: true,
    schedule: { every: 500, gamma: 0.5 },
    sampleEpochs: [1, 10, 100, 500, 1000, 1500],
    build: () => ({
      G: new Seq(
        new nn.Sequential(new nn.Linear(128 + 10, 128), new nn.ReLU(), new nn.Linear(128, 256), new nn.ReLU(), new nn.Linear(256, 784), new nn.Tanh()),
        undefined,
        'concat',
      ),
      D: new EmbedD(),
    }),
  },
};

/**
 * What a run with no --preset trains: it must end within 5 minutes on 2 CPU cores with the
 * software adapter and give recognisable digits of the asked-for label. The AC-GAN on R4's
 * conditional DCGAN at half its channels runs at about 400 images/s there; at batch 32 with
 * Adam's rate doubled to 4e-4 for G and D (the report: 2e-4 at batch 128), 2,200 steps (70,400
 * images, 1.2 epochs) give ~93 % of samples classified with confidence ≥ 0.9 and ~97 % as the
 * digit asked for (README, "The default run, measured"; bench/NOTES.md has the alternatives
 * tried). Every field can be overridden by its flag.
 */
export const DEFAULT_RUN = { preset: 'acgan' as PresetName, width: 0.5, batch: 32, steps: 2200, lr: 4e-4 };
