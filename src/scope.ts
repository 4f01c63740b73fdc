// wg.scope(fn): every tensor made inside fn is disposed when fn returns, except what it returns.
import { WgslgradError } from './errors.js';
import { flush } from './gpu/engine.js';
import type { Tensor } from './tensor.js';

const stack: Array<Set<Tensor>> = [];

export function track(t: Tensor): void {
  stack[stack.length - 1]?.add(t);
}

/** Takes a tensor out of every open scope so it survives them (optimiser state, gradients). */
export function keep<T extends Tensor>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(v: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if ((v as { __isTensor?: boolean }).__isTensor) {
    out.add(v as Tensor);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, out, seen);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, seen);
}

/**
 * Runs fn and disposes every tensor it made except those in its result (tensors, or arrays, Maps and
 * plain objects holding them). The outermost scope is a step: its end submits the recorded work.
 */
export function scope<T>(fn: () => T): T {
  const mine = new Set<Tensor>();
  stack.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of mine) t.dispose();
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    for (const t of mine) t.dispose();
    throw new WgslgradError('scope', 'got a function that returned a Promise; scope takes a synchronous function (await outside it)');
  }
  const kept = new Set<Tensor>();
  collect(result, kept, new Set());
  const parent = stack[stack.length - 1];
  for (const t of mine) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  if (!parent) flush();
  return result;
}
