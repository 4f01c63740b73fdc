// CPU reference of src/ops/layernorm.ts (float64).
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.layerNorm. */
export function layerNorm(
  x: CpuTensor,
  normalizedShape: number | number[],
  weight?: CpuTensor | null,
  bias?: CpuTensor | null,
  opts: { eps?: number } = {},
): CpuTensor {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  const D = ns.reduce((a, b) => a * b, 1);
  const eps = opts.eps ?? 1e-5;
  const out = new Float64Array(x.data.length);
  for (let base = 0; base < x.data.length; base += D) {
    let m = 0;
    for (let d = 0; d < D; d++) m += x.data[base + d]!;
    m /= D;
    let v = 0;
    for (let d = 0; d < D; d++) v += (x.data[base + d]! - m) ** 2;
    const rstd = 1 / Math.sqrt(v / D + eps);
    for (let d = 0; d < D; d++) {
      const xh = (x.data[base + d]! - m) * rstd;
      out[base + d] = weight ? xh * weight.data[d]! + bias!.data[d]! : xh;
    }
  }
  return { shape: [...x.shape], data: out };
}
