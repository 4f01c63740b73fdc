// wg.capture(fn): a training step captured once and replayed, what CUDA graphs are to PyTorch. The
// first call runs fn eagerly and records its GPU commands (src/gpu/capture.ts); later calls replay
// them with new input data, with no op, autograd or bind-group work on the CPU.
import { fmtShape, WgslgradError } from './errors.js';
import { beginCapture, type CapturedCommands, endCapture } from './gpu/capture.js';
import { capturing, flush, type Storage, upload } from './gpu/engine.js';
import { collect, keep, scope } from './scope.js';
import { Tensor } from './tensor.js';

/** What a captured step takes at a replay for each of its inputs: a tensor of the captured shape, or its data. */
export type StepInput = Tensor | Float32Array;

/** A step made by {@link capture}: call it to run (first call) or replay (later calls). */
export interface CapturedStep<A extends Tensor[], R> {
  /**
   * The first call runs the step and captures it; each later call replays it on the given inputs
   * (copied, or written, into the captured inputs' buffers) and returns the same result, whose
   * tensors now hold the replay's values.
   */
  (...inputs: { [K in keyof A]: StepInput }): R;
  /** whether the first call has captured the step */
  readonly captured: boolean;
  /** GPU dispatches per replay */
  readonly dispatches: number;
  /** replays so far */
  readonly replays: number;
  /** Frees what the capture holds: its buffers, its inputs' buffers and the result's tensors. */
  dispose(): void;
}

const kindOf = (v: unknown): string => (v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v);

/**
 * Captures a step for replay. `fn` takes the step's inputs as tensors and must be synchronous; what
 * it does on the GPU is fixed at the first call: its shapes, its ops, the buffers it reads and
 * writes. Each replay draws new random keys from the global generator (seed with manualSeed before
 * a call and a replay equals an eager step to the bit) and counts an optimiser step. A capture
 * refuses, with a WgslgradError, a step that uploads host data or reads back (toArray, item) or
 * reseeds; a replay refuses inputs of another shape and tensors made outside the step and used by
 * it (parameters, optimiser state) that were disposed since.
 */
export function capture<A extends Tensor[], R>(fn: (...inputs: A) => R): CapturedStep<A, R> {
  if (typeof fn !== 'function') throw new WgslgradError('capture', `expected a function, got ${kindOf(fn)}`);
  let cmds: CapturedCommands | null = null;
  let result: R | undefined;
  let inputs: Array<{ tensor: Tensor; shape: readonly number[]; storage: Storage }> = [];
  let outputs: Tensor[] = [];
  let replays = 0;
  let disposed = false;

  const release = (): void => {
    for (const i of inputs) i.storage.release();
    inputs = [];
    for (const t of outputs) t.dispose();
    outputs = [];
  };

  const first = (args: unknown[]): R => {
    args.forEach((a, i) => {
      if (!(a instanceof Tensor))
        throw new WgslgradError(
          'capture',
          `input ${i} is a ${kindOf(a)}; the first call captures the step and takes tensors, whose shapes it keeps (wg.tensor(data, shape))`,
        );
    });
    const ts = args as Tensor[];
    for (const t of ts) void t.storage; // throws for a disposed one
    inputs = ts.map((t) => ({ tensor: t, shape: t.shape, storage: t.storage.retain() }));
    beginCapture();
    let res: R;
    try {
      res = scope(() => fn(...(ts as A)));
    } catch (e) {
      endCapture(false);
      release();
      throw e;
    }
    outputs = [...collect(res, (x): x is Tensor => x instanceof Tensor)];
    for (const t of outputs) keep(t);
    try {
      cmds = endCapture(true);
    } catch (e) {
      release();
      throw e;
    }
    result = res;
    return res;
  };

  const again = (args: unknown[]): R => {
    if (capturing()) throw new WgslgradError('capture', 'a captured step was called inside another capture; capture the outer step from eager code instead');
    if (args.length !== inputs.length) throw new WgslgradError('capture', `the step was captured with ${inputs.length} inputs, got ${args.length}`);
    args.forEach((a, i) => {
      const want = inputs[i]!;
      const size = want.tensor.size;
      if (a instanceof Tensor) {
        if (a.shape.join() !== want.shape.join())
          throw new WgslgradError('capture', `input ${i} has shape ${fmtShape(a.shape)}; the step was captured with ${fmtShape(want.shape)}`);
        void a.storage;
      } else if (a instanceof Float32Array) {
        if (a.length !== size)
          throw new WgslgradError('capture', `input ${i} holds ${a.length} values; the step was captured with ${fmtShape(want.shape)} (${size} values)`);
      } else throw new WgslgradError('capture', `input ${i} is a ${kindOf(a)}, expected a Tensor or a Float32Array`);
    });
    cmds!.check();
    flush(); // eager work that may still read the inputs runs before they are overwritten
    const copies: Array<{ from: Storage; to: Storage; bytes: number }> = [];
    args.forEach((a, i) => {
      const want = inputs[i]!;
      if (a instanceof Float32Array) {
        if (a.length) upload(want.storage, a, 0, 'capture');
      } else {
        const from = (a as Tensor).storage;
        if (want.tensor.size && (from.buffer !== want.storage.buffer || from.offset !== want.storage.offset))
          copies.push({ from, to: want.storage, bytes: want.tensor.size * 4 });
      }
    });
    cmds!.replay((enc) => {
      for (const c of copies) enc.copyBufferToBuffer(c.from.buffer, c.from.offset, c.to.buffer, c.to.offset, c.bytes);
    });
    replays++;
    return result as R;
  };

  const call = (...args: unknown[]): R => {
    if (disposed) throw new WgslgradError('capture', 'the captured step was disposed');
    return cmds ? again(args) : first(args);
  };
  return Object.defineProperties(call, {
    captured: { get: () => cmds !== null },
    dispatches: { get: () => cmds?.dispatches ?? 0 },
    replays: { get: () => replays },
    dispose: {
      value: (): void => {
        if (disposed) return;
        disposed = true;
        flush();
        cmds?.dispose();
        cmds = null;
        release();
      },
    },
  }) as unknown as CapturedStep<A, R>;
}
