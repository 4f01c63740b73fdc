import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { KERNEL_LIMITS } from '../src/gpu/limits.js';
import * as wg from '../src/index.js';

describe('device layer', () => {
  test('init reports the adapter, its backend and whether it is software', async () => {
    const info = await wg.init();
    expect(['vulkan', 'opengles', 'metal', 'd3d12']).toContain(info.backend);
    expect(typeof info.software).toBe('boolean');
    expect(info.adapter.description.length + info.adapter.device.length).toBeGreaterThan(0);
    if (/llvmpipe|lavapipe/i.test(info.adapter.description + info.adapter.device)) expect(info.software).toBe(true);
    expect(process.env.XDG_RUNTIME_DIR).toBeTruthy();
    expect(Array.from(await wg.ones([3]).add(1).toArray())).toEqual([2, 2, 2]);
  });
  test('init accepts an existing GPUDevice with its GPU object, on the backend the library picked', async () => {
    const own = await wg.init();
    const { create } = (await import('webgpu')) as unknown as { create: (f: string[]) => GPU };
    // the same backend as the library's own device (a machine without Vulkan has only OpenGL ES)
    const gles = own.backend === 'opengles';
    const gpu = create(gles ? ['backend=opengles'] : []);
    const adapter = await gpu.requestAdapter(gles ? ({ featureLevel: 'compatibility' } as GPURequestAdapterOptions) : {});
    expect(adapter, `an adapter on ${own.backend}`).not.toBeNull();
    // compatibility mode's defaults are below what the kernels need: ask for those (init names any missing)
    const device = await adapter!.requestDevice(gles ? { requiredLimits: { ...KERNEL_LIMITS } } : {});
    const info = await wg.init({ device, gpu });
    expect(info.backend).toBe('external');
    expect(await wg.tensor([2, 3]).mul(2).sum().item()).toBe(10);
    await wg.init(); // back to the library's own device for the other tests in this file
  });
  test('an uncaptured GPU validation error surfaces as a WgslgradError at the next readback, not a hang', async () => {
    await wg.init();
    const { gpuState } = await import('../src/gpu/device.js');
    const d = gpuState().device;
    d.createBuffer({ size: 16, usage: 0xffff }); // invalid usage flags: a validation error Dawn reports asynchronously
    // surfaces at the next dispatch (synchronously) or readback (as a rejection), whichever comes first
    await expect((async () => wg.ones([2]).toArray())()).rejects.toThrow(/gpu: .*WGPUBufferUsage/);
    expect(Array.from(await wg.ones([2]).toArray())).toEqual([1, 1]); // reported once, the device is still usable
  });
  test('a program using the built package exits by itself when done', () => {
    expect(existsSync('dist/index.js'), 'npm test builds dist/ first').toBe(true);
    const script = "import('./dist/index.js').then(async (wg) => { await wg.init(); console.log(await wg.ones([4]).sum().item()); })";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 240_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('4');
  });
  test('profileKernels: GPU time per kernel from timestamp queries, the work still done', async (ctx) => {
    const own = await wg.init();
    if (!own.features.includes('timestamp-query'))
      ctx.skip('this adapter has no timestamp queries: profileKernels returns null (test/capture.test.ts checks that the work is done)');
    const a = wg.keep(wg.ones([64, 32])),
      b = wg.keep(wg.ones([32, 16]));
    let c: wg.Tensor | null = null;
    const k = await wg.profileKernels(() => {
      c = wg.keep(wg.relu(wg.matmul(a, b)));
    });
    expect(k).not.toBeNull();
    // the vec4 kernels on software adapters (main4, act4), the scalar ones elsewhere
    expect(k!.map((e) => e.kernel).sort()).toEqual([
      expect.stringMatching(/^(activation\.act|software\/activation4\.act4)$/),
      expect.stringMatching(/^(matmul\.main|software\/matmul4\.main4)$/),
    ]);
    for (const e of k!) {
      expect(e.count).toBe(1);
      expect(e.ms).toBeGreaterThanOrEqual(0);
    }
    expect(Array.from(await c!.toArray()).every((v) => v === 32)).toBe(true);
    // outside a profile, dispatches share a pass again and nothing is timed
    expect(Array.from(await wg.matmul(a, b).toArray())[0]).toBe(32);
  });
  test("waiting on a software adapter throttles Dawn's polling and restores setImmediate after overlapping waits", async () => {
    const info = await wg.init();
    const native = globalThis.setImmediate;
    const xs = [1, 2, 3].map((v) => wg.full([1000], v));
    let during: typeof setImmediate | null = null;
    const reads = Promise.all(xs.map((x) => x.toArray()));
    during = globalThis.setImmediate; // the readbacks are waiting now
    const got = await reads;
    expect(got.map((a) => a[999])).toEqual([1, 2, 3]);
    if (info.software) expect(during).not.toBe(native);
    expect(globalThis.setImmediate).toBe(native);
    await wg.sync();
    expect(globalThis.setImmediate).toBe(native);
  });
  test("user code's setImmediate is never delayed while the library waits on the GPU", async (ctx) => {
    await wg.init();
    const a = wg.randn([256, 256], { seed: 1 });
    let c = a;
    for (let i = 0; i < 8; i++) c = wg.matmul(c, a).mul(1 / 16);
    const read = c.toArray(); // waiting now
    // a callback given to setImmediate meanwhile runs as an immediate, not through a timer
    const kinds = await new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      const h = globalThis.setImmediate(() => resolve(seen));
      seen.push(h.constructor.name);
    });
    expect(kinds).toEqual(['Immediate']);
    // and so does every link of a chain of 200 (none goes through the 1 ms timer Dawn's tick takes)
    const handles = new Set<string>();
    let waiting = true;
    void read.then(() => {
      waiting = false;
    });
    let duringWait = 0;
    await new Promise<void>((resolve) => {
      let n = 0;
      const step = () => {
        if (waiting) duringWait++;
        if (++n === 200) return resolve();
        handles.add(setImmediate(step).constructor.name);
      };
      handles.add(setImmediate(step).constructor.name);
    });
    await read;
    expect([...handles]).toEqual(['Immediate']);
    // on a fast GPU the readback may end before the chain does anything: nothing more to check
    if (duringWait === 0) ctx.skip('the readback ended before the chain began (a fast adapter): the wait was not exercised');
  });
});
