// CPU reference of src/ops/pool.ts (float64).
import { type Pair, pair } from '../args.js';
import type { CpuTensor } from './tensor.js';

function pool(x: CpuTensor, kernelSize: Pair, opts: { stride?: Pair; padding?: Pair; countIncludePad?: boolean }, kind: 'max' | 'avg'): CpuTensor {
  const [KH, KW] = pair('pool', 'kernelSize', kernelSize, 1, 1);
  const [SH, SW] = pair('pool', 'stride', opts.stride ?? [KH, KW], 1, 1);
  const [PH, PW] = pair('pool', 'padding', opts.padding, 0, 0);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * PH - KH) / SH) + 1;
  const OW = Math.floor((W + 2 * PW - KW) / SW) + 1;
  const out = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best = Number.NEGATIVE_INFINITY;
        let sum = 0;
        let count = 0;
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const h = oh * SH - PH + kh;
            const w = ow * SW - PW + kw;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const v = x.data[(p * H + h) * W + w]!;
            best = Number.isNaN(v) || v > best ? v : best;
            sum += v;
            count++;
          }
        out[(p * OH + oh) * OW + ow] = kind === 'max' ? best : sum / ((opts.countIncludePad ?? true) ? KH * KW : count);
      }
  return { shape: [N, C, OH, OW], data: out };
}

/** Float64 reference of wg.maxPool2d. */
export const maxPool2d = (x: CpuTensor, kernelSize: Pair, opts: { stride?: Pair; padding?: Pair } = {}) => pool(x, kernelSize, opts, 'max');
/** Float64 reference of wg.avgPool2d. */
export const avgPool2d = (x: CpuTensor, kernelSize: Pair, opts: { stride?: Pair; padding?: Pair; countIncludePad?: boolean } = {}) =>
  pool(x, kernelSize, opts, 'avg');
