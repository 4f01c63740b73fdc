// Layers with PyTorch's defaults (initialisation, weight layouts, names).
import { type Pair, pair } from '../args.js';
import { fmtShape, WgslgradError } from '../errors.js';
import { storeAsInt64 } from '../io/safetensors.js';
import { type FusedActivation, gelu, leakyRelu, relu, sigmoid, silu, tanh } from '../ops/activation.js';
import { batchNorm } from '../ops/batchnorm.js';
import { conv2d, convTranspose2d } from '../ops/conv.js';
import { ones, rand, randn, zeros } from '../ops/creation.js';
import { dropout } from '../ops/dropout.js';
import { embedding } from '../ops/embedding.js';
import { layerNorm } from '../ops/layernorm.js';
import { linear } from '../ops/matmul.js';
import { type AvgPoolOptions, avgPool2d, maxPool2d, type PoolOptions } from '../ops/pool.js';
import { reshape } from '../ops/shape.js';
import { softmax } from '../ops/softmax.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** U(−1/√fan_in, 1/√fan_in): PyTorch's default for weights (kaiming_uniform, a=√5) and biases. */
const defaultInit = (shape: number[], fanIn: number): Tensor => {
  const b = 1 / Math.sqrt(Math.max(1, fanIn));
  return rand(shape, {}, -b, b);
};

