// A makemore-style character-level GPT: token and position embeddings, nLayer pre-norm blocks of
// causal self-attention (nn.MultiheadAttention) and a GELU MLP, a final layer norm and a linear
// head (its own weight, or the token embedding's with `tied`). Parameter names follow the PyTorch
// twin in examples/pytorch/char_transformer.py, so its state dict loads both ways.
import * as wg from '../../src/index.js';

const { nn } = wg;

export interface GptConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** the head reuses the token embedding's weight (no lm_head.weight) */
  tied: boolean;
}

class Mlp extends nn.Module {
  c_fc: wg.nn.Linear;
  c_proj: wg.nn.Linear;
  constructor(e: number) {
    super();
    this.c_fc = new nn.Linear(e, 4 * e);
    this.c_proj = new nn.Linear(4 * e, e);
  }
  forward(x: wg.Tensor): wg.Tensor {
    return this.c_proj.forward(wg.gelu(this.c_fc.forward(x)));
  }
}

class Block extends nn.Module {
  ln_1: wg.nn.LayerNorm;
  attn: wg.nn.MultiheadAttention;
  ln_2: wg.nn.LayerNorm;
  mlp: Mlp;
  constructor(c: GptConfig) {
    super();
    this.ln_1 = new nn.LayerNorm(c.nEmbd);
    this.attn = new nn.MultiheadAttention(c.nEmbd, c.nHead, { batchFirst: true });
    this.ln_2 = new nn.LayerNorm(c.nEmbd);
    this.mlp = new Mlp(c.nEmbd);
  }
  forward(x: wg.Tensor): wg.Tensor {
    const h = this.ln_1.forward(x);
    const a = wg.add(x, this.attn.attend(h, h, h, { isCausal: true }));
    return wg.add(a, this.mlp.forward(this.ln_2.forward(a)));
  }
}

class Transformer extends nn.Module {
  wte: wg.nn.Embedding;
  wpe: wg.nn.Embedding;
  h: wg.nn.ModuleList;
  ln_f: wg.nn.LayerNorm;
  constructor(c: GptConfig) {
    super();
    this.wte = new nn.Embedding(c.vocabSize, c.nEmbd);
    this.wpe = new nn.Embedding(c.blockSize, c.nEmbd);
    this.h = new nn.ModuleList(Array.from({ length: c.nLayer }, () => new Block(c)));
    this.ln_f = new nn.LayerNorm(c.nEmbd);
  }
  forward(x: wg.Tensor): wg.Tensor {
    return x;
  }
}

export class CharGpt extends nn.Module {
  transformer: Transformer;
  lm_head: wg.nn.Linear | null;
  /** positions 0 … blockSize − 1, made once */
  private readonly positions: wg.Tensor;
  constructor(readonly config: GptConfig) {
    super();
    this.transformer = new Transformer(config);
    this.lm_head = config.tied ? null : new nn.Linear(config.nEmbd, config.vocabSize, { bias: false });
    this.positions = wg.keep(
      wg.tensor(
        Float32Array.from({ length: config.blockSize }, (_, i) => i),
        [config.blockSize],
      ),
    );
  }

  /** Logits [B, T, vocab] of token rows idx [B, T] (T ≤ blockSize). */
  forward(idx: wg.Tensor): wg.Tensor {
    const [B, T] = idx.shape as [number, number];
    if (idx.ndim !== 2 || T > this.config.blockSize)
      throw new wg.WgslgradError('CharGpt', `input has shape [${idx.shape}], expected [B, T] with T ≤ ${this.config.blockSize}`);
    const tr = this.transformer;
    const pos = T === this.config.blockSize ? this.positions : wg.narrow(this.positions, 0, 0, T);
    let x = wg.add(tr.wte.forward(idx), tr.wpe.forward(pos));
    for (const b of tr.h) x = b.forward(x);
    x = tr.ln_f.forward(x);
    const logits = this.lm_head ? this.lm_head.forward(x) : wg.linear(x, tr.wte.weight);
    return logits.reshape([B, T, this.config.vocabSize]);
  }

  /** The mean cross-entropy of the next tokens y [B, T] (−1: padding, ignored). */
  loss(idx: wg.Tensor, y: wg.Tensor): wg.Tensor {
    const [B, T] = idx.shape as [number, number];
    return wg.crossEntropy(this.forward(idx).reshape([B * T, this.config.vocabSize]), y.reshape([B * T]), { ignoreIndex: -1 });
  }
}
