// Buffer pool, per-step command encoder, uniform-parameter arena, pipeline cache, readback.
import { WgslgradError } from '../errors.js';
import { SHADERS } from '../shaders.generated.js';
import { gpuState, throwPending } from './device.js';

const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */
const MAP_READ_USAGE = 0x01 /* MAP_READ */ | 0x08; /* COPY_DST */
const UNIFORM_USAGE = 0x40 /* UNIFORM */ | 0x08; /* COPY_DST */

/** Size classes: powers of two up to 64 KiB, then eighths of the next power of two (≤ 12.5 % waste). */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  if (b <= 65536) return 2 ** Math.ceil(Math.log2(b));
  const step = 2 ** (Math.ceil(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

/**
 * A pooled GPU buffer shared by a tensor and its views (reshape), reference-counted; or a range of
 * a parent storage (`parent`, `offset` in bytes, 256-aligned), as optimisers lay parameters out
 * in one flat buffer.
 */
export class Storage {
  refs = 1;
  /** the engine (device) the buffer belongs to; a buffer of an earlier init() is not pooled again */
  readonly engine: Engine = eng;
  constructor(
    public buffer: GPUBuffer,
    public readonly classBytes: number,
    public readonly offset = 0,
    public readonly parent: Storage | null = null,
  ) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs > 0) return;
    if (this.parent) this.parent.release();
    else if (this.engine === eng) releaseBuffer(this.buffer, this.classBytes);
  }
  /** A range of this storage as its own storage (keeps this one alive). */
  view(offset: number, bytes: number): Storage {
    if (offset % 256 !== 0) throw new WgslgradError('storage', `view offset ${offset} is not a multiple of 256 bytes`);
    this.retain();
    return new Storage(this.buffer, bytes, this.offset + offset, this);
  }
}

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset: number; size: number };

interface Stats {
  liveBytes: number;
  pooledBytes: number;
  buffers: number;
  created: number;
  submits: number;
  dispatches: number;
}

const PARAM_SLOT = 256; // bytes per dispatch, = minUniformBufferOffsetAlignment on every adapter
const ARENA_SLOTS = 1024;

interface Engine {
  free: Map<number, GPUBuffer[]>;
  /**
   * Released while the open encoder may still use them. Kernel outputs may take them at once (the
   * GPU runs a queue's commands in order); uploads may not (a queue write lands before the open
   * encoder runs), so they join `free` at the next submit.
   */
  deferred: Map<number, GPUBuffer[]>;
  stats: Stats;
  encoder: GPUCommandEncoder | null;
  pass: GPUComputePassEncoder | null;
  arenaCpu: ArrayBuffer;
  arenaU32: Uint32Array;
  arenaF32: Float32Array;
  arenaGpu: GPUBuffer | null;
  slots: number;
  pipelines: Map<string, GPUComputePipeline>;
  staging: Map<number, GPUBuffer[]>;
  onFlush: Array<() => void>;
  dummy: GPUBuffer | null;
}

let eng: Engine = fresh();

// ---------------------------------------------------------------- waiting on a CPU adapter
// Dawn's Node bindings poll for finished GPU work by re-arming `globalThis.setImmediate` for as
// long as a promise is pending: a busy loop on the main thread. On a software adapter (lavapipe)
// the "GPU" is the same few CPU cores, so that loop takes a core from the kernels it waits for
// (measured on 2 cores: 600 ms of main-thread CPU in a 2.5 s wait, 60 ms throttled, and the wait
// 7-10 % shorter). While we wait there, setImmediate is routed through a 1 ms timer; anything
// else calling setImmediate during such a wait is delayed by up to 1 ms.
let throttled = 0;
let nativeSetImmediate: typeof setImmediate | null = null;

async function gpuWait<T>(p: Promise<T>): Promise<T> {
  const g = globalThis as { setImmediate?: typeof setImmediate; process?: unknown };
  if (!gpuState().info.software || typeof g.setImmediate !== 'function' || typeof g.process !== 'object') return p;
  if (throttled++ === 0) {
    nativeSetImmediate = g.setImmediate;
    g.setImmediate = ((fn: (...a: unknown[]) => void, ...args: unknown[]) => setTimeout(fn, 1, ...args)) as unknown as typeof setImmediate;
  }
  try {
    return await p;
  } finally {
    if (--throttled === 0) {
      g.setImmediate = nativeSetImmediate!;
      nativeSetImmediate = null;
    }
  }
}

