// CPU reference of src/ops/activation.ts (float64).
import { unaryMap } from './elementwise.js';
import type { CpuTensor } from './tensor.js';

/** Float64 reference of wg.relu. */
export const relu = (x: CpuTensor) => unaryMap(x, (v) => Math.max(v, 0));
/** Float64 reference of wg.leakyRelu. */
export const leakyRelu = (x: CpuTensor, slope = 0.01) => unaryMap(x, (v) => (v > 0 ? v : v * slope));
/** Float64 reference of wg.tanh. */
export const tanh = (x: CpuTensor) => unaryMap(x, Math.tanh);
/** Float64 reference of wg.sigmoid. */
export const sigmoid = (x: CpuTensor) => unaryMap(x, (v) => 1 / (1 + Math.exp(-v)));

/** erf to float64 precision (Abramowitz–Stegun 7.1.26 is too coarse for a reference: a series and a continued fraction). */
export function erf(x: number): number {
  const z = Math.abs(x);
  let r: number;
  if (z < 2.5) {
    // Taylor series: erf z = 2/√π Σ (−1)^n z^(2n+1) / (n! (2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 100; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc z by its continued fraction (Lentz), accurate far from 0
    let f = z;
    let C = z;
    let D = 0;
    for (let n = 1; n < 200; n++) {
      const a = n / 2;
      D = z + a * D;
      D = D === 0 ? 1e-300 : 1 / D;
      C = z + a / C;
      const delta = C * D;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = 1 - Math.exp(-z * z) / (f * Math.sqrt(Math.PI));
  }
  return x < 0 ? -r : r;
}

/** Float64 reference of wg.gelu (erf, or the tanh approximation). */
export const gelu = (x: CpuTensor, opts: { approximate?: 'none' | 'tanh' } = {}) =>
  unaryMap(x, (v) =>
    opts.approximate === 'tanh' ? 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))) : 0.5 * v * (1 + erf(v / Math.SQRT2)),
  );
/** Float64 reference of wg.silu. */
export const silu = (x: CpuTensor) => unaryMap(x, (v) => v / (1 + Math.exp(-v)));
