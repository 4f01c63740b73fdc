// CPU reference of src/ops/cross_entropy.ts (float64).
import type { CpuTensor } from './tensor.js';

export function crossEntropy(logits: CpuTensor, targets: CpuTensor): CpuTensor {
  const [N, C] = logits.shape as [number, number];
  let s = 0;
  for (let n = 0; n < N; n++) {
    const t = targets.data[n]!;
    if (!Number.isInteger(t) || t < 0 || t >= C) return { shape: [], data: Float64Array.of(NaN) };
    const row = logits.data.subarray(n * C, (n + 1) * C);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    s += lse - row[t]!;
  }
  return { shape: [], data: Float64Array.of(s / N) };
}
