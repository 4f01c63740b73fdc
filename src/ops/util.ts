import { fmtShape, WgslgradError } from '../errors.js';
import { type Shape, Tensor } from '../tensor.js';

export function assertTensor(op: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new WgslgradError(op, `${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
}

export { MAX_DIMS } from '../gpu/layouts.js';

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** NumPy/PyTorch broadcasting of two shapes; throws naming the op when they do not broadcast. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new WgslgradError(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides to read `shape` (right-aligned) as if it had shape `out`: 0 on broadcast dims. */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const st = stridesOf(shape);
  const off = out.length - shape.length;
  return out.map((_d, i) => (i < off || shape[i - off] === 1 ? 0 : st[i - off]!));
}

/** Normalises dims (negative allowed) for a tensor of rank `nd`; undefined means all dims. */
export function normDims(op: string, dims: number | readonly number[] | undefined, nd: number): number[] {
  if (dims === undefined) return Array.from({ length: nd }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : [...dims];
  const out: number[] = [];
  for (const d of list) {
    if (!Number.isInteger(d) || d < -nd || d >= Math.max(nd, 1))
      throw new WgslgradError(op, `dim ${d} out of range for a tensor of rank ${nd} (expected ${-nd}..${nd - 1})`);
    const p = d < 0 ? d + nd : d;
    if (out.includes(p)) throw new WgslgradError(op, `dim ${d} given twice in ${JSON.stringify(list)}`);
    out.push(p);
  }
  return out.sort((x, y) => x - y);
}

export function normDim(op: string, d: number, nd: number): number {
  return normDims(op, d, nd)[0]!;
}

/**
 * Merges dims for a strided gather: drops size-1 dims and joins neighbours whose strides chain.
 * Returns sizes and strides, innermost last, padded to at least one dim.
 */
export function compactDims(sizes: readonly number[], strides: readonly number[]): { sizes: number[]; strides: number[] } {
  const s: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < sizes.length; i++) {
    if (sizes[i] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && t[last] === strides[i]! * sizes[i]!) {
      s[last] = s[last]! * sizes[i]!;
      t[last] = strides[i]!;
    } else {
      s.push(sizes[i]!);
      t.push(strides[i]!);
    }
  }
  if (s.length === 0) return { sizes: [1], strides: [0] };
  return { sizes: s, strides: t };
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
