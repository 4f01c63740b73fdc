// Optimisers keep their parameters in one flat buffer (each parameter a 256-byte-aligned view of
// it), take the step's gradients in a flat gradient buffer (written there by the backward sweep
// where the op allows it, copied there otherwise), and update everything with one kernel dispatch
// per step. Subclasses define the kernel and its per-parameter state.
import { fmtShape, WgslgradError } from '../errors.js';
import { deviceFacts } from '../gpu/device.js';
import { allocStorage, type Binding, type Consts, clearStorage, copyBuffer, dispatch, groups1d, onReplay, pipeline, type Storage } from '../gpu/engine.js';
import type { ParamValues } from '../gpu/layouts.js';
import { planAdam } from '../gpu/variants/index.js';
import { keep } from '../scope.js';
import { Tensor } from '../tensor.js';
import { assignSlot, gradSlot, releaseSlot } from './slots.js';

const ALIGN = 64; // floats = 256 bytes, the storage-binding offset alignment

/** An optimiser's checkpoint: {@link Optimizer.stateDict}'s result, {@link Optimizer.loadStateDict}'s argument. */
export interface OptimizerState {
  /** steps taken */
  step: number;
  /** the hyperparameters (lr, betas, …) */
  hyper: Record<string, number | number[] | boolean>;
  /** per-parameter state tensors by name (`exp_avg.0`, …), copies of the optimiser's own */
  tensors: Record<string, Tensor>;
}

/** The step number an update is for (1 on the first), renumbered at each replay of a capture. */
export interface StepAt {
  t: number;
  counted: boolean;
}

/**
 * What every optimiser shares: it moves its parameters into one flat buffer (each one a view of
 * it, so the tensors stay valid), takes their gradients in a flat gradient buffer, and updates all
 * of them with one kernel dispatch a step. A WgslgradError for an empty list, a parameter that is
 * not a leaf with requiresGrad, or one listed twice.
 */
export abstract class Optimizer {
  /** the parameters, in the order given */
  readonly params: Tensor[];
  /** float offset of each parameter in the flat buffers */
  protected readonly offsets: number[];
  protected readonly total: number;
  protected readonly flat: Storage;
  protected readonly gradFlat: Storage;
  /** per-parameter state (moments, momentum buffers), each a flat buffer like `flat` */
  protected readonly stateFlat: Storage[];
  protected stepCount = 0;
  private disposed = false;

