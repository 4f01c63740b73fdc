// Capture and replay of a step's GPU commands, what CUDA graphs are to PyTorch: while a capture
// records, every dispatch, copy and clear the step makes is also logged (recorder.ts) and every
// buffer the pool hands out is noted (pool.ts); afterwards the log becomes a fixed command list
// with its own parameter buffer and bind groups, which a replay encodes and submits without any
// op, autograd or bind-group work. Values that change from step to step (random keys, Adam's
// step count) are given anew at each replay by the ops' `refresh` functions and `onReplay` hooks.
import { WgslgradError } from '../errors.js';
import { gpuState, hasDevice, throwPending } from './device.js';
import { type Claim, claimBuffers, firstReleased, logAllocations, releaseClaim } from './pool.js';
import { type Command, capturing, countReplay, flush, PARAM_SLOT, profiling, setCommandLog, submit, writeParams } from './recorder.js';

const UNIFORM_USAGE = 0x40 /* UNIFORM */ | 0x08; /* COPY_DST */
const WORDS = PARAM_SLOT / 4;

let hooks: Array<() => void> | null = null;
let commands: Command[] | null = null;
let refusal: WgslgradError | null = null;

/**
 * Runs `fn` at the start of every replay of the capture now recording, in the order registered and
 * before the dispatches' parameters are refreshed (the random generator draws its next key, an
 * optimiser counts its step). Does nothing when no capture is recording.
 */
export function onReplay(fn: () => void): void {
  hooks?.push(fn);
}

/**
 * Notes that the step being captured did something a replay cannot repeat; the capture then fails
 * with this error when the step returns. Returns the error, for a caller that must also throw or
 * reject (a readback returns a promise the step cannot await).
 */
export function refuseCapture(op: string, what: string): WgslgradError {
  const e = new WgslgradError(op, `${what}, inside a captured step (wg.capture): a replay would repeat it with the values of the capture`);
  refusal ??= e;
  return e;
}

/** Starts logging commands and allocations. The work recorded before is submitted first. */
export function beginCapture(): void {
  if (capturing()) throw new WgslgradError('capture', 'a step is already being captured (captures do not nest)');
  if (profiling()) throw new WgslgradError('capture', 'kernels are being profiled (profileKernels); capture outside it');
  flush();
  commands = [];
  hooks = [];
  refusal = null;
  setCommandLog(commands);
  logAllocations(true);
}

/**
 * Stops logging. With `ok`, submits the captured step's eager run and returns its commands ready for
 * replay; throws the first refusal noted meanwhile. Without (the step threw), forgets them.
 */
export function endCapture(ok: boolean): CapturedCommands | null {
  const cmds = commands ?? [];
  const h = hooks ?? [];
  const refused = refusal;
  commands = hooks = refusal = null;
  setCommandLog(null);
  const made = logAllocations(false);
  if (!ok) return null;
  flush();
  if (refused) throw refused;
  return new CapturedCommands(cmds, h, made);
}

/** A captured step's commands, replayable until disposed. */
export class CapturedCommands {
  readonly device: GPUDevice;
  readonly dispatches: number;
  /** buffer copies among the commands */
  readonly copies: number;
  private readonly paramsCpu: ArrayBuffer;
  private readonly u32: Uint32Array;
  private readonly f32: Float32Array;
  private readonly paramsGpu: GPUBuffer;
  private readonly bindGroups: GPUBindGroup[] = [];
  /** dispatch index and command of each dispatch whose parameters change per replay */
  private readonly refreshed: Array<{ index: number; cmd: Extract<Command, { kind: 'dispatch' }> }> = [];
  private readonly claim: Claim;
  private disposed = false;

