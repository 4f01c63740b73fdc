// Tensor creation: from host data, constants, and seeded counter-based random numbers generated on
// the GPU. Kernel: shaders/creation.wgsl. CPU reference: src/cpu/creation.ts (same hash).
import { fmtShape, WgslgradError } from '../errors.js';
import { capturing, dispatch, groups1d, onReplay, pipeline, refuseCapture, upload } from '../gpu/engine.js';
import { checkShape, type Shape, sizeOf, Tensor } from '../tensor.js';

/** Options of {@link tensor}. */
export interface TensorOptions {
  /** make a leaf whose gradient backward() fills (default false) */
  requiresGrad?: boolean;
  /** Check every value is finite (throws naming the first that is not). */
  validate?: boolean;
}

/** Options of {@link rand} and {@link randn}. */
export interface RandomOptions {
  /** Same seed, same numbers on every device. Without it, the global generator (manualSeed) advances. */
  seed?: number;
  /** make a leaf whose gradient backward() fills (default false) */
  requiresGrad?: boolean;
}

function finish(t: Tensor, requiresGrad?: boolean): Tensor {
  if (requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor from host data (Float32Array or numbers), row-major; shape defaults to [data.length]. */
export function tensor(data: Float32Array | ArrayLike<number>, shape?: Shape, opts: TensorOptions = {}): Tensor {
  if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
    throw new WgslgradError('tensor', `data must be a Float32Array or an array of numbers, got ${data === null ? 'null' : typeof data}`);
  }
  const s = shape ?? [data.length];
  checkShape('tensor', s);
  if (sizeOf(s) !== data.length) throw new WgslgradError('tensor', `data has ${data.length} values, shape ${fmtShape(s)} needs ${sizeOf(s)}`);
  if (!ArrayBuffer.isView(data)) {
    const list = data as ArrayLike<unknown>;
    for (let i = 0; i < list.length; i++) {
      if (typeof list[i] !== 'number')
        throw new WgslgradError(
          'tensor',
          `element ${i} is ${JSON.stringify(list[i]) ?? String(list[i])} (${list[i] === null ? 'null' : typeof list[i]}), expected a number`,
        );
    }
  }
  const arr = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  if (opts.validate) {
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i]!))
        throw new WgslgradError('tensor', `value ${i} is ${(data as ArrayLike<number>)[i]}, expected a finite number (validate: true)`);
    }
  }
  const t = Tensor.empty(s, true, 'tensor');
  if (arr.length) upload(t.storage, arr);
  return finish(t, opts.requiresGrad);
}

/** Writes `value` into every element of t, in place (the `fill` kernel). */
export function fillInto(t: Tensor, value: number): Tensor {
  if (t.size) dispatch(pipeline('creation', 'fill'), [t.binding], { n: t.size, a: value }, groups1d(t.size));
  return t;
}

/** Writes the random stream `key` into t in place: uniform in [a, b) or normal with mean a, std b. */
export function randomInto(t: Tensor, kind: 'rand' | 'randn', a: number, b: number, key: [number, number]): Tensor {
  if (t.size) {
    if (kind === 'randn' && t.size > 2 ** 31) throw new WgslgradError(kind, `at most 2^31 values per call, got ${t.size}`);
    const n = t.size;
    // the key is read at each replay of a capture too: streamKey redraws it in place then
    dispatch(pipeline('creation', kind), [t.binding], { n, k0: key[0], k1: key[1], a, b }, groups1d(n), () => ({ n, k0: key[0], k1: key[1], a, b }));
  }
  return t;
}

function filled(op: string, shape: Shape, value: number, opts: { requiresGrad?: boolean }): Tensor {
  checkShape(op, shape);
  if (typeof value !== 'number') throw new WgslgradError(op, `value must be a number, got ${typeof value}`);
  return finish(fillInto(Tensor.empty(shape, false, op), value), opts?.requiresGrad);
}

/** A tensor of `shape` filled with `value` (torch.full). */
export const full = (shape: Shape, value: number, opts: { requiresGrad?: boolean } = {}): Tensor => filled('full', shape, value, opts);
/** A tensor of `shape` filled with 0 (torch.zeros). */
export const zeros = (shape: Shape, opts: { requiresGrad?: boolean } = {}): Tensor => filled('zeros', shape, 0, opts);
/** A tensor of `shape` filled with 1 (torch.ones). */
export const ones = (shape: Shape, opts: { requiresGrad?: boolean } = {}): Tensor => filled('ones', shape, 1, opts);

// ---------------------------------------------------------------- random numbers

let globalSeed = 0x2545f491;
let counter = 0;

/** Seeds the generator used by random functions called without {seed}. */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed)) throw new WgslgradError('manualSeed', `seed must be an integer, got ${seed}`);
  if (capturing()) throw refuseCapture('manualSeed', 'the generator reseeded; call manualSeed before each call of the captured step instead');
  globalSeed = seed >>> 0;
  counter = 0;
}

const nextKey = (): [number, number] => [globalSeed ^ 0x9e3779b9, (0x80000000 | counter++) >>> 0];

/**
 * The (k0, k1) key of a random stream: an explicit seed, or the next one from the global generator.
 * A key drawn from the generator inside a captured step is drawn again, in place, at each replay,
 * so a replay after manualSeed(s) gives the numbers an eager step after manualSeed(s) would.
 */
export function streamKey(op: string, seed?: number): [number, number] {
  if (seed === undefined) {
    const key = nextKey();
    onReplay(() => {
      [key[0], key[1]] = nextKey();
    });
    return key;
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) throw new WgslgradError(op, `seed must be a non-negative integer, got ${seed}`);
  return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

function random(op: 'rand' | 'randn', shape: Shape, a: number, b: number, opts: RandomOptions): Tensor {
  checkShape(op, shape);
  return finish(randomInto(Tensor.empty(shape, false, op), op, a, b, streamKey(op, opts.seed)), opts?.requiresGrad);
}

/** Uniform in [0, 1), or [low, high) with rand(shape, {seed}, low, high). */
export const rand = (shape: Shape, opts: RandomOptions = {}, low = 0, high = 1): Tensor => random('rand', shape, low, high, opts);
/** Normal with mean 0 and std 1 (or the mean and std given). */
export const randn = (shape: Shape, opts: RandomOptions = {}, mean = 0, std = 1): Tensor => random('randn', shape, mean, std, opts);
