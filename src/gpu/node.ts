// The only file of the device layer that touches Node: it loads Dawn's bindings (npm `webgpu`),
// prepares the environment Dawn needs on a headless machine, and slows Dawn's polling while we wait
// on a software adapter. Imported dynamically by device.ts; it imports Node's modules only inside
// nodeGpu (dynamically too), so a browser bundle of the library (Vite, Rollup) builds and loads it
// without them, and isNode() keeps nodeGpu from being called there.

export async function nodeGpu(backend: 'default' | 'vulkan' | 'opengles' | 'd3d12' | 'metal'): Promise<GPU> {
  const { chmodSync, mkdirSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  if (!process.env.XDG_RUNTIME_DIR) {
    // Dawn's Vulkan/EGL loaders want a private runtime directory; make one when the session has none.
    const dir = mkdtempSync(join(tmpdir(), 'wgslgrad-xdg-'));
    chmodSync(dir, 0o700);
    process.env.XDG_RUNTIME_DIR = dir;
  } else {
    try {
      mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
    } catch {
      /* exists */
    }
  }
  if (backend === 'opengles' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  const mod = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU };
  return mod.create(backend === 'default' ? [] : [`backend=${backend}`]);
}

export const isNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node;

// ---------------------------------------------------------------- waiting on a CPU adapter
// Dawn's Node bindings poll for finished GPU work by re-arming `globalThis.setImmediate` with a
// native callback for as long as one of its promises is pending: a busy loop on the main thread. On
// a software adapter (lavapipe) the "GPU" is the same few CPU cores, so that loop takes a core from
// the kernels it waits for (measured on 2 cores: 600 ms of main-thread CPU in a 2.5 s wait, 60 ms
// throttled, and the wait 7-10 % shorter). Dawn looks setImmediate up on the global object at each
// tick and no other hook reaches its poll, so while we wait the global is a wrapper that sends
// Dawn's tick (an anonymous native function) through a 1 ms timer and passes every other caller's
// callback to the real setImmediate untouched; the real one is back when no wait is open.
let waits = 0;
let nativeSetImmediate: typeof setImmediate | null = null;

/** Dawn's poll callback: a native function without a name (user callbacks are JS or bound functions). */
function isDawnTick(fn: unknown): boolean {
  return typeof fn === 'function' && fn.name === '' && Function.prototype.toString.call(fn).includes('[native code]');
}

export async function throttledWait<T>(p: Promise<T>): Promise<T> {
  if (waits++ === 0) {
    const native = globalThis.setImmediate;
    nativeSetImmediate = native;
    globalThis.setImmediate = Object.assign(
      (fn: (...a: unknown[]) => void, ...args: unknown[]) => (isDawnTick(fn) ? setTimeout(fn, 1, ...args) : native(fn, ...args)),
      native,
    ) as unknown as typeof setImmediate;
  }
  try {
    return await p;
  } finally {
    if (--waits === 0) {
      globalThis.setImmediate = nativeSetImmediate!;
      nativeSetImmediate = null;
    }
  }
}
