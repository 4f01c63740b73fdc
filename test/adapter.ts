// The adapter configuration a test run uses, from WGSLGRAD_TEST_ADAPTER (scripts/test-adapters.mjs
// sets it for each row of the matrix; unset, the library's own choice). Each configuration also
// checks that it got what it names (a subgroup width, a backend, a Mesa version), so a matrix row
// cannot pass on the wrong adapter.
import { create } from 'webgpu';
import * as wg from '../src/index.js';

/** The configurations: how to init, and what the adapter must then be. */
export const CONFIGS = {
  /** whatever wg.init() picks */
  default: {},
  /** the library's own device with subgroups refused: the kernels that need none */
  'no-subgroups': { init: { subgroups: false } },
  /** Dawn's OpenGL ES backend (compatibility mode) */
  opengles: { init: { backend: 'opengles' } },
  /** a device made by the caller with no required limits or features (WebGPU's defaults), passed to init */
  'default-limits': { external: true },
} as const satisfies Record<string, { init?: wg.InitOptions; external?: boolean }>;

export type ConfigName = keyof typeof CONFIGS;

/** Kept for as long as the device made from it is used (Dawn frees the device with it). */
let externalGpu: GPU | null = null;

export function configName(): ConfigName {
  const name = process.env.WGSLGRAD_TEST_ADAPTER ?? 'default';
  if (!(name in CONFIGS)) throw new Error(`WGSLGRAD_TEST_ADAPTER=${name}: expected one of ${Object.keys(CONFIGS).join(', ')}`);
  return name as ConfigName;
}

let first: Promise<wg.InitInfo> | null = null;

/**
 * wg.init() as the configuration says, once per test file (test/setup.ts calls it first; a test
 * that wants the info calls it again and gets the same); checks WGSLGRAD_TEST_EXPECT
 * (subgroups=N, backend=B, adapter=regex, ';'-separated) against the result.
 */
export function initForTests(): Promise<wg.InitInfo> {
  first ??= initOnce();
  return first;
}

async function initOnce(): Promise<wg.InitInfo> {
  const config: { init?: wg.InitOptions; external?: boolean } = CONFIGS[configName()];
  let info: wg.InitInfo;
  if (config.external) {
    externalGpu ??= create([]);
    const adapter = await externalGpu.requestAdapter();
    if (!adapter) throw new Error('default-limits: no adapter from webgpu create([])');
    info = await wg.init({ device: await adapter.requestDevice(), gpu: externalGpu });
  } else info = await wg.init(config.init ?? {});
  checkExpectations(info, process.env.WGSLGRAD_TEST_EXPECT ?? '');
  return info;
}

function checkExpectations(info: wg.InitInfo, expect: string): void {
  for (const item of expect.split(';').filter(Boolean)) {
    const [key, want] = item.split('=') as [string, string];
    const got =
      key === 'subgroups'
        ? String(info.subgroupSizes[0])
        : key === 'backend'
          ? info.backend
          : key === 'adapter'
            ? `${info.adapter.description} ${info.adapter.device}`
            : undefined;
    if (got === undefined) throw new Error(`WGSLGRAD_TEST_EXPECT: unknown key ${key}`);
    const ok = key === 'adapter' ? new RegExp(want).test(got) : got === want;
    if (!ok) throw new Error(`adapter configuration ${configName()}: ${key} is ${got}, expected ${want} (${info.adapter.description})`);
  }
}
