// CPU reference of src/ops/matmul.ts (float64 accumulation).
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.matmul (2-D, or batched 3-D). */
export function matmul(a: CpuTensor, b: CpuTensor): CpuTensor {
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape[b.shape.length - 1]!;
  const ba = a.shape.length === 3 ? a.shape[0]! : 1;
  const bb = b.shape.length === 3 ? b.shape[0]! : 1;
  const batch = Math.max(ba, bb);
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ao = ba === 1 ? 0 : z * M * K;
    const bo = bb === 1 ? 0 : z * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ao + m * K + k]! * b.data[bo + k * N + n]!;
        out[z * M * N + m * N + n] = s;
      }
    }
  }
  const shape = a.shape.length === 3 || b.shape.length === 3 ? [batch, M, N] : [M, N];
  return { shape, data: out };
}

/** Float64 reference of wg.linear: x·wᵀ + b. */
export function linear(x: CpuTensor, w: CpuTensor, b?: CpuTensor | null): CpuTensor {
  const [outF, inF] = w.shape as [number, number];
  const rows = x.data.length / inF;
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b.data[o]! : 0;
      for (let k = 0; k < inF; k++) s += x.data[r * inF + k]! * w.data[o * inF + k]!;
      out[r * outF + o] = s;
    }
  }
  return { shape: [...x.shape.slice(0, -1), outF], data: out };
}
