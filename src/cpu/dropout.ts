// CPU reference of src/ops/dropout.ts: the same stream decides which elements are kept.
import { rndU32 } from './creation.js';
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.dropout for a stream key: the same mask as the GPU's. */
export function dropout(x: CpuTensor, p: number, key: [number, number], training = true): CpuTensor {
  if (!training || p === 0) return { shape: [...x.shape], data: x.data.slice() };
  return { shape: [...x.shape], data: x.data.map((v, i) => ((rndU32(key[0], key[1], i) >>> 8) / 16777216 >= p ? v / (1 - p) : 0)) };
}
