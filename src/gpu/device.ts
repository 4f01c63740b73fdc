import { WgslgradError } from '../errors.js';
import { type DeviceLimits, limitsOf, limitsToRequest, shortfalls } from './limits.js';
import type { DeviceFacts } from './planner.js';

/** Where the device came from: a Dawn backend in Node, the page's navigator.gpu, or a device the caller passed. */
export type Backend = 'vulkan' | 'opengles' | 'd3d12' | 'metal' | 'browser' | 'external';

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * Use this device (a browser's or one the caller made) instead of asking for an adapter. It must
   * allow what the kernels need (KERNEL_LIMITS: each at or below WebGPU's defaults, so a device made
   * with no required limits will do); init throws naming any limit it lacks.
   */
  device?: GPUDevice;
  /**
   * The GPU object `device` came from: in Node, what `webgpu`'s create() returned (required there
   * with `device`). Dawn frees an instance, and every device made from it, when that object is
   * garbage-collected, and the process then aborts or waits forever at its next readback; the
   * library keeps a reference to it for as long as it uses the device. In a browser, navigator.gpu.
   */
  gpu?: GPU;
  /** Node only: force a Dawn backend; default tries hardware first, then lavapipe (Vulkan), then OpenGL ES. */
  backend?: 'vulkan' | 'opengles' | 'd3d12' | 'metal';
  /** passed to requestAdapter ('high-performance' or 'low-power') */
  powerPreference?: GPUPowerPreference;
  /**
   * Use subgroup operations where the device offers them with subgroups of at least 8 lanes
   * (default true): the GEMM-shaped kernels then share the loads of their row operand across
   * lanes. `false` keeps the kernels that need no subgroups (for comparing both); `'grouped'`
   * forces the shuffle form used for subgroups wider than 8 lanes (for testing it on any device).
   */
  subgroups?: boolean | 'grouped';
}

/** The adapter's GPUAdapterInfo fields (empty strings where it does not say). */
export interface AdapterDescription {
  /** the vendor ('mesa', 'nvidia', …) */
  vendor: string;
  /** the architecture name */
  architecture: string;
  /** the device name ('llvmpipe', a GPU's model) */
  device: string;
  /** a longer description (lavapipe: its Mesa and LLVM versions) */
  description: string;
}

/** What {@link init} found: the adapter, its backend and what the kernels will use of it. */
export interface InitInfo {
  /** the adapter's description */
  adapter: AdapterDescription;
  /** where the device came from */
  backend: Backend;
  /** true when the adapter is a CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP). */
  software: boolean;
  /** true when the GEMM-shaped kernels share row loads through subgroup shuffles (see InitOptions). */
  subgroups: boolean;
  /** The adapter's subgroup sizes, smallest and largest (0 where it does not say). */
  subgroupSizes: readonly [number, number];
  /** The device's limits that wgslgrad reads: what its kernels need (KERNEL_LIMITS) and the buffer sizes that bound a tensor. */
  limits: DeviceLimits;
  /** The device's features (WebGPU names), sorted: 'timestamp-query' and 'subgroups' are the ones the library uses. */
  features: readonly string[];
}

/** The command that installs a software adapter (as root; prefix sudo otherwise). */
export const INSTALL_HINT = 'bash scripts/install-software-gpu.sh';

export interface DeviceState {
  device: GPUDevice;
  /** the library made the device (another init destroys it), rather than the caller */
  own: boolean;
  info: InitInfo;
  hasTimestamps: boolean;
  /** First asynchronous GPU error not yet reported; thrown at the next dispatch or readback. */
  pendingError: WgslgradError | null;
  lost: string | null;
  /** The rejections of the readbacks now waiting (orLost): the device's loss rejects them all. */
  lostWaiters: Set<(e: WgslgradError) => void>;
  /** Promises of error scopes still open around submits; awaited at readback. */
  scopeChecks: Promise<void>[];
  /** The GPU instance the device came from: Dawn frees its instance when this object is collected. */
  gpu: GPU | null;
  /** Kernels may share loads across 8-lane subgroup groups (subgroups feature, min size ≥ 8). */
  subgroupShare: boolean;
  /** Every subgroup has exactly 8 lanes (llvmpipe with AVX2 vectors). */
  subgroupExact8: boolean;
  /** The adapter's smallest subgroup (0 when unknown); wide (≥ 32) on GPUs, 8 on llvmpipe. */
  subgroupMin: number;
  /**
   * About how many workgroups a dispatch needs to keep this device busy: a GEMM with fewer output
   * tiles splits its long inner sum into chunks (split-K). A CPU adapter has a few cores; a GPU
   * has ~100 multiprocessors that each want several workgroups.
   */
  minGroups: number;
  /**
   * How to await a promise that Dawn resolves (a readback, submitted work): as is, or, in Node on a
   * software adapter, with Dawn's polling slowed so it leaves the CPU to the kernels (node.ts).
   */
  wait: <T>(p: Promise<T>) => Promise<T>;
}

