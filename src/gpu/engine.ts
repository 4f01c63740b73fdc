// The GPU engine, one import for the ops: buffer pool (pool.ts), the step's encoder and parameter
// arena (recorder.ts), pipelines (pipelines.ts), uploads and readbacks (transfer.ts), the kernel
// profiler (profiler.ts).
import { destroyFree, poolStats, type Storage } from './pool.js';
import { clearBuffer, dropBindGroups, flush, recorderStats } from './recorder.js';

export { onReplay, refuseCapture } from './capture.js';
export { type Consts, type Kernel, pipeline } from './pipelines.js';
export { allocStorage, maxTensorBytes, memory, placeholder, placeholderOut, Storage, sizeClass } from './pool.js';
export { type KernelTime, profileKernels } from './profiler.js';
export { type Binding, capturing, copyBuffer, dispatch, flush, groups1d, traceKernels } from './recorder.js';
export { readBuffer, sync, upload } from './transfer.js';

/**
 * Counters for benchmarks: buffers ever created, submits, dispatches, bind groups made for op-by-op
 * dispatches (the cache's misses), buffer copies (a replay counts its step's, not its inputs'), and
 * the pool's bytes.
 */
export function engineStats(): {
  /** bytes held by live tensors (their buffers' size classes) */
  liveBytes: number;
  /** bytes in free buffers kept for reuse */
  pooledBytes: number;
  /** GPU buffers in existence */
  buffers: number;
  /** GPU buffers created so far */
  created: number;
  /** command buffers submitted so far */
  submits: number;
  /** kernel dispatches recorded so far (a replay counts its step's) */
  dispatches: number;
  /** bind groups made so far (the cache's misses) */
  bindGroups: number;
  /** buffer-to-buffer copies so far */
  copies: number;
} {
  return { ...poolStats(), ...recorderStats() };
}

/** Destroys every pooled (free) buffer. */
export function emptyPool(): void {
  flush();
  dropBindGroups();
  destroyFree();
}

/** Zeroes `bytes` of a storage, recorded in the step's encoder. */
export function clearStorage(s: Storage, bytes: number): void {
  clearBuffer(s.buffer, s.offset, bytes);
}