// ---------------------------------------------------------------- kernel profiler
// While a profile is open, every dispatch gets its own compute pass whose begin and end
// timestamps are written to a query set; at each submit the queries are resolved and read back,
// and the durations are summed per pipeline label.
const PROFILE_QUERIES = 2 * 2048;
interface Profile {
  querySet: GPUQuerySet;
  resolve: GPUBuffer;
  labels: string[];
  totals: Map<string, { ms: number; count: number }>;
  reads: Promise<void>[];
}
let profile: Profile | null = null;

export interface KernelTime { kernel: string; ms: number; count: number }

/**
 * Runs `fn` (which records GPU work), waits for it, and returns the GPU time of each kernel from
 * timestamp queries, summed per kernel (`file.entry`), longest first. Null when the device has no
 * timestamp queries. Meant for benchmarks: every dispatch gets its own compute pass meanwhile.
 */
export async function profileKernels(fn: () => void): Promise<KernelTime[] | null> {
  const s = gpuState();
  if (!s.hasTimestamps) { fn(); await sync(); return null; }
  flush();
  profile = {
    querySet: s.device.createQuerySet({ type: 'timestamp', count: PROFILE_QUERIES }),
    resolve: s.device.createBuffer({ size: PROFILE_QUERIES * 8, usage: 0x0200 /* QUERY_RESOLVE */ | 0x0004 /* COPY_SRC */ }),
    labels: [],
    totals: new Map(),
    reads: [],
  };
  const p = profile;
  try {
    fn();
    flush();
  } finally {
    profile = null;
  }
  await gpuWait(s.device.queue.onSubmittedWorkDone());
  await gpuWait(Promise.all(p.reads));
  p.querySet.destroy();
  p.resolve.destroy();
  return [...p.totals].map(([kernel, t]) => ({ kernel, ms: t.ms, count: t.count })).sort((a, b) => b.ms - a.ms);
}

function profileResolve(enc: GPUCommandEncoder): void {
  const p = profile;
  if (!p || p.labels.length === 0) return;
  const n = p.labels.length * 2;
  const { device } = gpuState();
  const read = device.createBuffer({ size: n * 8, usage: MAP_READ_USAGE });
  enc.resolveQuerySet(p.querySet, 0, n, p.resolve, 0);
  enc.copyBufferToBuffer(p.resolve, 0, read, 0, n * 8);
  const labels = p.labels.splice(0);
  // mapped only once the encoder holding the copy has been submitted (end of flush)
  eng.onFlush.push(() => p.reads.push((async () => {
    await read.mapAsync(1 /* READ */);
    const t = new BigUint64Array(read.getMappedRange());
    labels.forEach((label, i) => {
      const ms = Number(t[2 * i + 1]! - t[2 * i]!) / 1e6;
      const e = p.totals.get(label) ?? { ms: 0, count: 0 };
      e.ms += ms;
      e.count++;
      p.totals.set(label, e);
    });
    read.unmap();
    read.destroy();
  })()));
}

function fresh(): Engine {
  const arenaCpu = new ArrayBuffer(PARAM_SLOT * ARENA_SLOTS);
  return {
    free: new Map(),
    deferred: new Map(),
    stats: { liveBytes: 0, pooledBytes: 0, buffers: 0, created: 0, submits: 0, dispatches: 0 },
    encoder: null,
    pass: null,
    arenaCpu,
    arenaU32: new Uint32Array(arenaCpu),
    arenaF32: new Float32Array(arenaCpu),
    arenaGpu: null,
    slots: 0,
    pipelines: new Map(),
    staging: new Map(),
    onFlush: [],
    dummy: null,
  };
}

/** Called by init(): a new device gets a new pool and cache. */
export function resetEngine(): void {
  eng = fresh();
}

