// One fresh process whose first call into the library is wg.init({ device, gpu }) with a device
// the caller made: it trains 5 steps of every GAN preset on it and prints one JSON line.
// Flags (argv): --globals installs webgpu's globals first; --default-limits makes the device with no
// required limits or features (WebGPU's defaults). The GPU object is made inside a function and
// only the library keeps it afterwards; garbage is collected between presets (node --expose-gc),
// so a library that dropped it would crash or hang here. Run by test/e2e/external-device.test.ts.
import { create, globals } from 'webgpu';
import { PRESETS } from '../../build/examples/mnist-gan/presets.js';
import { GanTrainer, presetSetup } from '../../build/examples/mnist-gan/step.js';
import { KERNEL_LIMITS } from '../../build/src/gpu/limits.js';
import * as wg from '../../build/src/index.js';

const args = new Set(process.argv.slice(2));
if (args.has('--globals')) Object.assign(globalThis, globals);

/** A device of the first backend that has an adapter (Vulkan, else OpenGL ES in compatibility mode, as init() tries them). */
async function makeDevice() {
  let gpu = create([]);
  let adapter = await gpu.requestAdapter();
  let gles = false;
  if (!adapter) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    gpu = create(['backend=opengles']);
    adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
    gles = true;
  }
  if (!adapter) throw new Error('no adapter on Vulkan or OpenGL ES');
  const device = await adapter.requestDevice(
    args.has('--default-limits')
      ? {}
      : {
          requiredFeatures: [...adapter.features].filter((f) => f === 'subgroups' || f === 'timestamp-query'),
          requiredLimits: {
            ...(gles ? KERNEL_LIMITS : {}),
            maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
            maxBufferSize: adapter.limits.maxBufferSize,
          },
        },
  );
  return { device, gpu };
}

let info;
try {
  info = await wg.init(await makeDevice());
} catch (e) {
  // a compatibility-mode device at its defaults allows less than the kernels need: refused by name
  if (!(e instanceof wg.WgslgradError)) throw e;
  console.log(JSON.stringify({ refused: e.message }));
  process.exit(0);
}
const gc = globalThis.gc ?? (() => {});
const B = 16;
const out = { backend: info.backend, limits: info.limits, features: info.features, presets: {} };
for (const preset of Object.keys(PRESETS)) {
  gc();
  const t = new GanTrainer(presetSetup(preset, { batch: B, width: 0.5, seed: 2 }));
  const images = Float32Array.from({ length: B * 784 }, (_, i) => Math.sin(i) * 0.9);
  const labels = Float32Array.from({ length: B }, (_, i) => i % 10);
  const losses = [];
  for (let s = 0; s < 5; s++) {
    const r = wg.scope(() => {
      const step = t.step(images, labels, { seed: s });
      return [wg.keep(step.lossD), wg.keep(step.lossG)];
    });
    losses.push([await r[0].item(), await r[1].item()]);
    for (const x of r) x.dispose();
    gc();
  }
  t.optG.dispose();
  t.optD.dispose();
  out.presets[preset] = losses;
}
console.log(JSON.stringify(out));
