// The step's command encoder: compute dispatches, copies and clears are recorded into one encoder
// and submitted once (flush), with every dispatch's parameters in one uniform arena per submit.
import { WgslgradError } from '../errors.js';
import { gpuState, throwPending } from './device.js';
import { type KernelFile, type ParamValues, slotsOf, U32_SLOTS } from './layouts.js';
import type { Kernel } from './pipelines.js';
import { groups1d } from './planner.js';
import { poolRecording, poolSubmitted } from './pool.js';

const UNIFORM_USAGE = 0x40 /* UNIFORM */ | 0x08; /* COPY_DST */
/** bytes of one dispatch's parameter block, = minUniformBufferOffsetAlignment on every adapter */
export const PARAM_SLOT = 256;
const ARENA_SLOTS = 1024;

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset: number; size: number };

/**
 * A hook that times passes (profiler.ts): while one is set every dispatch gets its own compute pass
 * described by `pass`, `full` asks for a submit first, and `resolve` records the query readout into
 * the encoder about to be submitted and returns what to run once it is.
 */
export interface PassTimer {
  full(): boolean;
  pass(label: string): GPUComputePassDescriptor;
  resolve(enc: GPUCommandEncoder): (() => void) | null;
}

interface Recorder {
  device: GPUDevice;
  encoder: GPUCommandEncoder | null;
  pass: GPUComputePassEncoder | null;
  /** the pipeline the open pass has set (a dispatch of the same kernel sets none) */
  passPipe: GPUComputePipeline | null;
  arenaCpu: ArrayBuffer;
  arenaU32: Uint32Array;
  arenaF32: Float32Array;
  arenaGpu: GPUBuffer;
  slots: number;
  submits: number;
  dispatches: number;
  /** cached bind groups: per kernel, per arena slot, the buffer ranges they bind (bindGroup) */
  bindGroups: Map<Kernel, CachedGroup[][]>;
  /** how many are cached */
  cachedGroups: number;
  /** bind groups made for eager dispatches (cache misses) */
  bindGroupsMade: number;
  /** buffer-to-buffer copies recorded */
  copies: number;
}

let rec: Recorder | null = null;
let timer: PassTimer | null = null;

type ParamRefresh = () => Readonly<Record<string, number | ArrayLike<number> | undefined>>;

/**
 * A recorded command, as capture.ts keeps them while a capture is on: a dispatch with its parameter
 * block as written (and `refresh`, which gives the parameters anew at each replay, for those that
 * change between steps), a buffer copy or a clear.
 */
export type Command =
  | {
      kind: 'dispatch';
      kernel: Kernel;
      buffers: Binding[];
      params: Uint32Array;
      groups: [number, number, number];
      refresh: ParamRefresh | null;
    }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; bytes: number }
  | { kind: 'clear'; buffer: GPUBuffer; offset: number; bytes: number };

export { groups1d };

let log: Command[] | null = null;
/** The kernels dispatched while traceKernels runs its function, in order of first dispatch. */
let trace: Set<string> | null = null;

/**
 * Runs `fn` and returns the kernels it dispatched (`file.entry`, as profileKernels names them), each
 * once, in the order of their first dispatch: which variant the planner chose, on any adapter
 * (profileKernels needs timestamp queries). The work is recorded as usual.
 */
export function traceKernels(fn: () => void): string[] {
  const outer = trace;
  const mine = new Set<string>();
  trace = mine;
  try {
    fn();
  } finally {
    trace = outer;
    if (outer) for (const k of mine) outer.add(k);
  }
  return [...mine];
}

/** @internal capture.ts: every command recorded from now on is also appended to `l` (null: stop). */
export function setCommandLog(l: Command[] | null): void {
  log = l;
}

/** Whether a capture is recording (capture.ts): ops whose work cannot be replayed refuse then. */
export function capturing(): boolean {
  return log !== null;
}

/** @internal capture.ts: the pass timer is on (kernels are being profiled) */
export function profiling(): boolean {
  return timer !== null;
}

function current(): Recorder {
  const { device } = gpuState();
  if (!rec || rec.device !== device) {
    const arenaCpu = new ArrayBuffer(PARAM_SLOT * ARENA_SLOTS);
    rec = {
      device,
      encoder: null,
      pass: null,
      passPipe: null,
      arenaCpu,
      arenaU32: new Uint32Array(arenaCpu),
      arenaF32: new Float32Array(arenaCpu),
      arenaGpu: device.createBuffer({ size: PARAM_SLOT * ARENA_SLOTS, usage: UNIFORM_USAGE }),
      slots: 0,
      submits: 0,
      dispatches: 0,
      bindGroups: new Map(),
      cachedGroups: 0,
      bindGroupsMade: 0,
      copies: 0,
    };
  }
  return rec;
}

/** @internal profiler.ts */
export function setPassTimer(t: PassTimer | null): void {
  timer = t;
}

