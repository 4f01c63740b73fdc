import { WgslgradError } from '../errors.js';
import type { DeviceFacts } from './planner.js';

export type Backend = 'vulkan' | 'opengles' | 'd3d12' | 'metal' | 'browser' | 'external';

export interface InitOptions {
  /** Use this device (a browser's or one the caller made) instead of asking for an adapter. */
  device?: GPUDevice;
  /** Node only: force a Dawn backend; default tries hardware first, then lavapipe (Vulkan), then OpenGL ES. */
  backend?: 'vulkan' | 'opengles' | 'd3d12' | 'metal';
  powerPreference?: GPUPowerPreference;
  /**
   * Use subgroup operations where the device offers them with subgroups of at least 8 lanes
   * (default true): the GEMM-shaped kernels then share the loads of their row operand across
   * lanes. `false` keeps the kernels that need no subgroups (for comparing both); `'grouped'`
   * forces the shuffle form used for subgroups wider than 8 lanes (for testing it on any device).
   */
  subgroups?: boolean | 'grouped';
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface InitInfo {
  adapter: AdapterDescription;
  backend: Backend;
  /** true when the adapter is a CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP). */
  software: boolean;
  /** true when the GEMM-shaped kernels share row loads through subgroup shuffles (see InitOptions). */
  subgroups: boolean;
}

export const INSTALL_HINT = 'sudo bash scripts/install-software-gpu.sh';

export interface DeviceState {
  device: GPUDevice;
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

async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const l = adapter.limits;
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  if (adapter.features.has('subgroups' as GPUFeatureName)) requiredFeatures.push('subgroups' as GPUFeatureName);
  return adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    },
  });
}

/**
 * Picks a device: the caller's, the browser's `navigator.gpu`, or in Node Dawn's adapters in this
 * order: hardware, lavapipe through Vulkan, OpenGL ES compatibility mode (EGL surfaceless).
 */
export async function init(opts: InitOptions = {}): Promise<InitInfo> {
  let device: GPUDevice;
  let info: InitInfo;
  let instance: GPU | null = null;
  // Node's half of the device layer (Dawn); in a browser the import fails on its node: imports and node is null
  const node = await import('./node.js').then((m) => (m.isNode() ? m : null)).catch(() => null);
  if (opts.device) {
    device = opts.device;
    const ai = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    info = { adapter: describe(ai), backend: 'external', software: isSoftware(ai), subgroups: false };
  } else {
    if (!node) {
      const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
      if (!gpu) throw new WgslgradError('init', 'this browser exposes no navigator.gpu (WebGPU); enable WebGPU or pass {device}');
      const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference });
      if (!adapter) throw new WgslgradError('init', 'navigator.gpu.requestAdapter() returned no adapter');
      instance = gpu;
      device = await requestDevice(adapter);
      info = { adapter: describe(adapter.info), backend: 'browser', software: isSoftware(adapter.info), subgroups: false };
    } else {
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
        const backend: Backend = b === 'default' ? defaultBackend : b;
        if (!isSoftware(adapter.info)) {
          picked = { adapter, backend, gpu };
          break;
        }
        if (!picked) picked = { adapter, backend, gpu }; // software: keep looking for hardware on the next backend
        if (b === 'default') break; // lavapipe through Vulkan is preferred over OpenGL ES
      }
      if (!picked) {
        throw new WgslgradError(
          'init',
          `no WebGPU adapter found (${tried.join('; ')}); on a machine without a GPU install a software one with: ${INSTALL_HINT}`,
        );
      }
      instance = picked.gpu;
      device = await requestDevice(picked.adapter);
      info = { adapter: describe(picked.adapter.info), backend: picked.backend, software: isSoftware(picked.adapter.info), subgroups: false };
    }
  }
  if (state && state.device !== device) {
    try {
      state.device.destroy();
    } catch {
      /* already gone */
    }
  }
  const sgInfo = adapterInfoOf(device) as { subgroupMinSize?: number; subgroupMaxSize?: number } | undefined;
  const sgMin = sgInfo?.subgroupMinSize ?? 0;
  const subgroupShare = opts.subgroups !== false && device.features.has('subgroups') && sgMin >= 8;
  const subgroupExact8 = sgMin === 8 && sgInfo?.subgroupMaxSize === 8 && opts.subgroups !== 'grouped';
  info.subgroups = subgroupShare;
  const s: DeviceState = {
    device,
    info,
    hasTimestamps: device.features.has('timestamp-query'),
    pendingError: null,
    lost: null,
    lostWaiters: new Set(),
    scopeChecks: [],
    gpu: instance,
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
