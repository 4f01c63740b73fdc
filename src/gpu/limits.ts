// What wgslgrad's kernels need of a device, in WebGPU's limit names. Every value is at or below
// WebGPU's default (core) limit, so a device made with no required limits runs every kernel;
// compatibility-mode devices (OpenGL ES, D3D11) default lower, so init() asks for these there.
// test/limits.test.ts checks each entry against the kernels: the widest workgroup, the most storage
// buffers one entry point binds, the most workgroup memory one uses.
import { WgslgradError } from '../errors.js';

/** What the kernels need of a device, by WebGPU limit name (init() requests these and refuses a device short of one). */
export const KERNEL_LIMITS = {
  /** batchnorm.wgsl's training kernels bind 8 storage buffers (input, γ, β, output, saved statistics, running mean, running variance, batch count) */
  maxStorageBuffersPerShaderStage: 8,
  /** the parameter block (binding 0) and up to 8 storage buffers */
  maxBindingsPerBindGroup: 9,
  /** matmul_tiled.wgsl's two tiles of 2048 floats */
  maxComputeWorkgroupStorageSize: 16384,
  /** the 256-lane kernels (elementwise, reductions, batchnorm on GPUs) */
  maxComputeInvocationsPerWorkgroup: 256,
  /** the same 256-lane kernels, laid out along x */
  maxComputeWorkgroupSizeX: 256,
  /** matmul_tiled.wgsl's 16 × 16 lanes; the planner's blocks of WGY rows of lanes */
  maxComputeWorkgroupSizeY: 16,
  /** one dispatch's parameter block (shaders/common.wgsl) */
  maxUniformBufferBindingSize: 256,
  /** the planner's MAX_GROUPS_PER_DIM */
  maxComputeWorkgroupsPerDimension: 65535,
} as const;

/** The name of a WebGPU limit the kernels need (maxComputeWorkgroupStorageSize, …). */
export type KernelLimit = keyof typeof KERNEL_LIMITS;

/** The device limits that wgslgrad reads: the ones its kernels need, and the two that bound a tensor's size. */
export type DeviceLimits = Readonly<Record<KernelLimit | 'maxStorageBufferBindingSize' | 'maxBufferSize', number>>;

/** The limits of `l` (a device's or an adapter's) that wgslgrad reads. */
export function limitsOf(l: GPUSupportedLimits): DeviceLimits {
  const out: Record<string, number> = {};
  for (const k of [...Object.keys(KERNEL_LIMITS), 'maxStorageBufferBindingSize', 'maxBufferSize']) out[k] = Number(l[k as keyof GPUSupportedLimits]);
  return out as DeviceLimits;
}

/** The kernel limits `l` falls short of, as "name is X, the kernels need Y" phrases. */
export function shortfalls(l: GPUSupportedLimits): string[] {
  const out: string[] = [];
  for (const [k, need] of Object.entries(KERNEL_LIMITS)) {
    const have = Number(l[k as keyof GPUSupportedLimits]);
    if (!(have >= need)) out.push(`${k} is ${have}, the kernels need ${need}`);
  }
  return out;
}

/**
 * The limits to request of an adapter: the kernels' needs where its defaults fall short of them
 * (compatibility mode), and the largest buffers it allows (they bound a tensor's size). Throws,
 * naming the limits, where the adapter cannot give what the kernels need.
 */
export function limitsToRequest(adapter: GPUAdapter, name: string): Record<string, number> {
  const short = shortfalls(adapter.limits);
  if (short.length) throw new WgslgradError('init', `the ${name} adapter cannot run wgslgrad's kernels: ${short.join('; ')}`);
  return {
    ...KERNEL_LIMITS,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
}
