// The tensor: shape, pooled GPU storage, gradient and the autograd node that made it. This module
// imports no op: the op methods (x.add(y), x.backward(), …) are attached by methods.ts.
import { fmtShape, WgslgradError } from './errors.js';
import { allocStorage, type Binding, copyBuffer, maxTensorBytes, readBuffer, type Storage } from './gpu/engine.js';
import { track } from './scope.js';

/** A tensor's dims, outermost first ([] for a scalar). */
export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new WgslgradError(op, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/**
 * A backward rule: from the output's gradient `g`, the gradient of each input that `needs` one
 * (null for the others). It runs with grad mode off inside a scope that frees whatever it makes
 * except the gradients it returns, so it is written with ordinary ops and disposes nothing.
 */
export type GradRule = (g: Tensor, needs: readonly boolean[]) => ReadonlyArray<Tensor | null>;

/**
 * The form of a rule for the few fused ops whose kernels can take in more: `acc[j]`, when given, is
 * the gradient the sweep has accumulated for input j so far, which the rule may add in its own
 * kernel (saying so with foldedGrad, autograd/tape.ts); `outs[j]`, when given, is where input j's
 * gradient may be written (its slot in an optimiser's flat gradient buffer, optim/slots.ts): a rule
 * that writes it there returns that tensor, with acc[j] folded in when acc[j] is given.
 */
export type GradIntoRule = (
  g: Tensor,
  needs: readonly boolean[],
  acc: ReadonlyArray<Tensor | null>,
  outs: ReadonlyArray<Tensor | null>,
) => ReadonlyArray<Tensor | null>;

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Which inputs required grad when the op ran (as in PyTorch, flipping requiresGrad later does not change the graph). */
  needs: boolean[];
  backward: GradRule;
  /** the rule that folds accumulated gradients and writes optimiser slots, where the op has one (the sweep prefers it) */
  backwardInto?: GradIntoRule;
}

// Tensors hold pooled buffers; a tensor that is garbage-collected without dispose() returns its buffer.
const finalizer = new FinalizationRegistry<Storage>((s) => s.release());

let nextId = 1;

/** A float32 tensor on the GPU, row-major, with an optional gradient. */
export class Tensor {
  /** a number unique to this tensor in the process */
  readonly id = nextId++;
  /** the dims */
  readonly shape: Shape;
  /** the element count (the product of the dims; 1 for a scalar) */
  readonly size: number;
  private _leafRequiresGrad = false;
  /** the gradient backward() left here (a leaf's), or null; settable, as PyTorch's .grad */
  grad: Tensor | null = null;
  /** @internal the op that made this tensor and its backward rule */
  _node: GradNode | null = null;
  /** @internal the op whose node on this tensor a backward freed (a second backward through it throws) */
  _freedBy: string | null = null;
  /** @internal a loss: reading it back checks it is finite and names this op if not */
  _lossOp: string | null = null;
  private _storage: Storage | null;

