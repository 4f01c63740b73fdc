// A device the caller made, passed to wg.init({ device, gpu }) as the first call in a fresh process
// (test/processes/external-device.mjs): with and without webgpu's globals installed, at the
// adapter's limits and at WebGPU's defaults, each trains 5 steps of every GAN preset with garbage
// collected between steps (the library must keep the GPU object the device came from alive).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { PRESETS } from '../../examples/mnist-gan/presets.js';

const script = 'test/processes/external-device.mjs';

describe('an external device from a cold start', () => {
  for (const globals of [false, true]) {
    for (const defaults of [false, true]) {
      const flags = [...(globals ? ['--globals'] : []), ...(defaults ? ['--default-limits'] : [])];
      test(`init({ device, gpu }) first, ${globals ? 'with' : 'without'} webgpu's globals, ${defaults ? "at WebGPU's default limits" : "at the adapter's limits"}: 5 steps of every preset`, () => {
        expect(existsSync('build/examples/mnist-gan/step.js'), 'npm test builds the examples first (npm run build:examples)').toBe(true);
        const r = spawnSync(process.execPath, ['--expose-gc', script, ...flags], { encoding: 'utf8', timeout: 240_000 });
        expect(r.signal, r.stderr.slice(-2000)).toBeNull();
        expect(r.status, r.stderr.slice(-2000)).toBe(0);
        const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
          refused?: string;
          backend: string;
          limits: Record<string, number>;
          features: string[];
          presets: Record<string, number[][]>;
        };
        if (out.refused) {
          // only where the one adapter is OpenGL ES: compatibility mode's defaults allow 128 lanes a workgroup
          expect(defaults, out.refused).toBe(true);
          expect(out.refused).toMatch(/init: the device given cannot run wgslgrad's kernels: .*maxComputeInvocationsPerWorkgroup is 128, the kernels need 256/);
          return;
        }
        expect(out.backend).toBe('external');
        if (defaults) {
          expect(out.limits.maxStorageBufferBindingSize).toBe(128 * 2 ** 20);
          expect(out.features).not.toContain('subgroups');
        }
        expect(Object.keys(out.presets).sort()).toEqual(Object.keys(PRESETS).sort());
        for (const [preset, losses] of Object.entries(out.presets)) {
          expect(losses, preset).toHaveLength(5);
          for (const [d, g] of losses) {
            expect(Number.isFinite(d) && d > 0, `${preset} D loss ${d}`).toBe(true);
            expect(Number.isFinite(g) && g > 0, `${preset} G loss ${g}`).toBe(true);
          }
        }
      });
    }
  }
});
