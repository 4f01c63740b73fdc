// CPU reference of src/ops/creation.ts: the same counter-based hash as shaders/creation.wgsl, so a
// seeded rand() is bit-identical and randn() equal up to transcendental rounding.
import { type CpuTensor, cpuSize } from './tensor.js';

/** The PCG hash of a 32-bit integer (shaders/creation.wgsl's). */
export function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The random 32-bit integer of element i of the stream with key (k0, k1), as the GPU draws it. */
export function rndU32(k0: number, k1: number, i: number): number {
  return pcg((pcg((pcg(k0) ^ k1) >>> 0) ^ i) >>> 0);
}

const unit = (k0: number, k1: number, i: number): number => (rndU32(k0, k1, i) >>> 8) / 16777216;

/** Float64 reference of wg.full. */
export function full(shape: number[], value: number): CpuTensor {
  return { shape: [...shape], data: new Float64Array(cpuSize(shape)).fill(value) };
}

/** Float64 reference of wg.rand for a stream key: the same numbers bit for bit. */
export function rand(shape: number[], key: [number, number], low = 0, high = 1): CpuTensor {
  const n = cpuSize(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = low + (high - low) * unit(key[0], key[1], i);
  return { shape: [...shape], data };
}

/** Float64 reference of wg.randn for a stream key (Box–Muller on the same uniforms). */
export function randn(shape: number[], key: [number, number], mean = 0, std = 1): CpuTensor {
  const n = cpuSize(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u1 = 1 - unit(key[0], key[1], 2 * i);
    const u2 = unit(key[0], key[1], 2 * i + 1);
    data[i] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return { shape: [...shape], data };
}