let state: DeviceState | null = null;

export function gpuState(): DeviceState {
  if (!state) throw new WgslgradError('init', 'no GPU device yet: call `await wg.init()` first');
  return state;
}

/** What the kernel planner needs to know about the current device. */
export function deviceFacts(): DeviceFacts {
  const s = gpuState();
  return { software: s.info.software, subgroupShare: s.subgroupShare, subgroupMin: s.subgroupMin, minGroups: s.minGroups };
}

export function hasDevice(): boolean {
  return state !== null;
}

export function throwPending(): void {
  const s = gpuState();
  if (s.lost) throw lostError(s);
  if (s.pendingError) {
    const e = s.pendingError;
    s.pendingError = null;
    throw e;
  }
}

function describe(info: GPUAdapterInfo | undefined, fallbackDesc = ''): AdapterDescription {
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description || fallbackDesc,
  };
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|warp|microsoft basic render/i;

function isSoftware(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  const i = info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  if (i.isFallbackAdapter) return true;
  return SOFTWARE.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`);
}

/** A device with what the kernels need (limitsToRequest) and the features the library uses, where the adapter has them. */
async function requestDevice(adapter: GPUAdapter, name: string, subgroups: InitOptions['subgroups']): Promise<GPUDevice> {
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  if (subgroups !== false && adapter.features.has('subgroups' as GPUFeatureName)) requiredFeatures.push('subgroups' as GPUFeatureName);
  return adapter.requestDevice({ requiredFeatures, requiredLimits: limitsToRequest(adapter, name) });
}

/**
 * Picks a device: the caller's, the browser's `navigator.gpu`, or in Node Dawn's adapters in this
 * order: hardware, lavapipe through Vulkan, OpenGL ES compatibility mode (EGL surfaceless). An
 * adapter that cannot give what the kernels need (KERNEL_LIMITS) is passed over, named in the error
 * if none can.
 */
export async function init(opts: InitOptions = {}): Promise<InitInfo> {
  // Node's half of the device layer (Dawn); in a browser the import fails on its node: imports and node is null
  const node = await import('./node.js').then((m) => (m.isNode() ? m : null)).catch(() => null);
  const got = opts.device ? externalDevice(opts, node !== null) : node ? await nodeDevice(opts, node) : await browserDevice(opts);
  const { device, own } = got;
  if (state && state.device !== device && state.own) {
    try {
      state.device.destroy();
    } catch {
      /* already gone */
    }
  }
  const ai = adapterInfoOf(device) as (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
  const sgMin = ai?.subgroupMinSize ?? 0;
  const sgMax = ai?.subgroupMaxSize ?? 0;
  const subgroupShare = opts.subgroups !== false && device.features.has('subgroups') && sgMin >= 8;
  const subgroupExact8 = sgMin === 8 && sgMax === 8 && opts.subgroups !== 'grouped';
  const info: InitInfo = {
    adapter: describe(ai),
    backend: got.backend,
    software: isSoftware(ai),
    subgroups: subgroupShare,
    subgroupSizes: [sgMin, sgMax],
    limits: limitsOf(device.limits),
    features: [...device.features].map(String).sort(),
  };
  const s: DeviceState = {
    device,
    own,
    info,
    hasTimestamps: device.features.has('timestamp-query'),
    pendingError: null,
    lost: null,
    lostWaiters: new Set(),
    scopeChecks: [],
    gpu: got.gpu,
    subgroupShare,
    subgroupExact8,
    subgroupMin: sgMin,
    minGroups: info.software ? 64 : 1024,
    wait: info.software && node ? node.throttledWait : (p) => p,
  };
  device.addEventListener('uncapturederror', (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    if (!s.pendingError) s.pendingError = new WgslgradError('gpu', err.message);
  });
  void device.lost.then((l) => {
    if (l.reason !== 'destroyed') s.lost = `${l.reason}: ${l.message}`;
    else s.lost = 'destroyed';
    const e = lostError(s);
    for (const reject of s.lostWaiters) reject(e);
    s.lostWaiters.clear();
  });
  state = s;
  return info;
}

interface Picked {
  device: GPUDevice;
  backend: Backend;
  /** the instance the device came from, referenced for as long as the device is used */
  gpu: GPU | null;
  /** made by the library (destroyed when another init replaces it), not the caller's */
  own: boolean;
}

/** The caller's device, checked against what the kernels need. */
function externalDevice(opts: InitOptions, inNode: boolean): Picked {
  const device = opts.device!;
  if (inNode && !opts.gpu) {
    throw new WgslgradError(
      'init',
      "in Node pass the GPU object the device came from as well: wg.init({ device, gpu }) with gpu = create(...) of 'webgpu'. Dawn frees the device when that object is garbage-collected (the process then aborts or hangs at its next readback), so the library keeps a reference to it",
    );
  }
  const short = shortfalls(device.limits);
  if (short.length) {
    throw new WgslgradError('init', `the device given cannot run wgslgrad's kernels: ${short.join('; ')}; request them in requestDevice({ requiredLimits })`);
  }
  const globalGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? null;
  return { device, backend: 'external', gpu: opts.gpu ?? globalGpu, own: false };
}

