// CPU reference of src/ops/embedding.ts.
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.embedding. */
export function embedding(indices: CpuTensor, table: CpuTensor): CpuTensor {
  const [V, D] = table.shape as [number, number];
  const out = new Float64Array(indices.data.length * D);
  indices.data.forEach((f, i) => {
    const ok = Number.isInteger(f) && f >= 0 && f < V;
    for (let d = 0; d < D; d++) out[i * D + d] = ok ? table.data[f * D + d]! : NaN;
  });
  return { shape: [...indices.shape, D], data: out };
}