function positiveInt(op: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new WgslgradError(op, `${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * torch.nn.Linear: y = x·Wᵀ + b over the last dim, x [..., inFeatures] → [..., outFeatures]; weight
 * and bias U(−1/√inFeatures, 1/√inFeatures) as PyTorch's. A WgslgradError for a non-positive size.
 */
export class Linear extends Module {
  /** [outFeatures, inFeatures] (PyTorch's layout) */
  readonly weight: Tensor;
  /** [outFeatures], or null with `bias: false` */
  readonly bias: Tensor | null;
  constructor(
    /** the input's last dim */
    readonly inFeatures: number,
    /** the output's last dim */
    readonly outFeatures: number,
    opts: { bias?: boolean } = {},
  ) {
    super();
    positiveInt('Linear', 'inFeatures', inFeatures);
    positiveInt('Linear', 'outFeatures', outFeatures);
    this.weight = this.param('weight', defaultInit([outFeatures, inFeatures], inFeatures));
    this.bias = opts.bias === false ? null : this.param('bias', defaultInit([outFeatures], inFeatures));
  }
  forward(x: Tensor): Tensor {
    return this.forwardFused(x, {});
  }
  /** The layer with an activation applied in the same kernel (used by Sequential). */
  forwardFused(x: Tensor, act: FusedActivation): Tensor {
    return linear(x, this.weight, this.bias, act);
  }
}

type K = Pair;

/**
 * torch.nn.Conv2d: [N, inChannels, H, W] → [N, outChannels, H', W'], PyTorch's initialisation and
 * weight layout. Kernel sizes, strides and paddings are a number or [h, w].
 */
export class Conv2d extends Module {
  /** [outChannels, inChannels, kh, kw] */
  readonly weight: Tensor;
  /** [outChannels], or null with `bias: false` */
  readonly bias: Tensor | null;
  /** default 1 */
  readonly stride: K;
  /** zeros on each side, default 0 */
  readonly padding: K;
  constructor(inChannels: number, outChannels: number, kernelSize: K, opts: { stride?: K; padding?: K; bias?: boolean } = {}) {
    super();
    positiveInt('Conv2d', 'inChannels', inChannels);
    positiveInt('Conv2d', 'outChannels', outChannels);
    const [kh, kw] = pair('Conv2d', 'kernelSize', kernelSize, 1, 1);
    pair('Conv2d', 'stride', opts.stride, 1, 1);
    pair('Conv2d', 'padding', opts.padding, 0, 0);
    const fanIn = inChannels * kh * kw;
    this.weight = this.param('weight', defaultInit([outChannels, inChannels, kh, kw], fanIn));
    this.bias = opts.bias === false ? null : this.param('bias', defaultInit([outChannels], fanIn));
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
  }
  forward(x: Tensor): Tensor {
    return this.forwardFused(x, {});
  }
  /** The layer with an activation applied in the same kernel (used by Sequential). */
  forwardFused(x: Tensor, act: FusedActivation): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, ...act });
  }
}

/**
 * torch.nn.ConvTranspose2d: [N, inChannels, H, W] → [N, outChannels, (H − 1)·stride − 2·padding +
 * kh + outputPadding, …], PyTorch's initialisation and weight layout.
 */
export class ConvTranspose2d extends Module {
  /** [inChannels, outChannels, kh, kw] (PyTorch's layout for a transposed conv) */
  readonly weight: Tensor;
  /** [outChannels], or null with `bias: false` */
  readonly bias: Tensor | null;
  /** default 1 */
  readonly stride: K;
  /** default 0 */
  readonly padding: K;
  /** extra rows and columns on one side of the output, default 0 */
  readonly outputPadding: K;
  constructor(inChannels: number, outChannels: number, kernelSize: K, opts: { stride?: K; padding?: K; outputPadding?: K; bias?: boolean } = {}) {
    super();
    positiveInt('ConvTranspose2d', 'inChannels', inChannels);
    positiveInt('ConvTranspose2d', 'outChannels', outChannels);
    const [kh, kw] = pair('ConvTranspose2d', 'kernelSize', kernelSize, 1, 1);
    pair('ConvTranspose2d', 'stride', opts.stride, 1, 1);
    pair('ConvTranspose2d', 'padding', opts.padding, 0, 0);
    pair('ConvTranspose2d', 'outputPadding', opts.outputPadding, 0, 0);
    // PyTorch computes fan_in of the [in, out, kh, kw] weight from its dim 1: out·kh·kw
    const fanIn = outChannels * kh * kw;
    this.weight = this.param('weight', defaultInit([inChannels, outChannels, kh, kw], fanIn));
    this.bias = opts.bias === false ? null : this.param('bias', defaultInit([outChannels], fanIn));
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.outputPadding = opts.outputPadding ?? 0;
  }
  forward(x: Tensor): Tensor {
    return this.forwardFused(x, {});
  }
  /** The layer with an activation applied in the same kernel (used by Sequential). */
  forwardFused(x: Tensor, act: FusedActivation): Tensor {
    return convTranspose2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, outputPadding: this.outputPadding, ...act });
  }
}

/** What BatchNorm1d and BatchNorm2d share: PyTorch's parameters, buffers and update rule. */
class BatchNorm extends Module {
  /** γ [numFeatures] (1s), or null with `affine: false` */
  readonly weight: Tensor | null;
  /** β [numFeatures] (0s), or null with `affine: false` */
  readonly bias: Tensor | null;
  /** the running mean (buffer running_mean), used in eval mode */
  readonly runningMean: Tensor;
  /** the running unbiased variance (buffer running_var), used in eval mode */
  readonly runningVar: Tensor;
  /** training calls so far (buffer num_batches_tracked, saved as int64 like PyTorch's) */
  readonly numBatchesTracked: Tensor;
  /** added to the variance, default 1e-5 */
  readonly eps: number;
  /** the running statistics' update weight, default 0.1 */
  readonly momentum: number;
  constructor(
    private readonly rank: 2 | 4,
    /** C, the channel count */
    readonly numFeatures: number,
    opts: { eps?: number; momentum?: number; affine?: boolean } = {},
  ) {
    super();
    positiveInt(rank === 2 ? 'BatchNorm1d' : 'BatchNorm2d', 'numFeatures', numFeatures);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const affine = opts.affine ?? true;
    this.weight = affine ? this.param('weight', ones([numFeatures])) : null;
    this.bias = affine ? this.param('bias', zeros([numFeatures])) : null;
    this.runningMean = this.buffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.buffer('running_var', ones([numFeatures]));
    // PyTorch's counter of training calls: saved as int64, and files without it (older ones) still load
    this.numBatchesTracked = this.buffer('num_batches_tracked', storeAsInt64(zeros([])), { optional: true });
  }
  /** The forward, optionally with an activation fused into the same kernel (used by Sequential). */
  forwardFused(x: Tensor, activation: 'relu' | 'leakyRelu' | null, slope = 0.01): Tensor {
    const name = this.rank === 2 ? 'BatchNorm1d' : 'BatchNorm2d';
    if (this.rank === 2 ? x.ndim !== 2 : x.ndim !== 4)
      throw new WgslgradError(name, `input has shape ${fmtShape(x.shape)}, expected ${this.rank === 2 ? '[N,C]' : '[N,C,H,W]'}`);
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
      activation,
      slope,
      numBatchesTracked: this.numBatchesTracked,
    });
  }
  forward(x: Tensor): Tensor {
    return this.forwardFused(x, null);
  }
}

/** torch.nn.BatchNorm1d over [N, C]: batch statistics in training mode, running ones in eval mode. */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super(2, numFeatures, opts);
  }
}
/** torch.nn.BatchNorm2d over [N, C, H, W]: statistics per channel over N, H and W. */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super(4, numFeatures, opts);
  }
}
export { BatchNorm };

/** torch.nn.ReLU. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}
/** torch.nn.LeakyReLU: x for x ≥ 0, negativeSlope·x below. */
export class LeakyReLU extends Module {
  /** @param negativeSlope the slope below 0 (default 0.01) */
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
}
/** torch.nn.Tanh. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}
/** torch.nn.Sigmoid. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}
/** torch.nn.Dropout: zeroes each value with probability p and scales the rest by 1/(1 − p) in training mode; the identity in eval mode. */
export class Dropout extends Module {
  /** @param p the probability of zeroing, in [0, 1) (default 0.5) */
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new WgslgradError('Dropout', `p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training });
  }
}
/** torch.nn.Embedding: rows of a [numEmbeddings, embeddingDim] table (N(0, 1) as PyTorch's) picked by integer-valued float indices of any shape. */
export class Embedding extends Module {
  /** the table [numEmbeddings, embeddingDim] */
  readonly weight: Tensor;
  constructor(
    /** rows of the table (the vocabulary) */
    readonly numEmbeddings: number,
    /** the width of a row */
    readonly embeddingDim: number,
  ) {
    super();
    positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    positiveInt('Embedding', 'embeddingDim', embeddingDim);
    this.weight = this.param('weight', randn([numEmbeddings, embeddingDim]));
  }
  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight);
  }
}
/** Flattens dims startDim..endDim (default 1..-1) like torch.nn.Flatten. */
export class Flatten extends Module {
  constructor(
    /** the first dim flattened (default 1) */
    readonly startDim = 1,
    /** the last dim flattened (default −1) */
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    const nd = x.ndim;
    const s = this.startDim < 0 ? this.startDim + nd : this.startDim;
    const e = this.endDim < 0 ? this.endDim + nd : this.endDim;
    if (s < 0 || e >= nd || s > e) throw new WgslgradError('Flatten', `dims ${this.startDim}..${this.endDim} invalid for input ${fmtShape(x.shape)}`);
    const mid = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
    return reshape(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
  }
}
/** Unflatten(shape) splits dim 1 into `shape`; Unflatten(dim, shape) splits `dim` (torch.nn.Unflatten). */
export class Unflatten extends Module {
  /** the dim split */
  readonly dim: number;
  /** what it is split into */
  readonly sizes: number[];
  constructor(dimOrShape: number | number[], shape?: number[]) {
    super();
    if (Array.isArray(dimOrShape)) {
      this.dim = 1;
      this.sizes = dimOrShape;
    } else {
      this.dim = dimOrShape;
      this.sizes = shape ?? [];
    }
    if (this.sizes.length === 0) throw new WgslgradError('Unflatten', 'needs the shape to unflatten into');
  }
  forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? this.dim + x.ndim : this.dim;
    if (d < 0 || d >= x.ndim) throw new WgslgradError('Unflatten', `dim ${this.dim} out of range for input ${fmtShape(x.shape)}`);
    return reshape(x, [...x.shape.slice(0, d), ...this.sizes, ...x.shape.slice(d + 1)]);
  }
}

