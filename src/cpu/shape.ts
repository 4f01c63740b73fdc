// CPU reference of src/ops/shape.ts (float64).
import { type CpuTensor, cpuSize, cpuStrides, unravel } from './tensor.js';

export function reshape(x: CpuTensor, shape: number[]): CpuTensor {
  const s = [...shape];
  const i = s.indexOf(-1);
  if (i >= 0) s[i] = x.data.length / s.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return { shape: s, data: x.data.slice() };
}

export function transpose(x: CpuTensor, d0: number, d1: number): CpuTensor {
  const nd = x.shape.length;
  const a = d0 < 0 ? d0 + nd : d0;
  const b = d1 < 0 ? d1 + nd : d1;
  const shape = [...x.shape];
  [shape[a], shape[b]] = [shape[b]!, shape[a]!];
  const st = cpuStrides(x.shape);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    [idx[a], idx[b]] = [idx[b]!, idx[a]!];
    out[i] = x.data[idx.reduce((o, v, d) => o + v * st[d]!, 0)]!;
  }
  return { shape, data: out };
}

export function concat(ts: CpuTensor[], dim = 0): CpuTensor {
  const nd = ts[0]!.shape.length;
  const d = dim < 0 ? dim + nd : dim;
  const shape = [...ts[0]!.shape];
  shape[d] = ts.reduce((a, t) => a + t.shape[d]!, 0);
  const out = new Float64Array(cpuSize(shape));
  const st = cpuStrides(shape);
  let off = 0;
  for (const t of ts) {
    for (let i = 0; i < t.data.length; i++) {
      const idx = unravel(i, t.shape);
      idx[d]! += off;
      out[idx.reduce((o, v, k) => o + v * st[k]!, 0)] = t.data[i]!;
    }
    off += t.shape[d]!;
  }
  return { shape, data: out };
}
