// CPU reference of src/ops/argmax.ts (float64): the value and the first index along a dim.
import { type CpuTensor, cpuStrides } from './tensor.js';

function reduce(x: CpuTensor, dim: number | undefined, keepDim: boolean, pick: (a: number, b: number) => boolean, want: 'value' | 'index'): CpuTensor {
  const shape = dim === undefined ? [x.data.length] : x.shape;
  const d = dim === undefined ? 0 : dim < 0 ? dim + x.shape.length : dim;
  const D = shape[d]!;
  const st = cpuStrides(shape)[d]!;
  const out: number[] = [];
  for (let base = 0; base < x.data.length; base++) {
    if (Math.floor(base / st) % D !== 0) continue;
    let best = x.data[base]!;
    let at = 0;
    for (let k = 1; k < D; k++) {
      const v = x.data[base + k * st]!;
      if ((Number.isNaN(v) && !Number.isNaN(best)) || pick(v, best)) {
        best = v;
        at = k;
      }
    }
    out.push(want === 'value' ? best : at);
  }
  const outShape = dim === undefined ? (keepDim ? x.shape.map(() => 1) : []) : x.shape.map((s, i) => (i === d ? 1 : s)).filter((_, i) => keepDim || i !== d);
  return { shape: outShape, data: Float64Array.from(out) };
}

/** Float64 reference of wg.max. */
export const max = (x: CpuTensor, dim?: number, keepDim = false) => reduce(x, dim, keepDim, (a, b) => a > b, 'value');
/** Float64 reference of wg.min. */
export const min = (x: CpuTensor, dim?: number, keepDim = false) => reduce(x, dim, keepDim, (a, b) => a < b, 'value');
/** Float64 reference of wg.argmax (the first index of the largest value). */
export const argmax = (x: CpuTensor, dim?: number, keepDim = false) => reduce(x, dim, keepDim, (a, b) => a > b, 'index');
/** Float64 reference of wg.argmin. */
export const argmin = (x: CpuTensor, dim?: number, keepDim = false) => reduce(x, dim, keepDim, (a, b) => a < b, 'index');
