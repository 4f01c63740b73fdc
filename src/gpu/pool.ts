// GPU buffers: size-bucketed pool, reference-counted storages and their views, memory counters.
import { WgslgradError } from '../errors.js';
import { gpuState, hasDevice } from './device.js';

const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

/** Size classes: powers of two up to 64 KiB, then eighths of the next power of two (≤ 12.5 % waste). */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  if (b <= 65536) return 2 ** Math.ceil(Math.log2(b));
  const step = 2 ** (Math.ceil(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

export interface PoolStats {
  liveBytes: number;
  pooledBytes: number;
  buffers: number;
  created: number;
}

interface Pool {
  device: GPUDevice;
  /** the most GPU buffers (live and pooled) this pool makes: SOFTWARE_BUFFER_CAP on software adapters */
  cap: number;
  /** the largest buffer a kernel can bind: min(maxBufferSize, maxStorageBufferBindingSize) */
  maxBytes: number;
  free: Map<number, GPUBuffer[]>;
  /**
   * Released while the open encoder may still use them. Kernel outputs may take them at once (the
   * GPU runs a queue's commands in order); uploads may not (a queue write lands before the open
   * encoder runs), so they join `free` at the next submit.
   */
  deferred: Map<number, GPUBuffer[]>;
  /** an encoder is open (recorder.ts says so) */
  recording: boolean;
  stats: PoolStats;
  dummy: GPUBuffer | null;
  dummyOut: GPUBuffer | null;
  /** buffers handed out while a capture records (capture.ts) */
  allocLog: Set<GPUBuffer> | null;
  /** buffers a capture replays into: released, they go back to it, not to `free` */
  owned: Map<GPUBuffer, Claim>;
}

/**
 * The buffers a captured step replays into (capture.ts). `reserve` holds those no tensor holds any
 * more: they stay out of the pool while the capture lives, since a replay writes them. `externals`
 * are buffers made before the capture and still held by their tensors (parameters, optimiser
 * state, inputs), with their release count: a replay checks none of them was released since.
 */
export interface Claim {
  device: GPUDevice;
  reserve: Array<{ buffer: GPUBuffer; cls: number }>;
  owned: GPUBuffer[];
  externals: Array<{ buffer: GPUBuffer; releases: number }>;
}

/** How often each buffer went back to the pool (a buffer released and handed out again is another tensor's). */
const releases = new WeakMap<GPUBuffer, number>();
/**
 * Each pooled buffer's creation number. The free lists are kept in this order, the oldest buffer
 * handed out first, so a step that starts from the same free buffers is handed the same ones in the
 * same places, step after step, whatever order the last step released them in, and its dispatches
 * find their bind groups in the recorder's cache (released in turn, interchangeable small buffers
 * rotated: 17 bind groups made in every eager R1 step at batch 8 before, ~0.5 ms of its record
 * time; bench/NOTES.md, "The D head in one kernel, and free buffers in a fixed order").
 */
const serials = new WeakMap<GPUBuffer, number>();
let nextSerial = 0;

/** Puts a buffer into its class's free list, which is kept by creation number, the oldest last (popped first). */
function addFree(p: Pool, buffer: GPUBuffer, cls: number): void {
  const list = p.free.get(cls) ?? [];
  p.free.set(cls, list);
  const n = serials.get(buffer) ?? 0;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((serials.get(list[mid]!) ?? 0) > n) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, buffer);
}

let pool: Pool | null = null;

/**
 * GPU buffers a software adapter is allowed at once. Dawn on lavapipe aborts the whole process
 * (a segfault, or "the futex facility returned an unexpected error code") at 35,000–45,000 live
 * buffers that have been written, in a bare Dawn script too; past this many the pool first
 * destroys its free buffers, then refuses with a WgslgradError the caller can catch.
 */
export const SOFTWARE_BUFFER_CAP = 30_000;
let capOverride: number | null = null;

/** The buffer cap of the current device's pool: the override, else SOFTWARE_BUFFER_CAP on software adapters. */
const capFor = (): number => capOverride ?? (gpuState().info.software ? SOFTWARE_BUFFER_CAP : Number.POSITIVE_INFINITY);

/** @internal tests: sets the buffer cap of the current pool (null: the device's default); returns the restore. */
export function setBufferCap(n: number | null): () => void {
  const p = current();
  const before = p.cap;
  const beforeOverride = capOverride;
  capOverride = n;
  p.cap = capFor();
  return () => {
    capOverride = beforeOverride;
    p.cap = before;
  };
}

/** The pool of the current device; a new device gets a new pool. */
function current(): Pool {
  const { device } = gpuState();
  if (!pool || pool.device !== device) {
    const maxBytes = Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize);
    pool = {
      device,
      cap: capFor(),
      maxBytes,
      free: new Map(),
      deferred: new Map(),
      recording: false,
      stats: { liveBytes: 0, pooledBytes: 0, buffers: 0, created: 0 },
      dummy: null,
      dummyOut: null,
      allocLog: null,
      owned: new Map(),
    };
  }
  return pool;
}

