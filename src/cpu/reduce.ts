// CPU reference of src/ops/reduce.ts (float64).
import { type CpuTensor, cpuSize, unravel } from './tensor.js';

function norm(dims: number | number[] | undefined, nd: number): number[] {
  if (dims === undefined) return Array.from({ length: nd }, (_, i) => i);
  return (typeof dims === 'number' ? [dims] : dims).map((d) => (d < 0 ? d + nd : d));
}

/** Float64 reference of wg.sum. */
export function sum(x: CpuTensor, dims?: number | number[], keepDim = false): CpuTensor {
  const ds = norm(dims, x.shape.length);
  const keptShape = x.shape.map((d, i) => (ds.includes(i) ? 1 : d));
  const out = new Float64Array(cpuSize(keptShape));
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    let o = 0;
    for (let d = 0; d < idx.length; d++) o = o * keptShape[d]! + (ds.includes(d) ? 0 : idx[d]!);
    out[o]! += x.data[i]!;
  }
  return { shape: keepDim ? keptShape : x.shape.filter((_, i) => !ds.includes(i)), data: out };
}

/** Float64 reference of wg.mean. */
export function mean(x: CpuTensor, dims?: number | number[], keepDim = false): CpuTensor {
  const s = sum(x, dims, keepDim);
  const R = x.data.length / Math.max(1, s.data.length);
  return { shape: s.shape, data: s.data.map((v) => v / R) };
}