/** The activation a layer can fuse into the one before it (leakyRelu with a slope ≥ 0), or null. */
function activationOf(m: Module | undefined): FusedActivation | null {
  if (m instanceof ReLU) return { activation: 'relu' };
  if (m instanceof LeakyReLU && m.negativeSlope >= 0) return { activation: 'leakyRelu', slope: m.negativeSlope };
  if (m instanceof Tanh) return { activation: 'tanh' };
  if (m instanceof Sigmoid) return { activation: 'sigmoid' };
  return null;
}

/**
 * Runs layers in order; an activation after a Linear, Conv2d or ConvTranspose2d, and a ReLU or
 * LeakyReLU after a BatchNorm, run in that layer's kernel.
 */
export class Sequential extends Module {
  /** the layers in order (registered as 0, 1, …) */
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new WgslgradError('Sequential', `layer ${i} is not a Module`);
      this.module(String(i), l);
    });
    this.layers = layers;
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i]!;
      const next = this.layers[i + 1];
      const act = activationOf(next);
      if (l instanceof BatchNorm && (next instanceof ReLU || next instanceof LeakyReLU)) {
        h = l.forwardFused(h, next instanceof ReLU ? 'relu' : 'leakyRelu', next instanceof LeakyReLU ? next.negativeSlope : 0);
        i++;
      } else if ((l instanceof Linear || l instanceof Conv2d || l instanceof ConvTranspose2d) && act) {
        // the activation runs in the layer's own kernel, where its output is stored
        h = l.forwardFused(h, act);
        i++;
      } else {
        h = l.forward(h);
      }
    }
    return h;
  }
}

