// CPU reference of src/ops/elementwise.ts (float64).
import { type CpuTensor, cpuSize, cpuStrides, unravel } from './tensor.js';

function bshape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cpu: ${a} and ${b} do not broadcast`);
    return da === 1 ? db : da;
  });
}

function at(t: CpuTensor, idx: number[]): number {
  const st = cpuStrides(t.shape);
  const off = idx.length - t.shape.length;
  let o = 0;
  for (let d = 0; d < t.shape.length; d++) o += (t.shape[d] === 1 ? 0 : idx[d + off]!) * st[d]!;
  return t.data[o]!;
}

function binary(a: CpuTensor | number, b: CpuTensor | number, f: (x: number, y: number) => number): CpuTensor {
  const A = typeof a === 'number' ? { shape: [], data: Float64Array.of(a) } : a;
  const B = typeof b === 'number' ? { shape: [], data: Float64Array.of(b) } : b;
  const shape = bshape(A.shape, B.shape);
  const out = new Float64Array(cpuSize(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = f(at(A, idx), at(B, idx));
  }
  return { shape, data: out };
}

/** x with f applied to every value. */
export function unaryMap(x: CpuTensor, f: (v: number) => number): CpuTensor {
  return { shape: [...x.shape], data: x.data.map(f) };
}

/** Float64 reference of wg.add (with broadcasting). */
export const add = (a: CpuTensor | number, b: CpuTensor | number) => binary(a, b, (x, y) => x + y);
/** Float64 reference of wg.sub. */
export const sub = (a: CpuTensor | number, b: CpuTensor | number) => binary(a, b, (x, y) => x - y);
/** Float64 reference of wg.mul. */
export const mul = (a: CpuTensor | number, b: CpuTensor | number) => binary(a, b, (x, y) => x * y);
/** Float64 reference of wg.div. */
export const div = (a: CpuTensor | number, b: CpuTensor | number) => binary(a, b, (x, y) => x / y);
/** Float64 reference of wg.neg. */
export const neg = (x: CpuTensor) => unaryMap(x, (v) => -v);
/** Float64 reference of wg.exp. */
export const exp = (x: CpuTensor) => unaryMap(x, Math.exp);
/** Float64 reference of wg.log. */
export const log = (x: CpuTensor) => unaryMap(x, Math.log);
/** Float64 reference of wg.sqrt. */
export const sqrt = (x: CpuTensor) => unaryMap(x, Math.sqrt);
/** Float64 reference of wg.square. */
export const square = (x: CpuTensor) => unaryMap(x, (v) => v * v);
/** Float64 reference of wg.abs. */
export const abs = (x: CpuTensor) => unaryMap(x, Math.abs);
/** Float64 reference of wg.pow. */
export const pow = (x: CpuTensor, e: number) => unaryMap(x, (v) => v ** e);
/** Float64 reference of wg.clamp. */
export const clamp = (x: CpuTensor, min?: number | null, max?: number | null) =>
  unaryMap(x, (v) => Math.min(Math.max(v, min ?? Number.NEGATIVE_INFINITY), max ?? Number.POSITIVE_INFINITY));

/** cond ? a : b with broadcasting over all three. */
export function where(cond: CpuTensor, a: CpuTensor | number, b: CpuTensor | number): CpuTensor {
  const A = typeof a === 'number' ? { shape: [], data: Float64Array.of(a) } : a;
  const B = typeof b === 'number' ? { shape: [], data: Float64Array.of(b) } : b;
  const shape = bshape(bshape(A.shape, B.shape), cond.shape);
  const out = new Float64Array(cpuSize(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = at(cond, idx) !== 0 ? at(A, idx) : at(B, idx);
  }
  return { shape, data: out };
}

/** Float64 reference of wg.maskedFill. */
export const maskedFill = (x: CpuTensor, mask: CpuTensor, value: number) => where(mask, value, x);
