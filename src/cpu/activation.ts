// CPU reference of src/ops/activation.ts (float64).
import { unaryMap } from './elementwise.js';
import type { CpuTensor } from './tensor.js';

export const relu = (x: CpuTensor) => unaryMap(x, (v) => Math.max(v, 0));
export const leakyRelu = (x: CpuTensor, slope = 0.01) => unaryMap(x, (v) => (v > 0 ? v : v * slope));
export const tanh = (x: CpuTensor) => unaryMap(x, Math.tanh);
export const sigmoid = (x: CpuTensor) => unaryMap(x, (v) => 1 / (1 + Math.exp(-v)));
