// wg.scope(fn): every tensor made inside fn is disposed when fn returns, except what it returns.
// Tensors register here when they are made (tensor.ts calls track); this module knows them only as
// things that can be disposed, so it imports nothing of the tensor layer.
import { WgslgradError } from './errors.js';
import { flush } from './gpu/engine.js';

/** What a scope tracks: a tensor, seen from here. */
export interface Tracked {
  /** Gives the tensor's buffer back to the pool. */
  dispose(): void;
}

const stack: Array<Set<Tracked>> = [];

export function track(t: Tracked): void {
  stack[stack.length - 1]?.add(t);
}

/** Takes a tensor out of every open scope so it survives them (optimiser state, gradients). */
export function keep<T extends Tracked>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

/**
 * The things `pick` accepts found in v (a tensor, or arrays, Maps and plain objects holding them):
 * a scope's own tensors in its result, or a captured step's result tensors (capture.ts).
 */
export function collect<T extends object>(v: unknown, pick: (x: object) => x is T, out = new Set<T>(), seen = new Set<unknown>()): Set<T> {
  if (v === null || typeof v !== 'object' || seen.has(v)) return out;
  seen.add(v);
  if (pick(v)) out.add(v);
  else if (Array.isArray(v)) for (const x of v) collect(x, pick, out, seen);
  else if (v instanceof Map) for (const x of v.values()) collect(x, pick, out, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, pick, out, seen);
  return out;
}

/** Runs fn in a new scope and returns its result with the tensors it made (disposed on a throw). */
function within<T>(fn: () => T): { result: T; mine: Set<Tracked> } {
  const mine = new Set<Tracked>();
  stack.push(mine);
  try {
    return { result: fn(), mine };
  } catch (e) {
    for (const t of mine) t.dispose();
    throw e;
  } finally {
    stack.pop();
  }
}

/** Disposes what `mine` holds except `kept`, which moves to the enclosing scope. */
function close(mine: Set<Tracked>, kept: Set<Tracked>): void {
  const parent = stack[stack.length - 1];
  for (const t of mine) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
}

/**
 * Runs fn and disposes every tensor it made except those in its result (tensors, or arrays, Maps and
 * plain objects holding them). The outermost scope is a step: its end submits the recorded work.
 */
export function scope<T>(fn: () => T): T {
  const { result, mine } = within(fn);
  if (result instanceof Promise) {
    close(mine, new Set());
    throw new WgslgradError('scope', 'got a function that returned a Promise; scope takes a synchronous function (await outside it)');
  }
  const kept = collect(result, (x): x is Tracked => mine.has(x as Tracked));
  close(mine, kept);
  if (stack.length === 0) flush();
  return result;
}

/**
 * @internal The scope a backward rule runs in: whatever the rule makes is disposed when it returns,
 * except the tensors of its result that `keepOf` picks. Submits nothing.
 */
export function ruleScope<T>(fn: () => T, keepOf: (result: T) => Iterable<unknown>): T {
  const { result, mine } = within(fn);
  const kept = new Set<Tracked>();
  for (const t of keepOf(result)) if (mine.has(t as Tracked)) kept.add(t as Tracked);
  close(mine, kept);
  return result;
}