/** torch.nn.LayerNorm: normalises the trailing `normalizedShape` dims; weight (1s) and bias (0s) unless elementwiseAffine is false. */
export class LayerNorm extends Module {
  /** the trailing dims normalised together */
  readonly normalizedShape: number[];
  /** γ of normalizedShape (1s), or null without elementwiseAffine */
  readonly weight: Tensor | null;
  /** β of normalizedShape (0s), or null without elementwiseAffine */
  readonly bias: Tensor | null;
  /** added to the variance, default 1e-5 */
  readonly eps: number;
  constructor(normalizedShape: number | number[], opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((d, i) => positiveInt('LayerNorm', `normalizedShape[${i}]`, d));
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    if (affine && opts.bias === false)
      throw new WgslgradError('LayerNorm', 'a weight without a bias is not supported; keep bias true or elementwiseAffine false');
    this.weight = affine ? this.param('weight', ones(this.normalizedShape)) : null;
    this.bias = affine ? this.param('bias', zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, { eps: this.eps });
  }
}

/** torch.nn.GELU (approximate 'none' or 'tanh'). */
export class GELU extends Module {
  /** @param approximate 'none' (erf, the default) or 'tanh' */
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
}

/** torch.nn.SiLU. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** torch.nn.Softmax along `dim` (default the last). */
export class Softmax extends Module {
  /** @param dim the dim that sums to 1 */
  constructor(readonly dim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** torch.nn.MaxPool2d (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  constructor(
    /** the window, a number or [h, w] */
    readonly kernelSize: K,
    /** stride (default the kernel size) and padding (default 0; padded positions never win) */
    readonly opts: PoolOptions = {},
  ) {
    super();
    pair('MaxPool2d', 'kernelSize', kernelSize, 1, 1);
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
}

/** torch.nn.AvgPool2d (stride defaults to the kernel size; countIncludePad true). */
export class AvgPool2d extends Module {
  constructor(
    /** the window, a number or [h, w] */
    readonly kernelSize: K,
    /** stride (default the kernel size), padding (default 0) and countIncludePad (default true) */
    readonly opts: AvgPoolOptions = {},
  ) {
    super();
    pair('AvgPool2d', 'kernelSize', kernelSize, 1, 1);
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
}

/** torch.nn.ModuleList: submodules named 0, 1, … in a state dict; not callable itself. */
export class ModuleList extends Module {
  private readonly items: Module[] = [];
  constructor(modules: Iterable<Module> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  /** Adds a module under the next index; returns this. */
  append(m: Module): this {
    if (!(m instanceof Module)) throw new WgslgradError('ModuleList', `item ${this.items.length} is not a Module`);
    this.module(String(this.items.length), m);
    this.items.push(m);
    return this;
  }
  /** how many modules it holds */
  get length(): number {
    return this.items.length;
  }
  /** The module at index i (negative from the end); a WgslgradError out of range. */
  at(i: number): Module {
    const m = this.items.at(i);
    if (!m) throw new WgslgradError('ModuleList', `index ${i} out of range for ${this.items.length} modules`);
    return m;
  }
  /** The modules in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }
  forward(): Tensor {
    throw new WgslgradError('ModuleList', 'a ModuleList is not callable: call its modules');
  }
}
