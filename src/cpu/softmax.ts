// CPU reference of src/ops/softmax.ts (float64).
import { type CpuTensor, cpuStrides } from './tensor.js';

function along(x: CpuTensor, dim: number, f: (row: number[]) => number[]): CpuTensor {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const D = x.shape[d]!;
  const st = cpuStrides(x.shape)[d]!;
  const out = new Float64Array(x.data.length);
  for (let base = 0; base < x.data.length; base++) {
    // the first element of each row: its index along `dim` is 0
    if (Math.floor(base / st) % D !== 0) continue;
    const row = Array.from({ length: D }, (_, k) => x.data[base + k * st]!);
    f(row).forEach((v, k) => (out[base + k * st] = v));
  }
  return { shape: [...x.shape], data: out };
}

/** Float64 reference of wg.softmax. */
export function softmax(x: CpuTensor, dim = -1): CpuTensor {
  return along(x, dim, (row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

/** Float64 reference of wg.logSoftmax. */
export function logSoftmax(x: CpuTensor, dim = -1): CpuTensor {
  return along(x, dim, (row) => {
    const m = Math.max(...row);
    const ls = Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    return row.map((v) => v - m - ls);
  });
}