  /** @internal use wg.tensor / wg.zeros / ops to make tensors */
  constructor(shape: Shape, storage: Storage) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this._storage = storage;
    finalizer.register(this, storage, this);
    storage.onTensor?.(this);
    track(this);
  }

  /**
   * @internal a new tensor with a fresh buffer for `shape` (`forUpload`: the host writes it next);
   * a shape too large for the device is refused naming `op`, before Dawn is asked for anything
   */
  static empty(shape: Shape, forUpload = false, op = 'tensor'): Tensor {
    const bytes = Math.max(4, sizeOf(shape) * 4);
    const limit = maxTensorBytes();
    if (bytes > limit) {
      throw new WgslgradError(
        op,
        `a tensor of shape ${fmtShape(shape)} needs ${bytes} bytes (${(bytes / 2 ** 20).toFixed(1)} MiB), more than this device's limit of ${limit} bytes (${(limit / 2 ** 20).toFixed(1)} MiB; maxStorageBufferBindingSize / maxBufferSize) for one tensor`,
      );
    }
    return new Tensor(shape, allocStorage(bytes, forUpload));
  }

  /**
   * Whether gradients flow to this tensor: set on leaves (parameters, inputs); true for every output
   * of an op that recorded a node, also after a backward has freed that node.
   */
  get requiresGrad(): boolean {
    return this._leafRequiresGrad || this._node !== null || this._freedBy !== null;
  }

  /** Makes a leaf require grad (or stop); a WgslgradError for an op's output, which always does. */
  set requiresGrad(v: boolean) {
    if (!v && (this._node || this._freedBy)) {
      throw new WgslgradError(
        'requiresGrad',
        `tensor ${fmtShape(this.shape)} is the output of ${this._node?.op ?? this._freedBy}; only leaf tensors can stop requiring grad (use detach())`,
      );
    }
    this._leafRequiresGrad = v;
  }

  /** whether the tensor's buffer was given back (dispose(), or the end of its scope) */
  get disposed(): boolean {
    return this._storage === null;
  }

  /** @internal */
  get storage(): Storage {
    if (!this._storage)
      throw new WgslgradError('tensor', `tensor ${fmtShape(this.shape)} was disposed (by dispose() or at the end of its scope) and is used again`);
    if (this._storage.stale)
      throw new WgslgradError(
        'tensor',
        `tensor ${fmtShape(this.shape)} lives on a GPU device that is gone (lost, or replaced by wg.init()); make it again on the new device or load it from a checkpoint`,
      );
    return this._storage;
  }

  /** @internal the GPU buffer range holding this tensor's data, for a bind group */
  get binding(): Binding {
    const s = this.storage;
    return { buffer: s.buffer, offset: s.offset, size: Math.max(4, this.size * 4) };
  }

  /** @internal moves this tensor onto another storage (optimisers' flat parameter buffers) */
  _replaceStorage(storage: Storage): void {
    const old = this.storage;
    finalizer.unregister(this);
    finalizer.register(this, storage, this);
    this._storage = storage;
    storage.onTensor?.(this);
    old.release();
  }

  /** @internal whether this tensor's data is `s` (a gradient slot's holders, optim/slots.ts) */
  ownsStorage(s: Storage): boolean {
    return this._storage === s;
  }

  /** the number of dims */
  get ndim(): number {
    return this.shape.length;
  }

  /** Releases the GPU buffer to the pool. Using the tensor afterwards throws. */
  dispose(): void {
    if (!this._storage) return;
    finalizer.unregister(this);
    this._storage.release();
    this._storage = null;
    this._node = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** @internal another Tensor object over the same buffer (shape may differ, size may not) */
  alias(shape: Shape = this.shape): Tensor {
    return new Tensor(shape, this.storage.retain());
  }

  /** The data, copied to the host, row-major. */
  async toArray(): Promise<Float32Array> {
    const bytes = this.size * 4;
    const s = this.storage;
    const data = bytes === 0 ? new Float32Array(0) : new Float32Array(await readBuffer(s.buffer, bytes, s.offset));
    if (this._lossOp) {
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i]!)) {
          throw new WgslgradError(this._lossOp, `the loss is ${data[i]} (an input holds NaN/Inf or a value outside the op's domain)`);
        }
      }
    }
    return data;
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new WgslgradError('item', `tensor has ${this.size} elements (shape ${fmtShape(this.shape)}), expected 1`);
    return (await this.toArray())[0]!;
  }

  /** Copies src's data into this tensor in place (same shape), outside autograd, like torch's copy_ under no_grad. */
  copy_(src: Tensor): this {
    if (!(src instanceof Tensor)) throw new WgslgradError('copy_', `source must be a Tensor, got ${typeof src}`);
    if (src.shape.join() !== this.shape.join()) throw new WgslgradError('copy_', `source has shape ${fmtShape(src.shape)}, expected ${fmtShape(this.shape)}`);
    const a = src.storage;
    const b = this.storage;
    if (this.size && a !== b) copyBuffer(a.buffer, a.offset, b.buffer, b.offset, this.size * 4);
    return this;
  }

  /** A tensor sharing this data without the autograd history. */
  detach(): Tensor {
    return this.alias();
  }

  /** `Tensor([2,3], requiresGrad)`: the shape, never the data (reading it back is async). */
  toString(): string {
    return `Tensor(${fmtShape(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
