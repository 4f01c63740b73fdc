// CPU reference of src/ops/bce.ts (float64).
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.bceWithLogits (the mean). */
export function bceWithLogits(x: CpuTensor, y: CpuTensor): CpuTensor {
  let s = 0;
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    s += Math.max(v, 0) - v * y.data[i]! + Math.log1p(Math.exp(-Math.abs(v)));
  }
  return { shape: [], data: Float64Array.of(s / x.data.length) };
}

/** Float64 reference of wg.bce (the mean, log clamped at −100 as PyTorch's). */
export function bce(p: CpuTensor, y: CpuTensor): CpuTensor {
  let s = 0;
  for (let i = 0; i < p.data.length; i++) {
    const v = p.data[i]!;
    if (!(v >= 0 && v <= 1)) return { shape: [], data: Float64Array.of(NaN) };
    s += -(y.data[i]! * Math.max(Math.log(v), -100) + (1 - y.data[i]!) * Math.max(Math.log(1 - v), -100));
  }
  return { shape: [], data: Float64Array.of(s / p.data.length) };
}
