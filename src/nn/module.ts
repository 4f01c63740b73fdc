// Module: parameters, buffers and submodules with PyTorch's dotted names (`main.0.weight`),
// train/eval, stateDict/loadStateDict.
import { fmtShape, WgslgradError } from '../errors.js';
import { keep } from '../scope.js';
import { Tensor } from '../tensor.js';

/**
 * The base of every layer, as torch.nn.Module: parameters, buffers and submodules under PyTorch's
 * dotted names (`main.0.weight`), so that a state dict saved here loads into the PyTorch twin and
 * back. A subclass registers its tensors with `param` / `buffer` (or holds submodules as fields)
 * and implements {@link Module.forward}.
 */
export abstract class Module {
  /** training mode (dropout active, batchnorm on batch statistics); set by {@link Module.train} / {@link Module.eval} */
  training = true;
  private readonly _params = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor>();
  /** buffers a state dict may lack (filled in as they are), as PyTorch allows for num_batches_tracked */
  private readonly _optional = new Set<string>();
  private readonly _modules = new Map<string, Module>();

  /** The layer's computation on its input(s). */
  abstract forward(x: Tensor, ...rest: Tensor[]): Tensor;

  /** Registers a parameter (requiresGrad set, kept out of scopes); returns it. */
  protected param(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this._params.set(name, keep(t));
    return t;
  }

  /** Registers a state tensor that is saved but not trained (batchnorm running statistics). */
  protected buffer(name: string, t: Tensor, opts: { optional?: boolean } = {}): Tensor {
    this._buffers.set(name, keep(t));
    if (opts.optional) this._optional.add(name);
    return t;
  }

  /** Dotted names of the buffers, here and below, that a state dict may lack. */
  private optionalNames(prefix = ''): string[] {
    const out = [...this._optional].map((k) => prefix + k);
    for (const [k, m] of this.children()) out.push(...m.optionalNames(`${prefix}${k}.`));
    return out;
  }

  /** Registers a submodule under `name`. Module-valued fields are found without this, in field order. */
  protected module<M extends Module>(name: string, m: M): M {
    this._modules.set(name, m);
    return m;
  }

  /** Direct submodules: registered ones, then Module-valued fields not registered. */
  children(): Array<[string, Module]> {
    const out: Array<[string, Module]> = [...this._modules];
    const seen = new Set(this._modules.values());
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module && !seen.has(v) && !k.startsWith('_')) {
        out.push([k, v]);
        seen.add(v);
      }
    }
    return out;
  }

  /** Every parameter here and below with its dotted name (PyTorch's named_parameters), in registration order. */
  namedParameters(prefix = ''): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [k, t] of this._params) if (t) out.push([prefix + k, t]);
    for (const [k, m] of this.children()) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  /** Every parameter here and below (what an optimiser takes), in registration order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer (saved, not trained: batchnorm's running statistics) here and below, with its dotted name. */
  namedBuffers(prefix = ''): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [k, t] of this._buffers) out.push([prefix + k, t]);
    for (const [k, m] of this.children()) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  /** Sets training mode (or eval mode with `false`) here and in every submodule; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const [, m] of this.children()) m.train(mode);
    return this;
  }

  /** Eval mode here and below (dropout off, batchnorm on running statistics), as train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name (the live tensors; save them with wg.io.saveSafetensors). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies tensors into this module's parameters and buffers (PyTorch's load_state_dict). With
   * `strict` (the default) every name must match both ways; a shape mismatch always throws a
   * WgslgradError naming the tensor.
   */
  loadStateDict(sd: Record<string, Tensor>, opts: { strict?: boolean } = {}): void {
    if (sd === null || typeof sd !== 'object' || Array.isArray(sd) || sd instanceof Tensor)
      throw new WgslgradError(
        'loadStateDict',
        `expected an object of named tensors (a stateDict()), got ${sd === null ? 'null' : Array.isArray(sd) ? 'an array' : sd instanceof Tensor ? 'one Tensor' : typeof sd}`,
      );
    const own = this.stateDict();
    const strict = opts.strict ?? true;
    const optional = new Set(this.optionalNames());
    const missing = Object.keys(own).filter((k) => !(k in sd) && !optional.has(k));
    const unexpected = Object.keys(sd).filter((k) => !(k in own));
    if (strict && (missing.length || unexpected.length)) {
      throw new WgslgradError(
        'loadStateDict',
        `${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected ${unexpected.join(', ')}` : ''}`,
      );
    }
    for (const [k, dst] of Object.entries(own)) {
      const src = sd[k];
      if (!src) continue;
      if (!(src instanceof Tensor)) throw new WgslgradError('loadStateDict', `${k} is not a Tensor`);
      if (src.shape.join() !== dst.shape.join())
        throw new WgslgradError('loadStateDict', `${k} has shape ${fmtShape(src.shape)}, expected ${fmtShape(dst.shape)}`);
      dst.copy_(src);
    }
  }
}
