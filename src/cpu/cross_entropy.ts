// CPU reference of src/ops/cross_entropy.ts (float64).
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.crossEntropy (class indices or probabilities, ignoreIndex, labelSmoothing, reductions). */
export function crossEntropy(
  input: CpuTensor,
  target: CpuTensor,
  opts: { ignoreIndex?: number; labelSmoothing?: number; reduction?: 'mean' | 'sum' | 'none' } = {},
): CpuTensor {
  const [N, C] = input.shape as [number, number];
  const S = input.shape.slice(2).reduce((a, b) => a * b, 1);
  const probs = target.shape.length === input.shape.length;
  const eps = opts.labelSmoothing ?? 0;
  const ignore = opts.ignoreIndex ?? -100;
  const at = (r: number, c: number) => (Math.floor(r / S) * C + c) * S + (r % S);
  const losses: number[] = [];
  let total = 0;
  let count = 0;
  for (let r = 0; r < N * S; r++) {
    const row = Array.from({ length: C }, (_, c) => input.data[at(r, c)]!);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    let l: number;
    if (probs) {
      l = row.reduce((a, v, c) => a + ((1 - eps) * target.data[at(r, c)]! + eps / C) * (lse - v), 0);
      count++;
    } else {
      const t = target.data[r]!;
      if (t === ignore) {
        losses.push(0);
        continue;
      }
      count++;
      if (!Number.isInteger(t) || t < 0 || t >= C) l = Number.NaN;
      else l = lse - (1 - eps) * row[t]! - (eps * row.reduce((a, v) => a + v, 0)) / C;
    }
    losses.push(l);
    total += l;
  }
  if (opts.reduction === 'none') return { shape: [N, ...input.shape.slice(2)], data: Float64Array.from(losses) };
  return { shape: [], data: Float64Array.of(opts.reduction === 'sum' ? total : total / count) };
}
