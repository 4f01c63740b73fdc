// torch.nn.MultiheadAttention with PyTorch's parameter layout (in_proj_weight [3E, E],
// in_proj_bias [3E], out_proj.weight, out_proj.bias), so state dicts load both ways; the heads run
// through the fused scaled dot-product attention (src/ops/attention.ts), a self-attention's straight
// from its packed projections.
import { WgslgradError } from '../errors.js';
import { MAX_FUSED_HEAD, packedSelfAttention, scaledDotProductAttention } from '../ops/attention.js';
import { rand, zeros } from '../ops/creation.js';
import { linear } from '../ops/matmul.js';
import { narrow, permute, reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { xavierUniform } from './init.js';
import { Linear } from './layers.js';
import { Module } from './module.js';

/** Options of {@link MultiheadAttention}'s constructor. */
export interface MultiheadAttentionOptions {
  /** in_proj_bias and out_proj.bias (default true) */
  bias?: boolean;
  /** inputs and output are [N, L, E] (default false: [L, N, E], PyTorch's default) */
  batchFirst?: boolean;
}

/** Options of {@link MultiheadAttention.attend}. */
export interface AttentionCallOptions {
  /** each position attends to itself and the ones before it (PyTorch's is_causal with its causal mask) */
  isCausal?: boolean;
}

/**
 * torch.nn.MultiheadAttention: the query, key and value projections (one packed [3E, E] weight),
 * numHeads heads of scaled dot-product attention, the output projection. State dicts load both
 * ways with PyTorch's. A WgslgradError when embedDim is not a multiple of numHeads or an input's
 * shape is not [L, N, E] (or [N, L, E] with batchFirst).
 */
export class MultiheadAttention extends Module {
  /** E / numHeads, each head's width */
  readonly headDim: number;
  /** the packed query, key and value projections [3E, E] (PyTorch's in_proj_weight) */
  readonly inProjWeight: Tensor;
  /** [3E] (in_proj_bias), or null with `bias: false` */
  readonly inProjBias: Tensor | null;
  /** the output projection (out_proj) */
  readonly outProj: Linear;
  /** inputs and output are [N, L, E] */
  readonly batchFirst: boolean;

  constructor(
    /** E, the model width */
    readonly embedDim: number,
    /** heads; E must be a multiple of it */
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(embedDim) || embedDim < 1 || !Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0)
      throw new WgslgradError('MultiheadAttention', `embedDim ${embedDim} must be a positive multiple of numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.batchFirst = opts.batchFirst ?? false;
    const bias = opts.bias ?? true;
    // PyTorch: xavier_uniform_ in_proj_weight, zeros for the biases, out_proj as a Linear
    this.inProjWeight = this.param('in_proj_weight', xavierUniform(rand([3 * embedDim, embedDim])));
    this.inProjBias = bias ? this.param('in_proj_bias', zeros([3 * embedDim])) : null;
    this.outProj = this.module('out_proj', new Linear(embedDim, embedDim, { bias }));
    if (this.outProj.bias) this.outProj.bias.copy_(zeros([embedDim]));
  }

  /** Self-attention of x: MultiheadAttention(x, x, x). */
  forward(x: Tensor): Tensor {
    return this.attend(x, x, x);
  }

  /**
   * The attention of `query` over `key` and `value` ([L, N, E], or [N, L, E] with batchFirst):
   * the output only (PyTorch's need_weights=False; the weights are never formed).
   */
  attend(query: Tensor, key: Tensor, value: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const E = this.embedDim;
    for (const [name, t] of [
      ['query', query],
      ['key', key],
      ['value', value],
    ] as const)
      if (t.ndim !== 3 || t.shape[2] !== E)
        throw new WgslgradError('MultiheadAttention', `${name} has shape [${t.shape}], expected ${this.batchFirst ? '[N, L, E]' : '[L, N, E]'} with E = ${E}`);
    if (query === key && key === value && this.headDim <= MAX_FUSED_HEAD) {
      // self-attention: one product for the three projections, the heads read where it left them
      const qkv = linear(query, this.inProjWeight, this.inProjBias);
      return this.outProj.forward(packedSelfAttention(qkv, this.numHeads, { causal: opts.isCausal ?? false, batchFirst: this.batchFirst }));
    }
    const [q, k, v] = [query, key, value].map((t, i) =>
      linear(t, narrow(this.inProjWeight, 0, i * E, E), this.inProjBias ? narrow(this.inProjBias, 0, i * E, E) : null),
    ) as [Tensor, Tensor, Tensor];
    const heads = (t: Tensor) => {
      // [N, L, H, Dh] → [N, H, L, Dh] (batchFirst) or [L, N, H, Dh] → [N, H, L, Dh]
      const [a, b] = t.shape as [number, number];
      const h = reshape(t, [a, b, this.numHeads, this.headDim]);
      return permute(h, this.batchFirst ? [0, 2, 1, 3] : [1, 2, 0, 3]);
    };
    const o = scaledDotProductAttention(heads(q), heads(k), heads(v), { causal: opts.isCausal ?? false });
    const [N, , L] = o.shape as [number, number, number];
    const merged = reshape(permute(o, this.batchFirst ? [0, 2, 1, 3] : [2, 0, 1, 3]), this.batchFirst ? [N, L, E] : [L, N, E]);
    return this.outProj.forward(merged);
  }
}