/** A buffer of at least `bytes`; `forUpload` when the host will write it before the next submit. */
export function allocStorage(bytes: number, forUpload = false): Storage {
  const cls = sizeClass(bytes);
  let buffer = forUpload ? undefined : eng.deferred.get(cls)?.pop();
  buffer ??= eng.free.get(cls)?.pop();
  if (buffer) {
    eng.stats.pooledBytes -= cls;
  } else {
    const { device } = gpuState();
    buffer = device.createBuffer({ size: cls, usage: STORAGE_USAGE });
    eng.stats.buffers++;
    eng.stats.created++;
  }
  eng.stats.liveBytes += cls;
  return new Storage(buffer, cls);
}

function releaseBuffer(buffer: GPUBuffer, cls: number): void {
  eng.stats.liveBytes -= cls;
  eng.stats.pooledBytes += cls;
  pushTo(eng.encoder ? eng.deferred : eng.free, buffer, cls);
}

function pushTo(pool: Map<number, GPUBuffer[]>, buffer: GPUBuffer, cls: number): void {
  let list = pool.get(cls);
  if (!list) pool.set(cls, (list = []));
  list.push(buffer);
}

/** Pool counters: bytes held by live tensors, bytes kept for reuse, GPU buffers in existence. */
export function memory(): { liveBytes: number; pooledBytes: number; buffers: number } {
  const { liveBytes, pooledBytes, buffers } = eng.stats;
  return { liveBytes, pooledBytes, buffers };
}

/** Counters for benchmarks: buffers ever created, submits, dispatches. */
export function engineStats(): Readonly<Stats> {
  return { ...eng.stats };
}

/** Destroys every pooled (free) buffer. */
export function emptyPool(): void {
  flush();
  for (const [cls, list] of eng.free) {
    for (const b of list) {
      b.destroy();
      eng.stats.buffers--;
      eng.stats.pooledBytes -= cls;
    }
  }
  eng.free.clear();
}

/**
 * A small storage buffer for bindings a specialisation does not use (a kernel without bias still
 * declares the binding, and WGSL counts it as used).
 */
export function placeholder(): GPUBuffer {
  if (!eng.dummy) eng.dummy = gpuState().device.createBuffer({ size: 256, usage: STORAGE_USAGE });
  return eng.dummy;
}

/** Uploads host data into a storage buffer (queue-ordered: the buffer must not be in the open encoder). */
export function upload(storage: Storage, data: Float32Array | Uint32Array | Int32Array, byteOffset = 0): void {
  throwPending();
  gpuState().device.queue.writeBuffer(storage.buffer, storage.offset + byteOffset, data.buffer, data.byteOffset, data.byteLength);
}

// ---------------------------------------------------------------- pipelines

const PRELUDE = SHADERS['common'] ?? '';

export type Consts = Record<string, number | boolean>;

// Load sharing across lanes (see shaders/matmul.wgsl). With subgroups, share8(v, i) is lane i's v
// within the lane's group of 8 consecutive subgroup lanes (subgroups of 8, 16, 32 or 64 lanes hold
// whole groups of 8). Without subgroups the kernels are specialised with SG = false and never use
// it. An entry point that shares writes /*SG_LANE*/ after its last parameter and /*SG_INIT*/ as
// its first statement; lane8() is the lane's index in its group.
function sgPrelude(exact8: boolean): string {
  // With subgroups of exactly 8 lanes the source lane is uniform, which CPU implementations
  // turn into one broadcast rather than a per-lane permutation.
  const src = exact8 ? 'i' : '(sgl8_ & ~7u) | i';
  return `
var<private> sgl8_: u32;
fn share8(v: f32, i: u32) -> f32 { return subgroupShuffle(v, ${src}); }
fn lane8() -> u32 { return sgl8_ & 7u; }
`;
}
const NO_SG_PRELUDE = `
fn share8(v: f32, i: u32) -> f32 { return v; }
fn lane8() -> u32 { return 0u; }
`;