/** A device from the browser's navigator.gpu. */
async function browserDevice(opts: InitOptions): Promise<Picked> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new WgslgradError('init', 'this browser exposes no navigator.gpu (WebGPU); enable WebGPU or pass {device}');
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference });
  if (!adapter) throw new WgslgradError('init', 'navigator.gpu.requestAdapter() returned no adapter');
  return { device: await requestDevice(adapter, 'browser', opts.subgroups), backend: 'browser', gpu, own: true };
}

/** A device from Dawn's adapters, hardware first (node.ts loads Dawn). */
async function nodeDevice(opts: InitOptions, node: typeof import('./node.js')): Promise<Picked> {
  const defaultBackend = process.platform === 'darwin' ? 'metal' : process.platform === 'win32' ? 'd3d12' : 'vulkan';
  const tries: Array<'default' | 'vulkan' | 'opengles' | 'd3d12' | 'metal'> = opts.backend ? [opts.backend] : ['default', 'opengles'];
  let picked: { adapter: GPUAdapter; backend: Backend; gpu: GPU } | null = null;
  const tried: string[] = [];
  for (const b of tries) {
    let adapter: GPUAdapter | null = null;
    let gpu: GPU;
    try {
      gpu = await node.nodeGpu(b);
      adapter = await gpu.requestAdapter(
        b === 'opengles'
          ? ({ featureLevel: 'compatibility', powerPreference: opts.powerPreference } as GPURequestAdapterOptions)
          : { powerPreference: opts.powerPreference },
      );
    } catch (e) {
      tried.push(`${b}: ${(e as Error).message}`);
      continue;
    }
    if (!adapter) {
      tried.push(`${b}: no adapter`);
      continue;
    }
    const short = shortfalls(adapter.limits);
    if (short.length) {
      tried.push(`${b}: ${describe(adapter.info).description || 'its adapter'} cannot run the kernels (${short.join('; ')})`);
      continue;
    }
    const backend: Backend = b === 'default' ? defaultBackend : b;
    if (!isSoftware(adapter.info)) {
      picked = { adapter, backend, gpu };
      break;
    }
    if (!picked) picked = { adapter, backend, gpu }; // software: keep looking for hardware on the next backend
    if (b === 'default') break; // lavapipe through Vulkan is preferred over OpenGL ES
  }
  if (!picked) {
    throw new WgslgradError('init', `no WebGPU adapter found (${tried.join('; ')}); on a machine without a GPU install a software one with: ${INSTALL_HINT}`);
  }
  const device = await requestDevice(picked.adapter, picked.backend, opts.subgroups);
  return { device, backend: picked.backend, gpu: picked.gpu, own: true };
}

/**
 * `p`, or a rejection naming the loss if the device is lost before `p` settles (a readback's map,
 * which Dawn may leave pending on a lost device). One listener on `device.lost` serves every wait:
 * a Promise.race against `device.lost`, which never settles on a working device, left a reaction
 * and its closures on it at each call, ~0.5 KB of heap a readback for the whole run.
 */
export function orLost<T>(s: DeviceState, p: Promise<T>): Promise<T> {
  if (s.lost) return Promise.reject(lostError(s));
  return new Promise<T>((resolve, reject) => {
    s.lostWaiters.add(reject);
    p.then(
      (v) => {
        s.lostWaiters.delete(reject);
        resolve(v);
      },
      (e: unknown) => {
        s.lostWaiters.delete(reject);
        reject(e);
      },
    );
  });
}

function lostError(s: DeviceState): WgslgradError {
  return new WgslgradError('device', `the GPU device was lost (${s.lost}); call wg.init() again`);
}

function adapterInfoOf(device: GPUDevice): GPUAdapterInfo | undefined {
  return (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
}

/** Releases the device (tests and programs that switch devices); the library needs init() again after. */
export function destroy(): void {
  if (!state) return;
  const d = state.device;
  state = null;
  d.destroy();
}