export function recorderStats(): { submits: number; dispatches: number; bindGroups: number; copies: number } {
  const r = current();
  return { submits: r.submits, dispatches: r.dispatches, bindGroups: r.bindGroupsMade, copies: r.copies };
}

/**
 * Throws the device's pending asynchronous error, if any, and then drops the open encoder: its
 * commands were recorded around the failure, and submitting them would fail again ("invalid
 * command buffer"), so the next valid op starts afresh.
 */
function checkPending(): void {
  try {
    throwPending();
  } catch (e) {
    discard();
    throw e;
  }
}

/** Drops the open encoder without submitting it (after an error). */
export function discard(): void {
  const r = rec;
  if (!r?.encoder) return;
  r.encoder = null;
  r.pass = null;
  r.slots = 0;
  poolSubmitted(); // nothing of it will run: the buffers it released are free at once
}

function ensureEncoder(r: Recorder): GPUCommandEncoder {
  if (!r.encoder) {
    r.encoder = r.device.createCommandEncoder();
    poolRecording();
  }
  return r.encoder;
}

function endPass(r: Recorder): void {
  if (r.pass) {
    r.pass.end();
    r.pass = null;
  }
}

/**
 * Records one compute dispatch into the step's encoder. Binding 0 is the parameter block; the
 * buffers take bindings 1, 2, … in order. Nothing is submitted until a readback or flush().
 */
export function dispatch<K extends KernelFile>(
  kernel: Kernel<K>,
  buffers: ReadonlyArray<Binding>,
  params: ParamValues<K>,
  groups: readonly [number, number?, number?],
  /** for parameters that change from step to step (a random key, Adam's step count): gives them at each replay of a capture */
  refresh?: () => ParamValues<K>,
): void {
  checkPending();
  let r = current();
  if (r.slots >= ARENA_SLOTS || timer?.full()) {
    flush();
    r = current();
  }
  const enc = ensureEncoder(r);
  const slot = r.slots;
  const base = (slot * PARAM_SLOT) / 4;
  writeParams(r.arenaU32, r.arenaF32, base, kernel.file, params); // throws on a name the kernel lacks, before the slot is taken
  r.slots++;
  const pipe = kernel.gpu;
  const bg = bindGroup(r, kernel, slot, buffers);
  if (timer) {
    endPass(r);
    r.pass = enc.beginComputePass(timer.pass(pipe.label || 'kernel'));
    r.passPipe = null;
  }
  if (!r.pass) {
    r.pass = enc.beginComputePass();
    r.passPipe = null;
  }
  if (r.passPipe !== pipe) {
    r.pass.setPipeline(pipe);
    r.passPipe = pipe;
  }
  r.pass.setBindGroup(0, bg);
  const [x, y = 1, z = 1] = groups;
  if (x > 0 && y > 0 && z > 0) r.pass.dispatchWorkgroups(x, y, z);
  r.dispatches++;
  trace?.add(pipe.label);
  log?.push({
    kind: 'dispatch',
    kernel,
    buffers: buffers.slice(),
    params: r.arenaU32.slice(base, base + PARAM_SLOT / 4),
    groups: [x, y, z],
    refresh: (refresh as ParamRefresh | undefined) ?? null,
  });
}

const BIND_GROUP_CACHE_MAX = 4096;

/** A cached bind group and the ranges it binds: buffer, offset, size for each binding (−1, −1 for a whole buffer). */
interface CachedGroup {
  ranges: Array<GPUBuffer | number>;
  bg: GPUBindGroup;
}

/** Whether `ranges` (a CachedGroup's) are `buffers`. */
function sameRanges(ranges: ReadonlyArray<GPUBuffer | number>, buffers: ReadonlyArray<Binding>): boolean {
  if (ranges.length !== buffers.length * 3) return false;
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i]!;
    const whole = !('buffer' in b);
    if (ranges[3 * i] !== (whole ? b : b.buffer) || ranges[3 * i + 1] !== (whole ? -1 : b.offset) || ranges[3 * i + 2] !== (whole ? -1 : b.size)) return false;
  }
  return true;
}

/**
 * The bind group of a dispatch: the arena slot and the buffer ranges. A training step binds the same
 * pooled buffers in the same slots every iteration, so bind groups are cached by (pipeline, slot,
 * ranges) instead of made per dispatch, looked up without building a key; the cache is dropped
 * whole when it grows past its bound and whenever buffers are destroyed (dropBindGroups).
 */
