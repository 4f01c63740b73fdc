// What a device must allow (src/gpu/limits.ts), what init asks for and reports, and that it refuses
// a device it cannot run on by naming the limit. The first test names the adapter of this run (the
// adapter matrix, scripts/test-adapters.mjs, reads it from the report).
import { describe, expect, test } from 'vitest';
import { KERNEL_LIMITS } from '../src/gpu/limits.js';
import { type DeviceFacts, gemmBlock } from '../src/gpu/planner.js';
import { defaultTuning } from '../src/gpu/tuning.js';
import * as wg from '../src/index.js';
import { configName, initForTests } from './adapter.js';

const info = await initForTests();
const sizes = info.subgroupSizes[0] ? ` ${info.subgroupSizes[0]}–${info.subgroupSizes[1]}-lane subgroups${info.subgroups ? ' shared' : ''}` : '';

describe('device limits', () => {
  test(`adapter: ${info.adapter.description || info.adapter.device} [${info.backend}${sizes}] (${configName()})`, () => {
    // the limits reported are the device's, and cover what the kernels need
    for (const [k, need] of Object.entries(KERNEL_LIMITS)) expect(info.limits[k as keyof typeof KERNEL_LIMITS], k).toBeGreaterThanOrEqual(need);
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect([...info.features].sort()).toEqual(info.features);
    if (info.subgroups) expect(info.features).toContain('subgroups');
  });
  test('every kernel limit is at or below WebGPU’s default, so a device made with no required limits runs the kernels', () => {
    const defaults: Record<keyof typeof KERNEL_LIMITS, number> = {
      maxStorageBuffersPerShaderStage: 8,
      maxBindingsPerBindGroup: 1000,
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256,
      maxComputeWorkgroupSizeY: 256,
      maxUniformBufferBindingSize: 65536,
      maxComputeWorkgroupsPerDimension: 65535,
    };
    for (const [k, v] of Object.entries(KERNEL_LIMITS)) expect(v, k).toBeLessThanOrEqual(defaults[k as keyof typeof defaults]);
  });
  test("the planner's GEMM blocks fit a workgroup on every kind of device", () => {
    const t = defaultTuning();
    for (const b of [t.shared, t.wide, t.wide64, t.plain, t.software, t.convShared, t.convPlain]) {
      expect(b.WGX * b.WGY).toBeLessThanOrEqual(KERNEL_LIMITS.maxComputeInvocationsPerWorkgroup);
      expect(b.WGY).toBeLessThanOrEqual(KERNEL_LIMITS.maxComputeWorkgroupSizeY);
    }
    for (const subgroupMin of [0, 4, 8, 16, 32, 64, 128]) {
      const f: DeviceFacts = { software: false, subgroupShare: subgroupMin >= 8, subgroupMin, minGroups: 1024 };
      const b = gemmBlock(f);
      expect(b.WGX * b.WGY).toBeLessThanOrEqual(256);
    }
  });
  test('init refuses a device that lacks a limit the kernels need, naming it, and one without its GPU object in Node', async () => {
    const limits = { ...info.limits, maxStorageBuffersPerShaderStage: 4, maxComputeInvocationsPerWorkgroup: 128 };
    const fake = { limits, features: new Set<string>(), adapterInfo: undefined } as unknown as GPUDevice;
    await expect(wg.init({ device: fake, gpu: {} as GPU })).rejects.toThrow(
      /maxStorageBuffersPerShaderStage is 4, the kernels need 8; maxComputeInvocationsPerWorkgroup is 128, the kernels need 256/,
    );
    await expect(wg.init({ device: fake })).rejects.toThrow(/pass the GPU object the device came from/);
    // the library still works on the device it had
    expect(Array.from(await wg.ones([3]).add(1).toArray())).toEqual([2, 2, 2]);
  });
});