  constructor(
    private readonly commands: Command[],
    private readonly hooks: Array<() => void>,
    made: Set<GPUBuffer>,
  ) {
    const { device } = gpuState();
    this.device = device;
    const dispatches = commands.filter((c) => c.kind === 'dispatch');
    this.dispatches = dispatches.length;
    this.copies = commands.filter((c) => c.kind === 'copy').length;
    this.paramsCpu = new ArrayBuffer(Math.max(1, dispatches.length) * PARAM_SLOT);
    this.u32 = new Uint32Array(this.paramsCpu);
    this.f32 = new Float32Array(this.paramsCpu);
    this.paramsGpu = device.createBuffer({ size: this.paramsCpu.byteLength, usage: UNIFORM_USAGE, label: 'captured step parameters' });
    const used: GPUBuffer[] = [];
    dispatches.forEach((cmd, i) => {
      this.u32.set(cmd.params, i * WORDS);
      if (cmd.refresh) this.refreshed.push({ index: i, cmd });
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.paramsGpu, offset: i * PARAM_SLOT, size: PARAM_SLOT } }];
      cmd.buffers.forEach((b, k) => {
        entries.push({ binding: k + 1, resource: 'buffer' in b ? b : { buffer: b } });
        used.push('buffer' in b ? b.buffer : b);
      });
      this.bindGroups.push(device.createBindGroup({ layout: cmd.kernel.gpu.getBindGroupLayout(0), entries }));
    });
    for (const c of commands) {
      if (c.kind === 'copy') used.push(c.src, c.dst);
      else if (c.kind === 'clear') used.push(c.buffer);
    }
    device.queue.writeBuffer(this.paramsGpu, 0, this.paramsCpu);
    this.claim = claimBuffers(used, made);
  }

  /** Throws, naming what changed, if a replay now would use something gone or stale. */
  check(): void {
    if (this.disposed) throw new WgslgradError('capture', 'the captured step was disposed');
    if (profiling())
      throw new WgslgradError(
        'capture',
        'a replay inside profileKernels: the profiler times op-by-op dispatches, and a replay makes none; profile the step eagerly',
      );
    if (!hasDevice() || gpuState().device !== this.device)
      throw new WgslgradError('capture', 'the step was captured on a GPU device that is gone (lost, or replaced by wg.init()); capture it again');
    if (firstReleased(this.claim))
      throw new WgslgradError(
        'capture',
        'a tensor made outside the captured step and used by it (a parameter, optimiser state, input or target) was disposed since the capture; capture the step again',
      );
  }

  /**
   * Encodes and submits the commands once: the hooks run, the refreshed parameters are written,
   * then `prefix` records into the encoder ahead of the step (input copies).
   */
  replay(prefix?: (enc: GPUCommandEncoder) => void): void {
    this.check();
    throwPending();
    flush(); // eager work recorded before the replay runs before it
    for (const h of this.hooks) h();
    let lo = Number.POSITIVE_INFINITY;
    let hi = -1;
    for (const { index, cmd } of this.refreshed) {
      writeParams(this.u32, this.f32, index * WORDS, cmd.kernel.file, cmd.refresh!());
      lo = Math.min(lo, index);
      hi = Math.max(hi, index);
    }
    const { device } = this;
    if (hi >= 0) device.queue.writeBuffer(this.paramsGpu, lo * PARAM_SLOT, this.paramsCpu, lo * PARAM_SLOT, (hi - lo + 1) * PARAM_SLOT);
    const enc = device.createCommandEncoder();
    prefix?.(enc);
    let pass: GPUComputePassEncoder | null = null;
    let pipe: GPUComputePipeline | null = null;
    let d = 0;
    for (const c of this.commands) {
      if (c.kind === 'dispatch') {
        if (!pass) {
          pass = enc.beginComputePass();
          pipe = null;
        }
        if (c.kernel.gpu !== pipe) {
          pipe = c.kernel.gpu;
          pass.setPipeline(pipe);
        }
        pass.setBindGroup(0, this.bindGroups[d++]!);
        const [x, y, z] = c.groups;
        if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
        continue;
      }
      pass?.end();
      pass = null;
      if (c.kind === 'copy') enc.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.bytes);
      else enc.clearBuffer(c.buffer, c.offset, c.bytes);
    }
    pass?.end();
    // No error scopes: the commands were validated when captured and check() has ruled out a buffer
    // gone since, so an error here is rare, and the device's uncapturederror listener records it for
    // the next op or sync. The two scopes' push and pop were ~7 % of a replayed R1 step's record time.
    submit(enc, false);
    countReplay(this.dispatches, this.copies); // the inputs' copies (prefix) aside
  }

  /** Gives the buffers the capture held back to the pool and destroys its parameter buffer. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.bindGroups.length = 0;
    if (!hasDevice() || gpuState().device !== this.device) return; // its buffers went with the device
    releaseClaim(this.claim);
    this.paramsGpu.destroy();
  }
}
