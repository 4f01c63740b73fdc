// Normalisers of op and layer arguments, shared by the ops, the layers and the CPU references.
import { WgslgradError } from './errors.js';

/** A size given as one integer or a [h, w] pair (stride, padding, kernel size), each ≥ min. */
export type Pair = number | [number, number];

/** `v` as a [h, w] pair (`dflt` when undefined); throws naming the op and argument unless both are integers ≥ min. */
export function pair(op: string, name: string, v: Pair | undefined, dflt: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new WgslgradError(op, `${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}