/**
 * A pooled GPU buffer shared by a tensor and its views (reshape), reference-counted; or a range of
 * a parent storage (`parent`, `offset` in bytes, 256-aligned), as optimisers lay parameters out
 * in one flat buffer.
 */
export class Storage {
  refs = 1;
  /** told of every tensor made on this storage (an optimiser's gradient slot keeps its holders: optim/slots.ts) */
  onTensor: ((t: object) => void) | null = null;
  /** the pool (device) the buffer belongs to; a buffer of an earlier device is not pooled again */
  private readonly owner: Pool | null = pool;
  constructor(
    public buffer: GPUBuffer,
    public readonly classBytes: number,
    public readonly offset = 0,
    public readonly parent: Storage | null = null,
  ) {}
  /** Whether the buffer belongs to a device other than the current one (lost, or replaced by init()). */
  get stale(): boolean {
    return this.owner !== null && this.owner.device !== gpuState().device;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs > 0) return;
    if (this.parent) this.parent.release();
    else if (this.owner && this.owner === pool) releaseBuffer(this.owner, this.buffer, this.classBytes);
  }
  /** A range of this storage as its own storage (keeps this one alive). */
  view(offset: number, bytes: number): Storage {
    if (offset % 256 !== 0) throw new WgslgradError('storage', `view offset ${offset} is not a multiple of 256 bytes`);
    this.retain();
    return new Storage(this.buffer, bytes, this.offset + offset, this);
  }
}

/** The most bytes one tensor may hold on this device (checked before Dawn is asked for a buffer). */
export function maxTensorBytes(): number {
  return current().maxBytes;
}

/** A buffer of at least `bytes` (≤ maxTensorBytes()); `forUpload` when the host will write it before the next submit. */
export function allocStorage(bytes: number, forUpload = false): Storage {
  const p = current();
  if (bytes > p.maxBytes) throw new WgslgradError('alloc', `${bytes} bytes is more than this device's limit of ${p.maxBytes} bytes for one buffer`);
  const cls = Math.min(sizeClass(bytes), p.maxBytes);
  let buffer = forUpload ? undefined : p.deferred.get(cls)?.pop();
  buffer ??= p.free.get(cls)?.pop();
  if (buffer) {
    p.stats.pooledBytes -= cls;
  } else {
    if (p.stats.buffers >= p.cap) destroyFreeOf(p); // free buffers of other sizes make room
    if (p.stats.buffers >= p.cap)
      throw new WgslgradError(
        'alloc',
        `${p.stats.buffers} GPU buffers are alive, the most this software adapter is allowed (${p.cap}: Dawn on lavapipe aborts the process near 40,000); dispose tensors no longer needed, or hold the data in fewer, larger tensors`,
      );
    buffer = p.device.createBuffer({ size: cls, usage: STORAGE_USAGE });
    serials.set(buffer, nextSerial++);
    p.stats.buffers++;
    p.stats.created++;
  }
  p.stats.liveBytes += cls;
  p.allocLog?.add(buffer);
  return new Storage(buffer, cls);
}

function releaseBuffer(p: Pool, buffer: GPUBuffer, cls: number): void {
  releases.set(buffer, (releases.get(buffer) ?? 0) + 1);
  const claim = p.owned.get(buffer);
  if (claim) {
    claim.reserve.push({ buffer, cls }); // still in use by the capture: its bytes stay live
    return;
  }
  p.stats.liveBytes -= cls;
  p.stats.pooledBytes += cls;
  if (p.recording) pushTo(p.deferred, buffer, cls);
  else addFree(p, buffer, cls);
}

function pushTo(map: Map<number, GPUBuffer[]>, buffer: GPUBuffer, cls: number): void {
  const list = map.get(cls) ?? [];
  map.set(cls, list);
  list.push(buffer);
}

/** @internal recorder.ts: an encoder was opened (released buffers wait for its submit) */
export function poolRecording(): void {
  current().recording = true;
}

/** @internal recorder.ts: the open encoder was submitted; buffers released meanwhile are free again */
export function poolSubmitted(): void {
  const p = current();
  p.recording = false;
  for (const [cls, list] of p.deferred) for (const b of list) addFree(p, b, cls);
  p.deferred.clear();
}

