// CPU reference of src/ops/batchnorm.ts (float64). Updates runningMean/runningVar in place in training.
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.batchNorm's training-mode forward (batch statistics). */
export function batchNorm(
  x: CpuTensor,
  runningMean: CpuTensor | null,
  runningVar: CpuTensor | null,
  weight: CpuTensor | null,
  bias: CpuTensor | null,
  opts: { training?: boolean; momentum?: number; eps?: number; activation?: 'relu' | 'leakyRelu' | null; slope?: number } = {},
): CpuTensor {
  const [N, C] = x.shape as [number, number];
  const S = x.shape.length === 4 ? x.shape[2]! * x.shape[3]! : 1;
  const training = opts.training ?? true;
  const m = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  const slope = opts.slope ?? 0.01;
  const y = new Float64Array(x.data.length);
  for (let c = 0; c < C; c++) {
    let mean: number;
    let v: number;
    if (training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) s += x.data[(n * C + c) * S + i]!;
      mean = s / (N * S);
      let s2 = 0;
      for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) s2 += (x.data[(n * C + c) * S + i]! - mean) ** 2;
      v = s2 / (N * S);
      if (runningMean) runningMean.data[c] = (1 - m) * runningMean.data[c]! + m * mean;
      if (runningVar) runningVar.data[c] = (1 - m) * runningVar.data[c]! + m * (s2 / (N * S - 1));
    } else {
      mean = runningMean!.data[c]!;
      v = runningVar!.data[c]!;
    }
    const inv = 1 / Math.sqrt(v + eps);
    for (let n = 0; n < N; n++)
      for (let i = 0; i < S; i++) {
        const idx = (n * C + c) * S + i;
        let o = (x.data[idx]! - mean) * inv * (weight ? weight.data[c]! : 1) + (bias ? bias.data[c]! : 0);
        if (opts.activation === 'relu') o = Math.max(o, 0);
        else if (opts.activation === 'leakyRelu') o = o > 0 ? o : o * slope;
        y[idx] = o;
      }
  }
  return { shape: [...x.shape], data: y };
}

/** Gradients of training-mode batchNorm (no activation) for output gradient g: dx, dweight, dbias. */
export function batchNormBackward(
  x: CpuTensor,
  weight: CpuTensor | null,
  g: CpuTensor,
  eps = 1e-5,
): {
  /** the input's gradient */
  dx: CpuTensor;
  /** γ's gradient */
  dw: CpuTensor;
  /** β's gradient */
  db: CpuTensor;
} {
  const [N, C] = x.shape as [number, number];
  const S = x.shape.length === 4 ? x.shape[2]! * x.shape[3]! : 1;
  const M = N * S;
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(C);
  const db = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) mean += x.data[(n * C + c) * S + i]!;
    mean /= M;
    let v = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) v += (x.data[(n * C + c) * S + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / M + eps);
    let sg = 0;
    let sgx = 0;
    for (let n = 0; n < N; n++)
      for (let i = 0; i < S; i++) {
        const idx = (n * C + c) * S + i;
        sg += g.data[idx]!;
        sgx += g.data[idx]! * (x.data[idx]! - mean) * inv;
      }
    db[c] = sg;
    dw[c] = sgx;
    const gamma = weight ? weight.data[c]! : 1;
    for (let n = 0; n < N; n++)
      for (let i = 0; i < S; i++) {
        const idx = (n * C + c) * S + i;
        const xh = (x.data[idx]! - mean) * inv;
        dx[idx] = ((gamma * inv) / M) * (M * g.data[idx]! - sg - xh * sgx);
      }
  }
  return { dx: { shape: [...x.shape], data: dx }, dw: { shape: [C], data: dw }, db: { shape: [C], data: db } };
}