function constLines(consts: Consts): string {
  let s = '';
  for (const [k, v] of Object.entries(consts)) {
    if (typeof v === 'boolean') s += `const ${k}: bool = ${v};\n`;
    else if (Number.isInteger(v) && v >= 0) s += `const ${k}: u32 = ${v}u;\n`;
    else if (Number.isInteger(v)) s += `const ${k}: i32 = ${v};\n`;
    else s += `const ${k}: f32 = ${v};\n`;
  }
  return s;
}

/** A compiled pipeline for (shader file, entry point, specialisation constants), cached. */
export function pipeline(file: string, entry: string, consts: Consts = {}): GPUComputePipeline {
  const key = `${file}|${entry}|${JSON.stringify(consts)}`;
  let p = eng.pipelines.get(key);
  if (!p) {
    const src = SHADERS[file];
    if (src === undefined) throw new WgslgradError('pipeline', `no shader named ${file}.wgsl in shaders/`);
    const { device } = gpuState();
    const { subgroupShare, subgroupExact8 } = gpuState();
    const sg = subgroupShare && consts['SG'] !== false;
    const body = src.replaceAll('/*SG_LANE*/', sg ? ', @builtin(subgroup_invocation_id) sgl_: u32' : '').replaceAll('/*SG_INIT*/', sg ? 'sgl8_ = sgl_;' : '');
    const code = (sg ? 'enable subgroups;\n' : '') + constLines({ ...consts, SG: sg }) + PRELUDE + (sg ? sgPrelude(subgroupExact8) : NO_SG_PRELUDE) + '\n' + body;
    const module = device.createShaderModule({ code, label: `${file}.wgsl` });
    p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: entry }, label: `${file}.${entry}` });
    eng.pipelines.set(key, p);
  }
  return p;
}

// ---------------------------------------------------------------- dispatch

export interface Params {
  /** u32 values, readable in WGSL as pu(0u), pu(1u), … (at most 48). */
  u?: ArrayLike<number>;
  /** f32 values, readable in WGSL as pf(0u), pf(1u), … (at most 16). */
  f?: ArrayLike<number>;
}

function ensureEncoder(): GPUCommandEncoder {
  if (!eng.encoder) {
    const { device } = gpuState();
    eng.encoder = device.createCommandEncoder();
    if (!eng.arenaGpu) eng.arenaGpu = device.createBuffer({ size: PARAM_SLOT * ARENA_SLOTS, usage: UNIFORM_USAGE });
  }
  return eng.encoder;
}

/**
 * Records one compute dispatch into the step's encoder. Binding 0 is the parameter block; the
 * buffers take bindings 1, 2, … in order. Nothing is submitted until a readback or flush().
 */
export function dispatch(
  pipe: GPUComputePipeline,
  buffers: ReadonlyArray<Binding>,
  params: Params,
  groups: readonly [number, number?, number?],
): void {
  throwPending();
  if (eng.slots >= ARENA_SLOTS || (profile && profile.labels.length * 2 >= PROFILE_QUERIES)) flush();
  const enc = ensureEncoder();
  const slot = eng.slots++;
  const base = (slot * PARAM_SLOT) / 4;
  const u = params.u ?? [];
  const f = params.f ?? [];
  if (u.length > 48 || f.length > 16) throw new WgslgradError('dispatch', `too many parameters (${u.length} u32, ${f.length} f32; at most 48 and 16)`);
  for (let i = 0; i < u.length; i++) eng.arenaU32[base + i] = u[i]!;
  for (let i = 0; i < f.length; i++) eng.arenaF32[base + 48 + i] = f[i]!;
  const { device } = gpuState();
  const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: eng.arenaGpu!, offset: slot * PARAM_SLOT, size: PARAM_SLOT } }];
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i]!;
    entries.push({ binding: i + 1, resource: 'buffer' in b ? b : { buffer: b } });
  }
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
  if (profile) {
    endPass();
    const q = profile.labels.length * 2;
    profile.labels.push(pipe.label || 'kernel');
    eng.pass = enc.beginComputePass({ timestampWrites: { querySet: profile.querySet, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 } });
  }
  if (!eng.pass) eng.pass = enc.beginComputePass();
  eng.pass.setPipeline(pipe);
  eng.pass.setBindGroup(0, bg);
  const [x, y = 1, z = 1] = groups;
  if (x > 0 && y > 0 && z > 0) eng.pass.dispatchWorkgroups(x, y, z);
  eng.stats.dispatches++;
}

