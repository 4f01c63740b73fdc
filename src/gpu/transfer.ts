// Host ↔ GPU: uploads through the queue, readbacks through pooled staging buffers, and waiting for
// submitted work. Asynchronous GPU errors caught at submit surface here.
import { WgslgradError } from '../errors.js';
import { refuseCapture } from './capture.js';
import { raiseCheck, usedCheckBuffer } from './checks.js';
import { gpuState, orLost, throwPending } from './device.js';
import { type Storage, sizeClass } from './pool.js';
import { capturing, copyBuffer, flush } from './recorder.js';

const MAP_READ_USAGE = 0x01 /* MAP_READ */ | 0x08; /* COPY_DST */

let staging: { device: GPUDevice; free: Map<number, GPUBuffer[]> } | null = null;

/** Uploads host data into a storage buffer (queue-ordered: the buffer must not be in the open encoder). */
export function upload(storage: Storage, data: Float32Array | Uint32Array | Int32Array, byteOffset = 0, op = 'tensor'): void {
  throwPending();
  if (capturing()) throw refuseCapture(op, 'host data uploaded (wg.tensor(data)); pass the data as an input of the captured step instead');
  gpuState().device.queue.writeBuffer(storage.buffer, storage.offset + byteOffset, data.buffer, data.byteOffset, data.byteLength);
}

/** Copies `bytes` of a storage buffer to the host. Submits pending work first. */
export async function readBuffer(src: GPUBuffer, bytes: number, byteOffset = 0): Promise<ArrayBuffer> {
  if (capturing()) throw refuseCapture('readback', 'a readback (toArray, item)');
  const s = gpuState();
  if (!staging || staging.device !== s.device) staging = { device: s.device, free: new Map() };
  const pool = staging.free;
  const aligned = Math.ceil(bytes / 4) * 4;
  // the GPU-side checks (checks.ts) come back behind the data, when a kernel has used them
  const chk = usedCheckBuffer();
  const cls = sizeClass(aligned + (chk?.bytes ?? 0));
  const buf = pool.get(cls)?.pop() ?? s.device.createBuffer({ size: cls, usage: MAP_READ_USAGE });
  copyBuffer(src, byteOffset, buf, 0, aligned);
  if (chk) copyBuffer(chk.buffer, 0, buf, aligned, chk.bytes);
  flush();
  const checks = s.scopeChecks.splice(0);
  let out: ArrayBuffer;
  let words: Uint32Array | null = null;
  try {
    await s.wait(orLost(s, buf.mapAsync(1 /* READ */)));
    const mapped = buf.getMappedRange(0, aligned + (chk?.bytes ?? 0));
    out = mapped.slice(0, bytes);
    words = chk ? new Uint32Array(mapped.slice(aligned, aligned + chk.bytes)) : null;
    buf.unmap();
  } catch (e) {
    await Promise.all(checks);
    throwPending();
    if (e instanceof WgslgradError) throw e;
    throw new WgslgradError('readback', (e as Error).message);
  }
  await s.wait(Promise.all(checks));
  throwPending();
  const list = pool.get(cls) ?? [];
  pool.set(cls, list);
  list.push(buf);
  if (words) raiseCheck(words);
  return out;
}

/** Waits for all submitted work (used by benchmarks to time GPU work). */
export async function sync(): Promise<void> {
  flush();
  const s = gpuState();
  await s.wait(s.device.queue.onSubmittedWorkDone());
  await s.wait(Promise.all(s.scopeChecks.splice(0)));
  throwPending();
}