/** @internal capture.ts: starts (true) or ends (false) logging the buffers handed out; returns the log */
export function logAllocations(on: boolean): Set<GPUBuffer> {
  const p = current();
  const log = p.allocLog ?? new Set<GPUBuffer>();
  p.allocLog = on ? log : null;
  return log;
}

/**
 * @internal capture.ts, after the captured step was submitted: claims the buffers its commands use.
 * Free ones are taken out of the pool; live ones that the capture made are marked so that their
 * release gives them back to the capture; live ones made before it are externals.
 */
export function claimBuffers(used: Iterable<GPUBuffer>, madeInCapture: Set<GPUBuffer>): Claim {
  const p = current();
  const claim: Claim = { device: p.device, reserve: [], owned: [], externals: [] };
  const want = new Set(used);
  for (const map of [p.deferred, p.free]) {
    for (const [cls, list] of map) {
      const keep: GPUBuffer[] = [];
      for (const b of list) {
        if (want.has(b) && !p.owned.has(b)) {
          want.delete(b);
          p.stats.pooledBytes -= cls;
          p.stats.liveBytes += cls;
          claim.reserve.push({ buffer: b, cls });
          claim.owned.push(b);
          p.owned.set(b, claim);
        } else keep.push(b);
      }
      map.set(cls, keep);
    }
  }
  for (const b of want) {
    if (madeInCapture.has(b) && !p.owned.has(b)) {
      claim.owned.push(b);
      p.owned.set(b, claim);
    } else claim.externals.push({ buffer: b, releases: releases.get(b) ?? 0 });
  }
  return claim;
}

/** @internal Whether a claim's externals are all still held by the tensors that held them at capture. */
export function firstReleased(claim: Claim): GPUBuffer | null {
  for (const e of claim.externals) if ((releases.get(e.buffer) ?? 0) !== e.releases) return e.buffer;
  return null;
}

/** @internal capture.ts dispose(): the claim's reserve goes back to the pool, its live buffers to their tensors alone. */
export function releaseClaim(claim: Claim): void {
  const p = pool;
  if (!p || p.device !== claim.device) return; // a device that is gone: its buffers go with it
  for (const b of claim.owned) if (p.owned.get(b) === claim) p.owned.delete(b);
  for (const { buffer, cls } of claim.reserve) {
    p.stats.liveBytes -= cls;
    p.stats.pooledBytes += cls;
    if (p.recording) pushTo(p.deferred, buffer, cls);
    else addFree(p, buffer, cls);
  }
  claim.reserve.length = 0;
  claim.owned.length = 0;
}

/** Pool counters: bytes held by live tensors, bytes kept for reuse, GPU buffers in existence. */
export function memory(): {
  /** bytes held by live tensors */
  liveBytes: number;
  /** bytes in free buffers kept for reuse (emptyPool() destroys them) */
  pooledBytes: number;
  /** GPU buffers in existence */
  buffers: number;
} {
  if (!hasDevice()) return { liveBytes: 0, pooledBytes: 0, buffers: 0 };
  const { liveBytes, pooledBytes, buffers } = current().stats;
  return { liveBytes, pooledBytes, buffers };
}

export function poolStats(): Readonly<PoolStats> {
  return { ...current().stats };
}

/** @internal Destroys every free buffer (call after a submit, with no encoder open). */
export function destroyFree(): void {
  destroyFreeOf(current());
}

/**
 * Destroys the pool's free buffers. None of them is in the open encoder (buffers released while it
 * records wait in `deferred`); bind groups cached with them are never looked up again, since no
 * tensor can be handed a destroyed buffer.
 */
function destroyFreeOf(p: Pool): void {
  for (const [cls, list] of p.free) {
    for (const b of list) {
      b.destroy();
      p.stats.buffers--;
      p.stats.pooledBytes -= cls;
    }
  }
  p.free.clear();
}

/**
 * A small storage buffer for bindings a specialisation does not use (a kernel without bias still
 * declares the binding, and WGSL counts it as used).
 */
export function placeholder(): GPUBuffer {
  const p = current();
  if (!p.dummy) p.dummy = p.device.createBuffer({ size: 256, usage: STORAGE_USAGE });
  return p.dummy;
}

/**
 * Another placeholder, for an unused binding the kernel may write: WebGPU refuses one buffer bound
 * both writable and read-only in a dispatch, so it must not be placeholder() when that is bound too.
 */
export function placeholderOut(): GPUBuffer {
  const p = current();
  if (!p.dummyOut) p.dummyOut = p.device.createBuffer({ size: 256, usage: STORAGE_USAGE });
  return p.dummyOut;
}