const MAX_GROUPS = 65535;

/** Workgroup counts for n invocations of a 1-D kernel of `wg` lanes, folded into y past 65535 groups. */
export function groups1d(n: number, wg = 256): [number, number] {
  const g = Math.max(1, Math.ceil(n / wg));
  if (g <= MAX_GROUPS) return [g, 1];
  const y = Math.ceil(g / MAX_GROUPS);
  return [Math.ceil(g / y), y];
}

function endPass(): void {
  if (eng.pass) {
    eng.pass.end();
    eng.pass = null;
  }
}

export function copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
  throwPending();
  const enc = ensureEncoder();
  endPass();
  enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
}

/** Zeroes `bytes` of a storage, recorded in the step's encoder. */
export function clearStorage(s: Storage, bytes: number): void {
  throwPending();
  const enc = ensureEncoder();
  endPass();
  enc.clearBuffer(s.buffer, s.offset, Math.ceil(bytes / 4) * 4);
}

/** Submits the recorded work (one submit per step), then makes buffers released during it reusable. */
export function flush(): void {
  if (!eng.encoder) return;
  const s = gpuState();
  const { device } = s;
  endPass();
  profileResolve(eng.encoder);
  if (eng.slots > 0) device.queue.writeBuffer(eng.arenaGpu!, 0, eng.arenaCpu, 0, eng.slots * PARAM_SLOT);
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  device.queue.submit([eng.encoder.finish()]);
  for (const scope of ['out-of-memory', 'validation']) {
    s.scopeChecks.push(
      device.popErrorScope().then(
        (e) => {
          if (e && !s.pendingError) s.pendingError = new WgslgradError('gpu', `${scope} error: ${e.message}`);
        },
        () => undefined,
      ),
    );
  }
  if (s.scopeChecks.length > 64) s.scopeChecks.splice(0, s.scopeChecks.length - 64);
  eng.encoder = null;
  eng.slots = 0;
  eng.stats.submits++;
  for (const [cls, list] of eng.deferred) for (const b of list) pushTo(eng.free, b, cls);
  eng.deferred.clear();
  for (const cb of eng.onFlush.splice(0)) cb();
}

/** Copies `bytes` of a storage buffer to the host. Submits pending work first. */
export async function readBuffer(src: GPUBuffer, bytes: number, byteOffset = 0): Promise<ArrayBuffer> {
  const s = gpuState();
  const cls = sizeClass(bytes);
  let staging = eng.staging.get(cls)?.pop();
  if (!staging) staging = s.device.createBuffer({ size: cls, usage: MAP_READ_USAGE });
  copyBuffer(src, byteOffset, staging, 0, Math.ceil(bytes / 4) * 4);
  flush();
  const checks = s.scopeChecks.splice(0);
  let out: ArrayBuffer;
  try {
    await gpuWait(Promise.race([
      staging.mapAsync(1 /* READ */),
      s.device.lost.then((l) => Promise.reject(new WgslgradError('device', `the GPU device was lost (${l.reason}: ${l.message})`))),
    ]));
    out = staging.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes);
    staging.unmap();
  } catch (e) {
    await Promise.all(checks);
    throwPending();
    if (e instanceof WgslgradError) throw e;
    throw new WgslgradError('readback', (e as Error).message);
  }
  await gpuWait(Promise.all(checks));
  throwPending();
  let list = eng.staging.get(cls);
  if (!list) eng.staging.set(cls, (list = []));
  list.push(staging);
  return out;
}

/** Waits for all submitted work (used by benchmarks to time GPU work). */
export async function sync(): Promise<void> {
  flush();
  const s = gpuState();
  await gpuWait(s.device.queue.onSubmittedWorkDone());
  await gpuWait(Promise.all(s.scopeChecks.splice(0)));
  throwPending();
}
