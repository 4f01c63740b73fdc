// The only file of the device layer that touches Node: it loads Dawn's bindings (npm `webgpu`)
// and prepares the environment Dawn needs on a headless machine. Imported dynamically by
// device.ts, so browser bundles never reach it.
import { mkdtempSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function nodeGpu(backend: 'default' | 'vulkan' | 'opengles' | 'd3d12' | 'metal'): Promise<GPU> {
  if (!process.env.XDG_RUNTIME_DIR) {
    // Dawn's Vulkan/EGL loaders want a private runtime directory; make one when the session has none.
    const dir = mkdtempSync(join(tmpdir(), 'wgslgrad-xdg-'));
    chmodSync(dir, 0o700);
    process.env.XDG_RUNTIME_DIR = dir;
  } else {
    try { mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 }); } catch { /* exists */ }
  }
  if (backend === 'opengles' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  const mod = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  // Dawn's GPUBufferUsage & co. as globals, as a browser has them.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return mod.create(backend === 'default' ? [] : [`backend=${backend}`]);
}

export const isNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node;