function bindGroup(r: Recorder, kernel: Kernel, slot: number, buffers: ReadonlyArray<Binding>): GPUBindGroup {
  for (const c of cachedList(r, kernel, slot)) if (sameRanges(c.ranges, buffers)) return c.bg;
  const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: r.arenaGpu, offset: slot * PARAM_SLOT, size: PARAM_SLOT } }];
  const ranges: Array<GPUBuffer | number> = [];
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i]!;
    entries.push({ binding: i + 1, resource: 'buffer' in b ? b : { buffer: b } });
    if ('buffer' in b) ranges.push(b.buffer, b.offset, b.size);
    else ranges.push(b, -1, -1);
  }
  const bg = r.device.createBindGroup({ layout: kernel.gpu.getBindGroupLayout(0), entries });
  r.bindGroupsMade++;
  if (r.cachedGroups >= BIND_GROUP_CACHE_MAX) {
    r.bindGroups.clear();
    r.cachedGroups = 0;
  }
  cachedList(r, kernel, slot).push({ ranges, bg });
  r.cachedGroups++;
  return bg;
}

/** The cached bind groups of `kernel` at arena slot `slot`, made empty on first use. */
function cachedList(r: Recorder, kernel: Kernel, slot: number): CachedGroup[] {
  let bySlot = r.bindGroups.get(kernel);
  if (!bySlot) {
    bySlot = [];
    r.bindGroups.set(kernel, bySlot);
  }
  let list = bySlot[slot];
  if (!list) {
    list = [];
    bySlot[slot] = list;
  }
  return list;
}

/** @internal Forgets every cached bind group (buffers are about to be destroyed). */
export function dropBindGroups(): void {
  rec?.bindGroups.clear();
  if (rec) rec.cachedGroups = 0;
}

/**
 * Writes a dispatch's named parameters into a 256-byte parameter block (at word `base` of u32/f32,
 * two views of one buffer) at the places src/gpu/layouts.ts gives them.
 */
export function writeParams(
  u32: Uint32Array,
  f32: Float32Array,
  base: number,
  file: KernelFile,
  params: Readonly<Record<string, number | ArrayLike<number> | undefined>>,
): void {
  const slots = slotsOf(file);
  u32.fill(0, base, base + PARAM_SLOT / 4);
  for (const name in params) {
    const v = params[name];
    if (v === undefined) continue;
    const slot = slots.get(name);
    if (!slot) throw new WgslgradError('dispatch', `${file}.wgsl has no parameter ${name} (src/gpu/layouts.ts)`);
    const arr = slot.f32 ? f32 : u32;
    const at = base + (slot.f32 ? U32_SLOTS : 0) + slot.at;
    if (typeof v === 'number') {
      if (slot.length !== 1) throw new WgslgradError('dispatch', `${file}.wgsl: ${name} holds ${slot.length} values, got one number`);
      arr[at] = v;
    } else {
      if (v.length > slot.length) throw new WgslgradError('dispatch', `${file}.wgsl: ${name} holds ${slot.length} values, got ${v.length}`);
      for (let i = 0; i < v.length; i++) arr[at + i] = v[i]!;
    }
  }
}

export function copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
  checkPending();
  const r = current();
  const enc = ensureEncoder(r);
  endPass(r);
  enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  r.copies++;
  log?.push({ kind: 'copy', src, srcOffset, dst, dstOffset, bytes });
}

/** Zeroes `bytes` of a storage buffer range, recorded in the step's encoder. */
export function clearBuffer(buffer: GPUBuffer, offset: number, bytes: number): void {
  checkPending();
  const r = current();
  const enc = ensureEncoder(r);
  endPass(r);
  enc.clearBuffer(buffer, offset, Math.ceil(bytes / 4) * 4);
  log?.push({ kind: 'clear', buffer, offset, bytes: Math.ceil(bytes / 4) * 4 });
}

/** Submits the recorded work (one submit per step), then makes buffers released during it reusable. */
export function flush(): void {
  const r = rec;
  if (!r?.encoder) return;
  const s = gpuState();
  if (s.device !== r.device) {
    rec = null; // recorded for a device that is gone
    return;
  }
  const { device } = s;
  const enc = r.encoder;
  endPass(r);
  const afterSubmit = timer?.resolve(enc) ?? null;
  if (r.slots > 0) device.queue.writeBuffer(r.arenaGpu, 0, r.arenaCpu, 0, r.slots * PARAM_SLOT);
  submit(enc);
  r.encoder = null;
  r.slots = 0;
  r.submits++;
  poolSubmitted();
  afterSubmit?.();
}

/**
 * @internal Submits a finished encoder inside error scopes, whose outcome surfaces at the next op or
 * readback (flush). Unscoped (a replay, capture.ts), an error reaches the device's uncapturederror
 * listener (device.ts), which keeps it for the next op or readback too.
 */
export function submit(enc: GPUCommandEncoder, scoped = true): void {
  const s = gpuState();
  const { device } = s;
  if (!scoped) {
    device.queue.submit([enc.finish()]);
    return;
  }
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  device.queue.submit([enc.finish()]);
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
}

/** @internal capture.ts: a replay was submitted (its dispatches count in engineStats) */
export function countReplay(dispatches: number, copies: number): void {
  const r = current();
  r.submits++;
  r.dispatches += dispatches;
  r.copies += copies;
}