  constructor(
    protected readonly opName: string,
    params: Iterable<Tensor>,
    /** the per-parameter state's names in a state dict (Adam: exp_avg, exp_avg_sq) */
    readonly stateNames: string[],
  ) {
    this.params = [...params];
    if (this.params.length === 0) throw new WgslgradError(opName, 'got an empty parameter list');
    const seen = new Set<Tensor>();
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new WgslgradError(opName, `params[${i}] is not a Tensor`);
      if (!p.requiresGrad || p._node) throw new WgslgradError(opName, `params[${i}] ${fmtShape(p.shape)} is not a leaf tensor with requiresGrad`);
      if (seen.has(p)) throw new WgslgradError(opName, `params[${i}] appears twice`);
      seen.add(p);
    });
    let off = 0;
    this.offsets = this.params.map((p) => {
      const o = off;
      off += Math.ceil(Math.max(1, p.size) / ALIGN) * ALIGN;
      return o;
    });
    this.total = off;
    this.flat = allocStorage(this.total * 4);
    this.gradFlat = allocStorage(this.total * 4);
    this.stateFlat = stateNames.map(() => allocStorage(this.total * 4));
    // zero gradients and state; move every parameter into its slot of the flat buffer
    for (const s of [this.gradFlat, ...this.stateFlat]) clearStorage(s, this.total * 4);
    this.params.forEach((p, i) => {
      if (p.size) copyBuffer(p.storage.buffer, p.storage.offset, this.flat.buffer, this.flat.offset + this.offsets[i]! * 4, p.size * 4);
      p._replaceStorage(this.flat.view(this.offsets[i]! * 4, Math.max(4, p.size * 4)));
      // the backward sweep writes the parameter's gradient straight into its slot where the op allows it
      assignSlot(p, p.size ? this.gradFlat.view(this.offsets[i]! * 4, p.size * 4) : null);
      keep(p);
    });
  }

  /** Whether params[i]'s gradient already lies in its slot of the flat gradient buffer (the sweep wrote it there). */
  private inSlot(g: Tensor, i: number): boolean {
    const s = g.storage;
    return s.buffer === this.gradFlat.buffer && s.offset === this.gradFlat.offset + this.offsets[i]! * 4;
  }

  /**
   * Releases the gradient and state buffers. The parameters stay usable (they keep their slots of
   * the flat parameter buffer, which lives as long as any of them); stepping afterwards throws.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.params) {
      if (gradSlot(p)?.parent === this.gradFlat) assignSlot(p, null);
    }
    for (const s of [this.flat, this.gradFlat, ...this.stateFlat]) s.release();
  }

  private alive(what: string): void {
    if (this.disposed) throw new WgslgradError(this.opName, `${what}() after dispose(): this optimiser was disposed`);
  }

  protected range(s: Storage, start: number, end: number): Binding {
    return { buffer: s.buffer, offset: s.offset + start * 4, size: Math.max(4, (end - start) * 4) };
  }

  /** Sets every parameter's gradient to null (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * Copies the gradients into the flat buffer and calls `update` once per run of consecutive
   * parameters that have a gradient (one run, one dispatch, when all have one). Parameters
   * without a gradient are left alone, as PyTorch does.
   */
  protected forEachRun(update: (start: number, end: number) => void): void {
    this.alive('step');
    let runStart = -1;
    const close = (i: number) => {
      if (runStart >= 0) update(this.offsets[runStart]!, i < this.params.length ? this.offsets[i]! : this.total);
      runStart = -1;
    };
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return close(i);
      if (g.size !== p.size) throw new WgslgradError(this.opName, `gradient of params[${i}] has shape ${fmtShape(g.shape)}, expected ${fmtShape(p.shape)}`);
      if (p.size && !this.inSlot(g, i)) {
        // a gradient the sweep wrote into the slot before and the caller kept keeps its values
        const slot = gradSlot(p);
        if (slot) releaseSlot(slot);
        copyBuffer(g.storage.buffer, g.storage.offset, this.gradFlat.buffer, this.gradFlat.offset + this.offsets[i]! * 4, p.size * 4);
      }
      if (runStart < 0) runStart = i;
    });
    close(this.params.length);
  }

  /**
   * One update dispatch with the hyperparameters of step `t`. Inside a captured step (wg.capture)
   * each replay counts a step and reads the hyperparameters again (a changed lr applies).
   */
  protected run<K extends 'adam' | 'sgd'>(
    file: K,
    bindings: Binding[],
    params: (t: number) => ParamValues<K>,
    at: StepAt,
    n: number,
    consts: Consts = {},
  ): void {
    if (!at.counted) {
      at.counted = true; // one count per step, however many runs it has
      onReplay(() => {
        this.alive('step');
        at.t = ++this.stepCount;
      });
    }
    const t0 = at.t;
    // Adam's table may take four parameters a lane (every range of the flat buffers is a multiple of 64)
    const plan = file === 'adam' ? planAdam(deviceFacts(), { n }) : { kernel: file, entry: 'main', groups: [...groups1d(n), 1] as [number, number, number] };
    dispatch(
      pipeline(plan.kernel as K, plan.entry, consts),
      bindings,
      { ...params(t0), n } as ParamValues<K>,
      plan.groups,
      () => ({ ...params(at.t), n }) as ParamValues<K>,
    );
  }

  /** One update of every parameter that has a gradient. */
  abstract step(): void;
  protected abstract hyper(): OptimizerState['hyper'];
  protected abstract setHyper(h: OptimizerState['hyper']): void;

  /** Step count, hyperparameters and copies of the per-parameter state, for checkpoints. */
  stateDict(): OptimizerState {
    this.alive('stateDict');
    const tensors: Record<string, Tensor> = {};
    this.stateNames.forEach((name, k) => {
      this.params.forEach((p, i) => {
        const t = keep(Tensor.empty(p.shape));
        if (p.size) copyBuffer(this.stateFlat[k]!.buffer, this.stateFlat[k]!.offset + this.offsets[i]! * 4, t.storage.buffer, t.storage.offset, p.size * 4);
        tensors[`${name}.${i}`] = t;
      });
    });
    return { step: this.stepCount, hyper: this.hyper(), tensors };
  }

  /** Restores a {@link OptimizerState} (same parameter shapes): the state tensors, step count and hyperparameters. */
  loadStateDict(sd: OptimizerState): void {
    this.alive('loadStateDict');
    if (!sd || typeof sd.step !== 'number' || !sd.tensors) throw new WgslgradError(`${this.opName}.loadStateDict`, 'expected {step, hyper, tensors}');
    this.stateNames.forEach((name, k) => {
      this.params.forEach((p, i) => {
        const t = sd.tensors[`${name}.${i}`];
        if (!t) throw new WgslgradError(`${this.opName}.loadStateDict`, `missing state tensor ${name}.${i}`);
        if (t.size !== p.size)
          throw new WgslgradError(`${this.opName}.loadStateDict`, `${name}.${i} has shape ${fmtShape(t.shape)}, expected ${fmtShape(p.shape)}`);
        if (p.size) copyBuffer(t.storage.buffer, t.storage.offset, this.stateFlat[k]!.buffer, this.stateFlat[k]!.offset + this.offsets[i]! * 4, p.size * 4);
      });
    });
    this.stepCount = sd.step;
    this.setHyper(sd.hyper);
  }
}
