// CPU reference of src/ops/attention.ts (float64): the scores, a causal mask, softmax, then V.
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.scaledDotProductAttention: the scores, softmax and product written out. */
export function scaledDotProductAttention(q: CpuTensor, k: CpuTensor, v: CpuTensor, opts: { causal?: boolean; scale?: number } = {}): CpuTensor {
  const [TQ, D] = q.shape.slice(-2) as [number, number];
  const [TK] = k.shape.slice(-2) as [number];
  const DV = v.shape.at(-1)!;
  const BH = q.data.length / (TQ * D);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const out = new Float64Array(BH * TQ * DV);
  for (let h = 0; h < BH; h++)
    for (let i = 0; i < TQ; i++) {
      const s: number[] = [];
      for (let j = 0; j < TK; j++) {
        if (opts.causal && j > i) break;
        let d = 0;
        for (let c = 0; c < D; c++) d += q.data[(h * TQ + i) * D + c]! * k.data[(h * TK + j) * D + c]!;
        s.push(d * scale);
      }
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < DV; c++) out[(h * TQ + i) * DV + c] = e.reduce((a, p, j) => a + (p / z) * v.data[(h * TK + j) * DV + c]!, 0);
    }
  return { shape: [...q.shape.slice(0, -1), DV], data: out };
}
